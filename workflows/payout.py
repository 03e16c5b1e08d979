"""PayoutWorkflow (`payout-<payout id>`): pays one creator's fee out of a campaign's escrow.

A saga: reserve the fee (escrow -> payable), wait until the creator can receive money
(reminders while they have not onboarded), transfer with an idempotency key derived from the
workflow ID (a retried activity or a crashed worker sends the same key, so the creator is never
paid twice), wait for settlement where the provider settles later (manual bank batches), record
the payment, notify. Any failure compensates: the reservation goes back to the escrow and ops
are alerted; money is never left in limbo.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.money.activities import MoneyActivities
    from domain import words
    from workflows import notify
    from workflows import search_attributes as sa
    from workflows.contracts.notifications import Notify
    from workflows.contracts.payouts import (
        AbandonedPayout,
        PaidOrder,
        PayoutRecord,
        PayoutRequest,
        PayoutState,
        PayoutStatus,
        TransferOrder,
        TransferResult,
    )
    from workflows.options import DB_RETRY, DB_TIMEOUT

PROVIDER_TIMEOUT = timedelta(seconds=60)
# Provider calls retry until they answer; refusals are non-retryable and end the attempt.
PROVIDER_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=5))


def workflow_id(payout_id: object) -> str:
    return f"payout-{payout_id}"


def search_attributes(request: PayoutRequest) -> TypedSearchAttributes:
    """How ops find a payout started for a license fee (by its license or by the API)."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(sa.CAMPAIGN_ID, str(request.campaign_id)),
            SearchAttributePair(sa.WORKSPACE_ID, str(request.workspace_id)),
            SearchAttributePair(sa.CREATOR_ID, str(request.creator_id)),
        ]
    )


def _cause(exc: ActivityError | ApplicationError) -> str:
    cause = exc.cause if isinstance(exc, ActivityError) else exc
    return cause.message if isinstance(cause, ApplicationError) else str(cause or exc)


