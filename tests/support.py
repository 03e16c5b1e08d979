"""Helpers shared by tests: ports, tenants, campaign bodies."""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Engine, Table, func, select
from temporalio import activity

from api.security import hash_password
from domain import ledger
from domain.enums import (
    ApplicationOrigin,
    ApplicationStatus,
    CampaignStage,
    DeliverableFormat,
    DeliveryStage,
    Role,
    WorkspaceKind,
)
from models import money
from models.applications import Application
from models.base import utcnow
from models.brands import Brand
from models.campaigns import Brief, Campaign, Deliverable
from models.creators import CreatorProfile
from models.db import session_scope
from models.deliveries import Delivery, Submission
from models.tables import metadata
from models.workspaces import Membership, User, Workspace
from workflows.contracts.payouts import FundingConfirmed

PASSWORD = "correct horse battery staple"
# Hashing with argon2 is deliberately slow; hash the shared test password once.
_PASSWORD_HASH = hash_password(PASSWORD)


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server on port {port} exited"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Tenant:
    """A brand workspace with one brand and one user of the given role."""

    workspace_id: uuid.UUID
    brand_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    role: Role


def make_tenant(engine: Engine, role: Role = Role.BRAND_ADMIN) -> Tenant:
    tag = uuid.uuid4().hex[:8]
    kind = WorkspaceKind.CREATOR if role == Role.CREATOR else WorkspaceKind.BRAND
    with session_scope(engine) as session:
        workspace = Workspace(name=f"Workspace {tag}", kind=kind)
        user = User(
            email=f"user-{tag}@example.com",
            name=f"User {tag}",
            password_hash=_PASSWORD_HASH,
            email_verified_at=utcnow(),
        )
        session.add_all([workspace, user])
        session.flush()
        brand = Brand(workspace_id=workspace.id, name=f"Brand {tag}")
        session.add_all([brand, Membership(user_id=user.id, workspace_id=workspace.id, role=role)])
        session.flush()
        return Tenant(workspace.id, brand.id, user.id, user.email, role)


def add_member(engine: Engine, tenant: Tenant, role: Role) -> Tenant:
    """Another user in the same workspace."""
    tag = uuid.uuid4().hex[:8]
    with session_scope(engine) as session:
        user = User(
            email=f"user-{tag}@example.com",
            name=f"User {tag}",
            password_hash=_PASSWORD_HASH,
            email_verified_at=utcnow(),
        )
        session.add(user)
        session.flush()
        session.add(Membership(user_id=user.id, workspace_id=tenant.workspace_id, role=role))
        return Tenant(tenant.workspace_id, tenant.brand_id, user.id, user.email, role)


async def login(http: httpx.AsyncClient, tenant: Tenant) -> dict[str, str]:
    response = await http.post(
        "/auth/login",
        json={
            "email": tenant.email,
            "password": PASSWORD,
            "workspace_id": str(tenant.workspace_id),
        },
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def campaign_body(brand_id: uuid.UUID, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "brand_id": str(brand_id),
        "title": "Spring glow launch",
        "budget": {"amount_minor": 500_000, "currency": "USD"},
        "brief": {
            "product": "Glow serum 30 ml",
            "objective": "Awareness among 18-34 skincare buyers",
            "mandatory_mentions": ["Glow serum"],
            "revision_rounds": 2,
        },
        "deliverables": [
            {"format": "video_9x16", "duration_s": 30, "quantity": 2, "price_minor": 100_000}
        ],
    }
    body.update(overrides)
    return body


def count_rows(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table_named(table))).scalar_one())


def table_named(name: str) -> Table:
    return metadata.tables[name]


@dataclass(frozen=True)
class CreatorAccount:
    """A creator: a user in their own creator workspace, with a profile."""

    workspace_id: uuid.UUID
    user_id: uuid.UUID
    creator_id: uuid.UUID
    email: str

    @property
    def tenant(self) -> Tenant:
        # Signing in only needs the e-mail and workspace; creators have no brand.
        return Tenant(self.workspace_id, uuid.UUID(int=0), self.user_id, self.email, Role.CREATOR)


def make_creator(
    engine: Engine,
    *,
    niches: list[str] | None = None,
    country: str = "US",
    languages: list[str] | None = None,
) -> CreatorAccount:
    tag = uuid.uuid4().hex[:8]
    with session_scope(engine) as session:
        workspace = Workspace(name=f"Creator {tag}", kind=WorkspaceKind.CREATOR)
        user = User(
            email=f"creator-{tag}@example.com",
            name=f"Creator {tag}",
            password_hash=_PASSWORD_HASH,
            email_verified_at=utcnow(),
        )
        session.add_all([workspace, user])
        session.flush()
        profile = CreatorProfile(
            user_id=user.id,
            workspace_id=workspace.id,
            handle=f"creator{tag}",
            display_name=f"Creator {tag}",
            country=country,
            niches=niches if niches is not None else ["beauty"],
            platforms=["tiktok"],
            languages=languages or [],
        )
        session.add_all(
            [profile, Membership(user_id=user.id, workspace_id=workspace.id, role=Role.CREATOR)]
        )
        session.flush()
        return CreatorAccount(workspace.id, user.id, profile.id, user.email)


