"""Sniff an upload with ffprobe and hold it to the platform's limits.

The type comes from the bytes (ffprobe's demuxer), never from the file name or a declared
content type. Every refusal is a finding the creator can act on. Limits that guard the worker
(dimensions, frame rate, duration) are checked before anything decodes a frame, so a
decompression bomb is refused from its header; a short decode of the opening seconds then
catches files whose header is fine but whose frames are not."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import IO, Any

from activities.media.tools import Limits, ToolTimeout, run_tool, untrusted_input
from nexus.settings import MediaSettings
from workflows.contracts.moderation import MediaFinding, MediaInfo, ProbeResult

# Seconds of video decoded to prove the frames are readable.
DECODE_CHECK_S = 1


def check_report(report: dict[str, Any], size: int, settings: MediaSettings) -> ProbeResult:
    """Today's limits applied to ffprobe's report from an earlier probe of the same bytes
    that decoded cleanly: the tools need not run again."""
    checked = _check(report, size, settings)
    return ProbeResult(info=checked) if isinstance(checked, MediaInfo) else checked


def probe_report(path: Path, settings: MediaSettings) -> tuple[ProbeResult, dict[str, Any] | None]:
    """The probe, with ffprobe's report when the file passed every check, decode included:
    the same bytes always give the same report."""
    size = path.stat().st_size
    if size == 0:
        return _reject("empty_file", "The upload is empty (0 bytes). Upload the video again."), None
    if size > settings.max_upload_bytes:
        return _reject(
            "file_too_large",
            f"The file is {_mb(size)}; the limit is {_mb(settings.max_upload_bytes)}. "
            "Export it at a lower bitrate or trim it.",
        ), None
    limits = Limits(settings.probe_timeout_s, settings.tool_memory_bytes)
    try:
        result = run_tool(
            [
                "ffprobe",
                "-v",
                "error",
                "-print_format",
                "json",
                "-show_format",
                "-show_streams",
                "-probesize",
                "50000000",
                *untrusted_input(path, settings.containers),
            ],
            limits,
        )
    except ToolTimeout:
        return _unreadable(), None
    if result.returncode != 0:
        return _not_a_video(path, settings), None
    try:
        data: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError:
        return _unreadable(), None
    checked = _check(data, size, settings)
    if not isinstance(checked, MediaInfo):
        return checked, None
    extent = _extent_problem(path, checked.container, size)
    if extent is not None:
        return extent, None
    decoded = _decode_check(path, limits, settings, checked)
    return decoded, data if decoded.info is not None else None


def _check(data: dict[str, Any], size: int, settings: MediaSettings) -> ProbeResult | MediaInfo:
    fmt = data.get("format") or {}
    names = set(str(fmt.get("format_name", "")).split(","))
    if not names & set(settings.containers):
        return _reject(
            "unsupported_type",
            "This file is not a video we accept (it looks like "
            f"{fmt.get('format_long_name') or 'an unknown format'}). "
            "Upload an MP4, MOV, MKV or WebM video.",
        )
    streams: list[dict[str, Any]] = data.get("streams") or []
    videos = [
        s
        for s in streams
        if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
    ]
    if not videos:
        return _reject("no_video", "The file has no video track. Upload a video.")
    video = videos[0]
    codec = str(video.get("codec_name", "unknown"))
    if codec not in settings.video_codecs:
        return _reject(
            "unsupported_codec",
            f"The video is encoded as {codec}, which we cannot process. "
            "Export it as H.264 or HEVC.",
        )
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    if width <= 0 or height <= 0:
        return _unreadable()
    if width > settings.max_width or height > settings.max_height:
        return _reject(
            "resolution_too_large",
            f"The video is {width}x{height}; the largest we accept is "
            f"{settings.max_width}x{settings.max_height}. Export it at 1080x1920.",
        )
    fps = _rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate"))
    if fps > settings.max_fps:
        return _reject(
            "frame_rate_too_high",
            f"The video runs at {fps:.0f} frames per second; the limit is "
            f"{settings.max_fps:.0f}. Export it at 30 or 60.",
        )
    duration = _float(fmt.get("duration")) or _float(video.get("duration"))
    if duration is None or not math.isfinite(duration) or duration <= 0:
        return _unreadable()
    if duration > settings.max_duration_s:
        return _reject(
            "too_long",
            f"The video lasts {_clock(duration)}; the longest we accept is "
            f"{_clock(settings.max_duration_s)}. Trim it.",
        )
    if duration < settings.min_duration_s:
        return _reject(
            "too_short",
            f"The video lasts {duration:.1f} s; it must last at least "
            f"{settings.min_duration_s:g} s.",
        )
    if width * height * (fps or 30.0) * duration > settings.max_decoded_pixels:
        return _reject(
            "too_much_video",
            f"{width}x{height} at {fps:.0f} frames per second for {_clock(duration)} is more "
            "video than we process in one upload. Export it at 1080x1920, 30 frames per "
            "second, or trim it.",
        )
    if _rotation(video) in (90, 270):
        width, height = height, width
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    return MediaInfo(
        container=str(fmt.get("format_name")),
        size_bytes=size,
        duration_s=duration,
        width=width,
        height=height,
        fps=fps or 30.0,
        video_codec=codec,
        audio_codec=str(audio.get("codec_name")) if audio else None,
        video_profile=str(video["profile"]) if video.get("profile") else None,
        pix_fmt=str(video["pix_fmt"]) if video.get("pix_fmt") else None,
    )


def _decode_check(
    path: Path, limits: Limits, settings: MediaSettings, info: MediaInfo
) -> ProbeResult:
    try:
        result = run_tool(
            [
                "ffmpeg",
                "-hide_banner",
                "-nostdin",
                "-v",
                "error",
                "-xerror",
                "-t",
                str(DECODE_CHECK_S),
                *untrusted_input(path, settings.containers),
                "-map",
                "0:v:0",
                "-f",
                "null",
                "-",
            ],
            limits,
        )
    except ToolTimeout:
        return _unreadable()
    if result.returncode != 0:
        return _reject(
            "corrupt_video",
            "The video's frames are damaged or cut short and cannot be decoded. Export it "
            "again and re-upload the new file.",
        )
    return ProbeResult(info=info)


# Where the container says it ends must be where the file ends. Beyond it, the bytes are
# another file joined on (a polyglot: a page or an archive behind the video); short of it,
# the upload was cut, even when its opening seconds still decode.
_MOV_BOXES = frozenset(
    b"ftyp styp moov mdat free skip wide pnot uuid meta pdin moof mfra sidx ssix emsg prft"
    b" junk".split()
)
_EBML_IDS = {0x1A45DFA3: "header", 0x18538067: "segment", 0xEC: "void"}


def _extent_problem(path: Path, container: str, size: int) -> ProbeResult | None:
    names = set(container.split(","))
    with path.open("rb") as file:
        if names & {"mov", "mp4"}:
            problem = _box_extent(file, size)
        elif names & {"matroska", "webm"}:
            problem = _ebml_extent(file, size)
        else:
            return None
    if problem == "truncated":
        return _reject(
            "corrupt_video",
            "The video is cut short: the file ends before the video does. Export it again "
            "and re-upload the whole file.",
        )
    if problem is not None:
        return _reject(
            "trailing_data",
            f"The file holds something else after the video ({problem}). Export the video "
            "again and upload only the video file.",
        )
    return None


def _box_extent(file: IO[bytes], size: int) -> str | None:
    """MP4/MOV: the top-level boxes must tile the file exactly."""
    offset = 0
    while offset < size:
        file.seek(offset)
        header = file.read(16)
        kind, length = header[4:8], int.from_bytes(header[:4], "big")
        if length == 1 and len(header) == 16:  # a 64-bit size follows the type
            length = int.from_bytes(header[8:16], "big")
        elif length == 0 and kind in _MOV_BOXES:  # the last box runs to the end
            return None
        # A vendor's own box is fine where it fits; text or another format is not a box.
        is_box = len(header) >= 8 and all(0x20 < c < 0x7F for c in kind) and length >= 8
        if not is_box or (kind not in _MOV_BOXES and offset + length > size):
            return f"{size - offset} bytes at {offset}"
        if offset + length > size:
            return "truncated"
        offset += length
    return None


def _ebml_extent(file: IO[bytes], size: int) -> str | None:
    """Matroska/WebM: the EBML header, then the segment, whose size is known unless the
    file was recorded live (then it runs to the end)."""
    offset = 0
    while offset < size:
        file.seek(offset)
        ident, length, header = _ebml_element(file)
        if ident not in _EBML_IDS:
            return f"{size - offset} bytes at {offset}"
        if length is None:
            return None
        if offset + header + length > size:
            return "truncated"
        offset += header + length
    return None


def _ebml_element(file: IO[bytes]) -> tuple[int | None, int | None, int]:
    """An element's ID (marker bits kept), data size (None: unknown) and header length."""
    raw = file.read(4)
    width = 9 - raw[0].bit_length() if raw else 9
    if width > 4 or len(raw) < width:
        return None, None, 0
    ident = int.from_bytes(raw[:width], "big")
    file.seek(width - len(raw), 1)
    first = file.read(1)
    size_width = 9 - first[0].bit_length() if first else 9
    rest = file.read(size_width - 1) if size_width <= 8 else b""
    if size_width > 8 or len(rest) < size_width - 1:
        return None, None, 0
    value = int.from_bytes(bytes([first[0] & (0xFF >> size_width)]) + rest, "big")
    unknown = value == (1 << (7 * size_width)) - 1
    return ident, None if unknown else value, width + size_width


