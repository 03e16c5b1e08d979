"""Fuzzing the upload probe with hostile media: small clips made by ffmpeg, then truncated,
bit-flipped, prefixed or followed by another format (polyglots), declared far larger than
they are, or replaced by random bytes. Each answer is a refusal with a reason the creator can
act on, or a video within every limit; the probe never raises and never runs past its caps."""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from activities.media.probe import SNIFF_BYTES, probe_report, sniff_type
from nexus.settings import MediaSettings
from tests.media import FFMPEG, video

# Tight caps, as a worker would have them: a hostile file costs at most one capped call.
SETTINGS = MediaSettings(probe_timeout_s=10, tool_memory_bytes=1024**3)
FUZZ = settings(max_examples=20, deadline=None, derandomize=True)
CODES = {
    "empty_file", "file_too_large", "unsupported_type", "no_video", "unsupported_codec",
    "unreadable", "resolution_too_large", "frame_rate_too_high", "too_long", "too_short",
    "too_much_video", "corrupt_video", "trailing_data",
}  # fmt: skip
HTML = b"<!doctype html><html><body><script>fetch('/portal/team')</script></body></html>\n"
# What a polyglot puts in front of the video, or behind it.
OTHERS = [
    HTML,
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,",
    b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 20 + b"x.html" + HTML,
    b"%PDF-1.7\n1 0 obj<<>>endobj\n",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    b"#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n",
    b"\x00" * 64,
]


@pytest.fixture(scope="module")
def seeds() -> dict[str, bytes]:
    """Small valid clips of each accepted container, 1.2 s each."""
    folder = Path(tempfile.mkdtemp(prefix="nexus-fuzz-"))
    mp4 = video(folder / "seed.mp4", seconds=1.2, size="64x112", fps=10)
    made = {"mp4": mp4, "mov": folder / "seed.mov", "mkv": folder / "seed.mkv"}
    for kind in ("mov", "mkv"):
        subprocess.run([*FFMPEG, "-i", str(mp4), "-c", "copy", str(made[kind])], check=True)
    webm = folder / "seed.webm"
    subprocess.run(
        [*FFMPEG, "-f", "lavfi", "-i", "testsrc2=s=64x112:r=10:d=1.2", "-c:v", "libvpx",
         "-deadline", "realtime", "-b:v", "100k", str(webm)],
        check=True,
    )  # fmt: skip
    made["webm"] = webm
    return {kind: path.read_bytes() for kind, path in made.items()}


