"""Every durable timer of the campaign and delivery processes, on the time-skipping server.

The real CPU worker runs the real activities against a fresh PostgreSQL database; virtual time
is advanced with `env.sleep`, and each test asserts what people would notice: the live state
(workflow queries), the read model (rows in Postgres) and the in-app inbox.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import temporalio.client
import temporalio.worker
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.api.enums.v1 import EventType, IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateHandle,
    WorkflowUpdateStage,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput

from domain.calendar import add_business_days
from domain.enums import ApplicationStatus, CampaignStage, DeliverableFormat, DeliveryStage
from integrations.storage import store_from_settings
from models.applications import Application
from models.campaigns import Campaign
from models.deliveries import Delivery, Submission
from models.licenses import License
from models.notifications import Notification
from nexus.settings import Settings
from tests.media import encoded_sponsored_clip
from tests.support import CreatorAccount, Tenant, fund_in_ledger, make_creator, make_tenant
from workers.cpu.main import build_worker
from workers.gpu.main import build_worker as build_gpu_worker
from workflows import search_attributes as sa
from workflows.campaign import CampaignWorkflow
from workflows.campaign import workflow_id as campaign_workflow_id
from workflows.contracts.campaign import (
    ApplicationState,
    Apply,
    BriefSpec,
    CampaignCarry,
    CampaignDraft,
    CampaignStatus,
    CancelCampaign,
    Decide,
    DeliverableSpec,
    Money,
)
from workflows.contracts.delivery import (
    BriefAcceptance,
    DeliveryStatus,
    ExtendDeadline,
    ExtraRevisionAnswer,
    ExtraRevisionRequest,
    Reassign,
    Review,
    SubmitDraft,
    SubmitFinal,
)
from workflows.delivery import DeliveryWorkflow
from workflows.delivery import workflow_id as delivery_workflow_id
from workflows.license import workflow_id as license_workflow_id
from workflows.payout import workflow_id as payout_workflow_id
from workflows.task_queues import cpu_queue

GOOD_CAPTION = "#ad Paid partnership with Glow: Glow serum 30 ml"
MENTION = "Glow serum"
PRICE = 80_000
# One clip that passes the automated checks, stored for every draft.
DRAFT = "uploads/timers/draft.mp4"
BUDGET = 1_000_000
# A safety net in virtual time: the longest test moves the clock about two weeks.
EXECUTION_TIMEOUT = timedelta(days=60)
# Real seconds to wait for something that follows a client call or a skip of virtual time.
REAL_WAIT_S = 60.0

CampaignHandle = WorkflowHandle[CampaignWorkflow, CampaignStatus]
DeliveryHandle = WorkflowHandle[DeliveryWorkflow, DeliveryStatus]


# --- waiting ------------------------------------------------------------------------------


async def until(probe: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll (in real time) until `probe` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + REAL_WAIT_S
    while not await probe():
        assert loop.time() < deadline, f"not reached in {REAL_WAIT_S} s: {what}"
        await asyncio.sleep(0.05)


_CLOSED = frozenset(
    {
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    }
)
_WORK_STARTS = frozenset(
    {
        EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
        EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
    }
)
_WORK_ENDS = frozenset(
    {
        EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
        EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
        EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED,
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED,
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED,
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED,
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT,
        EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED,
        EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED,
        EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
    }
)


# Children that live on their own (parent-close policy ABANDON): in flight until started.
LIVES_ON_ITS_OWN = frozenset({"DeliveryWorkflow", "LicenseWorkflow", "PayoutWorkflow"})


async def _busy(handle: WorkflowHandle[Any, Any]) -> bool:
    """Whether the latest run has a workflow task (local activities run inside one), an
    activity, a signal to another workflow or a short-lived child in flight. A delivery or
    license or payout child counts only until it has started."""
    task = False
    in_flight: set[int] = set()
    async for event in handle.fetch_history_events():
        kind = event.event_type
        if kind in _CLOSED:
            return False
        if kind == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
            task = True
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            task = False
        elif kind in _WORK_STARTS:
            in_flight.add(event.event_id)
        else:
            name = event.WhichOneof("attributes")
            attributes = getattr(event, name) if name else None
            if kind in _WORK_ENDS:
                in_flight.discard(
                    getattr(attributes, "scheduled_event_id", 0)
                    or getattr(attributes, "initiated_event_id", 0)
                )
            elif kind == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED and (
                attributes is not None and attributes.workflow_type.name in LIVES_ON_ITS_OWN
            ):
                in_flight.discard(attributes.initiated_event_id)
    # A failed or timed-out workflow task is retried: only a completed one leaves it at rest.
    return task or bool(in_flight)


async def settle(client: Client, workflow_ids: list[str]) -> None:
    """Wait until none of the workflows has work in flight, so that a following check sees the
    whole effect of what happened so far, and the absence of an effect means something."""

    async def at_rest() -> bool:
        for workflow_id in workflow_ids:
            if await _busy(client.get_workflow_handle(workflow_id)):
                return False
        return True

    await until(at_rest, f"workflows at rest: {workflow_ids}")


async def _licensed(engine: Engine, license_id: uuid.UUID) -> bool:
    with Session(engine) as session:
        return session.get(License, license_id) is not None


# --- the world of one test ----------------------------------------------------------------


@dataclass(frozen=True)
class Accepted:
    creator: CreatorAccount
    application: ApplicationState
    delivery: DeliveryHandle

    @property
    def delivery_id(self) -> uuid.UUID:
        assert self.application.delivery_id is not None
        return self.application.delivery_id


@dataclass
class World:
    env: WorkflowEnvironment
    engine: Engine
    brand: Tenant
    draft: CampaignDraft
    campaign: CampaignHandle
    workflow_ids: list[str] = field(default_factory=list)

    @property
    def client(self) -> Client:
        return self.env.client

    @property
    def deliverable_id(self) -> uuid.UUID:
        return self.draft.deliverables[0].id

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def advance_to(self, moment: datetime) -> None:
        """Skip virtual time up to `moment`, then wait until every workflow is at rest."""
        delta = moment - await self.now()
        assert delta > timedelta(0), f"{moment} is already past"
        async with asyncio.timeout(120):
            await self.env.sleep(delta)
        await self.settle()

    async def settle(self) -> None:
        await settle(self.client, self.workflow_ids)

    async def apply(self, creator: CreatorAccount | None = None) -> ApplicationState:
        creator = creator or make_creator(self.engine)
        return await self.campaign.execute_update(
            CampaignWorkflow.apply,
            Apply(
                application_id=uuid.uuid4(),
                creator_id=creator.creator_id,
                creator_user_id=creator.user_id,
                deliverable_id=self.deliverable_id,
                pitch="Glowing skin in 30 seconds",
                price_minor=PRICE,
            ),
        )

    async def accept(self) -> Accepted:
        """A new creator applies and the brand accepts: the delivery process starts."""
        creator = make_creator(self.engine)
        applied = await self.apply(creator)
        app = await self.campaign.execute_update(
            CampaignWorkflow.decide, Decide(application_id=applied.id, action="accept")
        )
        assert app.status == ApplicationStatus.ACCEPTED
        delivery = self.track(app)
        await until(lambda: self._has_row(app.delivery_id), "the delivery is in the read model")
        return Accepted(creator, app, delivery)

    def track(self, app: ApplicationState) -> DeliveryHandle:
        """Remember the delivery an acceptance started, to stop it when the test ends."""
        assert app.delivery_id is not None
        workflow_id = delivery_workflow_id(app.delivery_id)
        self.workflow_ids.append(workflow_id)
        return self.client.get_workflow_handle_for(DeliveryWorkflow.run, workflow_id)

    async def _has_row(self, delivery_id: uuid.UUID | None) -> bool:
        return self.delivery_row(delivery_id) is not None

    def delivery_row(self, delivery_id: uuid.UUID | None) -> Delivery | None:
        with Session(self.engine) as session:
            return session.get(Delivery, delivery_id)

    def campaign_row(self) -> Campaign:
        with Session(self.engine) as session:
            row = session.get(Campaign, self.draft.campaign_id)
            assert row is not None
            return row

    def application_row(self, application_id: uuid.UUID) -> Application:
        with Session(self.engine) as session:
            row = session.get(Application, application_id)
            assert row is not None
            return row

    def inbox(self, user_id: uuid.UUID, kind: str) -> list[Notification]:
        with Session(self.engine) as session:
            return list(
                session.exec(
                    select(Notification)
                    .where(Notification.user_id == user_id, Notification.kind == kind)
                    .order_by(col(Notification.created_at))
                ).all()
            )

    def submissions(self, delivery_id: uuid.UUID) -> list[Submission]:
        with Session(self.engine) as session:
            return list(
                session.exec(
                    select(Submission)
                    .where(Submission.delivery_id == delivery_id)
                    .order_by(col(Submission.number))
                ).all()
            )

    async def close(self) -> None:
        """Leave nothing running on the shared server: a workflow whose task queue has no
        worker any more would hold the time-skipping clock."""
        with suppress(AssertionError):
            await self.settle()
        with Session(self.engine) as session:
            granted = session.exec(
                select(License.id).where(col(License.campaign_id) == self.draft.campaign_id)
            ).all()
        payouts = [
            payout_workflow_id(w.removeprefix("delivery-"))
            for w in self.workflow_ids
            if w.startswith("delivery-")
        ]
        licenses = [license_workflow_id(license_id) for license_id in granted]
        for workflow_id in self.workflow_ids + payouts + licenses:
            with suppress(RPCError):
                await self.client.get_workflow_handle(workflow_id).terminate("test over")


@asynccontextmanager
async def campaign_world(
    env: WorkflowEnvironment,
    settings: Settings,
    engine: Engine,
    *,
    quantity: int = 1,
    recruit_for: timedelta = timedelta(days=1),
    due_in: timedelta | None = timedelta(days=5),
    revision_rounds: int = 2,
    review_window_days: int = 3,
    max_history_events: int | None = None,
    worker_client: Client | None = None,
    task_timeout: timedelta | None = None,
    script_required: bool = False,
) -> AsyncIterator[World]:
    """A published campaign (one deliverable, `quantity` creator slots) on a running worker."""
    store_from_settings(settings.storage).put_file(DRAFT, encoded_sponsored_clip(), "video/mp4")
    temporal = worker_client or env.client
    async with (
        build_worker(temporal, settings, engine),
        build_gpu_worker(temporal, settings, "cpu"),
    ):
        now = await env.get_current_time()
        brand = make_tenant(engine)
        deliverable = DeliverableSpec(
            id=uuid.uuid4(),
            format=DeliverableFormat.VIDEO_9_16,
            duration_s=30,
            quantity=quantity,
            price_minor=PRICE,
        )
        draft = CampaignDraft(
            campaign_id=uuid.uuid4(),
            workspace_id=brand.workspace_id,
            brand_id=brand.brand_id,
            created_by=brand.user_id,
            title="Spring glow launch",
            budget=Money(amount_minor=BUDGET, currency="USD"),
            brief=BriefSpec(
                product="Glow serum 30 ml",
                objective="Awareness among 18-34 skincare buyers",
                mandatory_mentions=[MENTION],
                revision_rounds=revision_rounds,
                review_window_days=review_window_days,
                script_required=script_required,
                application_deadline=now + recruit_for,
                delivery_deadline=now + due_in if due_in is not None else None,
            ),
            deliverables=[deliverable],
            created_at=now,
        )
        if max_history_events is not None:
            draft.carry = CampaignCarry(
                slots={str(deliverable.id): quantity}, max_history_events=max_history_events
            )
        workflow_id = campaign_workflow_id(draft.campaign_id)
        campaign = await env.client.start_workflow(
            CampaignWorkflow.run,
            draft,
            id=workflow_id,
            task_queue=cpu_queue(settings.temporal.task_queue),
            execution_timeout=EXECUTION_TIMEOUT,
            task_timeout=task_timeout,
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(sa.CAMPAIGN_ID, str(draft.campaign_id))]
            ),
        )
        world = World(env, engine, brand, draft, campaign, [workflow_id])
        try:
            recorded = await campaign.execute_update(CampaignWorkflow.wait_recorded)
            assert recorded.recorded
            await campaign.signal(
                CampaignWorkflow.funded,
                fund_in_ledger(engine, draft.campaign_id, brand.workspace_id, BUDGET, "USD"),
            )
            published = await campaign.execute_update(CampaignWorkflow.publish)
            assert published.stage == CampaignStage.PUBLISHED
            yield world
        finally:
            await world.close()


async def rejection(call: Awaitable[object]) -> str:
    """The message of the business error that refused an Update."""
    try:
        await call
    except WorkflowUpdateFailedError as err:
        return str(err.cause)
    raise AssertionError("the update was accepted")


@pytest.fixture
async def own_time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of the test's own, for tests where a delivery ends after its
    campaign has closed. The test server then leaks a time-skipping lock: a closing child
    locks the clock until its parent hears of it, and a closed parent never does (sdk-java
    TestWorkflowMutableStateImpl, "processCompleteWorkflowExecution notify parent"), so every
    later skip on that server would stall."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(Path(sys.prefix) / "bin" / "temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    try:
        await env.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=env.client.namespace,
                search_attributes={
                    key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for key in sa.ALL
                },
            )
        )
        yield env
    finally:
        await env.shutdown()


class ActivityGate(temporalio.client.Interceptor, temporalio.worker.Interceptor):
    """Once armed, holds each run of one real activity (local or not) until opened: a way to
    reach a workflow at a chosen point of its progress. Workers pick it up from their client."""

    def __init__(self, activity_type: str) -> None:
        self.activity_type = activity_type
        self.armed = False
        self.reached = asyncio.Event()
        self.opened = asyncio.Event()

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _GatedActivity(next, self)

    def client_for(self, env: WorkflowEnvironment) -> Client:
        config = env.client.config()
        config["interceptors"] = [*config["interceptors"], self]
        return Client(**config)


class _GatedActivity(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, gate: ActivityGate) -> None:
        super().__init__(next)
        self._gate = gate

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        if self._gate.armed and activity.info().activity_type == self._gate.activity_type:
            self._gate.reached.set()
            await self._gate.opened.wait()
        return await super().execute_activity(input)


# --- 1. recruiting deadline ---------------------------------------------------------------


async def test_recruiting_closes_at_the_deadline_and_production_starts(
    time_skipping_env: WorkflowEnvironment, settings: Settings, engine: Engine
) -> None:
    async with campaign_world(
        time_skipping_env, settings, engine, quantity=2, recruit_for=timedelta(hours=6)
    ) as w:
        accepted = await w.accept()
        pending = await w.apply()
        status = await w.campaign.query(CampaignWorkflow.status)
        assert status.stage == CampaignStage.RECRUITING
        deadline = w.draft.brief.application_deadline
        assert deadline is not None and status.recruiting_closes_at == deadline

        await w.advance_to(deadline - timedelta(minutes=1))
        status = await w.campaign.query(CampaignWorkflow.status)
        assert status.stage == CampaignStage.RECRUITING
        assert status.open_slots == {str(w.deliverable_id): 1}
        assert w.application_row(pending.id).status == ApplicationStatus.PENDING

        await w.advance_to(deadline + timedelta(minutes=1))
        status = await w.campaign.query(CampaignWorkflow.status)
        assert status.stage == CampaignStage.IN_PRODUCTION
        # The unfilled slot lapses with recruiting; the accepted creator's slot stays taken.
        assert status.open_slots == {str(w.deliverable_id): 0}
        assert status.committed_minor == PRICE and status.open_deliveries == 1
        assert w.campaign_row().stage == CampaignStage.IN_PRODUCTION
        assert w.application_row(pending.id).status == ApplicationStatus.EXPIRED
        assert w.application_row(accepted.application.id).status == ApplicationStatus.ACCEPTED
        described = await w.campaign.describe()
        assert described.typed_search_attributes.get(sa.STAGE) == "in_production"

        late = await rejection(w.apply())
        assert "not taking applications" in late
        assert (await w.campaign.query(CampaignWorkflow.status)).applications == 2
        # The delivery goes on.
        delivery = await accepted.delivery.query(DeliveryWorkflow.status)
        assert delivery.stage == DeliveryStage.AWAITING_BRIEF_ACCEPTANCE


async def test_recruiting_without_an_accepted_creator_cancels_the_campaign(
    time_skipping_env: WorkflowEnvironment, settings: Settings, engine: Engine
) -> None:
    async with campaign_world(
        time_skipping_env, settings, engine, recruit_for=timedelta(hours=6)
    ) as w:
        pending = await w.apply()
        deadline = w.draft.brief.application_deadline
        assert deadline is not None

        await w.advance_to(deadline - timedelta(minutes=1))
        assert (await w.campaign.query(CampaignWorkflow.status)).stage == CampaignStage.RECRUITING
        assert w.inbox(w.brand.user_id, "recruiting_closed_empty") == []

        await w.advance_to(deadline + timedelta(minutes=1))
        result = await w.campaign.result()
        assert result.stage == CampaignStage.CANCELLED
        assert result.cancel_reason == "recruiting closed without an accepted creator"
        assert w.campaign_row().stage == CampaignStage.CANCELLED
        assert w.application_row(pending.id).status == ApplicationStatus.EXPIRED
        [closed] = w.inbox(w.brand.user_id, "recruiting_closed_empty")
        assert closed.link == f"/campaigns/{w.draft.campaign_id}"


# --- delivery steps -----------------------------------------------------------------------


async def brief_accepted(d: Accepted) -> DeliveryStatus:
    status = await d.delivery.execute_update(
        DeliveryWorkflow.accept_brief, BriefAcceptance(creator_id=d.creator.creator_id)
    )
    assert status.stage == DeliveryStage.AWAITING_DRAFT
    return status


def draft_of(d: Accepted) -> SubmitDraft:
    return SubmitDraft(
        creator_id=d.creator.creator_id,
        media_key=DRAFT,
        caption=GOOD_CAPTION,
    )


async def stage_is(d: Accepted, stage: DeliveryStage) -> None:
    async def reached() -> bool:
        return (await d.delivery.query(DeliveryWorkflow.status)).stage == stage

    await until(reached, f"delivery {d.delivery_id} is {stage.value}")


async def draft_in_review(d: Accepted) -> DeliveryStatus:
    submitted = await d.delivery.execute_update(DeliveryWorkflow.submit_draft, draft_of(d))
    assert submitted.stage == DeliveryStage.CHECKING
    # The creator's list shows the draft handed in and waiting, not as still to do.
    handed_in = [t.key for t in submitted.tasks if t.status == "waiting"]
    assert handed_in[0] in ("upload_draft", "fix_issues", "address_revisions"), handed_in
    assert next(t.status for t in submitted.tasks if t.key == "upload_draft") != "upcoming"
    await stage_is(d, DeliveryStage.IN_REVIEW)
    return await d.delivery.query(DeliveryWorkflow.status)


async def skip_to(env: WorkflowEnvironment, moment: datetime) -> None:
    delta = moment - await env.get_current_time()
    assert delta > timedelta(0)
    async with asyncio.timeout(120):
        await env.sleep(delta)


def next_weekday_at(now: datetime, weekday: int, hour: int = 10) -> datetime:
    """The first `weekday` at `hour`:00 UTC that is at least an hour after `now`."""
    moment = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    while moment.weekday() != weekday or moment < now + timedelta(hours=1):
        moment += timedelta(days=1)
    return moment


# --- 2. review window in business days ----------------------------------------------------


@pytest.mark.parametrize(
    ("weekday", "reminder_after_days", "due_after_days"),
    [(3, 4, 5), (5, 4, 5), (0, 2, 3)],
    ids=["thursday-over-the-weekend", "saturday-counts-from-monday", "monday-within-the-week"],
)
async def test_the_review_window_auto_approves_after_three_business_days(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    engine: Engine,
    weekday: int,
    reminder_after_days: int,
    due_after_days: int,
) -> None:
    env = time_skipping_env
    await skip_to(env, next_weekday_at(await env.get_current_time(), weekday))
    async with campaign_world(
        env, settings, engine, recruit_for=timedelta(days=30), due_in=None, review_window_days=3
    ) as w:
        d = await w.accept()
        await brief_accepted(d)
        before = await w.now()
        status = await draft_in_review(d)
        after = await w.now()
        await w.settle()

        due = status.review_due_at
        assert due is not None
        # The review started when the checks passed; the window keeps its time of day.
        start = datetime.combine(after.date(), due.timetz())
        if start > after:
            start -= timedelta(days=1)
        assert before - timedelta(seconds=1) <= start <= after
        assert start.weekday() == weekday
        assert due == add_business_days(start, 3)
        assert due - start == timedelta(days=due_after_days)
        assert due.weekday() < 5
        # Three whole business days pass; a weekend start counts from Monday.
        first = start
        while first.weekday() >= 5:
            first += timedelta(days=1)
        business_days = [
            first + timedelta(days=n)
            for n in range(1, (due - first).days + 1)
            if (first + timedelta(days=n)).weekday() < 5
        ]
        assert len(business_days) == 3 and business_days[-1] == due
        row = w.delivery_row(d.delivery_id)
        assert row is not None and row.stage == DeliveryStage.IN_REVIEW
        assert row.review_due_at == due
        final_task = next(t for t in status.tasks if t.key == "final_delivery")
        assert final_task.status == "waiting"
        [ready] = w.inbox(w.brand.user_id, "draft_ready")
        assert ready.link == f"/deliveries/{d.delivery_id}"

        # The brand is reminded one business day before the window closes.
        remind_at = start + timedelta(days=reminder_after_days)
        assert remind_at == add_business_days(start, 2)
        await w.advance_to(remind_at - timedelta(minutes=1))
        assert w.inbox(w.brand.user_id, "review_reminder") == []
        await w.advance_to(remind_at + timedelta(minutes=1))
        [reminder] = w.inbox(w.brand.user_id, "review_reminder")
        assert f"{due:%Y-%m-%d %H:%M} UTC" in reminder.body
        assert w.inbox(d.creator.user_id, "review_reminder") == []

        # Just before the window closes nothing is decided yet.
        await w.advance_to(due - timedelta(minutes=1))
        status = await d.delivery.query(DeliveryWorkflow.status)
        assert status.stage == DeliveryStage.IN_REVIEW and status.review_due_at == due
        assert w.inbox(w.brand.user_id, "auto_approved") == []
        assert w.inbox(d.creator.user_id, "approved") == []
        assert [s.review for s in w.submissions(d.delivery_id)] == [None]

        # Once it has closed the draft is approved on the brand's behalf.
        await w.advance_to(due + timedelta(minutes=1))
        status = await d.delivery.query(DeliveryWorkflow.status)
        assert status.stage == DeliveryStage.AWAITING_FINAL
        assert status.review_due_at is None and status.next_task == "final_delivery"
        row = w.delivery_row(d.delivery_id)
        assert row is not None and row.stage == DeliveryStage.AWAITING_FINAL
        assert row.approved_at is not None
        assert due <= row.approved_at <= due + timedelta(minutes=1)
        assert row.review_due_at is None
        # The approved draft is licensed on the brief's terms, and its fee paid, from the
        # moment of approval.
        assert status.license_id is not None
        license_id = status.license_id
        assert row.handoffs == {
            "licensing": license_workflow_id(license_id),
            "payout": payout_workflow_id(d.delivery_id),
        }
        await until(lambda: _licensed(w.engine, license_id), "the license is granted")
        # The creator now has three business days for the final files.
        final_due = add_business_days(row.approved_at, 3)
        assert status.due_at is not None
        assert final_due <= status.due_at <= final_due + timedelta(minutes=1)
        [draft] = w.submissions(d.delivery_id)
        assert draft.review == "auto_approved" and draft.checks_passed is True
        [auto] = w.inbox(w.brand.user_id, "auto_approved")
        assert auto.link == f"/deliveries/{d.delivery_id}"
        [approved] = w.inbox(d.creator.user_id, "approved")
        assert "review window passed" in approved.title
        assert len(w.inbox(w.brand.user_id, "review_reminder")) == 1
        campaign = await w.campaign.query(CampaignWorkflow.status)
        assert campaign.owed_minor == PRICE


# --- 3. creator reminders and lateness ----------------------------------------------------


async def test_creator_reminders_lateness_extension_and_reassignment(
    time_skipping_env: WorkflowEnvironment, settings: Settings, engine: Engine
) -> None:
    async with campaign_world(
        time_skipping_env,
        settings,
        engine,
        quantity=2,
        recruit_for=timedelta(days=1),
        due_in=timedelta(days=5),
    ) as w:
        extended, reassigned = await w.accept(), await w.accept()
        both = (extended, reassigned)
        due = w.draft.brief.delivery_deadline
        assert due is not None
        for d in both:
            status = await brief_accepted(d)
            assert status.due_at == due and not status.late
            [upload] = [t for t in status.tasks if t.status == "current"]
            assert upload.key == "upload_draft" and upload.due_at == due
        await w.settle()
        for d in both:
            assert [n.kind for n in w.inbox(d.creator.user_id, "delivery_started")] == [
                "delivery_started"
            ]
            assert w.inbox(d.creator.user_id, "reminder") == []

        def reminders(d: Accepted) -> list[Notification]:
            return w.inbox(d.creator.user_id, "reminder")

        await w.advance_to(due - timedelta(hours=48, minutes=1))
        assert [reminders(d) for d in both] == [[], []]
        assert (await w.campaign.query(CampaignWorkflow.status)).stage == (
            CampaignStage.IN_PRODUCTION
        )

        await w.advance_to(due - timedelta(hours=48) + timedelta(minutes=1))
        for d in both:
            [first] = reminders(d)
            assert first.title == "Reminder: Upload your draft"
            assert first.body == f"Due {due:%Y-%m-%d %H:%M} UTC."
            assert first.link == f"/deliveries/{d.delivery_id}"

        await w.advance_to(due - timedelta(hours=24, minutes=1))
        assert [len(reminders(d)) for d in both] == [1, 1]
        await w.advance_to(due - timedelta(hours=24) + timedelta(minutes=1))
        assert [len(reminders(d)) for d in both] == [2, 2]

        await w.advance_to(due - timedelta(minutes=1))
        for d in both:
            assert not (await d.delivery.query(DeliveryWorkflow.status)).late
            row = w.delivery_row(d.delivery_id)
            assert row is not None and not row.late
            assert w.inbox(d.creator.user_id, "late") == []
        assert w.inbox(w.brand.user_id, "creator_late") == []

        await w.advance_to(due + timedelta(minutes=1))
        for d in both:
            status = await d.delivery.query(DeliveryWorkflow.status)
            assert status.late and status.stage == DeliveryStage.AWAITING_DRAFT
            row = w.delivery_row(d.delivery_id)
            assert row is not None and row.late
            [late] = w.inbox(d.creator.user_id, "late")
            assert late.link == f"/deliveries/{d.delivery_id}"
        brand_late = w.inbox(w.brand.user_id, "creator_late")
        assert sorted(n.link for n in brand_late) == sorted(
            f"/deliveries/{d.delivery_id}" for d in both
        )
        # Lateness stops the reminders.
        assert [len(reminders(d)) for d in both] == [2, 2]

        # Uploading after the deadline is refused and changes nothing.
        refused = await rejection(
            extended.delivery.execute_update(DeliveryWorkflow.submit_draft, draft_of(extended))
        )
        assert "deadline passed" in refused
        status = await extended.delivery.query(DeliveryWorkflow.status)
        assert status.late and status.stage == DeliveryStage.AWAITING_DRAFT
        assert w.submissions(extended.delivery_id) == []

        # The brand extends one deadline: the creator is on time again and can upload.
        new_due = await w.now() + timedelta(days=2)
        status = await extended.delivery.execute_update(
            DeliveryWorkflow.extend_deadline, ExtendDeadline(due_at=new_due)
        )
        assert not status.late and status.due_at == new_due
        assert status.stage == DeliveryStage.AWAITING_DRAFT
        row = w.delivery_row(extended.delivery_id)
        assert row is not None and not row.late and row.due_at == new_due
        assert len(w.inbox(extended.creator.user_id, "deadline_extended")) == 1
        on_time = await rejection(
            extended.delivery.execute_update(DeliveryWorkflow.reassign, Reassign(reason="too slow"))
        )
        assert "only a late delivery" in on_time
        status = await draft_in_review(extended)
        assert not status.late
        [draft] = w.submissions(extended.delivery_id)
        assert draft.kind == "draft" and draft.checks_passed is True

        # The brand reassigns the other one: its slot opens again.
        status = await reassigned.delivery.execute_update(
            DeliveryWorkflow.reassign, Reassign(reason="missed the deadline")
        )
        assert status.stage == DeliveryStage.REASSIGNED
        assert status.cancel_reason == "missed the deadline" and status.next_task is None
        assert (await reassigned.delivery.result()).stage == DeliveryStage.REASSIGNED
        row = w.delivery_row(reassigned.delivery_id)
        assert row is not None and row.stage == DeliveryStage.REASSIGNED
        assert len(w.inbox(reassigned.creator.user_id, "reassigned")) == 1

        async def slot_open() -> bool:
            campaign = await w.campaign.query(CampaignWorkflow.status)
            return campaign.open_slots == {str(w.deliverable_id): 1}

        await until(slot_open, "the reassigned slot is open again")
        campaign = await w.campaign.query(CampaignWorkflow.status)
        assert campaign.committed_minor == PRICE and campaign.open_deliveries == 1
        assert campaign.stage == CampaignStage.IN_PRODUCTION


# --- 4. extra revision beyond the cap -----------------------------------------------------


async def test_an_extra_revision_beyond_the_cap_needs_the_creators_consent(
    time_skipping_env: WorkflowEnvironment, settings: Settings, engine: Engine
) -> None:
    async with campaign_world(
        time_skipping_env, settings, engine, revision_rounds=0, due_in=timedelta(days=10)
    ) as w:
        d = await w.accept()
        await brief_accepted(d)
        status = await draft_in_review(d)
        assert status.revision_cap == 0
        review_due = status.review_due_at
        assert review_due is not None

        refused = await rejection(
            d.delivery.execute_update(
                DeliveryWorkflow.review, Review(decision="revise", notes="Show the texture")
            )
        )
        assert "all 0 revision rounds are used" in refused and "consent" in refused
        status = await d.delivery.query(DeliveryWorkflow.status)
        assert status.stage == DeliveryStage.IN_REVIEW and status.revisions_used == 0
        assert [s.review for s in w.submissions(d.delivery_id)] == [None]

        notes = "Show the texture closer, please"
        status = await d.delivery.execute_update(
            DeliveryWorkflow.request_extra_revision, ExtraRevisionRequest(notes=notes)
        )
        assert status.extra_revision_pending and status.stage == DeliveryStage.IN_REVIEW
        [asked] = w.inbox(d.creator.user_id, "extra_revision_requested")
        assert notes in asked.body
        again = await rejection(
            d.delivery.execute_update(
                DeliveryWorkflow.request_extra_revision, ExtraRevisionRequest(notes="again")
            )
        )
        assert "already waiting" in again
        stranger = make_creator(w.engine)
        not_theirs = await rejection(
            d.delivery.execute_update(
                DeliveryWorkflow.answer_extra_revision,
                ExtraRevisionAnswer(creator_id=stranger.creator_id, accept=True),
            )
        )
        assert "another creator" in not_theirs
        assert (await d.delivery.query(DeliveryWorkflow.status)).extra_revision_pending

        status = await d.delivery.execute_update(
            DeliveryWorkflow.answer_extra_revision,
            ExtraRevisionAnswer(creator_id=d.creator.creator_id, accept=True),
        )
        assert status.stage == DeliveryStage.REVISING and status.next_task == "address_revisions"
        assert status.revisions_used == 1 and status.revision_cap == 1
        assert not status.extra_revision_pending and status.review_due_at is None
        assert status.last_review_notes == notes
        row = w.delivery_row(d.delivery_id)
        assert row is not None and row.stage == DeliveryStage.REVISING
        assert row.revisions_used == 1 and row.review_due_at is None
        [revise] = w.inbox(d.creator.user_id, "revision_requested")
        assert revise.body == notes

        # The closed review's window no longer runs: nothing is approved when it would end.
        await w.advance_to(review_due + timedelta(minutes=1))
        status = await d.delivery.query(DeliveryWorkflow.status)
        assert status.stage == DeliveryStage.REVISING and not status.late
        assert w.inbox(w.brand.user_id, "auto_approved") == []
        assert w.inbox(w.brand.user_id, "review_reminder") == []


# --- 5. cancelling a campaign in production -----------------------------------------------


async def test_cancelling_in_production_stops_open_work_and_keeps_approved_work(
    own_time_skipping_env: WorkflowEnvironment, settings: Settings, engine: Engine
) -> None:
    async with campaign_world(
        own_time_skipping_env, settings, engine, quantity=2, recruit_for=timedelta(hours=2)
    ) as w:
        approved, still_open = await w.accept(), await w.accept()
        deadline = w.draft.brief.application_deadline
        assert deadline is not None
        await w.advance_to(deadline + timedelta(minutes=1))
        assert (await w.campaign.query(CampaignWorkflow.status)).stage == (
            CampaignStage.IN_PRODUCTION
        )
        await brief_accepted(approved)
        await draft_in_review(approved)
        status = await approved.delivery.execute_update(
            DeliveryWorkflow.review, Review(decision="approve")
        )
        assert status.stage == DeliveryStage.AWAITING_FINAL

        async def owed() -> bool:
            return (await w.campaign.query(CampaignWorkflow.status)).owed_minor == PRICE

        await until(owed, "the campaign owes the approved delivery")

        cancelled = await w.campaign.execute_update(
            CampaignWorkflow.cancel, CancelCampaign(reason="Product recall")
        )
        assert cancelled.stage == CampaignStage.CANCELLED
        assert cancelled.owed_minor == PRICE and cancelled.committed_minor == PRICE
        assert cancelled.open_deliveries == 1
        assert w.campaign_row().stage == CampaignStage.CANCELLED

        await stage_is(still_open, DeliveryStage.CANCELLED)
        result = await still_open.delivery.result()
        assert result.stage == DeliveryStage.CANCELLED
        assert result.cancel_reason == "Product recall" and result.next_task is None
        row = w.delivery_row(still_open.delivery_id)
        assert row is not None and row.stage == DeliveryStage.CANCELLED
        [told] = w.inbox(still_open.creator.user_id, "campaign_cancelled")
        assert told.body == "Product recall"

        # Approved work is bought: it goes on to completion.
        await w.settle()
        status = await approved.delivery.query(DeliveryWorkflow.status)
        assert status.stage == DeliveryStage.AWAITING_FINAL and status.cancel_reason is None
        assert w.inbox(approved.creator.user_id, "campaign_cancelled") == []
        status = await approved.delivery.execute_update(
            DeliveryWorkflow.submit_final,
            SubmitFinal(creator_id=approved.creator.creator_id, media_key=DRAFT),
        )
        assert status.stage == DeliveryStage.CHECKING  # the final files are checked first
        await stage_is(approved, DeliveryStage.COMPLETED)
        assert (await approved.delivery.result()).stage == DeliveryStage.COMPLETED
        row = w.delivery_row(approved.delivery_id)
        assert row is not None and row.stage == DeliveryStage.COMPLETED
        assert len(w.inbox(w.brand.user_id, "delivered")) == 1

        final = await w.campaign.result()
        assert final.stage == CampaignStage.CANCELLED and final.owed_minor == PRICE
        after = await w.campaign.query(CampaignWorkflow.status)
        assert after.owed_minor == PRICE and after.cancel_reason == "Product recall"


# --- 6. continue-as-new -------------------------------------------------------------------


async def test_a_busy_campaign_continues_as_new_and_keeps_its_state_and_timer(
    time_skipping_env: WorkflowEnvironment, settings: Settings, engine: Engine
) -> None:
    async with campaign_world(
        time_skipping_env,
        settings,
        engine,
        quantity=3,
        recruit_for=timedelta(days=2),
        max_history_events=60,
    ) as w:
        first_run = w.campaign.first_execution_run_id
        assert first_run is not None
        apps = [await w.apply() for _ in range(30)]

        described = await w.campaign.describe()
        assert described.run_id != first_run
        assert described.status is not None and described.status.name == "RUNNING"
        assert described.typed_search_attributes.get(sa.STAGE) == "recruiting"
        assert described.typed_search_attributes.get(sa.CAMPAIGN_ID) == str(w.draft.campaign_id)
        history = await w.client.get_workflow_handle(
            w.campaign.id, run_id=first_run
        ).fetch_history()
        assert history.events[-1].event_type == (
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
        )
        status = await w.campaign.query(CampaignWorkflow.status)
        assert status.stage == CampaignStage.RECRUITING and status.recorded
        assert status.applications == 30
        assert status.open_slots == {str(w.deliverable_id): 3}
        # Notification keys stay unique across runs: the brand heard of every application.
        assert len(w.inbox(w.brand.user_id, "application")) == 30

        chosen = apps[7]
        app = await w.campaign.execute_update(
            CampaignWorkflow.decide, Decide(application_id=chosen.id, action="accept")
        )
        assert app.status == ApplicationStatus.ACCEPTED
        delivery = w.track(app)
        assert (await delivery.query(DeliveryWorkflow.status)).stage == (
            DeliveryStage.AWAITING_BRIEF_ACCEPTANCE
        )
        status = await w.campaign.query(CampaignWorkflow.status)
        assert status.applications == 30
        assert status.open_slots == {str(w.deliverable_id): 2}
        assert status.committed_minor == PRICE and status.open_deliveries == 1
        assert w.application_row(chosen.id).status == ApplicationStatus.ACCEPTED
        again = await rejection(
            w.campaign.execute_update(
                CampaignWorkflow.decide, Decide(application_id=chosen.id, action="accept")
            )
        )
        assert "accepted, not awaiting the brand" in again

        # The recruiting deadline still closes the campaign after the continuation.
        deadline = w.draft.brief.application_deadline
        assert deadline is not None
        await w.advance_to(deadline + timedelta(minutes=1))
        status = await w.campaign.query(CampaignWorkflow.status)
        assert status.stage == CampaignStage.IN_PRODUCTION
        assert status.open_slots == {str(w.deliverable_id): 0}
        with Session(engine) as session:
            statuses = session.exec(
                select(Application.status).where(Application.campaign_id == w.draft.campaign_id)
            ).all()
        assert sorted(statuses) == sorted(
            [ApplicationStatus.ACCEPTED] + [ApplicationStatus.EXPIRED] * 29
        )


# --- source bugs --------------------------------------------------------------------------


async def test_cancelling_the_campaign_while_a_draft_is_checked_cancels_the_delivery(
    own_time_skipping_env: WorkflowEnvironment, settings: Settings, engine: Engine
) -> None:
    env = own_time_skipping_env
    gate = ActivityGate("media.probe")
    async with campaign_world(env, settings, engine, worker_client=gate.client_for(env)) as w:
        d = await w.accept()
        await brief_accepted(d)
        gate.armed = True
        try:
            submitted = await d.delivery.execute_update(DeliveryWorkflow.submit_draft, draft_of(d))
            assert submitted.stage == DeliveryStage.CHECKING
            async with asyncio.timeout(REAL_WAIT_S):
                await gate.reached.wait()
            cancelled = await w.campaign.execute_update(
                CampaignWorkflow.cancel, CancelCampaign(reason="Budget cut")
            )
            assert cancelled.stage == CampaignStage.CANCELLED
            await stage_is(d, DeliveryStage.CANCELLED)
        finally:
            gate.opened.set()
        await w.settle()

        status = await d.delivery.query(DeliveryWorkflow.status)
        assert status.stage == DeliveryStage.CANCELLED
        row = w.delivery_row(d.delivery_id)
        assert row is not None and row.stage == DeliveryStage.CANCELLED
        assert w.inbox(w.brand.user_id, "draft_ready") == []


async def test_two_accepts_at_once_cannot_fill_one_slot_twice(
    time_skipping_env: WorkflowEnvironment, settings: Settings, engine: Engine
) -> None:
    env = time_skipping_env
    gate = ActivityGate("campaigns.record_application")
    async with campaign_world(
        env,
        settings,
        engine,
        worker_client=gate.client_for(env),
        # Workflow tasks heartbeat while a local activity runs: every 0.8 s rather than 8 s.
        task_timeout=timedelta(seconds=1),
    ) as w:
        first, second = await w.apply(), await w.apply()
        gate.armed = True
        racing: WorkflowUpdateHandle[ApplicationState] | None = None
        refused = ""
        accepting = asyncio.create_task(
            w.campaign.execute_update(
                CampaignWorkflow.decide, Decide(application_id=first.id, action="accept")
            )
        )
        try:
            async with asyncio.timeout(REAL_WAIT_S):
                await gate.reached.wait()
            # The brand accepts a second creator while the first acceptance is being saved.
            try:
                racing = await w.campaign.start_update(
                    CampaignWorkflow.decide,
                    Decide(application_id=second.id, action="accept"),
                    wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                )
            except WorkflowUpdateFailedError as err:
                refused = str(err.cause)
        finally:
            gate.opened.set()
        w.track(await accepting)
        if racing is not None:
            # A rejection by the validator may surface only with the result.
            try:
                w.track(await racing.result())
            except WorkflowUpdateFailedError as err:
                refused, racing = str(err.cause), None
        await w.settle()

        status = await w.campaign.query(CampaignWorkflow.status)
        assert status.committed_minor == PRICE and status.open_deliveries == 1
        assert status.open_slots == {str(w.deliverable_id): 0}
        assert racing is None and "every creator slot of this deliverable is taken" in refused


async def test_a_draft_sent_back_through_an_extra_revision_records_the_brands_notes(
    time_skipping_env: WorkflowEnvironment, settings: Settings, engine: Engine
) -> None:
    async with campaign_world(time_skipping_env, settings, engine, revision_rounds=1) as w:
        d = await w.accept()
        await brief_accepted(d)
        await draft_in_review(d)
        await d.delivery.execute_update(
            DeliveryWorkflow.review, Review(decision="revise", notes="Closer on the texture")
        )
        await draft_in_review(d)
        notes = "One more: brighter light"
        await d.delivery.execute_update(
            DeliveryWorkflow.request_extra_revision, ExtraRevisionRequest(notes=notes)
        )
        status = await d.delivery.execute_update(
            DeliveryWorkflow.answer_extra_revision,
            ExtraRevisionAnswer(creator_id=d.creator.creator_id, accept=True),
        )
        assert status.stage == DeliveryStage.REVISING and status.revisions_used == 2
        await w.settle()

        first, second = w.submissions(d.delivery_id)
        assert (first.review, first.review_notes) == ("revision_requested", "Closer on the texture")
        assert (second.review, second.review_notes) == ("revision_requested", notes)


async def test_an_unanswered_extra_revision_request_does_not_outlive_its_review(
    time_skipping_env: WorkflowEnvironment, settings: Settings, engine: Engine
) -> None:
    async with campaign_world(
        time_skipping_env,
        settings,
        engine,
        revision_rounds=0,
        review_window_days=1,
        due_in=timedelta(days=20),
    ) as w:
        d = await w.accept()
        await brief_accepted(d)
        status = await draft_in_review(d)
        review_due = status.review_due_at
        assert review_due is not None
        await d.delivery.execute_update(
            DeliveryWorkflow.request_extra_revision, ExtraRevisionRequest(notes="Brighter")
        )
        await w.advance_to(review_due + timedelta(minutes=1))
        status = await d.delivery.query(DeliveryWorkflow.status)
        assert status.stage == DeliveryStage.AWAITING_FINAL
        # A pending request must be one the creator can still answer.
        assert not status.extra_revision_pending
