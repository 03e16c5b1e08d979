"""One decode, every output: a single ffmpeg filter graph normalizes the video to a 9:16
frame and fans it out to the master, the HLS ladder, thumbnails, a contact sheet, the frames
sampled for hashing and the nudity detector, and a 16 kHz mono track for speech-to-text."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from activities.media.tools import Limits, run_tool, untrusted_input
from nexus.settings import MediaSettings
from workflows.contracts.moderation import MediaInfo

# HLS ladder rungs (width, height) in 9:16, and their bitrate caps.
LADDER = [("360p", 360, 640, "900k"), ("720p", 720, 1280, "2800k")]
# Frames for hashes and the detector share one geometry: PDQ distances are only meaningful
# between images downscaled the same way.
FRAME_W, FRAME_H = 360, 640
THUMB_W, THUMB_H = 360, 640
SHEET_COLUMNS = 3
SEGMENT_S = 4
MAX_FPS = 30


class TranscodeFailed(Exception):
    pass


@dataclass(frozen=True)
class Outputs:
    """Paths relative to the output directory."""

    master: str
    hls: str
    thumbnails: list[str]
    contact_sheet: str
    audio: str
    frames: list[str]
    frame_times: list[float]


def master_size(info: MediaInfo) -> tuple[int, int]:
    """The 9:16 frame of the master: the source's height between 640 and 1920 lines, so a
    small source is not blown up and a large one is not kept beyond 1080x1920. A multiple of
    32 lines keeps the width (9/16 of it) whole and even."""
    height = min(1920, max(640, info.height)) // 32 * 32
    return height * 9 // 16, height


def fit(width: int, height: int) -> str:
    """Scale into a width x height box keeping the aspect ratio, padded to the box."""
    return (
        f"scale={width}:{height}:force_original_aspect_ratio=decrease:force_divisible_by=2,"
        f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2,setsar=1"
    )


def transcode(
    source: Path,
    info: MediaInfo,
    out: Path,
    settings: MediaSettings,
    on_progress: Callable[[float], None],
) -> Outputs:
    width, height = master_size(info)
    duration = info.duration_s
    thumbs = settings.thumbnails
    rows = math.ceil(thumbs / SHEET_COLUMNS)
    fps = min(info.fps, MAX_FPS)
    for folder in ("thumbs", "frames", "hls"):
        (out / folder).mkdir(parents=True, exist_ok=True)

    inputs = untrusted_input(source, settings.containers)
    audio_in = "0:a:0"
    if info.audio_codec is None:
        # A silent track keeps every output's shape the same for videos without sound.
        inputs += ["-f", "lavfi", "-t", f"{duration:.3f}", "-i", "anullsrc=r=48000:cl=stereo"]
        audio_in = "1:a"
    graph = ";".join(
        [
            f"[0:v:0]fps={fps:g},{fit(width, height)},format=yuv420p,split=5[vm][vl][vt][vc][vs]",
            # Each rung is scaled from the next larger one, bilinear: previews need no
            # sharper filter, and the 360p rung costs a 720p-sized scale, not a 1080p one.
            f"[vl]scale={LADDER[1][1]}:{LADDER[1][2]}:flags=bilinear,split=2[hls1][vl1]",
            f"[vl1]scale={LADDER[0][1]}:{LADDER[0][2]}:flags=bilinear[hls0]",
            f"[vt]fps={thumbs}/{duration:.3f},scale={THUMB_W}:{THUMB_H}[thumbs]",
            f"[vc]fps={thumbs}/{duration:.3f},scale={THUMB_W // 2}:{THUMB_H // 2},"
            f"tile={SHEET_COLUMNS}x{rows}[sheet]",
            f"[vs]fps={settings.sample_fps:g},scale={FRAME_W}:{FRAME_H}[frames]",
            f"[{audio_in}]aresample=48000,asplit=4[am][al0][al1][aw]",
            "[aw]aresample=16000,aformat=sample_fmts=s16:channel_layouts=mono[speech]",
        ]
    )
    gop = ["-g", str(round(fps * 2)), "-keyint_min", str(round(fps * 2)), "-sc_threshold", "0"]

    def x264(preset: str) -> list[str]:
        return ["-preset", preset, "-profile:v", "high", "-pix_fmt", "yuv420p"]

    args = [
        "ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-nostats",
        "-progress", "pipe:1", *inputs, "-filter_complex", graph,
        # Master: 9:16 H.264/AAC, moov first so players start before the download ends.
        "-map", "[vm]", "-map", "[am]",
        "-c:v", "libx264", *x264(settings.x264_preset), "-crf", "21",
        "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", str(out / "master.mp4"),
        # HLS ladder, key frames aligned on segment boundaries.
        *_hls_args(out, x264(settings.ladder_preset), gop),
        "-map", "[thumbs]", "-frames:v", str(thumbs), "-q:v", "3",
        str(out / "thumbs" / "%02d.jpg"),
        "-map", "[sheet]", "-frames:v", "1", "-q:v", "3", str(out / "contact.jpg"),
        "-map", "[frames]", "-q:v", "2", str(out / "frames" / "%04d.jpg"),
        "-map", "[speech]", "-c:a", "pcm_s16le", str(out / "audio.wav"),
    ]  # fmt: skip

    def progress(line: str) -> None:
        key, _, value = line.partition("=")
        if key == "out_time_us" and value.isdigit():
            on_progress(min(1.0, int(value) / 1e6 / duration))

    limits = Limits(settings.transcode_timeout_s, settings.tool_memory_bytes)
    result = run_tool(args, limits, on_line=progress)
    if result.returncode != 0:
        raise TranscodeFailed(result.stderr.strip().splitlines()[-1:] or ["ffmpeg failed"])
    frames = sorted(p.name for p in (out / "frames").iterdir())
    return Outputs(
        master="master.mp4",
        hls="hls/master.m3u8",
        thumbnails=[f"thumbs/{p.name}" for p in sorted((out / "thumbs").iterdir())],
        contact_sheet="contact.jpg",
        audio="audio.wav",
        frames=[f"frames/{name}" for name in frames],
        frame_times=[round(i / settings.sample_fps, 3) for i in range(len(frames))],
    )


def _hls_args(out: Path, x264: list[str], gop: list[str]) -> list[str]:
    args: list[str] = []
    for i, (_, _, _, rate) in enumerate(LADDER):
        args += ["-map", f"[hls{i}]", "-map", f"[al{i}]"]
        args += [f"-c:v:{i}", "libx264", f"-crf:v:{i}", "23", f"-maxrate:v:{i}", rate]
        args += [f"-bufsize:v:{i}", rate, f"-c:a:{i}", "aac", f"-b:a:{i}", "96k"]
    stream_map = " ".join(f"v:{i},a:{i},name:{name}" for i, (name, *_) in enumerate(LADDER))
    return [
        *args, *x264, *gop, "-f", "hls", "-hls_time", str(SEGMENT_S),
        "-hls_playlist_type", "vod", "-hls_flags", "independent_segments",
        "-master_pl_name", "master.m3u8", "-var_stream_map", stream_map,
        "-hls_segment_filename", str(out / "hls" / "%v" / "seg_%03d.ts"),
        str(out / "hls" / "%v" / "index.m3u8"),
    ]  # fmt: skip