@workflow.defn
class PayoutWorkflow:
    @workflow.init
    def __init__(self, request: PayoutRequest) -> None:
        self._request = request
        self._status: PayoutStatus = "reserving"
        self._transfer_ref: str | None = None
        self._failure = ""
        self._onboarded = False
        self._settled = False
        self._abandon_reason: str | None = None
        self._reminders = 0
        self._events = 0

    @workflow.run
    async def run(self, request: PayoutRequest) -> PayoutState:
        await self._record("reserving")
        try:
            await workflow.execute_local_activity_method(
                MoneyActivities.reserve,
                request,
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
            )
        # A failed local activity surfaces as its ApplicationError itself.
        except (ActivityError, ApplicationError) as exc:
            return await self._fail(f"the escrow cannot cover it: {_cause(exc)}", reserved=False)

        account_ref = await self._wait_for_destination()
        if account_ref is None:
            return await self._fail(self._abandon_reason or "abandoned", reserved=True)

        await self._record("transferring")
        try:
            result: TransferResult = await workflow.execute_activity_method(
                MoneyActivities.transfer,
                TransferOrder(
                    idempotency_key=f"{workflow.info().workflow_id}:transfer",
                    request=request,
                    account_ref=account_ref,
                ),
                start_to_close_timeout=PROVIDER_TIMEOUT,
                retry_policy=PROVIDER_RETRY,
            )
        except ActivityError as exc:
            return await self._fail(f"the transfer was refused: {_cause(exc)}", reserved=True)
        self._transfer_ref = result.transfer_ref
        if result.status == "pending":
            await self._record("awaiting_settlement")
            if not await self._wait_for_settlement(result.transfer_ref):
                return await self._fail(self._abandon_reason or "abandoned", reserved=True)

        await workflow.execute_local_activity_method(
            MoneyActivities.record_paid,
            PaidOrder(request=request, transfer_ref=result.transfer_ref),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        await self._record("paid")
        await self._notify(
            "payout_sent",
            "You've been paid",
            f"{self._amount()} is on its way to your account.",
            user_ids=[request.creator_user_id],
        )
        return self.state()

    async def _wait_for_destination(self) -> str | None:
        while True:
            self._onboarded = False
            account_ref: str | None = await workflow.execute_local_activity_method(
                MoneyActivities.destination,
                self._request.creator_id,
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
            )
            if account_ref is not None or self._abandon_reason is not None:
                return account_ref
            if self._status != "awaiting_onboarding":
                await self._record("awaiting_onboarding")
                await self._remind("Connect a payout account to get paid")
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._onboarded or self._abandon_reason is not None,
                    timeout=self._request.remind_every,
                )
                continue
            await self._remind("Reminder: connect a payout account to get paid")

    async def _wait_for_settlement(self, transfer_ref: str) -> bool:
        """True once the transfer is settled, False once abandoned. A `settled` signal only
        wakes the wait: the provider is asked, so a signal anyone with access to Temporal can
        send never records a payment the bank did not make."""
        verify = workflow.patched("verified-settlement")
        while True:
            await workflow.wait_condition(lambda: self._settled or self._abandon_reason is not None)
            if not self._settled:
                return False
            if not verify:
                return True
            self._settled = False
            try:
                settled: bool = await workflow.execute_activity_method(
                    MoneyActivities.transfer_settled,
                    transfer_ref,
                    start_to_close_timeout=PROVIDER_TIMEOUT,
                    retry_policy=PROVIDER_RETRY,
                )
            except ActivityError as exc:
                workflow.logger.error("transfer %s: %s", transfer_ref, _cause(exc))
                continue
            if settled:
                return True
            workflow.logger.warning("transfer %s is signalled settled but is not", transfer_ref)

    async def _remind(self, title: str) -> None:
        self._reminders += 1
        await self._notify(
            "payout_account_needed",
            title,
            f"{self._amount()} is waiting for you: add the bank details to pay it to.",
            user_ids=[self._request.creator_user_id],
        )

    async def _fail(self, reason: str, *, reserved: bool) -> PayoutState:
        """Compensate: give the reservation back to the escrow, tell ops."""
        self._failure = reason
        if reserved:
            await workflow.execute_local_activity_method(
                MoneyActivities.release,
                self._request,
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
            )
        await self._record("failed")
        ops: list[uuid.UUID] = await workflow.execute_local_activity_method(
            MoneyActivities.ops_users, start_to_close_timeout=DB_TIMEOUT, retry_policy=DB_RETRY
        )
        await self._notify(
            "payout_failed",
            f"Payout {self._request.payout_id} failed",
            f"{reason}. The reservation went back to the campaign's escrow.",
            user_ids=ops,
        )
        if self._abandon_reason is not None and workflow.patched("abandon-returns-and-tells"):
            await self._tell_abandoned(self._abandon_reason)
        return self.state()

    async def _tell_abandoned(self, reason: str) -> None:
        """An abandoned payout's money follows the ledger (back to the brand when the campaign
        has closed), and the creator and the brand are told why."""
        request = self._request
        try:
            where: AbandonedPayout | None = await workflow.execute_activity_method(
                MoneyActivities.return_abandoned,
                request,
                start_to_close_timeout=PROVIDER_TIMEOUT,
                retry_policy=PROVIDER_RETRY,
            )
        except ActivityError as exc:
            # The refund was refused: the money stays in the escrow, in the ledger, for ops.
            workflow.logger.error("payout %s: %s", request.payout_id, _cause(exc))
            where = None
        campaign = f"“{where.campaign}”" if where else "the campaign"
        await self._notify(
            "payout_abandoned",
            f"Your payout of {self._amount()} could not be made",
            f"Your payout for {campaign} was stopped: {reason}. If you think this is wrong, "
            "dispute it from your earnings page.",
            user_ids=[request.creator_user_id],
        )
        returned = "The money stays in the campaign's escrow."
        if where and where.refunded_minor:
            back = words.money(where.refunded_minor + where.fee_refunded_minor, request.currency)
            returned = (
                f"The campaign has closed, so {back} (with its share of the platform fee) is "
                "refunded to you."
            )
        await self._notify(
            "payout_abandoned",
            f"A payout to {where.creator if where else 'a creator'} was stopped",
            f"The payout of {self._amount()} for {campaign} was stopped: {reason}. {returned}",
            workspace_id=request.workspace_id,
            link=f"/portal/campaigns/{request.campaign_id}/statement",
        )

    def _amount(self) -> str:
        return words.money(self._request.amount_minor, self._request.currency)

    async def _record(self, status: PayoutStatus) -> None:
        self._status = status
        workflow.upsert_search_attributes([sa.STAGE.value_set(status)])
        await workflow.execute_local_activity_method(
            MoneyActivities.record_payout,
            PayoutRecord(
                request=self._request,
                status=status,
                transfer_ref=self._transfer_ref,
                failure=self._failure,
            ),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )

    async def _notify(
        self,
        kind: str,
        title: str,
        body: str,
        user_ids: list[uuid.UUID] | None = None,
        *,
        workspace_id: uuid.UUID | None = None,
        link: str = "/portal/earnings",
    ) -> None:
        """To the given users, or to the brand people of `workspace_id`."""
        self._events += 1
        await notify.send(
            Notify(
                event_key=f"{workflow.info().workflow_id}:{self._events}:{kind}",
                kind=kind,
                title=title,
                body=body,
                link=link,
                user_ids=user_ids or [],
                workspace_id=workspace_id,
                roles=notify.BRAND_ROLES if workspace_id else [],
            )
        )

    @workflow.query
    def state(self) -> PayoutState:
        return PayoutState(
            payout_id=self._request.payout_id,
            status=self._status,
            amount_minor=self._request.amount_minor,
            currency=self._request.currency,
            transfer_ref=self._transfer_ref,
            failure=self._failure,
            reminders_sent=self._reminders,
        )

    @workflow.signal
    def creator_onboarded(self) -> None:
        """The creator's payout account can receive money now (webhook or ops)."""
        self._onboarded = True

    @workflow.signal
    def settled(self) -> None:
        """Ops confirmed the bank batch carrying this payout settled: checked before paying."""
        self._settled = True

    @workflow.signal
    def abandon(self, reason: str) -> None:
        """Ops give up on a payout that cannot be made (no bank details, the bank returned
        it): compensation runs, and the creator and the brand are told."""
        if self._status in ("awaiting_onboarding", "awaiting_settlement"):
            self._abandon_reason = reason
