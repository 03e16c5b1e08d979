"""Sniffing and limits on generated media, including hostile files: each gets a clear finding,
and nothing hangs or takes the worker down."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from activities.media.probe import probe_report
from activities.media.tools import Limits, ToolTimeout, run_tool
from nexus.settings import MediaSettings
from tests.media import FFMPEG, raw_lavfi, video

SETTINGS = MediaSettings()


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return video(tmp_path_factory.mktemp("probe") / "clip.mp4", seconds=2)


def rejection(path: Path, settings: MediaSettings = SETTINGS) -> str:
    result = probe_report(path, settings)[0]
    assert result.info is None
    assert result.rejection is not None
    assert result.rejection.severity == "block"
    assert result.rejection.message
    return result.rejection.code


def test_a_video_is_sniffed_from_its_bytes_whatever_its_name(clip: Path, tmp_path: Path) -> None:
    renamed = tmp_path / "holiday.jpg"
    renamed.write_bytes(clip.read_bytes())
    result = probe_report(renamed, SETTINGS)[0]
    assert result.rejection is None
    assert result.info is not None
    assert (result.info.width, result.info.height) == (360, 640)
    assert result.info.duration_s == pytest.approx(2.0, abs=0.1)
    assert result.info.video_codec == "h264"
    assert result.info.audio_codec == "aac"
    assert "mp4" in result.info.container


def test_a_rotated_phone_video_reports_its_displayed_shape(clip: Path, tmp_path: Path) -> None:
    rotated = tmp_path / "rotated.mp4"
    args = ["-i", str(clip), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(rotated)]
    subprocess.run([*FFMPEG, *args], check=True)
    info = probe_report(rotated, SETTINGS)[0].info
    assert info is not None
    assert (info.width, info.height) == (640, 360)


def test_a_zero_length_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.mp4").write_bytes(b"")
    assert rejection(tmp_path / "empty.mp4") == "empty_file"


def test_a_text_file_named_mp4_is_not_a_video(tmp_path: Path) -> None:
    (tmp_path / "notes.mp4").write_text("definitely a video, trust me\n" * 100)
    assert rejection(tmp_path / "notes.mp4") == "unreadable"


def test_an_image_or_audio_file_is_refused_by_its_real_type(tmp_path: Path) -> None:
    png = raw_lavfi(tmp_path / "still.png", "testsrc2=s=64x64", "-frames:v", "1")
    renamed = tmp_path / "still.mp4"
    renamed.write_bytes(png.read_bytes())
    assert rejection(renamed) == "unsupported_type"
    wav = raw_lavfi(tmp_path / "tone.wav", "sine=d=2")
    assert rejection(wav) == "unsupported_type"
    audio_only = raw_lavfi(tmp_path / "tone.mp4", "sine=d=2", "-c:a", "aac")
    assert rejection(audio_only) == "no_video"


def test_truncated_and_corrupt_files_are_refused(clip: Path, tmp_path: Path) -> None:
    data = clip.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 3])
    assert rejection(tmp_path / "cut.mp4") == "corrupt_video"
    (tmp_path / "header.mp4").write_bytes(data[:2000])
    assert rejection(tmp_path / "header.mp4") in {"unreadable", "corrupt_video"}

    damaged = bytearray(data)
    rng = random.Random(4)
    for i in range(len(data) // 4, len(data) * 3 // 4, 7):
        damaged[i] = rng.randrange(256)
    (tmp_path / "damaged.mp4").write_bytes(bytes(damaged))
    assert rejection(tmp_path / "damaged.mp4") == "corrupt_video"


def test_decompression_bombs_are_refused_from_the_header(tmp_path: Path) -> None:
    # A few kilobytes that would decode to 25 megapixel frames.
    huge = raw_lavfi(
        tmp_path / "huge.mp4", "color=s=5000x5000:r=1:d=1", "-c:v", "libx264", "-preset",
        "ultrafast",
    )  # fmt: skip
    assert huge.stat().st_size < 100_000
    started = time.monotonic()
    assert rejection(huge) == "resolution_too_large"
    assert time.monotonic() - started < 5
    # Tiny frames at an absurd rate: millions of frames to decode.
    frantic = raw_lavfi(
        tmp_path / "frantic.mp4", "color=s=16x16:r=1000:d=1", "-c:v", "libx264", "-preset",
        "ultrafast",
    )  # fmt: skip
    assert rejection(frantic) == "frame_rate_too_high"


def test_duration_limits_apply(tmp_path: Path) -> None:
    hour = raw_lavfi(
        tmp_path / "hour.mp4", "color=s=16x16:r=1:d=3700", "-c:v", "libx264", "-preset",
        "ultrafast",
    )  # fmt: skip
    assert rejection(hour) == "too_long"
    blink = raw_lavfi(
        tmp_path / "blink.mp4", "color=s=64x64:r=10:d=0.3", "-c:v", "libx264", "-preset",
        "ultrafast",
    )  # fmt: skip
    assert rejection(blink) == "too_short"


def test_a_video_within_each_limit_can_still_be_too_much_work(clip: Path) -> None:
    # 360x640 at 15 fps for 2 s is 6.9 million pixels to decode.
    assert rejection(clip, MediaSettings(max_decoded_pixels=5_000_000)) == "too_much_video"
    assert probe_report(clip, MediaSettings(max_decoded_pixels=8_000_000))[0].info is not None


def test_size_and_container_limits_come_from_settings(clip: Path) -> None:
    assert rejection(clip, MediaSettings(max_upload_bytes=1000)) == "file_too_large"
    assert rejection(clip, MediaSettings(containers=["webm"])) == "unsupported_type"
    assert rejection(clip, MediaSettings(max_width=320)) == "resolution_too_large"


def test_a_wedged_tool_is_killed_at_its_deadline() -> None:
    started = time.monotonic()
    with pytest.raises(ToolTimeout):
        run_tool(["sleep", "30"], Limits(timeout_s=0.5, memory_bytes=2**30))
    assert time.monotonic() - started < 3


def test_a_tool_cannot_take_more_memory_than_allowed() -> None:
    hog = [sys.executable, "-c", "b = bytearray(2 * 1024**3); print('allocated')"]
    result = run_tool(hog, Limits(timeout_s=30, memory_bytes=512 * 1024**2))
    assert result.returncode != 0
    assert "allocated" not in result.stdout
    assert "MemoryError" in result.stderr


def test_the_tool_runner_keeps_only_the_end_of_a_flood_of_stderr() -> None:
    flood = [sys.executable, "-c", "import sys\nfor i in range(100000): print(i, file=sys.stderr)"]
    result = run_tool(flood, Limits(timeout_s=30, memory_bytes=2**30))
    assert result.returncode == 0
    assert result.stderr.splitlines()[-1] == "99999"
    assert len(result.stderr.splitlines()) <= 40


def test_a_playlist_disguised_as_a_video_opens_nothing_it_names(tmp_path: Path) -> None:
    secret = tmp_path / "secret.ts"
    secret.write_bytes(b"\x47" * 188 * 10)  # something the playlist would pull in
    playlist = tmp_path / "evil.mp4"
    playlist.write_text(f"#EXTM3U\n#EXTINF:10.0,\n{secret}\n#EXTINF:10.0,\nfile://{secret}\n")
    found = probe_report(playlist, SETTINGS)[0].rejection
    assert found is not None
    assert found.code == "unsupported_type"
    assert "playlist" in found.message
