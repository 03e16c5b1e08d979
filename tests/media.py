"""Generated test media: ffmpeg test sources, espeak-ng speech, tiny sizes."""

from __future__ import annotations

import atexit
import functools
import shutil
import subprocess
import tempfile
from pathlib import Path

FFMPEG = ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y"]


def speech(path: Path, text: str) -> Path:
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(path), text], check=True)
    return path


def video(
    path: Path,
    *,
    seconds: float = 3,
    size: str = "360x640",
    fps: int = 15,
    say: str | None = None,
    say_at: float = 0.3,
    image: Path | None = None,
    audio: bool = True,
    show: str | None = None,
) -> Path:
    """An H.264/AAC MP4 of a test pattern (or a still `image`), optionally speaking `say`
    from `say_at` seconds and showing `show` as a boxed caption-style overlay throughout."""
    inputs: list[str]
    if image is None:
        inputs = ["-f", "lavfi", "-i", f"testsrc2=s={size}:r={fps}:d={seconds}"]
    else:
        inputs = ["-loop", "1", "-framerate", str(fps), "-t", str(seconds), "-i", str(image)]
    filters = []
    maps = ["-map", "0:v"]
    if audio and say is not None:
        wav = speech(path.with_suffix(".speech.wav"), say)
        inputs += ["-i", str(wav)]
        delay = int(say_at * 1000)
        filters = [
            "-filter_complex",
            f"[1:a]adelay={delay}:all=1,apad,atrim=0:{seconds},aresample=44100[a]",
        ]
        maps += ["-map", "[a]"]
    elif audio:
        inputs += ["-f", "lavfi", "-i", f"sine=f=440:d={seconds}"]
        maps += ["-map", "1:a"]
    subprocess.run(
        [
            *FFMPEG,
            *inputs,
            *filters,
            *maps,
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-vf",
            f"scale={size.replace('x', ':')}" + ("" if show is None else _overlay(show)),
            "-c:a",
            "aac",
            "-t",
            str(seconds),
            "-movflags",
            "+faststart",
            str(path),
        ],
        check=True,
    )
    return path


def raw_lavfi(path: Path, source: str, *args: str) -> Path:
    """Encode an lavfi source with extra output arguments (hostile shapes)."""
    subprocess.run([*FFMPEG, "-f", "lavfi", "-i", source, *args, str(path)], check=True)
    return path


@functools.cache
def sponsored_clip() -> Path:
    """A 2 s 9:16 clip that says it is sponsored, made once a run: with the e2e tests'
    GOOD_CAPTION it passes every automated check of their Glow serum brief."""
    folder = Path(tempfile.mkdtemp(prefix="nexus-clips-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return video(folder / "draft.mp4", say="this video is sponsored by Glow serum", seconds=2)


def encoded_sponsored_clip() -> Path:
    """The sponsored clip, but not the master's 9:16 frame: the moderation encodes it instead
    of copying it, so no ladder follows the decision. Time-skipping tests use it: that server
    would skip virtual time through a real ffmpeg run's timeouts."""
    folder = Path(tempfile.mkdtemp(prefix="nexus-clips-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return video(
        folder / "draft.mp4", say="this video is sponsored by Glow serum", seconds=2, size="352x640"
    )


def _overlay(text: str) -> str:
    return (
        f",drawtext=text='{text}':fontsize=44:fontcolor=white:box=1:boxcolor=black:"
        "boxborderw=8:x=(w-text_w)/2:y=h*0.75"
    )
