"""One decode, every output: a single ffmpeg filter graph normalizes the video to a 9:16
frame and fans it out to the master, the HLS ladder, thumbnails, a contact sheet, the frames
sampled for hashing and the nudity detector, and a 16 kHz mono track for speech-to-text.

An upload that is already what the master would be (`stream_copyable`: browser-playable
H.264 in the master's 9:16 size, AAC or silent) is not re-encoded: `prepare` copies its
streams into the master and decodes it once for what the checks read (frames, thumbnails,
speech), through the same filters as the full transcode, so the checks see the same pixels
and samples; `ladder` makes the HLS ladder and the contact sheet from the master later."""

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
# What every browser plays as it is (8-bit 4:2:0 H.264 in these profiles, AAC).
PLAYABLE_PROFILES = frozenset({"Constrained Baseline", "Baseline", "Main", "High"})


class TranscodeFailed(Exception):
    pass


@dataclass(frozen=True)
class CheckOutputs:
    """What the checks read; paths relative to the output directory."""

    master: str
    thumbnails: list[str]
    audio: str
    frames: list[str]
    frame_times: list[float]


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


def stream_copyable(info: MediaInfo) -> bool:
    """The upload's streams can be the master as they are: the transcode would only make
    the same kind of file again, at the same size and frame rate."""
    return (
        info.video_codec == "h264"
        and info.video_profile in PLAYABLE_PROFILES
        and info.pix_fmt == "yuv420p"
        and (info.width, info.height) == master_size(info)
        and info.fps <= MAX_FPS
        and info.audio_codec in (None, "aac")
    )


def _audio_input(info: MediaInfo, inputs: list[str]) -> tuple[list[str], str]:
    if info.audio_codec is not None:
        return inputs, "0:a:0"
    # A silent track keeps every output's shape the same for videos without sound.
    silence = ["-f", "lavfi", "-t", f"{info.duration_s:.3f}", "-i", "anullsrc=r=48000:cl=stereo"]
    return [*inputs, *silence], "1:a"


def _normalized(info: MediaInfo) -> str:
    """The video as every output of the transcode sees it, before its own scaling."""
    width, height = master_size(info)
    return f"[0:v:0]fps={min(info.fps, MAX_FPS):g},{fit(width, height)},format=yuv420p"


def _progress(duration: float, on_progress: Callable[[float], None]) -> Callable[[str], None]:
    def progress(line: str) -> None:
        key, _, value = line.partition("=")
        if key == "out_time_us" and value.isdigit():
            on_progress(min(1.0, int(value) / 1e6 / duration))

    return progress


def _run(args: list[str], settings: MediaSettings, on_line: Callable[[str], None]) -> None:
    limits = Limits(settings.transcode_timeout_s, settings.tool_memory_bytes)
    result = run_tool(args, limits, on_line=on_line)
    if result.returncode != 0:
        raise TranscodeFailed(result.stderr.strip().splitlines()[-1:] or ["ffmpeg failed"])


def _check_outputs(out: Path, settings: MediaSettings, master: str) -> CheckOutputs:
    frames = sorted(p.name for p in (out / "frames").iterdir())
    return CheckOutputs(
        master=master,
        thumbnails=[f"thumbs/{p.name}" for p in sorted((out / "thumbs").iterdir())],
        audio="audio.wav",
        frames=[f"frames/{name}" for name in frames],
        frame_times=[round(i / settings.sample_fps, 3) for i in range(len(frames))],
    )


