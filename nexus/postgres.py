"""A PostgreSQL cluster of our own, run from the Debian server binaries.

Used by the embedded dev stack and by the test harness. initdb and pg_ctl refuse to run as
root, so as root every server command runs as the ``postgres`` OS user, and the data
directory is placed where that user can reach it.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import psycopg
from psycopg import sql


class PostgresError(RuntimeError):
    """A one-line explanation of why the cluster cannot be set up or started."""


def find_bin_dir(configured: Path | None = None) -> Path:
    if configured is not None:
        candidates = [configured]
    else:
        candidates = [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
        pg_config = shutil.which("pg_config")
        if pg_config:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
            candidates.insert(0, Path(out.stdout.strip()))
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    raise PostgresError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: "
        "install them with `apt-get install -y postgresql` or set NEXUS_STACK__POSTGRES_BIN_DIR"
    )


def _is_root() -> bool:
    return os.geteuid() == 0


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if _is_root() else cmd


def _reachable_by_postgres(directory: Path) -> bool:
    probe = directory if directory.exists() else directory.parent
    return subprocess.run(_as_server_user(["test", "-x", str(probe)])).returncode == 0


def resolve_data_dir(preferred: Path) -> Path:
    """The preferred directory, or, as root where ``postgres`` cannot reach it, a stable one
    under /var/lib/nexus derived from it (a clone under a 0700 home directory, say)."""
    preferred = preferred.resolve()
    preferred.parent.mkdir(parents=True, exist_ok=True)
    if not _is_root() or _reachable_by_postgres(preferred.parent):
        return preferred
    digest = hashlib.sha256(str(preferred).encode()).hexdigest()[:12]
    fallback = Path("/var/lib/nexus") / digest / "pgdata"
    fallback.parent.mkdir(parents=True, exist_ok=True)
    fallback.parent.chmod(0o755)
    fallback.parent.parent.chmod(0o755)
    return fallback


class LocalPostgres:
    def __init__(
        self, data_dir: Path, port: int, *, bin_dir: Path | None = None, durable: bool = True
    ) -> None:
        self.bin_dir = find_bin_dir(bin_dir)
        self.data_dir = resolve_data_dir(data_dir)
        self.port = port
        self.durable = durable
        self.log_file = self.data_dir.parent / f"{self.data_dir.name}.log"

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            _as_server_user([str(self.bin_dir / args[0]), *args[1:]]),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            last = (result.stderr or result.stdout).strip().splitlines()
            raise PostgresError(f"{args[0]} failed: {last[-1] if last else result.returncode}")

    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        if self.initialized():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if _is_root():
            shutil.chown(self.data_dir, "postgres", "postgres")
        self.data_dir.chmod(0o700)
        self._run(
            "initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k ''"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        if not self.log_file.exists():
            self.log_file.touch()
        if _is_root():
            shutil.chown(self.log_file, "postgres", "postgres")
        self._run(
            "pg_ctl", "-D", str(self.data_dir), "-w", "-t", "60", "-l", str(self.log_file),
            "-o", options, "start",
        )  # fmt: skip

    def running(self) -> bool:
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return False
        result = subprocess.run(
            _as_server_user([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "status"]),
            capture_output=True,
        )
        return result.returncode == 0

    def stop(self) -> None:
        if self.running():
            self._run("pg_ctl", "-D", str(self.data_dir), "-w", "-m", "fast", "stop")

    def ensure_database(self, name: str, owner: str, password: str) -> None:
        """Create the login role and database if missing (idempotent)."""
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (owner,)).fetchone():
                conn.execute(
                    sql.SQL("ALTER ROLE {} WITH LOGIN PASSWORD {}").format(
                        sql.Identifier(owner), sql.Literal(password)
                    )
                )
            else:
                conn.execute(
                    sql.SQL("CREATE ROLE {} WITH LOGIN PASSWORD {}").format(
                        sql.Identifier(owner), sql.Literal(password)
                    )
                )
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(name), sql.Identifier(owner)
                    )
                )
