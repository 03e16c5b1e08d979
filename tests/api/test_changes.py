"""Long polls on a delivery: PostgreSQL NOTIFY from the read-model write wakes them."""

from __future__ import annotations

import asyncio
import time
import uuid

from sqlalchemy import Engine

from api.changes import DeliveryChanges
from api.services import Database
from domain.enums import DeliveryStage
from models.db import session_scope
from models.deliveries import Delivery, announce_change
from nexus.health import libpq_dsn
from tests.support import make_creator, make_delivered_asset, make_tenant


async def test_a_change_wakes_the_wait_at_once(engine: Engine, database_url: str) -> None:
    asset = make_delivered_asset(engine, make_tenant(engine), make_creator(engine))
    # Re-reads so rare that only the notification can end the wait in time.
    changes = DeliveryChanges(libpq_dsn(database_url), recheck_s=30)
    db = Database(engine)
    try:
        waiting = asyncio.create_task(
            changes.wait_while(db, asset.delivery_id, DeliveryStage.AWAITING_FINAL, 20)
        )
        await asyncio.sleep(1)  # the wait has read the stage and listens
        assert not waiting.done()
        began = time.monotonic()
        await asyncio.to_thread(_complete, engine, asset.delivery_id)
        await asyncio.wait_for(waiting, timeout=5)
        assert time.monotonic() - began < 5
    finally:
        await changes.close()


async def test_without_a_change_the_wait_ends_at_its_limit(
    engine: Engine, database_url: str
) -> None:
    asset = make_delivered_asset(engine, make_tenant(engine), make_creator(engine))
    changes = DeliveryChanges(libpq_dsn(database_url), recheck_s=0.2)
    try:
        began = time.monotonic()
        await changes.wait_while(
            Database(engine), asset.delivery_id, DeliveryStage.AWAITING_FINAL, 0.8
        )
        assert 0.7 < time.monotonic() - began < 3
        # Already elsewhere: no wait at all.
        began = time.monotonic()
        await changes.wait_while(Database(engine), asset.delivery_id, DeliveryStage.IN_REVIEW, 10)
        assert time.monotonic() - began < 1
    finally:
        await changes.close()


def _complete(engine: Engine, delivery_id: uuid.UUID) -> None:
    """What the delivery's read-model write does (activities.deliveries), announcement included."""
    with session_scope(engine) as session:
        row = session.get(Delivery, delivery_id)
        assert row is not None
        row.stage = DeliveryStage.COMPLETED
        session.add(row)
        announce_change(session, row.id)
