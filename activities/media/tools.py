"""Running ffmpeg and ffprobe on untrusted input: each child is capped in memory and CPU
time (prlimit), runs in its own process group, is killed with its group at the deadline, and
keeps only the end of its stderr; a hostile file costs one failed call, never a wedged
worker. It also dies with the worker (setpriv's parent-death signal): a killed worker leaves
no orphaned encoder burning the CPU its retry needs."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# ffmpeg's last lines say what went wrong.
STDERR_LINES = 40


class ToolTimeout(Exception):
    pass


@dataclass(frozen=True)
class Limits:
    timeout_s: float
    memory_bytes: int

    @property
    def cpu_seconds(self) -> int:
        # ffmpeg uses every core: allow CPU time for all of them over the wall-clock budget.
        return int(self.timeout_s * (os.cpu_count() or 1)) + 1


@dataclass(frozen=True)
class ToolResult:
    returncode: int
    stdout: str
    stderr: str


def run_tool(
    args: list[str], limits: Limits, *, on_line: Callable[[str], None] | None = None
) -> ToolResult:
    """Run `args` under the limits. `on_line` sees each stdout line as it comes (ffmpeg's
    `-progress pipe:1`) and the result's stdout is then empty; otherwise stdout is kept."""
    proc = subprocess.Popen(
        [
            *("setpriv", "--pdeathsig", "KILL", "--"),
            *("prlimit", f"--as={limits.memory_bytes}", f"--cpu={limits.cpu_seconds}", "--"),
            *args,
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        _kill_group(proc)

    watchdog = threading.Timer(limits.timeout_s, kill)
    watchdog.start()
    stderr: deque[str] = deque(maxlen=STDERR_LINES)
    # stderr drains on its own thread so a chatty child never blocks on a full pipe.
    drain = threading.Thread(target=lambda: stderr.extend(proc.stderr or ()), daemon=True)
    drain.start()
    kept: list[str] = []
    try:
        for line in proc.stdout or ():
            if on_line is None:
                kept.append(line)
            else:
                on_line(line.rstrip("\n"))
        proc.wait()
        drain.join()
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            _kill_group(proc)
            proc.wait()
    if timed_out.is_set():
        raise ToolTimeout(f"{args[0]} ran past {limits.timeout_s:g} s")
    return ToolResult(proc.returncode, "".join(kept), "".join(stderr))


def untrusted_input(path: Path, formats: list[str]) -> list[str]:
    """ffmpeg/ffprobe input arguments for an upload: local file access only, and only the
    accepted container demuxers. A "video" that is really an HLS or concat playlist would
    otherwise make the tool open other files or URLs named inside it."""
    return [
        "-protocol_whitelist", "file", "-format_whitelist", ",".join(formats), "-i", str(path),
    ]  # fmt: skip


def _kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