def _probe(data: bytes) -> tuple[str | None, float]:
    """The probe's refusal code for `data` (None when accepted), and its seconds."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload.bin"
        path.write_bytes(data)
        started = time.monotonic()
        result, _ = probe_report(path, SETTINGS)
        elapsed = time.monotonic() - started
    assert elapsed < 2 * SETTINGS.probe_timeout_s + 5
    if result.rejection is not None:
        assert result.info is None
        assert result.rejection.code in CODES
        assert result.rejection.severity == "block"
        assert result.rejection.message.endswith((".", ")"))
        assert "Traceback" not in result.rejection.message
        return result.rejection.code, elapsed
    info = result.info
    assert info is not None
    assert 0 < info.width <= SETTINGS.max_width and 0 < info.height <= SETTINGS.max_height
    assert SETTINGS.min_duration_s <= info.duration_s <= SETTINGS.max_duration_s
    assert 0 < info.fps <= SETTINGS.max_fps
    return None, elapsed


def test_the_seeds_are_accepted(seeds: dict[str, bytes]) -> None:
    for data in seeds.values():
        assert _probe(data)[0] is None


kinds = st.sampled_from(["mp4", "mov", "mkv", "webm"])


@FUZZ
@example(kind="mp4", keep=0.0)
@example(kind="mp4", keep=0.5)  # the opening second decodes: accepted before
@example(kind="mkv", keep=0.5)
@given(kind=kinds, keep=st.floats(min_value=0, max_value=0.999))
def test_a_truncated_video_is_refused(seeds: dict[str, bytes], kind: str, keep: float) -> None:
    data = seeds[kind]
    cut = data[: int(len(data) * keep)]
    code, _ = _probe(cut)
    assert code is not None, f"{kind} cut to {len(cut)} of {len(data)} bytes was accepted"


@FUZZ
@example(kind="mp4", other=HTML, before=False)  # a page behind the video: accepted before
@example(kind="webm", other=HTML, before=False)
@given(
    kind=kinds,
    other=st.sampled_from(OTHERS) | st.binary(min_size=1, max_size=512),
    before=st.booleans(),
)
def test_a_polyglot_is_refused(
    seeds: dict[str, bytes], kind: str, other: bytes, before: bool
) -> None:
    data = other + seeds[kind] if before else seeds[kind] + other
    code, _ = _probe(data)
    assert code is not None, f"{kind} with {len(other)} bytes {'before' if before else 'after'}"


@FUZZ
@given(
    kind=kinds,
    flips=st.lists(
        st.tuples(st.floats(min_value=0, max_value=0.999), st.integers(0, 255)),
        min_size=1,
        max_size=40,
    ),
)
def test_flipped_bytes_are_refused_or_still_a_video_within_limits(
    seeds: dict[str, bytes], kind: str, flips: list[tuple[float, int]]
) -> None:
    data = bytearray(seeds[kind])
    for where, value in flips:
        data[int(where * len(data))] = value
    _probe(bytes(data))


def _declared_size(data: bytes, width: int, height: int) -> bytes:
    """The clip with huge dimensions in its container header (MP4 tkhd, Matroska
    PixelWidth/PixelHeight), whatever its frames say."""
    out = bytearray(data)
    at = out.find(b"tkhd")
    if at != -1:  # version 0 tkhd: width and height are the last 8 bytes, 16.16 fixed point
        end = at - 4 + int.from_bytes(out[at - 4 : at], "big")
        out[end - 8 : end] = (width << 16).to_bytes(4, "big") + (height << 16).to_bytes(4, "big")
    for element, value in ((b"\xb0\x82", width), (b"\xba\x82", height)):
        at = out.find(element)
        if at != -1:
            out[at + 2 : at + 4] = min(value, 0xFFFF).to_bytes(2, "big")
    return bytes(out)


@settings(FUZZ, max_examples=12)
@given(
    kind=kinds,
    width=st.integers(min_value=1, max_value=65_535),
    height=st.integers(min_value=1, max_value=65_535),
)
def test_huge_declared_dimensions_are_refused_or_read_from_the_frames(
    seeds: dict[str, bytes], kind: str, width: int, height: int
) -> None:
    _probe(_declared_size(seeds[kind], width, height))


@FUZZ
@example(data=b"")
@example(data=b"\x00\x00\x00\x18ftypisom")
@example(data=b"\x1a\x45\xdf\xa3")
@given(data=st.binary(max_size=4096))
def test_random_bytes_are_refused(data: bytes) -> None:
    assert _probe(data)[0] is not None


@pytest.mark.parametrize("rotate", ["nan", "inf", "1e999", "-nan"])
def test_a_rotation_tag_that_is_no_number_is_no_rotation(
    seeds: dict[str, bytes], tmp_path: Path, rotate: str
) -> None:
    # ffmpeg upper-cases Matroska tag names; a hand-made file says "rotate", which ffprobe
    # reports as the rotation tag. "nan" used to crash the probe (and retry it forever).
    (tmp_path / "seed.mkv").write_bytes(seeds["mkv"])
    tagged = tmp_path / "tagged.mkv"
    args = ["-i", str(tmp_path / "seed.mkv"), "-c", "copy", "-write_crc32", "0"]
    subprocess.run([*FFMPEG, *args, "-metadata:s:v:0", f"ROTATE={rotate}", str(tagged)], check=True)
    data = tagged.read_bytes().replace(b"ROTATE", b"rotate")
    result, _ = probe_report(_written(tmp_path, data), SETTINGS)
    assert result.info is not None
    assert (result.info.width, result.info.height) == (64, 112)


def _written(folder: Path, data: bytes) -> Path:
    path = folder / "upload.bin"
    path.write_bytes(data)
    return path


SERVED = {None, "video/mp4", "image/jpeg", "image/png", "text/vtt", "application/json"}


@settings(FUZZ, max_examples=300)
@example(head=HTML[:SNIFF_BYTES])
@example(head=b"\xef\xbb\xbfWEBVTT<script>")
@given(
    head=st.binary(max_size=SNIFF_BYTES) | st.sampled_from(OTHERS).map(lambda b: b[:SNIFF_BYTES])
)
def test_sniffing_names_only_types_that_render_nothing_active(head: bytes) -> None:
    # What is served inline is decided by these bytes: never a page, never a script.
    kind = sniff_type(head)
    assert kind in SERVED
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        assert kind is None
