"""Helpers of the sign-up and verification tests: the app with e-mail through the real mail
catcher (no worker: sign-up sends from the request), signing up, and the caught e-mail's
verification link."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlmodel import select
from temporalio.client import Client

from api.app import close_app, create_app
from domain.enums import CampaignStage, DeliverableFormat
from models.campaigns import Brief, Campaign, Deliverable
from models.db import session_scope
from models.notifications import CaughtEmail
from models.workspaces import User
from nexus.settings import Settings
from tests.api.test_inbox import client_for, running_catcher, with_mail
from tests.e2e.support import until
from tests.support import free_port

PASSWORD = "a long and private passphrase"


@asynccontextmanager
async def mail_client(
    settings: Settings, engine: Engine, client: Client
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the app with e-mail on, caught by the real mail catcher."""
    port = free_port()
    async with running_catcher(settings, port):
        app = create_app(with_mail(settings, port), engine=engine, temporal=client)
        try:
            async with client_for(app) as http:
                yield http
        finally:
            await close_app(app)


def unique_email(tag: str = "signup") -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.com"


def brand_body(email: str, **overrides: Any) -> dict[str, Any]:
    return {
        "kind": "brand",
        "email": email,
        "name": "Bea Brand",
        "password": PASSWORD,
        "brand_name": "Glow Botanics",
        **overrides,
    }


async def sign_up(http: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await http.post("/auth/signup", json=body)


async def caught_mail(engine: Engine, email: str, subject: str) -> CaughtEmail:
    """The e-mail to `email` whose subject holds `subject`, once the catcher has it."""

    async def find() -> CaughtEmail | None:
        with session_scope(engine) as session:
            rows = session.exec(select(CaughtEmail)).all()
            for row in rows:
                if email.lower() in row.recipients and subject in row.subject:
                    session.expunge(row)
                    return row
        return None

    found: CaughtEmail | None = await until(find)
    assert found is not None
    return found


def mails_to(engine: Engine, email: str) -> list[str]:
    """The subjects of every e-mail caught for `email`."""
    with session_scope(engine) as session:
        rows = session.exec(select(CaughtEmail)).all()
        return sorted(r.subject for r in rows if email.lower() in r.recipients)


def verify_token(mail: CaughtEmail) -> str:
    found = re.search(r"/portal/verify\?token=([A-Za-z0-9_-]+)", mail.text)
    assert found, mail.text
    return found.group(1)


def user_of(engine: Engine, email: str) -> User:
    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.email == email)).one()
        session.expunge(user)
        return user


async def signed_up_token(http: httpx.AsyncClient, engine: Engine, email: str) -> str:
    """Sign up a brand at `email` and read its verification link from the caught e-mail."""
    response = await sign_up(http, brand_body(email))
    assert response.status_code == 202, response.text
    return verify_token(await caught_mail(engine, email, "verify your e-mail"))


def draft_campaign(
    engine: Engine, workspace_id: uuid.UUID, brand_id: uuid.UUID, user_id: uuid.UUID
) -> uuid.UUID:
    """A draft campaign's rows, written directly (funding needs no workflow)."""
    campaign_id = uuid.uuid4()
    deadline = datetime.now(UTC) + timedelta(days=20)
    with session_scope(engine) as session:
        session.add(
            Campaign(
                id=campaign_id, workspace_id=workspace_id, brand_id=brand_id,
                title="First campaign", stage=CampaignStage.DRAFT, currency="USD",
                budget_minor=100_000, created_by=user_id,
            )
        )  # fmt: skip
        session.flush()
        session.add(
            Brief(
                campaign_id=campaign_id, workspace_id=workspace_id, product="Glow serum",
                objective="Launch", application_deadline=deadline - timedelta(days=10),
                delivery_deadline=deadline,
            )
        )  # fmt: skip
        session.add(
            Deliverable(
                id=uuid.uuid4(), campaign_id=campaign_id, workspace_id=workspace_id,
                format=DeliverableFormat.VIDEO_9_16, price_minor=50_000,
            )
        )  # fmt: skip
    return campaign_id
