"""Keeps the dev stack's processes running: one that exits is started again with the same
command line and log file, after a delay that doubles while it keeps crashing (1 s up to 30 s)
and starts over once a run lasted a minute, so a crash loop neither spins nor stops the rest."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes]
    log: IO[bytes]
    # The environment it runs with (None: the launcher's own), the same on every restart.
    env: dict[str, str] | None = None
    started_at: float = field(default_factory=time.monotonic)
    # Set while the child is down: when it starts again, and the delay that was chosen.
    restart_at: float | None = None
    delay_s: float = 0.0
    restarts: int = 0


def start_process(
    argv: list[str], log: IO[bytes], env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    # A new session: Ctrl-C reaches only the launcher, which stops children in order.
    return subprocess.Popen(
        argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env
    )


def how_it_ended(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with {returncode}"


@dataclass
class Supervisor:
    children: list[Child]
    note: Callable[[str], None]
    first_delay_s: float = 1.0
    max_delay_s: float = 30.0
    stable_after_s: float = 60.0
    clock: Callable[[], float] = time.monotonic

    def check(self) -> None:
        """Notice children that exited and start those whose delay is over; call it often."""
        now = self.clock()
        for child in self.children:
            if child.restart_at is None:
                returncode = child.process.poll()
                if returncode is None:
                    continue
                ran_s = now - child.started_at
                crash_loop = child.delay_s > 0 and ran_s < self.stable_after_s
                child.delay_s = (
                    min(child.delay_s * 2, self.max_delay_s) if crash_loop else self.first_delay_s
                )
                child.restart_at = now + child.delay_s
                self.note(
                    f"{child.name} {how_it_ended(returncode)} after {ran_s:.0f} s; "
                    f"starting it again in {child.delay_s:g} s"
                )
            elif now >= child.restart_at:
                child.process = start_process(child.argv, child.log, child.env)
                child.started_at, child.restart_at = now, None
                child.restarts += 1
                self.note(f"{child.name} started again (pid {child.process.pid})")
