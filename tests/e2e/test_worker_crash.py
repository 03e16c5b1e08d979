"""A crash test: the CPU worker runs as its own OS process, is SIGKILLed while a delivery is
in flight, and a fresh process finishes the work with nothing lost or done twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import Engine, select
from temporalio.client import Client
from temporalio.worker import Worker

from nexus.settings import Settings
from tests.e2e.support import Headers, draft_body, ok, until, upload
from tests.gateway import Gateway, api_client
from tests.media import sponsored_clip
from tests.support import (
    CreatorAccount,
    Tenant,
    campaign_body,
    count_rows,
    fund,
    login,
    make_creator,
    make_tenant,
    table_named,
)
from workflows.contracts.moderation import ModerationReport
from workflows.moderation import workflow_id as moderation_workflow_id

T = TypeVar("T")


@dataclass
class CpuWorkers:
    """`python -m nexus worker cpu` processes on this test's task queue, one at a time."""

    settings: Settings
    logs: Path
    processes: list[asyncio.subprocess.Process] = field(default_factory=list)

    @property
    def current(self) -> asyncio.subprocess.Process:
        return self.processes[-1]

    def log(self, index: int = -1) -> str:
        return (self.logs / f"cpu-{index % len(self.processes)}.log").read_text()

    async def start(self) -> asyncio.subprocess.Process:
        env = {
            **os.environ,
            "NEXUS_DATABASE__URL": self.settings.database.url.get_secret_value(),
            # Secrets have no defaults: a worker without its key refuses to start.
            "NEXUS_LICENSING__LEDGER_SIGNING_KEY": (
                self.settings.licensing.ledger_signing_key.get_secret_value()
            ),
            "NEXUS_TEMPORAL__ADDRESS": self.settings.temporal.address,
            "NEXUS_TEMPORAL__NAMESPACE": self.settings.temporal.namespace,
            "NEXUS_TEMPORAL__TASK_QUEUE": self.settings.temporal.task_queue,
            "NEXUS_STORAGE__ROOT": str(self.settings.storage.root),
            "NEXUS_MEDIA__X264_PRESET": self.settings.media.x264_preset,
            "NEXUS_MEDIA__LADDER_PRESET": self.settings.media.ladder_preset,
            "NEXUS_MEDIA__WORK_DIR": str(self.settings.media.work_dir),
        }
        log = self.logs / f"cpu-{len(self.processes)}.log"
        with log.open("w") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "nexus",
                "worker",
                "cpu",
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)

        async def polling() -> bool:
            assert process.returncode is None, log.read_text()[-3000:]
            return "worker polling" in log.read_text()

        await until(polling, timeout_s=60)
        return process

    async def kill(self) -> None:
        """SIGKILL: no draining, no goodbye to the server."""
        self.current.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(self.current.wait(), 15) == -signal.SIGKILL

    async def stop(self) -> int:
        self.current.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.current.wait(), 45)

    def reap(self) -> None:
        for process in self.processes:
            if process.returncode is None:
                process.kill()


@pytest.fixture
async def cpu_workers(
    settings: Settings, tmp_path: Path, gpu_worker: Worker
) -> AsyncIterator[CpuWorkers]:
    """CPU workers to kill; the GPU pool (speech, nudity) stays up in this process."""
    workers = CpuWorkers(settings, tmp_path)
    try:
        yield workers
    finally:
        workers.reap()
        for process in workers.processes:
            await asyncio.wait_for(process.wait(), 15)


@pytest.fixture
async def api(
    settings: Settings, engine: Engine, client: Client, front: Gateway | None
) -> AsyncIterator[httpx.AsyncClient]:
    """The API over the test's engine and client; no in-process workers behind it."""
    async with api_client(settings, engine, client, front) as http:
        yield http


@pytest.fixture
async def impatient_api(
    settings: Settings, engine: Engine, client: Client, front: Gateway | None
) -> AsyncIterator[httpx.AsyncClient]:
    """The API waiting 3 s for a workflow's answer: shorter than a restarted worker needs."""
    api_settings = settings.api.model_copy(update={"workflow_rpc_timeout_s": 3})
    patient = settings.model_copy(update={"api": api_settings})
    async with api_client(patient, engine, client, front) as http:
        yield http


