"""Property-based tests of the whole API from its own OpenAPI document (schemathesis): every
operation, as a brand admin, a creator and a partner key of each scope, with valid and invalid
inputs. No answer is a server error, every answer conforms to the document (4xx answers are
problem+json, as documented) and a refused request commits no write.

Hypothesis draws the cases in a worker thread; each request runs on the test's event loop,
where the app, its Temporal client and the workers live, through the in-process ASGI
transport. Run alone: `pytest tests/api/test_schemathesis.py -q -p no:cacheprovider`."""

from __future__ import annotations

import asyncio
import copy
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, get_args

import httpx
import hypothesis
import hypothesis.errors
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine, create_engine, event
from temporalio.client import Client
from temporalio.worker import Worker

from api.app import close_app, create_app
from api.schemas import Scope
from nexus.settings import Settings
from tests.support import (
    campaign_body,
    login,
    make_creator,
    make_delivered_asset,
    make_tenant,
)

BASE_URL = "http://nexus.test"
SCOPES = get_args(Scope)
# Examples per operation and generation mode: users drive deeper paths than scoped keys,
# which mostly stop at the scope check. Sized so that the file runs in under 4 minutes.
EXAMPLES = {"brand_admin": 12, "creator": 8, "partner": 2}
# Operations each caller must get a 2xx from (health, the public key, what its role may do).
REACHED = {"brand_admin": 15, "creator": 10, "partner": 3}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
AnyCase = Case[Any]
AnyOperation = APIOperation[Any, Any, Any, Any]
# Invalid input must be refused, with any 4xx: 413 for a body over the limit is as good as 422.
CONFIG = schemathesis.Config.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": ["4XX"]}}}
)
_DML = ("INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE")


