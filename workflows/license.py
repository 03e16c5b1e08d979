"""LicenseWorkflow (`license-<id>`): the usage rights of one approved asset, for their term.

Grants at approval; reminds the brand before the term ends (30 and 7 days by default, from
settings) with a renewal offer; applies changes only when both parties agree (a later end is a
renewal); an agreed extra fee is owed by the brand, and once the brand's payment of it is in
the campaign's escrow the `fee_funded` signal starts a payout of it to the creator. At the end
of the term the license expires, the asset's publications are withdrawn and both parties are
told. Termination by the brand, and disputes that suspend the license until ops resolve them,
are Updates. Every grant, change, renewal, dispute, termination and expiry is an entry in the
rights ledger.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.licensing.activities import LicensingActivities
    from activities.money.fundings import FundingActivities
    from domain.enums import LicenseStatus
    from domain.license_words import channels, territories
    from domain.words import capital, day
    from workflows import notify, timers
    from workflows import search_attributes as sa
    from workflows.contracts.license import (
        ChangeAnswer,
        DisputeOpen,
        DisputeResolution,
        EventKind,
        FeeFunded,
        FeeHandoff,
        GrantOutcome,
        LicenseEvent,
        LicenseGrant,
        LicenseSnapshot,
        LicenseState,
        Termination,
        TermsChange,
        fee_payout,
    )
    from workflows.contracts.notifications import Notify
    from workflows.options import DB_RETRY, DB_TIMEOUT, one_at_a_time
    from workflows.payout import PayoutWorkflow
    from workflows.payout import search_attributes as payout_search_attributes
    from workflows.payout import workflow_id as payout_workflow_id
    from workflows.timers import Timer

ENDED = frozenset({LicenseStatus.EXPIRED, LicenseStatus.TERMINATED})


def workflow_id(license_id: object) -> str:
    return f"license-{license_id}"


def _reject(message: str) -> ApplicationError:
    return ApplicationError(message, type="InvalidLicenseChange", non_retryable=True)


@workflow.defn
class LicenseWorkflow:
    @workflow.init
    def __init__(self, grant: LicenseGrant) -> None:
        self._grant = grant
        self._terms = grant.terms
        self._status = LicenseStatus.ACTIVE
        self._version = 1
        self._proposal: TermsChange | None = None
        self._dispute: str | None = None
        self._end_reason: str | None = None
        self._fees: list[FeeHandoff] = []
        self._reminder_days: list[int] = []
        self._term_set_at: datetime | None = None
        self._fired: set[str] = set()
        self._events = 0
        self._wake = False
        self._lock = asyncio.Lock()

    @workflow.run
    async def run(self, grant: LicenseGrant) -> LicenseState:
        self._term_set_at = workflow.now()
        outcome = await self._record("grant", {"asset_key": grant.asset_key})
        self._reminder_days = outcome.reminder_days
        await self._notify_both("license_granted", "License granted", self._summary())
        if outcome.exclusivity_conflict is not None:
            assert self._terms.exclusivity is not None
            category = self._terms.exclusivity.category
            self._terms = self._terms.model_copy(update={"exclusivity": None})
            await self._open_dispute(
                DisputeOpen(
                    by="ops",
                    reason=f"the requested exclusivity in {category!r} collides with license "
                    f"{outcome.exclusivity_conflict} of another brand; granted without it",
                )
            )
        while self._status not in ENDED:
            self._wake = False
            await timers.sleep_until_next(self._timers(), lambda: self._wake)
            async with self._lock:
                await timers.fire_due(
                    self._timers(), self._fired, lambda: self._status not in ENDED
                )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.state()

    def _timers(self) -> list[Timer]:
        end = self._terms.ends_at
        if self._status in ENDED or end is None:
            return []
        moments = [
            Timer(
                end - timedelta(days=days), f"remind:{end.isoformat()}:{days}", self._reminder(days)
            )
            for days in self._reminder_days
            if self._term_set_at is not None and end - timedelta(days=days) > self._term_set_at
        ]
        moments.append(Timer(end, f"expire:{end.isoformat()}", self._expire))
        return [t for t in moments if t.key not in self._fired]

    def _reminder(self, days: int) -> Callable[[], Coroutine[Any, Any, None]]:
        async def remind() -> None:
            end = self._terms.ends_at
            assert end is not None
            term = end - self._terms.starts_at
            offer = end + term
            await self._notify(
                "brand",
                "license_expiring",
                f"A license ends in {days} days",
                f"It ends {end:%Y-%m-%d %H:%M} UTC and the asset is then withdrawn. Renew it "
                f"for another {term.days} days, to {offer:%Y-%m-%d}: propose the change and the "
                "creator accepts.",
            )

        return remind

    async def _expire(self) -> None:
        self._status, self._end_reason = LicenseStatus.EXPIRED, "the term ended"
        self._proposal = None
        await self._record("expiry", {})
        await self._notify_both(
            "license_expired",
            "A license expired",
            "The asset is out of rights: its publications were withdrawn.",
        )

    # -- updates --------------------------------------------------------------------------

    @workflow.update
    @one_at_a_time
    async def propose_change(self, change: TermsChange) -> LicenseState:
        self._proposal = change
        other = "creator" if change.by == "brand" else "brand"
        await self._notify(
            other,
            "license_change_proposed",
            "A change to a license is proposed",
            change.note or "Accept or decline the proposed terms.",
        )
        return self.state()

    @propose_change.validator
    def _check_propose_change(self, change: TermsChange) -> None:
        self._require_status(LicenseStatus.ACTIVE)
        if self._proposal is not None:
            raise _reject("another change is waiting for an answer")
        if change.ends_at is not None and change.ends_at <= workflow.now():
            raise _reject("the new end must be in the future")
        try:
            change.applied_to(
                self._terms, accepted_by="creator" if change.by == "brand" else "brand"
            )
        except ValueError as exc:
            raise _reject(f"the changed terms are not valid: {exc}") from exc

    @workflow.update
    @one_at_a_time
    async def answer_change(self, answer: ChangeAnswer) -> LicenseState:
        change, self._proposal = self._proposal, None
        assert change is not None
        if not answer.accept:
            await self._notify(
                change.by, "license_change_declined", "A license change was declined", answer.note
            )
            return self.state()
        before = self._terms
        self._terms = change.applied_to(before, accepted_by=answer.by)
        self._version += 1
        self._term_set_at = workflow.now()
        extends = self._terms.ends_at is None or (
            before.ends_at is not None and self._terms.ends_at > before.ends_at
        )
        if change.fee_minor > 0:
            self._fees.append(
                FeeHandoff(
                    number=len(self._fees) + 1,
                    amount_minor=change.fee_minor,
                    currency=self._terms.currency,
                    reason="renewal" if extends else "change",
                )
            )
        await self._record(
            "renewal" if extends else "change",
            {
                "proposed_by": change.by,
                "accepted_by": answer.by,
                "previous_ends_at": before.ends_at.isoformat() if before.ends_at else None,
                "fee_minor": change.fee_minor,
                "note": change.note,
            },
        )
        await self._notify_both("license_changed", "A license changed", self._summary())
        self._wake = True
        return self.state()

    @answer_change.validator
    def _check_answer_change(self, answer: ChangeAnswer) -> None:
        self._require_status(LicenseStatus.ACTIVE)
        if self._proposal is None:
            raise _reject("no change is waiting for an answer")
        if answer.by == self._proposal.by:
            raise _reject("the other party answers a proposed change")

    @workflow.update
    @one_at_a_time
    async def terminate(self, termination: Termination) -> LicenseState:
        self._status, self._end_reason = LicenseStatus.TERMINATED, termination.reason
        self._proposal = None
        await self._record("termination", {"reason": termination.reason})
        await self._notify_both(
            "license_terminated", "A license was terminated", termination.reason
        )
        self._wake = True
        return self.state()

    @terminate.validator
    def _check_terminate(self, termination: Termination) -> None:
        self._require_status(LicenseStatus.ACTIVE, LicenseStatus.SUSPENDED)

    @workflow.update
    @one_at_a_time
    async def dispute(self, dispute: DisputeOpen) -> LicenseState:
        await self._open_dispute(dispute)
        return self.state()

    @dispute.validator
    def _check_dispute(self, dispute: DisputeOpen) -> None:
        self._require_status(LicenseStatus.ACTIVE)

    async def _open_dispute(self, dispute: DisputeOpen) -> None:
        self._status, self._dispute = LicenseStatus.SUSPENDED, dispute.reason
        self._proposal = None
        await self._record("dispute_opened", {"by": dispute.by, "reason": dispute.reason})
        await self._notify_both(
            "license_disputed",
            "A license is suspended while a dispute is open",
            f"{dispute.reason} The asset may not be used until ops resolve the dispute.",
        )

    @workflow.update
    @one_at_a_time
    async def resolve_dispute(self, resolution: DisputeResolution) -> LicenseState:
        self._dispute = None
        if resolution.outcome == "reinstate":
            self._status = LicenseStatus.ACTIVE
        else:
            self._status, self._end_reason = LicenseStatus.TERMINATED, resolution.reason
        await self._record(
            "dispute_resolved", {"outcome": resolution.outcome, "reason": resolution.reason}
        )
        await self._notify_both(
            "license_dispute_resolved",
            "A license dispute was resolved",
            f"{'Reinstated' if resolution.outcome == 'reinstate' else 'Terminated'}: "
            f"{resolution.reason}",
        )
        self._wake = True
        return self.state()

    @resolve_dispute.validator
    def _check_resolve_dispute(self, resolution: DisputeResolution) -> None:
        self._require_status(LicenseStatus.SUSPENDED)

    # -- signals --------------------------------------------------------------------------

    @workflow.signal
    async def fee_funded(self, funded: FeeFunded) -> None:
        """The brand's payment of a fee is in the escrow: pay it to the creator, in a payout
        of its own that outlives this process. A repeat starts nothing. (Once this process
        has closed, the API starts the same payout itself.)"""
        if workflow.patched("verified-fee-funding"):
            # Acted on as the fundings table and the ledger record it, not as signalled.
            facts = await workflow.execute_activity_method(
                FundingActivities.funding_facts,
                funded.funding_id,
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
            )
            if facts is None or facts.license_id != self._grant.license_id:
                workflow.logger.error("funding %s is not this license's", funded.funding_id)
                return
            assert facts.fee_number is not None
            funded = FeeFunded(number=facts.fee_number, funding_id=facts.funding_id)
        fee = next((f for f in self._fees if f.number == funded.number), None)
        if fee is None or fee.status != "pending":
            workflow.logger.warning("fee %s is not waiting for its funding", funded.number)
            return
        g = self._grant
        request = fee_payout(
            license_id=g.license_id, number=fee.number, workspace_id=g.workspace_id,
            campaign_id=g.campaign_id, creator_id=g.creator_id,
            creator_user_id=g.creator_user_id, amount_minor=fee.amount_minor,
            currency=fee.currency,
        )  # fmt: skip
        fee.status, fee.funding_id = "paying", funded.funding_id
        fee.payout_workflow_id = payout_workflow_id(request.payout_id)
        await workflow.start_child_workflow(
            PayoutWorkflow.run,
            request,
            id=fee.payout_workflow_id,
            parent_close_policy=ParentClosePolicy.ABANDON,
            search_attributes=payout_search_attributes(request),
        )

    def _require_status(self, *allowed: LicenseStatus) -> None:
        if self._status not in allowed:
            raise _reject(f"not possible while the license is {self._status.value}")

    # -- ledger, read model, notifications ------------------------------------------------

    def _snapshot(self) -> LicenseSnapshot:
        g = self._grant
        return LicenseSnapshot(
            license_id=g.license_id,
            workspace_id=g.workspace_id,
            brand_id=g.brand_id,
            creator_id=g.creator_id,
            campaign_id=g.campaign_id,
            delivery_id=g.delivery_id,
            asset_id=g.asset_id,
            asset_key=g.asset_key,
            status=self._status,
            version=self._version,
            terms=self._terms,
            end_reason=self._end_reason,
        )

    async def _record(self, kind: EventKind, detail: dict[str, Any]) -> GrantOutcome:
        self._events += 1
        workflow.upsert_search_attributes([sa.STAGE.value_set(self._status.value)])
        return await workflow.execute_activity_method(
            LicensingActivities.record,
            LicenseEvent(
                event_key=f"{workflow.info().workflow_id}:{self._events}:{kind}",
                kind=kind,
                at=workflow.now(),
                license=self._snapshot(),
                detail=detail,
            ),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )

    def _summary(self) -> str:
        t = self._terms
        until = f"until {day(t.ends_at)}" if t.ends_at else "for good"
        return f"{capital(channels(t.channels))} in {territories(t.territories)}, {until}."

    async def _notify(self, party: str, kind: str, title: str, body: str) -> None:
        self._events += 1
        to: dict[str, Any] = (
            {"workspace_id": self._grant.workspace_id, "roles": notify.BRAND_ROLES}
            if party == "brand"
            else {"user_ids": [self._grant.creator_user_id]}
        )
        await notify.send(
            Notify(
                event_key=f"{workflow.info().workflow_id}:{self._events}:{kind}",
                kind=kind,
                title=title,
                body=body,
                link=self._link(),
                **to,
            )
        )

    async def _notify_both(self, kind: str, title: str, body: str) -> None:
        await self._notify("brand", kind, title, body)
        await self._notify("creator", kind, title, body)

    def _link(self) -> str:
        return f"/licenses/{self._grant.license_id}"

    # -- query ----------------------------------------------------------------------------

    @workflow.query
    def state(self) -> LicenseState:
        upcoming = [t.when for t in self._timers() if t.key.startswith("remind:")]
        return LicenseState(
            license_id=self._grant.license_id,
            status=self._status,
            version=self._version,
            terms=self._terms,
            pending_change=self._proposal,
            dispute_reason=self._dispute,
            end_reason=self._end_reason,
            fees=self._fees,
            next_reminder_at=min(upcoming) if upcoming else None,
        )
