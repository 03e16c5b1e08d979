"""The child-safety list synced from ThreatExchange (the contract server of
integrations/child_safety/sandbox.py): the sync workflow writes it, running workers match
against it at once (no restart), a refused token leaves the last list in place, and the
schedule exists exactly while a privacy group is configured."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Worker

from activities.media.hashes import hash_image
from activities.media.tools import Limits
from activities.moderation.hash_lists import HashListActivities
from integrations.child_safety.sandbox import ThreatExchangeSandbox, serve
from models.moderation import escalations
from nexus.settings import Settings, ThreatExchangeSettings
from tests.media import raw_lavfi
from tests.workflows.test_moderation_workflow import PHOTO, start
from workflows.contracts.moderation import ModerationReport
from workflows.hash_lists import SCHEDULE_ID, HashListSyncWorkflow, ensure_hash_list_schedule
from workflows.task_queues import cpu_queue

GROUP = "303636684709969"
TOKEN = "1234567890|sandbox-secret"


@pytest.fixture
def sandbox() -> Iterator[tuple[ThreatExchangeSandbox, str]]:
    box = ThreatExchangeSandbox(TOKEN, {GROUP: []})
    with serve(box) as base:
        yield box, base


@pytest.fixture
def settings(
    settings: Settings, sandbox: tuple[ThreatExchangeSandbox, str], tmp_path: Path
) -> Settings:
    """The test's settings syncing the sandbox's privacy group into a list under tmp_path."""
    synced = ThreatExchangeSettings(
        privacy_group=GROUP,
        access_token=SecretStr(TOKEN),
        base_url=sandbox[1],
        list_path=tmp_path / "lists" / "threatexchange.txt",
    )
    moderation = settings.moderation.model_copy(update={"threatexchange": synced})
    return settings.model_copy(update={"moderation": moderation})


def update(indicator: str, kind: str) -> dict[str, Any]:
    return {"id": uuid.uuid4().hex, "indicator": indicator, "type": kind,
            "last_updated": "2026-12-01T00:00:00+0000", "should_delete": False,
            "tags": ["csam"]}  # fmt: skip


async def moderate(client: Client, settings: Settings, source: Path) -> ModerationReport:
    return await (await start(client, settings, source, "#ad Glow", **PHOTO)).result()


async def test_a_synced_list_is_matched_by_running_workers_without_a_restart(
    client: Client,
    settings: Settings,
    workers: list[Worker],
    sandbox: tuple[ThreatExchangeSandbox, str],
    engine: Engine,
    tmp_path: Path,
) -> None:
    picture = raw_lavfi(tmp_path / "picture.png", "mandelbrot=s=360x640", "-frames:v", "1")
    known = tmp_path / "known.jpg"
    known.write_bytes(b"bytes ThreatExchange lists " * 64)
    first = await moderate(client, settings, picture)
    assert first.decision == "pass"  # nothing is listed yet

    box = sandbox[0]
    entry = hash_image(picture, tmp_path, Limits(30, 2 * 1024**3)).hex
    digest = hashlib.md5(known.read_bytes(), usedforsecurity=False).hexdigest()
    box.groups[GROUP] = [update(entry, "HASH_PDQ"), update(digest, "HASH_MD5")]
    synced = await client.execute_workflow(
        HashListSyncWorkflow.run,
        id=f"hash-list-sync-{uuid.uuid4()}",
        task_queue=cpu_queue(settings.temporal.task_queue),
    )
    assert (synced.name, synced.pdq, synced.md5) == (f"threatexchange-{GROUP}", 1, 1)
    assert entry in await asyncio.to_thread(Path(synced.path).read_text)

    # The same workers, not restarted: the picture sent again, and a file listed by its MD5.
    for source in (picture, known):
        report = await moderate(client, settings, source)
        assert (report.decision, [f.code for f in report.findings]) == (
            "block",
            ["child_safety_hash_match"],
        ), source.name
        with Session(engine) as session:
            [escalation] = escalations(session, report.asset_id)
        assert "on threatexchange" in escalation.reason  # what ops read, not the creator


def test_a_refused_sync_leaves_the_last_list_in_place(
    settings: Settings, sandbox: tuple[ThreatExchangeSandbox, str]
) -> None:
    box = sandbox[0]
    box.groups[GROUP] = [update("ab" * 32, "HASH_PDQ")]
    activities = HashListActivities(settings.moderation.threatexchange)
    env = ActivityEnvironment()
    assert env.run(activities.sync_threatexchange).pdq == 1
    path = settings.moderation.threatexchange.list_path
    kept = path.read_text()

    box.token = "1234567890|rotated"
    with pytest.raises(ApplicationError, match="Invalid OAuth access token") as refused:
        env.run(activities.sync_threatexchange)
    assert refused.value.type == "HashSourceError"
    assert path.read_text() == kept


async def test_the_schedule_exists_while_a_privacy_group_is_configured(
    client: Client, settings: Settings
) -> None:
    queue = cpu_queue(settings.temporal.task_queue)
    # A day apart: no run fires while the test looks at the schedule.
    synced = settings.moderation.threatexchange.model_copy(update={"every_s": 86_400})
    await ensure_hash_list_schedule(client, queue, synced)
    described = await client.get_schedule_handle(SCHEDULE_ID).describe()
    [interval] = described.schedule.spec.intervals
    assert interval.every == timedelta(days=1)

    await ensure_hash_list_schedule(client, queue, ThreatExchangeSettings())
    with pytest.raises(RPCError, match="not found"):
        await client.get_schedule_handle(SCHEDULE_ID).describe()
    await ensure_hash_list_schedule(client, queue, ThreatExchangeSettings())  # none: no error
