"""A Redis server of our own, run from Debian's `redis-server` binary.

Used by the embedded dev stack (`nexus up`) and by the test harness for the rate limits'
counters. It listens on 127.0.0.1 only, keeps its files in a private directory, and persists
nothing: counters of requests are worth nothing after a restart.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit


class RedisError(RuntimeError):
    """A one-line explanation of why the server cannot be found, started or stopped."""


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def find_redis_server(configured: Path | None = None) -> Path:
    found = str(configured) if configured is not None else shutil.which("redis-server")
    if found and os.access(found, os.X_OK):
        return Path(found)
    raise RedisError(
        "redis-server not found: install it with `apt-get install -y redis-server` (make install "
        "does) or set NEXUS_STACK__REDIS_SERVER"
    )


def local_port(url: str) -> int | None:
    """The port of a redis:// URL on this machine's loopback, which the dev stack serves
    itself; None for another host, a socket, TLS or memory://."""
    parts = urlsplit(url)
    if parts.scheme != "redis" or parts.hostname not in LOOPBACK:
        return None
    return parts.port or 6379


def ping(port: int, timeout_s: float = 0.5) -> bool:
    """Whether a Redis answers PING on 127.0.0.1:`port`."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class LocalRedis:
    """One redis-server child on 127.0.0.1:`port` with its files under `data_dir`."""

    def __init__(self, data_dir: Path, port: int, *, binary: Path | None = None) -> None:
        self.binary = find_redis_server(binary)
        self.data_dir = data_dir.resolve()
        self.port = port
        self.log_file = self.data_dir / "redis.log"
        self.pid_file = self.data_dir / "redis.pid"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def argv(self) -> list[str]:
        """The server's command line: loopback only, in the foreground, logging to its
        standard output, with no snapshots and no append-only file."""
        return [
            str(self.binary),
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--protected-mode", "yes",
            "--daemonize", "no",
            "--dir", str(self.data_dir),
            "--pidfile", str(self.pid_file),
            "--save", "",
            "--appendonly", "no",
            "--loglevel", "warning",
        ]  # fmt: skip

    def prepare(self) -> None:
        """The private directory, and a refusal if a server from it or on the port runs."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        if self.running():
            raise RedisError(f"Redis from {self.data_dir} is already running")
        stale = self._pid_from_file()
        if stale is not None and _alive(stale):
            raise RedisError(f"Redis from {self.data_dir} is already running (pid {stale})")
        if ping(self.port):
            raise RedisError(f"port {self.port} already has a Redis: stop it or choose another")

    def start(self, timeout_s: float = 20) -> None:
        self.prepare()
        log: IO[bytes] = self.log_file.open("ab")
        try:
            self._process = subprocess.Popen(
                self.argv(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            log.close()
        self.wait_ready(timeout_s, self._process)

    def wait_ready(self, timeout_s: float, process: subprocess.Popen[bytes] | None) -> None:
        deadline = time.monotonic() + timeout_s
        while not ping(self.port):
            if process is not None and process.poll() is not None:
                raise RedisError(
                    f"redis-server exited with {process.returncode}; see {self.log_file}"
                )
            if time.monotonic() > deadline:
                raise RedisError(f"Redis did not answer on port {self.port}; see {self.log_file}")
            time.sleep(0.05)

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout_s: float = 10) -> None:
        """SIGTERM, then SIGKILL if it has not gone after `timeout_s`."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.pid_file.unlink(missing_ok=True)

    def _pid_from_file(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None


def _alive(pid: int) -> bool:
    """Whether `pid` is a running redis-server (not another process that reused the number)."""
    try:
        return b"redis-server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