def prepare(
    source: Path,
    info: MediaInfo,
    out: Path,
    settings: MediaSettings,
    on_progress: Callable[[float], None],
) -> CheckOutputs:
    """A `stream_copyable` upload's master (its streams copied, moov first) and what the
    checks read, in one ffmpeg run that decodes but encodes no video."""
    thumbs = settings.thumbnails
    for folder in ("thumbs", "frames"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    inputs, audio_in = _audio_input(info, untrusted_input(source, settings.containers))
    # The same filters, in the same order, as the transcode's: the same frames and samples.
    graph = ";".join(
        [
            f"{_normalized(info)},split=2[vt][vs]",
            f"[vt]fps={thumbs}/{info.duration_s:.3f},scale={THUMB_W}:{THUMB_H}[thumbs]",
            f"[vs]fps={settings.sample_fps:g},scale={FRAME_W}:{FRAME_H}[frames]",
            f"[{audio_in}]aresample=48000,aresample=16000,"
            "aformat=sample_fmts=s16:channel_layouts=mono[speech]",
        ]
    )
    args = [
        "ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-nostats",
        "-progress", "pipe:1", *inputs, "-filter_complex", graph,
        "-map", "0:v:0", "-map", "0:a:0?", "-c", "copy", "-movflags", "+faststart",
        str(out / "master.mp4"),
        "-map", "[thumbs]", "-frames:v", str(thumbs), "-q:v", "3",
        str(out / "thumbs" / "%02d.jpg"),
        "-map", "[frames]", "-q:v", "2", str(out / "frames" / "%04d.jpg"),
        "-map", "[speech]", "-c:a", "pcm_s16le", str(out / "audio.wav"),
    ]  # fmt: skip
    _run(args, settings, _progress(info.duration_s, on_progress))
    return _check_outputs(out, settings, "master.mp4")


def ladder(
    master: Path,
    info: MediaInfo,
    out: Path,
    settings: MediaSettings,
    on_progress: Callable[[float], None],
) -> tuple[str, str]:
    """The HLS ladder and the contact sheet of a copied master, as the transcode makes
    them: (playlist, contact sheet), relative to `out`."""
    rows = math.ceil(settings.thumbnails / SHEET_COLUMNS)
    (out / "hls").mkdir(parents=True, exist_ok=True)
    fps = min(info.fps, MAX_FPS)
    inputs, audio_in = _audio_input(info, untrusted_input(master, settings.containers))
    graph = ";".join(
        [
            f"{_normalized(info)},split=2[vl][vc]",
            f"[vl]scale={LADDER[1][1]}:{LADDER[1][2]}:flags=bilinear,split=2[hls1][vl1]",
            f"[vl1]scale={LADDER[0][1]}:{LADDER[0][2]}:flags=bilinear[hls0]",
            f"[vc]fps={settings.thumbnails}/{info.duration_s:.3f},"
            f"scale={THUMB_W // 2}:{THUMB_H // 2},tile={SHEET_COLUMNS}x{rows}[sheet]",
            f"[{audio_in}]aresample=48000,asplit=2[al0][al1]",
        ]
    )
    gop = ["-g", str(round(fps * 2)), "-keyint_min", str(round(fps * 2)), "-sc_threshold", "0"]
    x264 = ["-preset", settings.ladder_preset, "-profile:v", "high", "-pix_fmt", "yuv420p"]
    args = [
        "ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-nostats",
        "-progress", "pipe:1", *inputs, "-filter_complex", graph,
        *_hls_args(out, x264, gop),
        "-map", "[sheet]", "-frames:v", "1", "-q:v", "3", str(out / "contact.jpg"),
    ]  # fmt: skip
    _run(args, settings, _progress(info.duration_s, on_progress))
    return "hls/master.m3u8", "contact.jpg"


def transcode(
    source: Path,
    info: MediaInfo,
    out: Path,
    settings: MediaSettings,
    on_progress: Callable[[float], None],
) -> Outputs:
    duration = info.duration_s
    thumbs = settings.thumbnails
    rows = math.ceil(thumbs / SHEET_COLUMNS)
    fps = min(info.fps, MAX_FPS)
    for folder in ("thumbs", "frames", "hls"):
        (out / folder).mkdir(parents=True, exist_ok=True)

    inputs, audio_in = _audio_input(info, untrusted_input(source, settings.containers))
    graph = ";".join(
        [
            f"{_normalized(info)},split=5[vm][vl][vt][vc][vs]",
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

    _run(args, settings, _progress(duration, on_progress))
    checked = _check_outputs(out, settings, "master.mp4")
    return Outputs(
        master=checked.master,
        hls="hls/master.m3u8",
        thumbnails=checked.thumbnails,
        contact_sheet="contact.jpg",
        audio=checked.audio,
        frames=checked.frames,
        frame_times=checked.frame_times,
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
