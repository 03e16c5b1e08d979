"""Media ingest: probing, transcoding and frame hashing with ffmpeg (CPU pool)."""
