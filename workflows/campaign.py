"""CampaignWorkflow (`campaign-<id>`): draft -> published -> recruiting -> in production ->
completed, or cancelled.

The brand edits the draft until it publishes it. Applications, invitations, decisions and
counter-offers are Updates validated against the remaining budget and creator slots; each
accepted creator starts a DeliveryWorkflow child that outlives continue-as-new (parent-close
policy ABANDON) and reports back by signal. Recruiting ends at the application deadline, when
the brand closes it early, or as soon as every creator slot is taken; the campaign completes
once every delivery is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.campaigns import CampaignActivities, initial_live
    from activities.money.activities import MoneyActivities
    from activities.money.fundings import FundingActivities
    from domain import words
    from domain.compliance.ftc import posting_platform
    from domain.enums import ApplicationOrigin, ApplicationStatus, CampaignStage, CampaignVisibility
    from domain.labels import application_state, campaign_state
    from workflows import notify
    from workflows import search_attributes as sa
    from workflows.contracts.campaign import (
        ApplicationChange,
        ApplicationState,
        Apply,
        CampaignCarry,
        CampaignDraft,
        CampaignEdit,
        CampaignLive,
        CampaignStatus,
        CancelCampaign,
        Decide,
        DeliveryOutcome,
        DraftChange,
        Invite,
        Respond,
        StageChange,
    )
    from workflows.contracts.delivery import DeliveryStart, DeliveryTerms
    from workflows.contracts.notifications import Notify
    from workflows.contracts.payouts import FundingConfirmed, RefundOrder
    from workflows.delivery import DeliveryWorkflow
    from workflows.delivery import workflow_id as delivery_workflow_id
    from workflows.options import DB_RETRY, DB_TIMEOUT, one_at_a_time
    from workflows.payout import PROVIDER_RETRY, PROVIDER_TIMEOUT

C = CampaignStage
CLOSED_STAGES = frozenset({C.COMPLETED, C.CANCELLED})
RECRUITING_STAGES = frozenset({C.PUBLISHED, C.RECRUITING})
# Delivery states that hold a slot and its budget.
HOLDING = frozenset({"open", "approved", "completed"})
OWED = frozenset({"approved", "completed"})
WAITING_ON_CREATOR = frozenset({ApplicationStatus.PENDING, ApplicationStatus.COUNTERED})


def workflow_id(campaign_id: object) -> str:
    return f"campaign-{campaign_id}"


def _reject(message: str) -> ApplicationError:
    return ApplicationError(message, type="InvalidStep", non_retryable=True)


@workflow.defn
class CampaignWorkflow:
    @workflow.init
    def __init__(self, draft: CampaignDraft) -> None:
        carry = draft.carry or CampaignCarry(
            slots={str(d.id): d.quantity for d in draft.deliverables}
        )
        self._draft = draft
        self._campaign_id = draft.campaign_id
        self._stage = carry.stage
        self._recorded = carry.recorded
        self._cancel_reason = carry.cancel_reason
        self._apps = {a.id: a for a in carry.applications}
        self._deliveries = dict(carry.deliveries)
        self._slots = dict(carry.slots)
        self._events = carry.events
        self._funded_minor = carry.funded_minor
        self._fundings = list(carry.fundings)
        # Campaigns started before funding existed publish without it (see `run`).
        self._funding_required = True
        # `funded` signals whose funding is being checked against the ledger.
        self._verifying = 0
        self._ledger_decides = False
        self._max_events = carry.max_history_events
        # Reads come from the read model: each change of what they show is written there.
        self._records_live = False
        self._live_seq = carry.live_seq
        self._live_written: CampaignLive | None = None
        self._stage_recorded = True
        self._wake = False
        self._lock = asyncio.Lock()
        # Stages follow the work (patched): production starts once every slot is taken, and
        # creators hear when what they wait on closes.
        self._follows_work = False
        # The brand asked to stop taking applications before the deadline.
        self._close_requested = False

    # -- main loop ------------------------------------------------------------------------

    @workflow.run
    async def run(self, draft: CampaignDraft) -> CampaignStatus:
        self._funding_required = workflow.patched("funding-gate")
        # Publishing asks the ledger what arrived instead of trusting signals alone.
        self._ledger_decides = workflow.patched("publish-checks-ledger")
        self._records_live = workflow.patched("live-read-model")
        self._follows_work = workflow.patched("stages-follow-work")
        if not self._recorded:
            await workflow.execute_local_activity_method(
                CampaignActivities.create_record,
                draft,
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
            )
            self._recorded = True
            if self._records_live:
                self._live_written = initial_live(draft)
                self._live_seq = self._live_written.seq
        while self._stage not in CLOSED_STAGES:
            if self._cancel_reason is not None:
                await self._close_cancelled()
                break
            deadline = self._draft.brief.application_deadline
            past_deadline = bool(deadline and workflow.now() >= deadline)
            if self._stage in RECRUITING_STAGES and (past_deadline or self._close_requested):
                await self._close_recruiting()
                continue
            if self._stage == C.IN_PRODUCTION and self._finished():
                await self._enter(C.COMPLETED)
                await self._notify_brand(
                    "campaign_completed", "Campaign completed", self._draft.title
                )
                break
            if self._should_continue_as_new():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self._draft.model_copy(update={"carry": self._carry()}))
            # What changed without a write of its own (a delivery's outcome) is written now.
            await self._write_live()
            await self._sleep(deadline if self._stage in RECRUITING_STAGES else None)
        if self._funded_minor:
            await self._refund_unspent()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status()

    async def _refund_unspent(self) -> None:
        """A closed campaign gives back what its approved work does not need."""
        owed = {
            str(a.delivery_id): a.agreed_price
            for a in self._apps.values()
            if a.delivery_id is not None and self._deliveries.get(str(a.delivery_id)) in OWED
        }
        try:
            await workflow.execute_activity_method(
                MoneyActivities.refund_escrow,
                RefundOrder(
                    idempotency_key=f"{workflow_id(self._campaign_id)}:refund",
                    campaign_id=self._campaign_id,
                    workspace_id=self._draft.workspace_id,
                    currency=self._draft.budget.currency,
                    owed=owed,
                ),
                start_to_close_timeout=PROVIDER_TIMEOUT,
                retry_policy=PROVIDER_RETRY,
            )
        except ActivityError as exc:
            # The provider refused: the money stays in escrow, in the ledger, for ops to return.
            ops: list[uuid.UUID] = await workflow.execute_local_activity_method(
                MoneyActivities.ops_users, start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY
            )
            await notify.send(
                Notify(
                    event_key=self._event_key("refund_failed"),
                    kind="refund_failed",
                    title=f"Refund of campaign {self._campaign_id} failed",
                    body=str(exc.cause or exc),
                    link=f"/campaigns/{self._campaign_id}",
                    user_ids=ops,
                )
            )

    async def _sleep(self, until: datetime | None) -> None:
        self._wake = False
        wake = lambda: (  # noqa: E731
            self._wake
            or self._cancel_reason is not None
            or (self._close_requested and self._stage in RECRUITING_STAGES)
        )
        if until is None:
            await workflow.wait_condition(wake)
            return
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(wake, timeout=max(until - workflow.now(), timedelta(0)))

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() > self._max_events
        )

    def _carry(self) -> CampaignCarry:
        return CampaignCarry(
            stage=self._stage,
            recorded=self._recorded,
            cancel_reason=self._cancel_reason,
            applications=list(self._apps.values()),
            deliveries=self._deliveries,
            slots=self._slots,
            events=self._events,
            funded_minor=self._funded_minor,
            fundings=self._fundings,
            max_history_events=self._max_events,
            live_seq=self._live_seq,
        )

    # -- derived state --------------------------------------------------------------------

    def _filled(self, deliverable_id: str) -> int:
        return sum(
            1
            for a in self._apps.values()
            if str(a.deliverable_id) == deliverable_id
            and a.delivery_id is not None
            and self._deliveries.get(str(a.delivery_id)) in HOLDING
        )

    def _open_slots(self) -> dict[str, int]:
        return {d: max(cap - self._filled(d), 0) for d, cap in self._slots.items()}

    def _committed(self) -> int:
        return sum(
            a.agreed_price
            for a in self._apps.values()
            if a.delivery_id is not None and self._deliveries.get(str(a.delivery_id)) in HOLDING
        )

    def _owed(self) -> int:
        return sum(
            a.agreed_price
            for a in self._apps.values()
            if a.delivery_id is not None and self._deliveries.get(str(a.delivery_id)) in OWED
        )

    def _finished(self) -> bool:
        return (
            not any(s in ("open", "approved") for s in self._deliveries.values())
            and not any(a.status in WAITING_ON_CREATOR for a in self._apps.values())
            and not any(self._open_slots().values())
        )

    def _open_deliveries(self) -> int:
        return sum(1 for s in self._deliveries.values() if s in ("open", "approved"))

    def _live(self, seq: int) -> CampaignLive:
        return CampaignLive(
            campaign_id=self._campaign_id,
            seq=seq,
            cancel_reason=self._cancel_reason,
            committed_minor=self._committed(),
            owed_minor=self._owed(),
            open_slots=self._open_slots(),
            open_deliveries=self._open_deliveries(),
        )

    def _next_live(self) -> CampaignLive | None:
        """The live state to write with the next record of this campaign; None in runs started
        before the read model kept it (their reads ask the query)."""
        if not self._records_live:
            return None
        self._live_seq += 1
        self._live_written = self._live(self._live_seq)
        return self._live_written

    async def _write_live(self) -> None:
        """Write the live state if it changed since the last write."""
        if not self._records_live or self._live(self._live_seq + 1).same_state(self._live_written):
            return
        await workflow.execute_local_activity_method(
            CampaignActivities.record_stage,
            StageChange(campaign_id=self._campaign_id, stage=self._stage, live=self._next_live()),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )

    @workflow.query
    def status(self) -> CampaignStatus:
        return CampaignStatus(
            campaign_id=self._campaign_id,
            stage=self._stage,
            recorded=self._recorded,
            cancel_reason=self._cancel_reason,
            budget_minor=self._draft.budget.amount_minor,
            committed_minor=self._committed(),
            owed_minor=self._owed(),
            open_slots=self._open_slots(),
            applications=len(self._apps),
            open_deliveries=self._open_deliveries(),
            recruiting_closes_at=self._draft.brief.application_deadline,
            funded_minor=self._funded_minor,
        )

    # -- transitions ----------------------------------------------------------------------

    async def _enter(self, stage: CampaignStage) -> None:
        self._stage, self._stage_recorded = stage, False
        workflow.upsert_search_attributes([sa.STAGE.value_set(stage.value)])
        await workflow.execute_local_activity_method(
            CampaignActivities.record_stage,
            StageChange(campaign_id=self._campaign_id, stage=stage, live=self._next_live()),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        self._stage_recorded = True

    async def _expire_waiting(self) -> None:
        for app in list(self._apps.values()):
            if app.status in WAITING_ON_CREATOR:
                await self._save(app.model_copy(update={"status": ApplicationStatus.EXPIRED}))

    async def _close_recruiting(self) -> None:
        if self._follows_work:
            async with self._lock:
                await self._end_recruiting()
            return
        await self._expire_waiting()
        # Unfilled slots lapse; a reassigned delivery later reopens its own slot.
        self._slots = {d: self._filled(d) for d in self._slots}
        if any(s in HOLDING for s in self._deliveries.values()):
            await self._enter(C.IN_PRODUCTION)
        else:
            self._cancel_reason = "recruiting closed without an accepted creator"
            await self._enter(C.CANCELLED)
            await self._notify_brand(
                "recruiting_closed_empty", "Recruiting closed with no creators", self._draft.title
            )

    async def _end_recruiting(self) -> None:
        """Recruiting ends (the deadline, or the brand closed it early): whoever still waits
        hears that it closed; production starts with the creators accepted so far, or the
        campaign is cancelled when there are none."""
        early = self._close_requested
        await self._expire_with_notice(
            "applications_closed",
            f"Applications closed: {self._draft.title}",
            "The brand closed applications early, so your {origin} has closed."
            if early
            else "The application deadline passed, so your {origin} has closed.",
        )
        # Unfilled slots lapse; a reassigned delivery later reopens its own slot.
        self._slots = {d: self._filled(d) for d in self._slots}
        if any(s in HOLDING for s in self._deliveries.values()):
            await self._enter(C.IN_PRODUCTION)
        elif early:
            self._cancel_reason = "applications closed before any creator was accepted"
            await self._enter(C.CANCELLED)
        else:
            self._cancel_reason = "recruiting closed without an accepted creator"
            await self._enter(C.CANCELLED)
            await self._notify_brand(
                "recruiting_closed_empty", "Recruiting closed with no creators", self._draft.title
            )

    async def _expire_with_notice(
        self, kind: str, title: str, body: str, deliverable_id: uuid.UUID | None = None
    ) -> None:
        """Expire what waits on a decision (of one deliverable, or all), telling each creator."""
        waiting = [
            a.id
            for a in self._apps.values()
            if a.status in WAITING_ON_CREATOR
            and (deliverable_id is None or a.deliverable_id == deliverable_id)
        ]
        for application_id in waiting:
            app = self._apps[application_id]
            if app.status not in WAITING_ON_CREATOR:
                continue  # decided while an earlier one was being saved
            app = await self._save(app.model_copy(update={"status": ApplicationStatus.EXPIRED}))
            await self._notify_creator(app, kind, title, body.format(origin=app.origin.value))

    async def _after_accept(self, deliverable_id: uuid.UUID) -> None:
        """A deliverable whose every slot is taken closes what still waits for it, and once
        every slot of the campaign is taken, production starts: no need to wait for the
        application deadline."""
        if self._open_slots().get(str(deliverable_id), 0) > 0:
            return
        await self._expire_with_notice(
            "application_slots_filled",
            f"Places filled: {self._draft.title}",
            "Every creator place you could take in this campaign has been filled, so your "
            "{origin} has closed. Thank you for your interest.",
            deliverable_id,
        )
        if self._stage in RECRUITING_STAGES and not any(self._open_slots().values()):
            await self._enter(C.IN_PRODUCTION)
            await self._notify_brand(
                "production_started",
                "Every creator place is filled",
                f"{self._draft.title}: production has started.",
            )
            self._wake = True

    async def _close_cancelled(self) -> None:
        if self._follows_work:
            await self._expire_with_notice(
                "application_campaign_cancelled",
                f"Campaign cancelled: {self._draft.title}",
                "The brand cancelled this campaign, so your {origin} has closed.",
            )
        await self._expire_waiting()
        reason = self._cancel_reason or "cancelled"
        for delivery_id, state in self._deliveries.items():
            if state == "open":
                handle = workflow.get_external_workflow_handle(delivery_workflow_id(delivery_id))
                await handle.signal(DeliveryWorkflow.campaign_cancelled, reason)
                self._deliveries[delivery_id] = "cancelled"
        await self._enter(C.CANCELLED)

    async def _save(self, app: ApplicationState) -> ApplicationState:
        self._apps[app.id] = app
        await workflow.execute_local_activity_method(
            CampaignActivities.record_application,
            ApplicationChange(
                campaign_id=self._campaign_id,
                workspace_id=self._draft.workspace_id,
                application=app,
                live=self._next_live(),
            ),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        return app

    async def _accept(self, app: ApplicationState) -> ApplicationState:
        delivery_id = workflow.uuid4()
        # Hold the slot and budget before awaiting anything, so a concurrent accept sees them.
        self._deliveries[str(delivery_id)] = "open"
        app = await self._save(
            app.model_copy(
                update={"status": ApplicationStatus.ACCEPTED, "delivery_id": delivery_id}
            )
        )
        await workflow.start_child_workflow(
            DeliveryWorkflow.run,
            self._delivery_start(app, delivery_id),
            id=delivery_workflow_id(delivery_id),
            parent_close_policy=ParentClosePolicy.ABANDON,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(sa.CAMPAIGN_ID, str(self._campaign_id)),
                    SearchAttributePair(sa.BRAND_ID, str(self._draft.brand_id)),
                    SearchAttributePair(sa.WORKSPACE_ID, str(self._draft.workspace_id)),
                    SearchAttributePair(sa.CREATOR_ID, str(app.creator_id)),
                    SearchAttributePair(sa.DELIVERY_ID, str(delivery_id)),
                    SearchAttributePair(sa.STAGE, "awaiting_brief_acceptance"),
                ]
            ),
        )
        if self._stage == C.PUBLISHED:
            await self._enter(C.RECRUITING)
        if self._follows_work:
            await self._after_accept(app.deliverable_id)
        return app

    def _delivery_start(self, app: ApplicationState, delivery_id: uuid.UUID) -> DeliveryStart:
        draft, brief = self._draft, self._draft.brief
        deliverable = next(d for d in draft.deliverables if d.id == app.deliverable_id)
        return DeliveryStart(
            delivery_id=delivery_id,
            campaign_id=draft.campaign_id,
            workspace_id=draft.workspace_id,
            brand_id=draft.brand_id,
            creator_id=app.creator_id,
            creator_user_id=app.creator_user_id,
            application_id=app.id,
            deliverable_id=deliverable.id,
            format=deliverable.format,
            duration_s=deliverable.duration_s,
            price_minor=app.agreed_price,
            currency=draft.budget.currency,
            terms=DeliveryTerms(
                ships_product=brief.ships_product,
                script_required=brief.script_required,
                revision_rounds=brief.revision_rounds,
                review_window_days=brief.review_window_days,
                disclosure_required=brief.disclosure_required,
                mandatory_mentions=brief.mandatory_mentions,
                due_at=brief.delivery_deadline,
                usage_rights=brief.usage_rights,
                brand_name=self._draft.brand_name,
                banned_claims=brief.banned_claims,
                brand_safety_sensitivity=brief.brand_safety_sensitivity,
                markets=brief.target_countries,
                platform=posting_platform(brief.usage_rights.platforms),
                # The brief's language, else the one the creator usually posts in.
                language=brief.language or next(iter(app.creator_languages), None),
            ),
        )

    # -- notifications --------------------------------------------------------------------

    def _event_key(self, kind: str) -> str:
        self._events += 1
        return f"{workflow_id(self._campaign_id)}:{self._events}:{kind}"

    async def _notify_brand(self, kind: str, title: str, body: str) -> None:
        await notify.send(
            Notify(
                event_key=self._event_key(kind),
                kind=kind,
                title=title,
                body=body,
                link=f"/campaigns/{self._campaign_id}",
                workspace_id=self._draft.workspace_id,
                roles=notify.BRAND_ROLES,
            )
        )

    async def _notify_creator(
        self, app: ApplicationState, kind: str, title: str, body: str
    ) -> None:
        await notify.send(
            Notify(
                event_key=self._event_key(kind),
                kind=kind,
                title=title,
                body=body,
                link=f"/creator/applications/{app.id}",
                user_ids=[app.creator_user_id],
            )
        )

    # -- validation helpers ---------------------------------------------------------------

    def _require_slot_and_budget(self, deliverable_id: uuid.UUID, price: int) -> None:
        if str(deliverable_id) not in self._slots:
            raise _reject("no such deliverable in this campaign")
        if self._open_slots()[str(deliverable_id)] <= 0:
            raise _reject("every creator slot of this deliverable is taken")
        remaining = self._draft.budget.amount_minor - self._committed()
        if price > remaining:
            raise _reject(
                f"the price {self._money(price)} is over the remaining budget of "
                f"{self._money(remaining)}"
            )

    def _money(self, amount_minor: int) -> str:
        return words.money(amount_minor, self._draft.budget.currency)

    def _require_new(self, creator_id: uuid.UUID, deliverable_id: uuid.UUID) -> None:
        for app in self._apps.values():
            if app.creator_id == creator_id and app.deliverable_id == deliverable_id:
                raise _reject(f"this creator already has an {app.origin.value} for it")

    def _app(self, application_id: uuid.UUID) -> ApplicationState:
        app = self._apps.get(application_id)
        if app is None:
            raise _reject("no such application in this campaign")
        return app

    def _require_not_filled(self, app: ApplicationState) -> None:
        """An application or invitation closed because its deliverable filled says so."""
        key = str(app.deliverable_id)
        if app.status == ApplicationStatus.EXPIRED and self._open_slots().get(key, 0) <= 0:
            raise _reject(
                f"every creator slot of this deliverable is taken; this {app.origin.value} "
                "has closed"
            )

    def _require_open(self) -> None:
        if self._stage in CLOSED_STAGES or self._cancel_reason is not None:
            raise _reject(f"the campaign is {self._state_words()}")

    # -- brand updates --------------------------------------------------------------------

    @workflow.update
    async def wait_recorded(self) -> CampaignStatus:
        """Answers once the draft is in the read model, so the API can return it at once."""
        await workflow.wait_condition(lambda: self._recorded)
        return self.status()

    @workflow.update
    @one_at_a_time
    async def publish(self) -> CampaignStatus:
        if self._ledger_decides and self._funding_required:
            await self._count_ledger_fundings()
            self._require_funded()
        elif self._verifying:
            # A funding is being checked: decide on what the ledger says.
            await workflow.wait_condition(lambda: not self._verifying)
            self._check_publish()
        await self._enter(C.PUBLISHED)
        self._wake = True
        return self.status()

    @publish.validator
    def _check_publish(self) -> None:
        if self._stage != C.DRAFT or self._cancel_reason is not None:
            raise _reject(f"only a draft can be published; the campaign is {self._state_words()}")
        deadline = self._draft.brief.application_deadline
        if deadline is None or deadline <= workflow.now():
            raise _reject("set an application deadline in the future before publishing")
        if self._funding_required and not self._verifying and not self._ledger_decides:
            self._require_funded()

    def _require_funded(self) -> None:
        if self._funded_minor < self._draft.budget.amount_minor:
            raise _reject(
                f"the campaign is not funded: {self._money(self._funded_minor)} of "
                f"{self._money(self._draft.budget.amount_minor)} arrived; fund it first"
            )

    async def _count_ledger_fundings(self) -> None:
        """Count the budget fundings the ledger holds that no signal announced (yet)."""
        if self._funded_minor >= self._draft.budget.amount_minor:
            return
        held = await workflow.execute_activity_method(
            FundingActivities.campaign_fundings,
            self._campaign_id,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        for facts in held:
            if (
                facts.funding_id not in self._fundings
                and facts.currency == self._draft.budget.currency
            ):
                self._fundings.append(facts.funding_id)
                self._funded_minor += facts.budget_minor

    @workflow.update
    @one_at_a_time
    async def edit(self, edit: CampaignEdit) -> CampaignStatus:
        """The brand changes its draft (title, visibility, budget, brief, deliverables)."""
        if self._verifying:
            # A payment into the budget is being checked: decide on what the ledger says.
            await workflow.wait_condition(lambda: not self._verifying)
            self._check_edit(edit)
        self._draft = self._edited(edit)
        self._slots = {str(d.id): d.quantity for d in self._draft.deliverables}
        await workflow.execute_local_activity_method(
            CampaignActivities.record_draft,
            DraftChange(
                draft=self._draft.model_copy(update={"carry": None}), live=self._next_live()
            ),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        return self.status()

    def _edited(self, edit: CampaignEdit) -> CampaignDraft:
        changes = edit.model_dump(exclude_none=True)
        return self._draft.model_copy(
            update={name: getattr(edit, name) for name in changes}  # the models, not dumps
        )

    @edit.validator
    def _check_edit(self, edit: CampaignEdit) -> None:
        if self._stage != C.DRAFT or self._cancel_reason is not None:
            raise _reject(f"only a draft can be edited; the campaign is {self._state_words()}")
        draft = self._edited(edit)
        cost = sum(d.price_minor * d.quantity for d in draft.deliverables)
        if cost > draft.budget.amount_minor:
            raise _reject(
                f"the deliverables cost {words.money(cost, draft.budget.currency)}, over the "
                f"budget of {words.money(draft.budget.amount_minor, draft.budget.currency)}"
            )
        if self._verifying:
            return  # the handler checks the funding once it is counted
        if self._funded_minor and draft.budget.currency != self._draft.budget.currency:
            raise _reject(
                f"the budget is funded in {self._draft.budget.currency}; its currency cannot change"
            )
        if draft.budget.amount_minor < self._funded_minor:
            raise _reject(
                f"{self._money(self._funded_minor)} is funded already; the budget cannot be lower"
            )

    def _state_words(self) -> str:
        """How the campaign stands, ending "the campaign is ..."."""
        if self._cancel_reason is not None and self._stage != C.CANCELLED:
            return "being cancelled"
        return campaign_state(self._stage)

    @workflow.update
    async def close_recruiting(self) -> CampaignStatus:
        """The brand stops taking applications before the deadline."""
        self._close_requested = True
        self._wake = True
        # Answer once the read model shows the new stage, so a following read agrees.
        await workflow.wait_condition(
            lambda: self._stage not in RECRUITING_STAGES and self._stage_recorded
        )
        return self.status()

    @close_recruiting.validator
    def _check_close_recruiting(self) -> None:
        if self._stage not in RECRUITING_STAGES or self._cancel_reason is not None:
            raise _reject(
                "only a campaign taking applications can stop taking them; the campaign is "
                f"{self._state_words()}"
            )

    @workflow.update
    @one_at_a_time
    async def invite(self, invite: Invite) -> ApplicationState:
        app = await self._save(
            ApplicationState(
                id=invite.application_id,
                creator_id=invite.creator_id,
                creator_user_id=invite.creator_user_id,
                deliverable_id=invite.deliverable_id,
                origin=ApplicationOrigin.INVITATION,
                status=ApplicationStatus.PENDING,
                pitch=invite.message,
                price_minor=invite.price_minor,
                creator_languages=invite.creator_languages,
            )
        )
        if self._stage == C.PUBLISHED:
            await self._enter(C.RECRUITING)
        await self._notify_creator(
            app, "invitation", f"You're invited to {self._draft.title}", invite.message
        )
        return app

    @invite.validator
    def _check_invite(self, invite: Invite) -> None:
        self._require_open()
        if self._stage == C.DRAFT:
            raise _reject("publish the campaign before inviting creators")
        self._require_new(invite.creator_id, invite.deliverable_id)
        self._require_slot_and_budget(invite.deliverable_id, invite.price_minor)

    @workflow.update
    @one_at_a_time
    async def decide(self, decision: Decide) -> ApplicationState:
        app = self._apps[decision.application_id]
        if decision.action == "accept":
            app = await self._accept(app)
        elif decision.action == "reject":
            app = await self._save(app.model_copy(update={"status": ApplicationStatus.REJECTED}))
            await self._notify_creator(
                app, "application_rejected", "Your application was not accepted", self._draft.title
            )
        else:
            app = await self._save(
                app.model_copy(
                    update={
                        "status": ApplicationStatus.COUNTERED,
                        "counter_price_minor": decision.counter_price_minor,
                    }
                )
            )
            await self._notify_creator(
                app,
                "counter_offer",
                "The brand made a counter-offer",
                f"{self._money(decision.counter_price_minor or 0)} for {self._draft.title}",
            )
        self._wake = True
        return app

    @decide.validator
    def _check_decide(self, decision: Decide) -> None:
        self._require_open()
        app = self._app(decision.application_id)
        if app.origin != ApplicationOrigin.APPLICATION or app.status != ApplicationStatus.PENDING:
            self._require_not_filled(app)
            state = application_state(app.status)
            raise _reject(f"this {app.origin.value} is {state}, not awaiting the brand")
        if decision.action == "accept":
            self._require_slot_and_budget(app.deliverable_id, app.price_minor)
        if decision.action == "counter":
            if decision.counter_price_minor is None:
                raise _reject("a counter-offer needs counter_price_minor")
            self._require_slot_and_budget(app.deliverable_id, decision.counter_price_minor)

    @workflow.update
    async def cancel(self, request: CancelCampaign) -> CampaignStatus:
        self._cancel_reason = request.reason
        # Answer once the read model shows it too, so a following read agrees.
        await workflow.wait_condition(lambda: self._stage == C.CANCELLED and self._stage_recorded)
        return self.status()

    @cancel.validator
    def _validate_cancel(self, request: CancelCampaign) -> None:
        if self._stage in CLOSED_STAGES or self._cancel_reason is not None:
            raise ApplicationError(
                f"the campaign is already {self._state_words()}", type="InvalidStage"
            )

    # -- creator updates ------------------------------------------------------------------

    @workflow.update
    @one_at_a_time
    async def apply(self, application: Apply) -> ApplicationState:
        app = await self._save(
            ApplicationState(
                id=application.application_id,
                creator_id=application.creator_id,
                creator_user_id=application.creator_user_id,
                deliverable_id=application.deliverable_id,
                origin=ApplicationOrigin.APPLICATION,
                status=ApplicationStatus.PENDING,
                pitch=application.pitch,
                price_minor=application.price_minor,
                creator_languages=application.creator_languages,
            )
        )
        if self._stage == C.PUBLISHED:
            await self._enter(C.RECRUITING)
        await self._notify_brand(
            "application", "New application", f"{self._draft.title}: {application.pitch[:200]}"
        )
        self._wake = True
        return app

    @apply.validator
    def _check_apply(self, application: Apply) -> None:
        self._require_open()
        if self._stage not in RECRUITING_STAGES:
            raise _reject("the campaign is not taking applications")
        if self._draft.visibility != CampaignVisibility.OPEN:
            raise _reject("this campaign is by invitation only")
        deadline = self._draft.brief.application_deadline
        if deadline is not None and workflow.now() >= deadline:
            raise _reject("the application deadline has passed")
        self._require_new(application.creator_id, application.deliverable_id)
        if str(application.deliverable_id) not in self._slots:
            raise _reject("no such deliverable in this campaign")
        if self._open_slots()[str(application.deliverable_id)] <= 0:
            raise _reject("every creator slot of this deliverable is taken")

    @workflow.update
    @one_at_a_time
    async def respond(self, response: Respond) -> ApplicationState:
        app = self._apps[response.application_id]
        if response.accept:
            app = await self._accept(app)
        else:
            app = await self._save(app.model_copy(update={"status": ApplicationStatus.DECLINED}))
            await self._notify_brand(
                "declined", "A creator declined", f"{self._draft.title}: {app.origin.value}"
            )
        self._wake = True
        return app

    @respond.validator
    def _check_respond(self, response: Respond) -> None:
        self._require_open()
        app = self._app(response.application_id)
        if app.creator_id != response.creator_id:
            raise _reject("no such application in this campaign")
        awaiting_creator = app.status == ApplicationStatus.COUNTERED or (
            app.status == ApplicationStatus.PENDING and app.origin == ApplicationOrigin.INVITATION
        )
        if not awaiting_creator:
            self._require_not_filled(app)
            raise _reject(
                f"this {app.origin.value} is {application_state(app.status)}, not awaiting you"
            )
        if response.accept:
            self._require_slot_and_budget(app.deliverable_id, app.agreed_price)

    # -- signals --------------------------------------------------------------------------

    @workflow.signal
    async def funded(self, funding: FundingConfirmed) -> None:
        """Money for the budget arrived and is in the escrow ledger (a repeat counts once).
        Counted as the fundings table and the ledger record it, whatever the signal says: a
        signal anyone with access to Temporal can send never publishes an unfunded campaign."""
        if workflow.patched("verified-funding"):
            # Set before the first await: an Update that arrives meanwhile waits for it.
            self._verifying += 1
            try:
                facts = await workflow.execute_activity_method(
                    FundingActivities.funding_facts,
                    funding.funding_id,
                    start_to_close_timeout=DB_TIMEOUT,
                    retry_policy=DB_RETRY,
                )
            finally:
                self._verifying -= 1
            if facts is None or facts.campaign_id != self._campaign_id or facts.license_id:
                workflow.logger.error("funding %s is not in this escrow", funding.funding_id)
                return
            funding = FundingConfirmed(
                funding_id=facts.funding_id,
                budget_minor=facts.budget_minor,
                fee_minor=facts.fee_minor,
                currency=facts.currency,
            )
        if funding.currency != self._draft.budget.currency:
            workflow.logger.error("funding %s is in %s", funding.funding_id, funding.currency)
            return
        if funding.funding_id not in self._fundings:
            self._fundings.append(funding.funding_id)
            self._funded_minor += funding.budget_minor

    @workflow.signal
    def delivery_outcome(self, outcome: DeliveryOutcome) -> None:
        key = str(outcome.delivery_id)
        if key in self._deliveries:
            self._deliveries[key] = outcome.outcome
            self._wake = True
