"""Rights-ledger rows written straight through the repository, for tests of the stored ledger."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from domain import rights_ledger as ledger
from domain.enums import LicenseStatus
from models import licenses
from models.db import session_scope
from tests.support import make_creator, make_delivered_asset, make_tenant
from workflows.contracts.license import (
    EventKind,
    GrantOutcome,
    LicenseEvent,
    LicenseSnapshot,
    LicenseTerms,
)

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def snapshot(engine: Engine, **terms: object) -> LicenseSnapshot:
    brand, creator = make_tenant(engine), make_creator(engine)
    asset = make_delivered_asset(engine, brand, creator)
    return LicenseSnapshot(
        license_id=uuid.uuid4(),
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
                "starts_at": NOW,
                "ends_at": NOW + timedelta(days=365),
                "currency": "USD",
            }
            | terms
        ),
    )


def record(
    engine: Engine,
    signer: ledger.Signer,
    snap: LicenseSnapshot,
    kind: EventKind,
    key: str,
    every: int,
) -> GrantOutcome:
    event = LicenseEvent(event_key=key, kind=kind, at=NOW, license=snap)
    with session_scope(engine) as session:
        return licenses.record_event(session, event, signer, every)


def fill(engine: Engine, signer: ledger.Signer, count: int, *, every: int = 1000) -> None:
    snap = snapshot(engine)
    for n in range(count):
        record(
            engine, signer, snap, "grant" if n == 0 else "change", f"{snap.license_id}:{n}", every
        )