@dataclass
class Deal:
    """A brand, a creator, their campaign and the creator's accepted delivery."""

    http: httpx.AsyncClient
    brand: Tenant
    creator: CreatorAccount
    b: Headers
    c: Headers
    campaign_id: str
    delivery_id: str

    async def delivery(self) -> dict[str, Any]:
        response = await self.http.get(f"/deliveries/{self.delivery_id}", headers=self.c)
        return dict(response.json()) if response.status_code == 200 else {}

    async def stage_is(self, *stages: str) -> dict[str, Any]:
        current = await self.delivery()
        return current if current and current["stage"] in stages else {}

    async def campaign(self) -> dict[str, Any]:
        return dict(ok(await self.http.get(f"/campaigns/{self.campaign_id}", headers=self.b)))

    async def submit_draft(self) -> dict[str, Any]:
        response = await self.http.post(
            f"/deliveries/{self.delivery_id}/drafts",
            json=await draft_body(self.http, self.c),
            headers=self.c,
        )
        return dict(ok(response))


async def recruit(http: httpx.AsyncClient, engine: Engine, application_window_s: float) -> Deal:
    """Brief -> publish -> apply -> accept -> brief accepted: the creator's draft is due."""
    brand = make_tenant(engine)
    creator = make_creator(engine)
    b, c = await login(http, brand), await login(http, creator.tenant)
    now = datetime.now(UTC)
    body = campaign_body(brand.brand_id)
    body["deliverables"][0] |= {"quantity": 1, "price_minor": 120_000}
    body["brief"] |= {
        "application_deadline": (now + timedelta(seconds=application_window_s)).isoformat(),
        "delivery_deadline": (now + timedelta(days=14)).isoformat(),
    }
    campaign = ok(await http.post("/campaigns", json=body, headers=b), 201)
    cid = campaign["id"]
    await fund(http, engine, b, cid)
    ok(await http.post(f"/campaigns/{cid}/publish", headers=b))
    app = ok(
        await http.post(
            f"/marketplace/campaigns/{cid}/applications",
            json={
                "deliverable_id": campaign["deliverables"][0]["id"],
                "pitch": "Morning routines are my thing",
                "price_minor": 110_000,
            },
            headers=c,
        ),
        201,
    )
    decision = await http.post(
        f"/campaigns/{cid}/applications/{app['id']}/decision",
        json={"action": "accept"},
        headers=b,
    )
    deal = Deal(http, brand, creator, b, c, cid, ok(decision)["delivery_id"])
    await until(lambda: deal.stage_is("awaiting_brief_acceptance"))
    ok(await http.post(f"/deliveries/{deal.delivery_id}/brief-acceptance", headers=c))
    return deal


def notification_rows(engine: Engine) -> list[tuple[str, uuid.UUID, str]]:
    table = table_named("notifications")
    with engine.connect() as conn:
        rows = conn.execute(select(table.c.event_key, table.c.user_id, table.c.kind)).all()
    return [(str(r[0]), r[1], str(r[2])) for r in rows]


def submission_rows(engine: Engine, delivery_id: str) -> list[dict[str, Any]]:
    table = table_named("submissions")
    with engine.connect() as conn:
        rows = conn.execute(
            select(table)
            .where(table.c.delivery_id == uuid.UUID(delivery_id))
            .order_by(table.c.number)
        ).all()
    return [dict(r._mapping) for r in rows]


