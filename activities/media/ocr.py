"""Text shown on screen, read from sampled frames with Tesseract OCR.

Overlays are small in a 360x640 sample frame: each frame is upscaled 2x in grayscale first,
which is what makes Tesseract read typical caption-style overlays, and read in sparse-text
mode (`--psm 11`), since overlays are scattered words rather than a page."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from activities.media.tools import Limits, ToolTimeout, run_tool


def read_frame_text(frame: Path, scratch: Path, limits: Limits) -> str:
    """The words Tesseract finds in one frame, space-separated; empty when it finds none
    or fails on this frame (a frame without readable text is not an error)."""
    prepared = scratch / f"{frame.stem}-ocr.png"
    try:
        with Image.open(frame) as image:
            gray = image.convert("L")
            gray.resize((gray.width * 2, gray.height * 2), Image.Resampling.LANCZOS).save(prepared)
    except OSError:
        return ""
    try:
        # One thread: OCR runs beside the models and the encoder, which have the cores.
        result = run_tool(
            ["env", "OMP_THREAD_LIMIT=1", "tesseract", str(prepared), "stdout", "--psm", "11"],
            limits,
        )
    except ToolTimeout:
        return ""
    if result.returncode != 0:
        return ""
    return " ".join(result.stdout.split())
