"""Human review of a held draft, through the portal, on the real moderation pipeline: ops see
the case by name (brand, campaign, creator) with the video at the finding's moment, the
caption, the findings in words, how long it has waited and by when it must be decided, and
approve or reject it with a note; the creator is told a person is reviewing it and by when,
and reads the note of a rejection."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client, WorkflowHandle

from domain.enums import DeliveryStage, Role
from domain.words import when
from integrations.storage import store_from_settings
from models.campaigns import Campaign
from models.db import session_scope
from models.deliveries import Delivery, Submission
from models.moderation import ModerationReview
from models.notifications import Notification
from nexus.settings import Settings
from tests.api.test_portal import csrf_from, sign_in
from tests.media import video
from tests.support import CreatorAccount, Tenant, make_creator, make_delivered_asset, make_tenant
from workflows.contracts.moderation import BriefRules, ModerationReport, ModerationRequest
from workflows.moderation import ModerationWorkflow, workflow_id
from workflows.task_queues import cpu_queue

GUN = "sponsored by Glow. I love my gun"


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A draft that brand safety holds for a person: it mentions a gun."""
    return video(tmp_path_factory.mktemp("clip") / "gun.mp4", say=GUN, seconds=4)


def held_draft(
    engine: Engine, brand: Tenant, creator: CreatorAccount, title: str
) -> tuple[uuid.UUID, uuid.UUID]:
    """A delivery whose first draft is being checked: (delivery id, draft id)."""
    asset = make_delivered_asset(engine, brand, creator)
    with session_scope(engine) as session:
        campaign = session.get(Campaign, asset.campaign_id)
        delivery = session.get(Delivery, asset.delivery_id)
        draft = session.get(Submission, asset.asset_id)
        assert campaign and delivery and draft
        campaign.title, delivery.stage = title, DeliveryStage.CHECKING
        draft.review, draft.text = None, "#ad Glow serum <b>every</b> morning"
        session.add_all([campaign, delivery, draft])
    return asset.delivery_id, asset.asset_id


async def moderate(
    client: Client, settings: Settings, clip: Path, asset_id: uuid.UUID
) -> WorkflowHandle[ModerationWorkflow, ModerationReport]:
    key = f"uploads/{asset_id}/gun.mp4"
    store_from_settings(settings.storage).put_file(key, clip, "video/mp4")
    return await client.start_workflow(
        ModerationWorkflow.run,
        ModerationRequest(
            asset_id=asset_id, source_key=key, caption="#ad Glow serum <b>every</b> morning",
            brief=BriefRules(brand="Glow", mandatory_mentions=["Glow"]),
        ),
        id=workflow_id(asset_id),
        task_queue=cpu_queue(settings.temporal.task_queue),
        execution_timeout=timedelta(seconds=180),
    )  # fmt: skip


async def case_recorded(engine: Engine, asset_id: uuid.UUID) -> ModerationReview:
    for _ in range(900):
        with Session(engine) as session:
            found = session.get(ModerationReview, asset_id)
            if found is not None:
                return found
        await asyncio.sleep(0.1)
    raise AssertionError("the case was never recorded")


