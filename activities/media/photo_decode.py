"""The child process of `activities.media.photo`: decodes one uploaded photo with Pillow and
prints what it is as JSON. It imports Pillow and nothing of the platform, so that it starts
quickly and a decoder bug in it reaches no worker state."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

# Pillow's format names of the photos accepted, and what people call them.
FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
# The longest edge of what is kept and shown; the frame the models read; the thumbnail.
MASTER_EDGE, FRAME_EDGE, THUMB_EDGE = 4096, 1280, 640
MASTER, FRAME, THUMBNAIL = "photo.jpg", "frame.jpg", "thumb.jpg"
UNREADABLE = (
    "We could not read this file as a photo: it may be damaged or cut short. "
    "Export it again as a JPEG and re-upload."
)


def read_photo(source: Path, max_pixels: int, out: Path | None) -> dict[str, Any]:
    """The photo's format and upright size, and its copies under `out`."""
    # The size is checked below from the header, before any pixel is decoded, against the
    # platform's limit (Pillow's own guard would refuse without saying the size).
    Image.MAX_IMAGE_PIXELS = None
    try:
        image = Image.open(source, formats=list(FORMATS))
    except UnidentifiedImageError:
        return {
            "refusal": "unsupported_type",
            "message": "This file is not a photo we accept. Upload a JPEG, PNG or WebP photo.",
        }
    with image:
        width, height = image.size
        if width <= 0 or height <= 0 or width * height > max_pixels:
            return _too_large((width, height), max_pixels)
        if getattr(image, "n_frames", 1) > 1:
            return {
                "refusal": "animated_photo",
                "message": "This photo is animated. Upload a still JPEG, PNG or WebP photo.",
            }
        try:
            image.load()
            upright = ImageOps.exif_transpose(image)
        except (OSError, SyntaxError, ValueError):
            return {"refusal": "unreadable", "message": UNREADABLE}
        if out is not None:
            flat = _flattened(upright)
            for name, edge, quality in (
                (MASTER, MASTER_EDGE, 90),
                (FRAME, FRAME_EDGE, 90),
                (THUMBNAIL, THUMB_EDGE, 85),
            ):
                copy = flat.copy()
                copy.thumbnail((edge, edge), Image.Resampling.LANCZOS)
                # A fresh JPEG carries no EXIF, ICC or XMP of the upload.
                copy.save(out / name, format="JPEG", quality=quality, optimize=True)
        return {
            "format": FORMATS[str(image.format)],
            "width": upright.width,
            "height": upright.height,
        }


def _flattened(image: Image.Image) -> Image.Image:
    """RGB, with any transparency laid on white (a JPEG has none)."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")


def _too_large(size: tuple[int, int], max_pixels: int) -> dict[str, Any]:
    return {
        "refusal": "resolution_too_large",
        "message": f"The photo is {size[0]}x{size[1]}; the largest we accept has "
        f"{max_pixels / 1e6:g} megapixels. Export it smaller.",
    }


if __name__ == "__main__":
    source, limit, target = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    print(json.dumps(read_photo(Path(source), limit, Path(target) if target else None)))
