"""On-screen text: Tesseract on a generated frame with a caption-style overlay."""

from __future__ import annotations

from pathlib import Path

from activities.media.ocr import read_frame_text
from activities.media.tools import Limits
from tests.media import raw_lavfi

LIMITS = Limits(30, 2 * 1024**3)


def test_an_overlay_is_read_from_a_sample_sized_frame(tmp_path: Path) -> None:
    frame = raw_lavfi(
        tmp_path / "frame.jpg", "testsrc2=s=360x640:d=1", "-vf",
        "drawtext=text='Paid partnership':fontsize=44:fontcolor=white:box=1:boxcolor=black:"
        "boxborderw=8:x=(w-text_w)/2:y=h*0.75",
        "-frames:v", "1",
    )  # fmt: skip
    assert "Paid partnership" in read_frame_text(frame, tmp_path, LIMITS)


def test_a_frame_without_text_or_an_unreadable_one_reads_as_empty(tmp_path: Path) -> None:
    plain = raw_lavfi(tmp_path / "plain.jpg", "color=c=gray:s=360x640:d=1", "-frames:v", "1")
    assert read_frame_text(plain, tmp_path, LIMITS) == ""
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\\xff\\xd8 not really a jpeg")
    assert read_frame_text(broken, tmp_path, Limits(5, 256 * 1024**2)) == ""