@dataclass(frozen=True)
class DeliveredAsset:
    """An approved draft of a delivery in production: what a license is granted for."""

    campaign_id: uuid.UUID
    delivery_id: uuid.UUID
    asset_id: uuid.UUID


def make_delivered_asset(
    engine: Engine, brand: Tenant, creator: CreatorAccount, *, price_minor: int = 80_000
) -> DeliveredAsset:
    """The rows a campaign process leaves for one approved delivery, written directly."""
    campaign_id, deliverable_id, application_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    delivery_id, asset_id = uuid.uuid4(), uuid.uuid4()
    ws = brand.workspace_id
    with session_scope(engine) as session:
        session.add(
            Campaign(
                id=campaign_id,
                workspace_id=ws,
                brand_id=brand.brand_id,
                title="Licensed campaign",
                stage=CampaignStage.IN_PRODUCTION,
                currency="USD",
                budget_minor=price_minor * 10,
                created_by=brand.user_id,
            )
        )
        session.flush()
        session.add(Brief(campaign_id=campaign_id, workspace_id=ws, product="Glow", objective="x"))
        session.add(
            Deliverable(
                id=deliverable_id,
                campaign_id=campaign_id,
                workspace_id=ws,
                format=DeliverableFormat.VIDEO_9_16,
                price_minor=price_minor,
            )
        )
        session.flush()
        session.add(
            Application(
                id=application_id,
                campaign_id=campaign_id,
                workspace_id=ws,
                deliverable_id=deliverable_id,
                creator_id=creator.creator_id,
                origin=ApplicationOrigin.APPLICATION,
                status=ApplicationStatus.ACCEPTED,
                price_minor=price_minor,
                delivery_id=delivery_id,
            )
        )
        session.flush()
        session.add(
            Delivery(
                id=delivery_id,
                campaign_id=campaign_id,
                workspace_id=ws,
                deliverable_id=deliverable_id,
                creator_id=creator.creator_id,
                application_id=application_id,
                stage=DeliveryStage.AWAITING_FINAL,
                price_minor=price_minor,
                currency="USD",
            )
        )
        session.flush()
        session.add(
            Submission(
                id=asset_id,
                delivery_id=delivery_id,
                number=1,
                kind="draft",
                media_key=f"uploads/{asset_id}.mp4",
                review="approved",
            )
        )
    return DeliveredAsset(campaign_id, delivery_id, asset_id)


def assert_ledger_balanced(engine: Engine) -> None:
    """The ledger invariant: every currency sums to zero, no money-holding account below 0."""
    with session_scope(engine) as session:
        problems = ledger.violations(money.all_postings(session))
    assert problems == [], problems


def fund_in_ledger(
    engine: Engine, campaign_id: uuid.UUID, workspace_id: uuid.UUID, budget: int, currency: str
) -> FundingConfirmed:
    """A bank transfer for the whole budget that ops confirmed: for tests that drive the
    campaign workflow directly; signal the result to it."""
    with session_scope(engine) as session:
        row = money.Funding(
            campaign_id=campaign_id,
            workspace_id=workspace_id,
            method="bank_transfer",
            provider="manual",
            currency=currency,
            budget_minor=budget,
            fee_minor=ledger.platform_fee(budget, 1_000),
            status="awaiting_transfer",
        )
        money.save(session, row)
        money.confirm_funding(session, row.id)
        return FundingConfirmed(
            funding_id=row.id, budget_minor=budget, fee_minor=row.fee_minor, currency=currency
        )


async def fund(
    http: httpx.AsyncClient, engine: Engine, headers: dict[str, str], campaign_id: object
) -> dict[str, Any]:
    """The brand funds the campaign by bank transfer and ops confirm its arrival."""
    created = await http.post(
        f"/campaigns/{campaign_id}/fundings", json={"method": "bank_transfer"}, headers=headers
    )
    assert created.status_code == 201, created.text
    ops = await login(http, make_tenant(engine, Role.OPS))
    confirmed = await http.post(f"/ops/fundings/{created.json()['id']}/confirm", headers=ops)
    assert confirmed.status_code == 200, confirmed.text
    result: dict[str, Any] = confirmed.json()
    return result


def replacing(
    activities: list[Callable[..., Any]], *replacements: Callable[..., Any]
) -> list[Callable[..., Any]]:
    """A pool's activities with some swapped for test doubles of the same activity name: the
    rest stay the real ones, so an activity added to the pool later is registered too."""

    def name(fn: Callable[..., Any]) -> str:
        found = activity._Definition.must_from_callable(fn).name
        assert found is not None, "a dynamic activity has no name to swap by"
        return found

    swapped = {name(r): r for r in replacements}
    unknown = set(swapped) - {name(a) for a in activities}
    assert not unknown, f"no such activities in the pool: {sorted(unknown)}"
    return [swapped.get(name(a), a) for a in activities]
