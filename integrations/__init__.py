"""One package per external system: a small port, the real client, the local default."""