async def test_ops_review_a_held_draft_by_name_at_its_moment_and_the_creator_is_told(
    http: httpx.AsyncClient,
    client: Client,
    settings: Settings,
    engine: Engine,
    clip: Path,
) -> None:
    brand, creator = make_tenant(engine), make_creator(engine)
    delivery_id, draft_id = held_draft(engine, brand, creator, "Glow <i>spring</i>")
    handle = await moderate(client, settings, clip, draft_id)
    review = await case_recorded(engine, draft_id)
    deadline = when(review.due_at)
    assert timedelta(hours=20) < review.due_at - review.opened_at <= timedelta(days=3)

    ops = make_tenant(engine, Role.OPS)
    await sign_in(http, ops)
    console = await http.get("/portal/ops")
    assert console.status_code == 200
    card = console.text.split(f'id="case-{draft_id}"', 1)[1].split("</li>", 1)[0]
    creator_name = f"Creator {creator.email.split('-')[1].split('@')[0]}"
    assert f"{creator_name}'s draft 1 for Glow &lt;i&gt;spring&lt;/i&gt;" in card
    assert "Brand safety: weapons reference (needs review)" in card
    assert f"decide by <strong>{deadline}</strong>" in card

    page = await http.get(f"/portal/ops/moderation/{draft_id}")
    assert page.status_code == 200
    text = page.text
    # Names, not IDs.
    for name in ("Glow &lt;i&gt;spring&lt;/i&gt;", creator_name, "Brand "):
        assert name in text
    # The caption, escaped.
    assert "#ad Glow serum &lt;b&gt;every&lt;/b&gt; morning" in text
    assert "<b>every</b>" not in text
    # The finding in words with its moment; the player starts there.
    [finding] = [f for f in review.findings if f["code"] == "garm_arms_ammunition"]
    second = int(finding["start_s"])
    assert f"0:0{second} — Brand safety: weapons reference" in text
    assert "garm_arms" not in text  # no code, in any form
    assert f'src="/portal/ops/moderation/{draft_id}/video#t={second}"' in text
    assert f'data-seek="{second}"' in text
    # How long it has waited, and by when it must be decided.
    assert "<dt>Waiting</dt><dd>" in text
    assert f"<strong>{deadline}</strong>" in text

    # The checked master plays through the media serving function (sniffed, inline).
    media = await http.get(f"/portal/ops/moderation/{draft_id}/video")
    assert media.status_code == 200
    assert media.headers["content-type"] == "video/mp4"
    assert media.headers["content-security-policy"].startswith("sandbox")

    # The creator is told, on the delivery page and once in the inbox.
    await sign_in(http, creator.tenant)
    mine = await http.get(f"/portal/deliveries/{delivery_id}")
    assert mine.status_code == 200
    assert (
        "A member of our review team is checking your draft. You'll hear by "
        f'<time datetime="{review.due_at.isoformat()}">{deadline}</time>.'
    ) in mine.text
    assert "automated checks are running" not in mine.text
    assert 'hx-trigger="every 30s"' in mine.text
    with Session(engine) as session:
        told = session.exec(
            select(Notification).where(Notification.user_id == creator.user_id)
        ).all()
    [notice] = [n for n in told if n.kind == "draft_in_human_review"]
    assert notice.title == "A person is reviewing your draft"
    assert f"for Glow <i>spring</i>. You'll hear by {deadline}." in notice.body
    assert notice.link == f"/deliveries/{delivery_id}"
    # The brand's review page, and the part of it that follows the process, say the same.
    await sign_in(http, brand)
    for path in (f"/portal/deliveries/{delivery_id}", f"/portal/deliveries/{delivery_id}/live"):
        theirs = await http.get(path)
        assert theirs.status_code == 200
        assert (
            "A member of our review team is checking the creator's draft: decided by "
            f'<time datetime="{review.due_at.isoformat()}">{deadline}</time>.'
        ) in theirs.text
        assert "automated checks are running" not in theirs.text
        assert "your draft" not in theirs.text
        assert 'hx-trigger="every 30s"' in theirs.text
    # Others see no case, nor its video.
    assert (await http.get(f"/portal/ops/moderation/{draft_id}")).status_code == 303
    assert (await http.get(f"/portal/ops/moderation/{draft_id}/video")).status_code == 303

    # Ops decide: a decision and a note are needed; then the draft goes on.
    await sign_in(http, ops)
    page = await http.get(f"/portal/ops/moderation/{draft_id}")
    path = f"/portal/ops/moderation/{draft_id}/review"
    token = csrf_from(page)
    unsure = await http.post(path, data={"csrf_token": token, "decision": "maybe"})
    assert unsure.status_code == 422
    assert "Choose approve or reject." in unsure.text
    silent = await http.post(path, data={"csrf_token": token, "decision": "pass"})
    assert silent.status_code == 422
    assert "Write a note: the reason for your decision." in silent.text
    approved = await http.post(
        path, data={"csrf_token": token, "decision": "pass", "reason": "A toy gun: fine"}
    )
    assert approved.status_code == 303, approved.text
    assert approved.headers["location"] == "/portal/ops"
    report = await handle.result()
    assert (report.decision, report.reason) == ("pass", "Reviewed: A toy gun: fine")
    with Session(engine) as session:
        closed = session.get(ModerationReview, draft_id)
        assert closed is not None
        assert (closed.decision, closed.note) == ("pass", "A toy gun: fine")
        assert closed.reviewer == f"user:{ops.user_id}"
    console = await http.get("/portal/ops")
    assert f'id="case-{draft_id}"' not in console.text
    decided = await http.get(f"/portal/ops/moderation/{draft_id}")
    assert "Decided" in decided.text and "approved" in decided.text
    assert 'action="/portal/ops/moderation/' not in decided.text

    # A rejection: the creator reads the note beside the findings.
    _, second_draft = held_draft(engine, brand, creator, "Glow autumn")
    rejected = await moderate(client, settings, clip, second_draft)
    await case_recorded(engine, second_draft)
    page = await http.get(f"/portal/ops/moderation/{second_draft}")
    answer = await http.post(
        f"/portal/ops/moderation/{second_draft}/review",
        data={"csrf_token": csrf_from(page), "decision": "block",
              "reason": "Please cut the line about the gun"},
    )  # fmt: skip
    assert answer.status_code == 303, answer.text
    report = await rejected.result()
    assert report.decision == "block"
    assert report.findings[-1].code == "human_review_rejected"
    assert report.findings[-1].message == "Our review team: Please cut the line about the gun"


async def test_a_case_nobody_holds_is_not_found(http: httpx.AsyncClient, engine: Engine) -> None:
    await sign_in(http, make_tenant(engine, Role.OPS))
    missing = await http.get(f"/portal/ops/moderation/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert (await http.get(f"/portal/ops/moderation/{uuid.uuid4()}/video")).status_code == 404


async def test_a_refused_decision_is_explained_in_words_next_to_its_field(
    http: httpx.AsyncClient, engine: Engine
) -> None:
    await sign_in(http, make_tenant(engine, Role.OPS))
    page = await http.get("/portal/ops")
    path = f"/portal/ops/moderation/{uuid.uuid4()}/review"
    long = await http.post(
        path, data={"csrf_token": csrf_from(page), "decision": "block", "reason": "x" * 2001}
    )
    assert long.status_code == 422
    assert '<p id="reason-error" class="error">Use at most 2,000 characters.</p>' in long.text
    assert "String should have" not in long.text
    assert 'id="reject" name="decision" value="block" checked' in long.text
