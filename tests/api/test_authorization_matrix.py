"""The authorization matrix: every route of the app (from its route table) probed by every
principal, against tests/api/authorization_table.py. A route without a row fails, so a new
route is not reachable by anyone until someone has written down who may call it.

One world for the module, over the real database: a brand workspace (admin, member, a
partner key per scope) with a campaign, a delivery by a creator, its license in the rights
ledger, a funding, an invitation and a notification; an ops user; another brand workspace's
admin. No worker runs: a refused request never reaches its handler, and an allowed one only
has to get past authorization (a mutating step may then fail on the process it would update).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from psycopg import sql
from sqlalchemy import Engine, create_engine, func
from sqlmodel import Session, select
from starlette.routing import Mount
from temporalio.testing import WorkflowEnvironment

from api.app import close_app, create_app
from api.portal.web import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE
from api.security import AccessClaims, generate_api_key, issue_access_token, new_invitation_token
from domain import rights_ledger
from domain.enums import LicenseStatus, Role
from models import licenses
from models.applications import Application
from models.campaigns import Deliverable
from models.conversations import DeliveryMessage
from models.creators import PortfolioLink
from models.db import session_scope
from models.invitations import Invitation
from models.licenses import LedgerEntry
from models.money import Funding
from models.notifications import Notification
from models.workspaces import ApiKey
from nexus.postgres import LocalPostgres
from nexus.settings import Settings
from tests.api.authorization_table import (
    ADMIN,
    ALLOW,
    CREATOR,
    FORBID,
    HIDDEN,
    KEYS,
    MEMBER,
    OPS,
    OTHER,
    PRINCIPALS,
    SCOPES,
    TABLE,
    UNAUTH,
    Outcome,
    Row,
)
from tests.conftest import TEMPLATE_DB
from tests.support import (
    CreatorAccount,
    DeliveredAsset,
    Tenant,
    add_member,
    make_creator,
    make_delivered_asset,
    make_tenant,
)
from workflows.contracts.license import LicenseEvent, LicenseSnapshot, LicenseTerms

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def app_routes(app: FastAPI) -> list[str]:
    """`METHOD path` of every route the app serves (HEAD rides along with GET)."""
    found = []
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount):
            found.append(f"GET {route.original_route.path}")
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            found.append(f"{method} {route.path}")
    return found


# --- the world ----------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    settings: Settings
    brand: Tenant
    member: Tenant
    creator: CreatorAccount
    ops: Tenant
    other: Tenant
    asset: DeliveredAsset
    keys: dict[str, str]  # principal -> plaintext key
    params: dict[str, str]  # path parameter -> value of the brand workspace


def _database(postgres: LocalPostgres) -> str:
    name = f"matrix_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres.admin_dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER nexus").format(
                sql.Identifier(name), sql.Identifier(TEMPLATE_DB)
            )
        )
    return name


def _build(engine: Engine, settings: Settings) -> World:
    brand = make_tenant(engine)
    member = add_member(engine, brand, Role.BRAND_MEMBER)
    # A member the probes change, remove and suspend: no principal of their own.
    leaver = add_member(engine, brand, Role.BRAND_MEMBER)
    creator = make_creator(engine)
    ops = make_tenant(engine, Role.OPS)
    other = make_tenant(engine)
    asset = make_delivered_asset(engine, brand, creator)
    license_id = uuid.uuid4()
    now = datetime.now(UTC)
    snapshot = LicenseSnapshot(
        license_id=license_id,
        workspace_id=brand.workspace_id,
        brand_id=brand.brand_id,
        creator_id=creator.creator_id,
        campaign_id=asset.campaign_id,
        delivery_id=asset.delivery_id,
        asset_id=asset.asset_id,
        asset_key=None,
        status=LicenseStatus.ACTIVE,
        version=1,
        terms=LicenseTerms.model_validate(
            {
                "channels": ["paid_social"],
                "territories": ["US"],
                "starts_at": now - timedelta(days=1),
                "ends_at": now + timedelta(days=365),
                "currency": "USD",
            }
        ),
    )
    signer = rights_ledger.Signer(settings.licensing.signing_seed())
    invitation_token, token_hash = new_invitation_token()
    keys: dict[str, str] = {}
    with session_scope(engine) as session:
        event = LicenseEvent(
            event_key=f"{license_id}:grant", kind="grant", at=now, license=snapshot
        )
        licenses.record_event(session, event, signer, 1000)
        seq = session.exec(select(func.max(LedgerEntry.seq))).one()
        application = session.exec(
            select(Application.id).where(Application.delivery_id == asset.delivery_id)
        ).one()
        deliverable = session.exec(
            select(Deliverable.id).where(Deliverable.campaign_id == asset.campaign_id)
        ).one()
        funding = Funding(
            campaign_id=asset.campaign_id,
            workspace_id=brand.workspace_id,
            method="bank_transfer",
            provider="manual",
            currency="USD",
            budget_minor=1000,
            fee_minor=100,
            status="awaiting_transfer",
        )
        invitation = Invitation(
            workspace_id=brand.workspace_id,
            email="invitee@example.com",
            role=Role.BRAND_MEMBER,
            token_hash=token_hash,
            invited_by=brand.user_id,
            expires_at=now + timedelta(days=7),
        )
        notification = Notification(
            event_key=f"matrix:{uuid.uuid4()}", user_id=brand.user_id, kind="x", title="x"
        )
        link = PortfolioLink(creator_id=creator.creator_id, url="https://example.com/v")
        message = DeliveryMessage(
            delivery_id=asset.delivery_id,
            side="brand",
            sender_user_id=brand.user_id,
            body="x",
            attachment_key=f"uploads/{brand.workspace_id}/{uuid.uuid4()}/brief.pdf",
        )
        victim = _key(session, brand, "victim", ["campaigns:read"])[0]
        for principal, scope in zip(KEYS, SCOPES, strict=True):
            keys[principal] = _key(session, brand, principal, [scope])[1]
        session.add_all([funding, invitation, notification, link, message])
        session.flush()
        params = {
            "workspace_id": str(brand.workspace_id),
            "user_id": str(leaver.user_id),
            "key_id": str(victim),
            "invitation_id": str(invitation.id),
            "token": invitation_token,
            "campaign_id": str(asset.campaign_id),
            "application_id": str(application),
            "deliverable_id": str(deliverable),
            "creator_id": str(creator.creator_id),
            "link_id": str(link.id),
            "delivery_id": str(asset.delivery_id),
            "submission_id": str(asset.asset_id),
            "asset_id": str(asset.asset_id),
            "part": "thumbnail",
            "license_id": str(license_id),
            "seq": str(seq),
            "number": "1",
            "funding_id": str(funding.id),
            "payout_id": f"payout-{uuid.uuid4()}",
            "transfer_id": str(uuid.uuid4()),
            "batch_id": str(uuid.uuid4()),
            "dispute_id": str(uuid.uuid4()),
            "notification_id": str(notification.id),
            "message_id": str(message.id),
            "provider": "google",
            "link": f"deliveries/{asset.delivery_id}",
            "key": f"uploads/{brand.workspace_id}/{uuid.uuid4()}/draft.mp4",
        }
    return World(settings, brand, member, creator, ops, other, asset, keys, params)


def _key(session: Session, brand: Tenant, name: str, scopes: list[str]) -> tuple[uuid.UUID, str]:
    new = generate_api_key()
    row = ApiKey(
        workspace_id=brand.workspace_id,
        name=name,
        prefix=new.prefix,
        secret_hash=new.secret_hash,
        scopes=scopes,
        created_by=brand.user_id,
    )
    session.add(row)
    session.flush()
    return row.id, new.plaintext


@pytest.fixture(scope="module")
def world_engine(postgres: LocalPostgres) -> Iterator[tuple[str, Engine]]:
    name = _database(postgres)
    url = f"postgresql+psycopg://nexus:nexus@127.0.0.1:{postgres.port}/{name}"
    engine = create_engine(url, pool_size=5)
    yield url, engine
    engine.dispose()
    with psycopg.connect(postgres.admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def world(
    world_engine: tuple[str, Engine],
    temporal_env: WorkflowEnvironment,
    tmp_path_factory: pytest.TempPathFactory,
) -> World:
    url, engine = world_engine
    root = tmp_path_factory.mktemp("matrix")
    client = temporal_env.client
    settings = Settings(
        env="test",
        database={"url": url, "pool_size": 5},
        temporal={
            "address": client.service_client.config.target_host,
            "namespace": client.namespace,
            # No worker polls it: nothing an allowed request starts is ever run.
            "task_queue": f"matrix-{uuid.uuid4().hex[:12]}",
        },
        api={"max_body_bytes": 64 * 1024, "workflow_rpc_timeout_s": 2},
        auth={"jwt_secret": "matrix-secret-" + "x" * 32, "access_token_ttl_s": 300},
        licensing={"ledger_signing_key": "5f1c0d9a" * 8},
        payments={"payout_details_key": "7e3a9c1b" * 8},
        storage={"root": root / "objects"},
        media={"work_dir": root / "work"},
    )
    return _build(engine, settings)


@pytest.fixture(scope="module")
async def app(
    world: World, world_engine: tuple[str, Engine], temporal_env: WorkflowEnvironment
) -> AsyncIterator[FastAPI]:
    app = create_app(world.settings, engine=world_engine[1], temporal=temporal_env.client)
    yield app
    await close_app(app)


# --- probing ------------------------------------------------------------------------------


def _user(world: World, principal: str) -> Tenant | None:
    return {
        ADMIN: world.brand,
        MEMBER: world.member,
        CREATOR: world.creator.tenant,
        OPS: world.ops,
        OTHER: world.other,
    }.get(principal)


def _token(world: World, tenant: Tenant) -> str:
    claims = AccessClaims(tenant.user_id, tenant.workspace_id, tenant.role)
    return issue_access_token(world.settings.auth, claims)[0]


def _fill(template: str, params: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::path)?\}", lambda m: params[m.group(1)], template)


def _filled(value: Any, params: dict[str, str]) -> Any:
    if isinstance(value, str):
        return _fill(value, params)
    if isinstance(value, dict):
        return {k: _filled(v, params) for k, v in value.items()}
    return value


async def _csrf(http: httpx.AsyncClient, cookies: dict[str, str]) -> tuple[str, str]:
    """(visitor cookie, form token) of a page rendered for this session."""
    http.cookies.clear()
    for name, value in cookies.items():
        http.cookies.set(name, value)
    page = await http.get("/portal/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None, page.text
    return page.cookies[CSRF_COOKIE], token.group(1)


async def probe(
    http: httpx.AsyncClient, world: World, route: str, row: Row, principal: str
) -> httpx.Response:
    method, template = route.split(" ", 1)
    path = "/static/portal.css" if template == "/static" else _fill(template, world.params)
    headers: dict[str, str] = {}
    cookies: dict[str, str] = {}
    user = _user(world, principal)
    if principal in world.keys:
        headers["Authorization"] = f"Bearer {world.keys[principal]}"
    elif user is not None:
        token = _token(world, user)
        headers["Authorization"] = f"Bearer {token}"
        cookies[SESSION_COOKIE] = token
    if path.startswith("/portal") and method in MUTATING:
        visitor, csrf = await _csrf(http, cookies)
        cookies[CSRF_COOKIE] = visitor
        headers[CSRF_HEADER] = csrf
    options: dict[str, Any] = {"params": _filled(row.query, world.params)}
    if row.form is not None:
        options["data"] = _filled(row.form, world.params)
    elif method in MUTATING:
        options["json"] = _filled(row.body, world.params) if row.body is not None else {}
    http.cookies.clear()
    for name, value in cookies.items():
        http.cookies.set(name, value)
    return await http.request(method, path, headers=headers, **options)


def outcome_of(route: str, response: httpx.Response) -> Outcome:
    status = response.status_code
    # The portal's refusals redirect, as problems: to sign-in (no session) or home (wrong
    # role). A page's own redirect after it did its work is no problem.
    problem = response.headers.get("content-type") == "application/problem+json"
    if status == 303 and problem:
        # Sign-in may keep the page asked for: /portal/login?next=...
        where = response.headers.get("location", "").split("?", 1)[0]
        return UNAUTH if where == "/portal/login" else FORBID
    return {401: UNAUTH, 403: FORBID, 404: HIDDEN}.get(status, ALLOW)


def _matches(expected: Outcome, seen: Outcome) -> bool:
    # Past authorization a handler may still find nothing: an allowed caller's 404 is fine.
    return seen == expected or (expected == ALLOW and seen == HIDDEN)


# Sign-out (which may end every session of its user) goes last.
ROUTES = sorted(TABLE, key=lambda r: r == "POST /portal/logout")


def test_every_route_has_a_row_and_every_row_a_route(app: FastAPI) -> None:
    served = app_routes(app)
    assert len(served) == len(set(served))
    missing = sorted(set(served) - set(TABLE))
    assert missing == [], f"routes without a row in tests/api/authorization_table.py: {missing}"
    assert sorted(set(TABLE) - set(served)) == []
    for route, row in TABLE.items():
        assert set(row.outcomes) == set(PRINCIPALS), route


def test_a_key_is_let_in_by_one_scope_of_the_right_kind() -> None:
    """Reads need a `:read` scope, writes a `:write` one; no route takes two scopes (the
    public ones and `GET /auth/me` take any caller)."""
    for route, row in TABLE.items():
        let_in = [key for key in KEYS if row.outcomes[key] == ALLOW]
        if len(let_in) in (0, len(KEYS)):
            continue
        assert len(let_in) == 1, route
        verb = "read" if route.startswith("GET ") else "write"
        assert let_in[0].endswith(f":{verb}"), route


@pytest.mark.parametrize("route", ROUTES)
async def test_route_answers_each_principal_as_the_table_says(
    app: FastAPI, world: World, route: str
) -> None:
    row = TABLE[route]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    wrong = []
    async with httpx.AsyncClient(transport=transport, base_url="http://nexus.test") as http:
        # Refused callers first: none of them may change what an allowed one then sees.
        for principal in sorted(PRINCIPALS, key=lambda p: row.outcomes[p] == ALLOW):
            response = await probe(http, world, route, row, principal)
            assert response.status_code < 500, (route, principal, response.text[:500])
            seen = outcome_of(route, response)
            if not _matches(row.outcomes[principal], seen):
                wrong.append(
                    f"{principal}: expected {row.outcomes[principal]}, got {seen} "
                    f"({response.status_code} {response.text[:160]!r})"
                )
    assert wrong == [], f"{route}\n" + "\n".join(wrong)
