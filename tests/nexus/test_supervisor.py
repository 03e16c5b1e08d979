"""The dev stack's supervisor with real processes: a killed worker comes back while the rest
keeps running, and a crash loop backs off (doubling up to a cap, starting over after a run
that lasted)."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nexus.supervisor import Child, Supervisor, start_process

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]
CRASHER = [sys.executable, "-c", "raise SystemExit(3)"]


@pytest.fixture
def children(tmp_path: Path) -> Iterator[Callable[[str, list[str]], Child]]:
    started: list[Child] = []

    def start(name: str, argv: list[str]) -> Child:
        log = (tmp_path / f"{name}.log").open("ab")
        child = Child(name, argv, start_process(argv, log), log)
        started.append(child)
        return child

    yield start
    for child in started:
        if child.process.poll() is None:
            child.process.kill()
        child.process.wait()
        child.log.close()


def until(check: Callable[[], bool], supervisor: Supervisor, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        supervisor.check()
        time.sleep(0.02)


def test_a_killed_worker_comes_back_while_the_rest_keeps_running(
    children: Callable[[str, list[str]], Child],
) -> None:
    worker, api = children("worker-cpu", SLEEPER), children("api", SLEEPER)
    notes: list[str] = []
    supervisor = Supervisor([worker, api], notes.append, first_delay_s=0.2)
    killed_pid, api_pid = worker.process.pid, api.process.pid

    os.kill(killed_pid, signal.SIGKILL)
    until(lambda: worker.restarts == 1, supervisor)

    assert worker.process.pid != killed_pid
    assert worker.process.poll() is None
    assert (api.process.pid, api.process.poll(), api.restarts) == (api_pid, None, 0)
    assert notes[0].startswith("worker-cpu was killed by SIGKILL after 0 s;")
    assert notes[0].endswith("starting it again in 0.2 s")
    assert notes[1] == f"worker-cpu started again (pid {worker.process.pid})"


def test_a_crash_loop_backs_off_up_to_the_cap_and_starts_over_after_a_stable_run(
    children: Callable[[str, list[str]], Child],
) -> None:
    now = [0.0]
    crasher = children("worker-gpu", CRASHER)
    crasher.started_at = 0.0
    notes: list[str] = []
    supervisor = Supervisor(
        [crasher], notes.append, first_delay_s=1, max_delay_s=4, stable_after_s=60,
        clock=lambda: now[0],
    )  # fmt: skip

    delays = []
    for _ in range(5):
        crasher.process.wait()
        supervisor.check()  # notices the exit
        assert crasher.restart_at is not None
        delays.append(crasher.delay_s)
        now[0] = crasher.restart_at - 0.01
        supervisor.check()
        assert crasher.restarts == len(delays) - 1  # not before its time
        now[0] = crasher.restart_at
        supervisor.check()  # starts it again
    assert delays == [1, 2, 4, 4, 4]
    assert "worker-gpu exited with 3 after 0 s; starting it again in 1 s" in notes

    # A run that lasted a minute ends the crash loop: the next crash waits the first delay.
    crasher.process.wait()
    now[0] += 61
    supervisor.check()
    assert crasher.delay_s == 1
