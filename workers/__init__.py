"""Worker entrypoints for the CPU and GPU pools."""
