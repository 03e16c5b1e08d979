"""Photos: read and re-encoded in a child process under the media tools' limits.

An uploaded photo is decoded by Pillow, but never in the worker: `python -m
activities.media.photo_decode` runs under the same memory, CPU and wall-clock caps as ffmpeg, so a
hostile file costs one failed call. Only JPEG, PNG and WebP decoders are offered the bytes
(no EPS, SVG or other plugins), the dimensions are checked from the header before a pixel is
decoded, and what the platform keeps is its own JPEG: turned upright from its EXIF
orientation, without the upload's metadata (a phone photo's GPS position included)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from activities.media.photo_decode import FRAME, MASTER, THUMBNAIL, UNREADABLE
from activities.media.tools import Limits, ToolTimeout, run_tool
from nexus.settings import MediaSettings
from workflows.contracts.moderation import MediaFinding, MediaInfo, ProbeResult


@dataclass(frozen=True)
class PhotoOutputs:
    master: str
    frame: str
    thumbnail: str


def probe_photo(path: Path, settings: MediaSettings) -> ProbeResult:
    """What the photo is, once its pixels decoded; a refusal the creator can act on otherwise."""
    size = path.stat().st_size
    if size == 0:
        return _reject("empty_file", "The upload is empty (0 bytes). Upload the photo again.")
    return _run(path, None, settings)


def render_photo(path: Path, out: Path, settings: MediaSettings) -> PhotoOutputs:
    """The platform's own copies of a probed photo under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    result = _run(path, out, settings)
    if result.info is None:
        assert result.rejection is not None
        raise PhotoFailed(result.rejection.message)
    return PhotoOutputs(master=MASTER, frame=FRAME, thumbnail=THUMBNAIL)


class PhotoFailed(Exception):
    pass


def _run(path: Path, out: Path | None, settings: MediaSettings) -> ProbeResult:
    limits = Limits(settings.probe_timeout_s, settings.tool_memory_bytes)
    args = [sys.executable, "-I", "-m", "activities.media.photo_decode", str(path)]
    args += [str(settings.max_photo_pixels), str(out) if out else ""]
    try:
        result = run_tool(args, limits)
    except ToolTimeout:
        return _unreadable()
    try:
        answer: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError:
        # Killed at a limit or crashed in a decoder: the file is the cause.
        return _unreadable()
    if "refusal" in answer:
        return _reject(answer["refusal"], answer["message"])
    kind = str(answer["format"]).lower()
    return ProbeResult(
        info=MediaInfo(
            container=kind,
            size_bytes=path.stat().st_size,
            duration_s=0.0,
            width=int(answer["width"]),
            height=int(answer["height"]),
            fps=0.0,
            video_codec=kind,
            audio_codec=None,
        )
    )


def _unreadable() -> ProbeResult:
    return _reject("unreadable", UNREADABLE)


def _reject(code: str, message: str) -> ProbeResult:
    return ProbeResult(
        info=None,
        rejection=MediaFinding(check="ingest", code=code, severity="block", message=message),
    )
