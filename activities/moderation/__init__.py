"""The moderation pipeline's activities: media work on the CPU pool, models on the GPU pool."""