@pytest.mark.heavy
async def test_sigkilled_cpu_worker_loses_and_duplicates_nothing(
    api: httpx.AsyncClient, cpu_workers: CpuWorkers, engine: Engine, client: Client
) -> None:
    http = api
    await cpu_workers.start()
    # Recruiting closes while the worker is down: the campaign must catch up too.
    deal = await recruit(http, engine, application_window_s=6)
    brand, creator, b, c = deal.brand, deal.creator, deal.b, deal.c
    cid, delivery_id = deal.campaign_id, deal.delivery_id
    delivery, stage_is = deal.delivery, deal.stage_is
    checking = await deal.submit_draft()
    assert checking["stage"] == "checking"
    # The draft's checks are starting on this worker: kill it mid-flight.
    await cpu_workers.kill()

    await cpu_workers.start()

    async def reviewable() -> dict[str, Any]:
        # The stored stage, and the process itself answering from the new worker.
        current = await stage_is("in_review")
        return current if current and current["live"] is not None else {}

    in_review = await until(reviewable, timeout_s=90)
    assert in_review["live"]["stage"] == "in_review"
    assert [s["number"] for s in in_review["submissions"]] == [1]

    approved = ok(
        await http.post(
            f"/deliveries/{delivery_id}/review", json={"decision": "approve"}, headers=b
        )
    )
    assert approved["stage"] == "awaiting_final"
    final = ok(
        await http.post(
            f"/deliveries/{delivery_id}/final",
            json={"media_key": await upload(http, c, sponsored_clip())},
            headers=c,
        )
    )
    # The final files are checked like the draft, then the delivery completes.
    assert final["stage"] == "checking"
    delivered = await until(lambda: stage_is("completed"), timeout_s=60)
    assert {t["status"] for t in delivered["live"]["tasks"]} == {"done"}

    async def campaign_done() -> dict[str, Any]:
        current = ok(await http.get(f"/campaigns/{cid}", headers=b))
        done = current["stage"] == "completed" and current["live"] is not None
        return dict(current) if done else {}

    done = await until(campaign_done, timeout_s=30)

    # Exactly one delivery, at the agreed price, completed.
    assert count_rows(engine, "deliveries") == 1
    stored = await delivery()
    assert (stored["stage"], stored["price_minor"], stored["late"]) == ("completed", 110_000, False)
    assert stored["approved_at"] is not None

    # The draft and the final, numbered 1 and 2, each once.
    submissions = submission_rows(engine, delivery_id)
    assert [(s["number"], s["kind"], s["checks_passed"], s["review"]) for s in submissions] == [
        (1, "draft", True, "approved"),
        (2, "final", True, None),
    ]
    checks = client.get_workflow_handle(
        moderation_workflow_id(submissions[0]["id"]), result_type=ModerationReport
    )
    assert (await checks.result()).decision == "pass"

    # Every event notified once, to the right people.
    rows = notification_rows(engine)
    assert len({(key, user) for key, user, _ in rows}) == len(rows)
    by_kind = Counter((kind, user) for _, user, kind in rows)
    assert by_kind == Counter(
        {
            ("application", brand.user_id): 1,
            # The only place is filled: production starts.
            ("production_started", brand.user_id): 1,
            ("delivery_started", creator.user_id): 1,
            ("draft_ready", brand.user_id): 1,
            ("approved", creator.user_id): 1,
            ("license_granted", brand.user_id): 1,
            ("license_granted", creator.user_id): 1,
            # The approval's payout waits for the creator's payout account.
            ("payout_account_needed", creator.user_id): 1,
            ("delivered", brand.user_id): 1,
            ("final_accepted", creator.user_id): 1,
            ("campaign_completed", brand.user_id): 1,
        }
    ), rows

    # The campaign agrees with its delivery.
    assert count_rows(engine, "campaigns") == 1
    assert done["live"]["stage"] == "completed"
    assert (done["live"]["committed_minor"], done["live"]["owed_minor"]) == (110_000, 110_000)
    assert done["live"]["open_deliveries"] == 0
    applications = ok(await http.get(f"/campaigns/{cid}/applications", headers=b))
    assert [(a["status"], a["delivery_id"]) for a in applications] == [("accepted", delivery_id)]

    # The new worker drains and exits cleanly.
    assert await cpu_workers.stop() == 0, cpu_workers.log()[-3000:]
    assert "draining worker" in cpu_workers.log()


@pytest.mark.heavy
async def test_retrying_a_step_after_a_worker_restart_answers_its_outcome(
    impatient_api: httpx.AsyncClient, cpu_workers: CpuWorkers, engine: Engine
) -> None:
    """Right after a crash the process's updates wait for the dead worker's sticky queue to
    time out (about 10 s), longer than the API waits. The creator is told to try again; doing
    so must deliver the final exactly once."""
    await cpu_workers.start()
    deal = await recruit(impatient_api, engine, application_window_s=600)
    http = deal.http
    await deal.submit_draft()
    await until(lambda: deal.stage_is("in_review"))
    approved = await http.post(
        f"/deliveries/{deal.delivery_id}/review", json={"decision": "approve"}, headers=deal.b
    )
    assert ok(approved)["stage"] == "awaiting_final"
    await cpu_workers.kill()
    await cpu_workers.start()

    final = {"media_key": await upload(http, deal.c, sponsored_clip())}
    answers: list[httpx.Response] = []
    deadline = asyncio.get_running_loop().time() + 40
    while asyncio.get_running_loop().time() < deadline:
        answers.append(
            await http.post(
                f"/deliveries/{deal.delivery_id}/final",
                json=final,
                headers=deal.c,
            )
        )
        if answers[-1].status_code != 503:
            break
        await asyncio.sleep(0.5)

    # The step happened exactly once ...
    done = await until(lambda: deal.stage_is("completed"), timeout_s=60)
    assert [s["kind"] for s in done["submissions"]] == ["draft", "final"]
    # ... and the retry answers with its outcome, or says the step already happened; a 503
    # said the step might still be applied.
    last = answers[-1]
    assert last.status_code in (200, 409), [r.text for r in answers]
    if last.status_code == 200:
        assert last.json()["stage"] in ("checking", "completed")
    else:
        detail = last.json()["detail"]
        said = ("finished", "being checked", "completed")
        assert any(word in detail for word in said), detail
    assert all("may still be applied" in r.json()["detail"] for r in answers[:-1])
    assert await cpu_workers.stop() == 0, cpu_workers.log()[-3000:]