def _rotation(video: dict[str, Any]) -> int:
    tags = video.get("tags") or {}
    rotation = _float(tags.get("rotate"))
    for side in video.get("side_data_list") or []:
        if "rotation" in side:
            rotation = _float(side["rotation"])
    # A tag says whatever the file wants: "nan" or "1e999" is no rotation, not a crash.
    return int(rotation) % 360 if rotation is not None and math.isfinite(rotation) else 0


def _rate(value: object) -> float:
    if not isinstance(value, str) or "/" not in value:
        return 0.0
    num, _, den = value.partition("/")
    try:
        return float(num) / float(den) if float(den) else 0.0
    except ValueError:
        return 0.0


def _float(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _mb(size: int) -> str:
    return f"{size / 1_000_000:,.1f} MB"


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}"


# What a non-video upload most often is, by its first bytes: the creator is told what they
# sent, since ffprobe (restricted to accepted containers) only says it cannot read it. The
# last field names the container's demuxer: when that one is accepted, the file is a damaged
# video of an accepted type, not a wrong type.
_MAGIC: list[tuple[int, bytes, str, str | None]] = [
    (0, b"\x89PNG", "a PNG image", None),
    (0, b"\xff\xd8\xff", "a JPEG image", None),
    (0, b"GIF8", "a GIF image", None),
    (8, b"WAVE", "a WAV audio file", None),
    (8, b"AVI ", "an AVI video", None),
    (0, b"ID3", "an MP3 audio file", None),
    (0, b"%PDF", "a PDF document", None),
    (0, b"PK\x03\x04", "a ZIP archive", None),
    (0, b"#EXTM3U", "a playlist", None),
    (4, b"ftyp", "an MP4 or MOV file", "mov"),
    (0, b"\x1a\x45\xdf\xa3", "a Matroska or WebM file", "matroska"),
]


