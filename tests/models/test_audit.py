"""The audit log as stored: events are appended with their names, and PostgreSQL refuses to
change or remove one, whoever asks."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy.exc
from sqlalchemy import Engine, text
from sqlmodel import Session

from domain.enums import CampaignStage
from models import audit, campaigns
from models.db import session_scope
from tests.support import count_rows, make_creator, make_delivered_asset, make_tenant


def recorded(engine: Engine) -> list[audit.AuditEvent]:
    with Session(engine) as session:
        return [r.event for r in audit.search(session, audit.AuditFilter(), limit=50, offset=0)]


def test_an_event_is_appended_with_the_name_its_target_has(engine: Engine) -> None:
    brand = make_tenant(engine)
    delivered = make_delivered_asset(engine, brand, make_creator(engine))
    with session_scope(engine) as session:
        audit.record(
            session,
            "campaign.checked",
            "Campaign checked",
            workspace_id=brand.workspace_id,
            target=audit.Target("campaign", str(delivered.campaign_id)),
            details={"by": uuid.UUID(int=7)},
        )

    (event,) = recorded(engine)
    assert event.actor_kind == audit.ActorKind.SYSTEM
    assert event.actor_name == "system"
    assert event.target_name == "Licensed campaign"
    assert event.details == {"by": str(uuid.UUID(int=7))}
    assert event.at.utcoffset() is not None


def test_a_stage_change_is_recorded_with_the_change_and_nothing_when_it_stays(
    engine: Engine,
) -> None:
    brand = make_tenant(engine)
    delivered = make_delivered_asset(engine, brand, make_creator(engine))

    for stage in (CampaignStage.COMPLETED, CampaignStage.COMPLETED):
        with session_scope(engine) as session:
            campaigns.set_campaign_stage(session, delivered.campaign_id, stage)

    (event,) = recorded(engine)
    assert (event.action, event.workspace_id) == ("campaign.stage_changed", brand.workspace_id)
    assert event.details == {"from": "in_production", "to": "completed"}


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor_name = 'someone else'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ],
)
def test_the_database_refuses_to_change_or_remove_events(engine: Engine, statement: str) -> None:
    with session_scope(engine) as session:
        audit.record(session, "x.y", "Something", workspace_id=None)

    with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))

    assert count_rows(engine, "audit_events") == 1
    assert recorded(engine)[0].actor_name == "system"
