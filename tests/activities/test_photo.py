"""Photo deliverables read as hostile input: accepted formats only, size checked from the
header before decoding, damaged and animated files refused with what to do, and the kept copy
upright and without the upload's metadata."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from activities.media.photo import PhotoFailed, probe_photo, render_photo
from nexus.settings import MediaSettings
from tests.media import video

SETTINGS = MediaSettings()
ORIENTATION, GPS_INFO = 0x0112, 0x8825


def phone_photo(path: Path) -> Path:
    """A 400x300 JPEG a phone held upright would store: rotated, with orientation 6 (turn it
    90° clockwise to show) and a GPS position in its EXIF."""
    image = Image.new("RGB", (400, 300), (30, 120, 200))
    image.paste((240, 200, 20), (0, 0, 100, 300))  # a yellow band on the stored left edge
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif.get_ifd(GPS_INFO)[2] = (52.0, 22.0, 10.0)  # latitude
    image.save(path, format="JPEG", exif=exif)
    return path


def refusal(path: Path, settings: MediaSettings = SETTINGS) -> str:
    result = probe_photo(path, settings)
    assert result.info is None and result.rejection is not None
    assert result.rejection.check == "ingest" and result.rejection.severity == "block"
    return result.rejection.code


def test_a_phone_photo_is_kept_upright_without_its_metadata(tmp_path: Path) -> None:
    source = phone_photo(tmp_path / "phone.jpg")
    info = probe_photo(source, SETTINGS).info
    assert info is not None
    assert (info.container, info.width, info.height, info.duration_s) == ("jpeg", 300, 400, 0)

    outputs = render_photo(source, tmp_path / "out", SETTINGS)
    for name in (outputs.master, outputs.frame, outputs.thumbnail):
        with Image.open(tmp_path / "out" / name) as kept:
            assert kept.format == "JPEG"
            assert kept.size == (300, 400)  # upright, small enough for every copy
            assert dict(kept.getexif()) == {}
            assert "exif" not in kept.info and "icc_profile" not in kept.info
    with Image.open(tmp_path / "out" / outputs.master) as master:
        # The band stored on the left is at the top once the photo is turned upright.
        top, bottom = master.getpixel((150, 20)), master.getpixel((150, 380))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 200 and bottom[2] > 150


def test_a_transparent_png_is_laid_on_white_and_large_photos_are_scaled(tmp_path: Path) -> None:
    source = tmp_path / "logo.png"
    Image.new("RGBA", (5000, 2000), (255, 0, 0, 0)).save(source)
    info = probe_photo(source, SETTINGS).info
    assert info is not None and (info.container, info.width) == ("png", 5000)
    outputs = render_photo(source, tmp_path / "out", SETTINGS)
    sizes = {}
    for name in (outputs.master, outputs.frame, outputs.thumbnail):
        with Image.open(tmp_path / "out" / name) as kept:
            sizes[name] = kept.size
            assert kept.getpixel((10, 10)) == (255, 255, 255)
    assert sizes == {"photo.jpg": (4096, 1638), "frame.jpg": (1280, 512), "thumb.jpg": (640, 256)}


def test_files_that_are_not_photos_we_accept_are_refused_by_their_bytes(tmp_path: Path) -> None:
    page = tmp_path / "page.jpg"
    page.write_bytes(b"<html><script>alert(1)</script></html>")
    svg = tmp_path / "vector.png"
    svg.write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>')
    gif = tmp_path / "still.gif"
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    eps = tmp_path / "print.jpg"
    eps.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n")
    clip = video(tmp_path / "clip.mp4", seconds=1)
    for path in (page, svg, gif, eps, clip):
        assert refusal(path) == "unsupported_type", path.name
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    assert refusal(empty) == "empty_file"


def test_a_cut_short_photo_is_unreadable_and_never_rendered(tmp_path: Path) -> None:
    whole = io.BytesIO()
    Image.effect_noise((800, 800), 60).convert("RGB").save(whole, format="JPEG")
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])
    assert refusal(cut) == "unreadable"
    with pytest.raises(PhotoFailed, match="could not read"):
        render_photo(cut, tmp_path / "out", SETTINGS)


def test_a_decompression_bomb_is_refused_from_its_header(tmp_path: Path) -> None:
    """A PNG whose header claims 60,000 x 60,000 pixels (a few KB on disk, 10 GB decoded)."""
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header(60_000, 60_000))
    assert refusal(bomb) == "resolution_too_large"
    small = SETTINGS.model_copy(update={"max_photo_pixels": 100})
    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (20, 20)).save(tiny)
    result = probe_photo(tiny, small)
    assert result.rejection is not None and "20x20" in result.rejection.message


def test_an_animated_photo_is_refused(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (40, 40), colour) for colour in ("red", "blue")]
    animated = tmp_path / "moving.webp"
    frames[0].save(animated, format="WEBP", save_all=True, append_images=frames[1:])
    assert refusal(animated) == "animated_photo"


def png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