def _not_a_video(path: Path, settings: MediaSettings) -> ProbeResult:
    with path.open("rb") as file:
        head = file.read(16)
    for offset, magic, kind, demuxer in _MAGIC:
        if head[offset : offset + len(magic)] != magic:
            continue
        if demuxer in settings.containers:
            break
        return _reject(
            "unsupported_type",
            f"This file is {kind}, which is not a video format we accept. "
            f"Upload a video in one of: {', '.join(settings.containers)}.",
        )
    return _unreadable()


def _unreadable() -> ProbeResult:
    return _reject(
        "unreadable",
        "We could not read this file as a video: it may be corrupt or cut short. "
        "Export it again and re-upload.",
    )


def _reject(code: str, message: str) -> ProbeResult:
    return ProbeResult(
        info=None,
        rejection=MediaFinding(check="ingest", code=code, severity="block", message=message),
    )


# How much of an object the platform reads to tell what it is before serving it.
SNIFF_BYTES = 64


def sniff_type(head: bytes) -> str | None:
    """The type an object's first bytes prove it is, among those the platform serves inline
    (its own renditions); None for anything else, whatever its name or declared type."""
    if head[4:8] == b"ftyp" and head[8:12] != b"qt  ":
        return "video/mp4"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    text = head.removeprefix(b"\xef\xbb\xbf")
    if text.startswith(b"WEBVTT") and text[6:7] in (b"", b" ", b"\t", b"\n", b"\r"):
        return "text/vtt"
    if text.lstrip(b" \t\r\n")[:1] in (b"{", b"["):
        return "application/json"
    return None