class CommittedWrites:
    """Records every transaction of an engine that commits a data change."""

    def __init__(self, engine: Engine) -> None:
        self._lock = threading.Lock()
        self._open: dict[int, list[str]] = {}
        self.committed: list[str] = []
        event.listen(engine, "after_cursor_execute", self._executed)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", self._rollback)

    def _executed(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # A request's own Idempotency-Key record, kept for its retry, is no change of state.
        if statement.lstrip().upper().startswith(_DML) and "idempotency_keys" not in statement:
            with self._lock:
                self._open.setdefault(id(conn), []).append(statement.split("\n", 1)[0][:120])

    def _commit(self, conn: Any) -> None:
        with self._lock:
            self.committed += self._open.pop(id(conn), [])

    def _rollback(self, conn: Any) -> None:
        with self._lock:
            self._open.pop(id(conn), None)

    def take(self) -> list[str]:
        with self._lock:
            taken, self.committed = self.committed, []
            return taken


@dataclass
class Run:
    """One caller's pass over the document, and what it found."""

    loop: asyncio.AbstractEventLoop
    http: httpx.AsyncClient
    writes: CommittedWrites
    headers: dict[str, str]
    examples: int
    known: dict[str, str]
    sent: int = 0
    accepted_writes: int = 0
    succeeded: set[str] = field(default_factory=set)  # operations answered 2xx at least once
    operations: set[str] = field(default_factory=set)
    failures: dict[str, str] = field(default_factory=dict)

    def send(self, case: AnyCase) -> httpx.Response:
        kwargs = case.as_transport_kwargs(base_url=BASE_URL, headers=self.headers)
        try:
            prepared = requests.Request(**kwargs).prepare()
        except (ValueError, requests.RequestException):
            hypothesis.reject()  # not expressible on the wire (a header with a newline...)
        body = prepared.body or b""
        request = self.http.request(
            str(prepared.method),
            str(prepared.url),
            headers={name: str(value) for name, value in prepared.headers.items()},
            content=body.encode() if isinstance(body, str) else bytes(body),  # type: ignore[arg-type]
        )
        self.writes.take()
        response = asyncio.run_coroutine_threadsafe(request, self.loop).result(timeout=60)
        self.sent += 1
        if response.is_success:
            self.succeeded.add(case.operation.label)
        return response

    def check(self, case: AnyCase) -> None:
        response = self.send(case)
        if case.operation.path == "/readyz" and response.status_code == 503:
            return  # its documented answer while a dependency is slow (a loaded machine)
        case.validate_response(response, checks=CHECKS, headers=self.headers)
        changed = self.writes.take()
        if changed and response.is_success:
            self.accepted_writes += 1
        if 400 <= response.status_code < 500 and changed:
            raise AssertionError(f"refused with {response.status_code} yet committed {changed}")

    def cover(self, operation: AnyOperation) -> None:
        self.operations.add(operation.label)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = self._strategy(operation, mode)

            @hypothesis.settings(
                max_examples=self.examples,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def test(case: AnyCase) -> None:
                self.check(case)

            try:
                test()
            except hypothesis.errors.Unsatisfiable:
                pass  # nothing to get wrong: no parameters, or none that can be invalid
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis groups its failures
                self.failures[f"{operation.label} ({mode.value})"] = str(exc)[:2000]

    def _strategy(self, operation: AnyOperation, mode: GenerationMode) -> Any:
        names = {p.name for p in operation.path_parameters}
        query = {"wait_s": 0} if any(p.name == "wait_s" for p in operation.query) else None
        random_ids = operation.as_strategy(mode, query=query)
        known = {name: self.known[name] for name in names if name in self.known}
        if not known or mode is GenerationMode.NEGATIVE:
            return random_ids
        # Also reach past the lookups: ids of rows that exist in this caller's world.
        return st.one_of(
            random_ids, operation.as_strategy(mode, path_parameters=known, query=query)
        )


def _without_security(document: dict[str, Any]) -> dict[str, Any]:
    """The document without its security requirements: each run sends its caller's own
    credentials, so schemathesis must not generate (or leave out) the Authorization header."""
    stripped = copy.deepcopy(document)
    for operations in stripped["paths"].values():
        for operation in operations.values():
            operation.pop("security", None)
    return stripped


@pytest.fixture
def app_engine(database_url: str) -> Iterator[Engine]:
    """The app's own engine, so that only the API's writes are recorded, not the workers'."""
    db = create_engine(database_url, pool_size=5)
    yield db
    db.dispose()


SignIn = Callable[[], Awaitable[dict[str, str]]]


async def _caller(
    http: httpx.AsyncClient, engine: Engine, caller: str
) -> tuple[SignIn, dict[str, str]]:
    """How the caller gets credentials, and the ids of a campaign and an approved delivery."""
    brand, creator = make_tenant(engine), make_creator(engine)
    admin = await login(http, brand)
    created = await http.post("/campaigns", json=campaign_body(brand.brand_id), headers=admin)
    assert created.status_code == 201, created.text
    asset = make_delivered_asset(engine, brand, creator)
    known = {
        "campaign_id": created.json()["id"],
        "delivery_id": str(asset.delivery_id),
        "submission_id": str(asset.asset_id),
        "asset_id": str(asset.asset_id),
        "creator_id": str(creator.creator_id),
    }
    if caller in ("brand_admin", "creator"):
        tenant = brand if caller == "brand_admin" else creator.tenant
        return lambda: login(http, tenant), known
    scope = caller.removeprefix("partner:")
    key = await http.post("/api-keys", json={"name": scope, "scopes": [scope]}, headers=admin)
    assert key.status_code == 201, key.text
    headers = {"Authorization": f"Bearer {key.json()['key']}"}

    async def the_key() -> dict[str, str]:
        return headers

    return the_key, known


@pytest.mark.timeout(240)
@pytest.mark.parametrize(
    "caller", ["brand_admin", "creator", *(f"partner:{scope}" for scope in SCOPES)]
)
async def test_every_operation_holds(
    caller: str,
    settings: Settings,
    engine: Engine,
    app_engine: Engine,
    client: Client,
    workers: list[Worker],
) -> None:
    kind = caller.split(":")[0]
    app = create_app(settings, engine=app_engine, temporal=client)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, timeout=30) as http:
        sign_in, known = await _caller(http, engine, caller)
        run = Run(
            loop=asyncio.get_running_loop(),
            http=http,
            writes=CommittedWrites(app_engine),
            headers=await sign_in(),
            examples=EXAMPLES[kind],
            known=known,
        )
        schema = schemathesis.openapi.from_dict(_without_security(app.openapi()), config=CONFIG)
        operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
        started = time.monotonic()
        for operation in operations:
            await asyncio.to_thread(run.cover, operation)
            # An operation that ended the caller's session (signing out) ends only its own.
            if (await http.get("/auth/me", headers=run.headers)).status_code == 401:
                run.headers = await sign_in()
        elapsed = time.monotonic() - started
    await close_app(app)
    print(
        f"{caller}: {len(run.operations)} operations, {run.sent} requests in {elapsed:.1f} s, "
        f"{len(run.succeeded)} answered 2xx, {run.accepted_writes} accepted writes, "
        f"{len(run.failures)} failing"
    )
    assert len(run.operations) == len(operations) > 80
    # The run reached past the sign-in (answers, and writes the recorder saw), not only 401s.
    assert len(run.succeeded) >= REACHED[kind]
    assert run.accepted_writes > 0 or kind == "partner"
    assert run.failures == {}, "\n\n".join(f"{k}:\n{v}" for k, v in run.failures.items())


def test_the_document_says_how_every_operation_refuses(settings: Settings) -> None:
    """What a client generator reads: 4xx answers are problem+json, validation errors too,
    and an answer in another format (a CSV statement) is declared."""
    document = create_app(settings).openapi()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            refusals = {s: r for s, r in operation["responses"].items() if s.startswith("4")}
            assert "4XX" in refusals, (method, path)
            for response in refusals.values():
                assert list(response["content"]) == ["application/problem+json"], (method, path)
    statement = document["paths"]["/creator/statement"]["get"]["responses"]["200"]["content"]
    assert set(statement) == {"application/json", "text/csv"}
