"""What the payment provider reports, handled durably, away from the request that brought it.

PaymentEventWorkflow (`payment-event-<event id>`): one verified webhook event the API stored.
It reads the object back from the provider and acts on that: a payment confirmed into escrow
(or refunded when unwanted, or failed), a payout account's state applied. A repeated start
with the same event id is the same process.

FundingWorkflow (`funding-<funding id>`): a funding's confirmation that came another way (a
card charged at once, a bank transfer ops saw arrive): the same settlement.

PaymentEventSweepWorkflow: run by a Schedule, starts the process of every event stored but
left unhandled (the API stopped between storing an event and starting its process).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.client import Client, ScheduleActionStartWorkflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import FailureError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

from workflows.schedules import ensure_interval_schedule

with workflow.unsafe.imports_passed_through():
    from activities.money.fundings import FundingActivities
    from workflows.campaign import CampaignWorkflow
    from workflows.campaign import workflow_id as campaign_workflow_id
    from workflows.contracts.license import FeeFunded
    from workflows.contracts.payments import (
        FundingFacts,
        ProviderEventRef,
        Settled,
        SettlePayment,
        payment_event_workflow_id,
    )
    from workflows.contracts.payouts import FundingConfirmed
    from workflows.license import LicenseWorkflow
    from workflows.license import workflow_id as license_workflow_id
    from workflows.options import DB_RETRY, DB_TIMEOUT
    from workflows.payout import PROVIDER_RETRY, PROVIDER_TIMEOUT, PayoutWorkflow
    from workflows.payout import search_attributes as payout_search_attributes
    from workflows.payout import workflow_id as payout_workflow_id

SWEEP_SCHEDULE_ID = "payment-event-sweep"
SWEEP_EVERY = timedelta(minutes=1)
PAYMENT_EVENTS = "payment_intent."
ACCOUNT_UPDATED = "account.updated"


async def _signal(workflow_id: str, signal: Callable[..., Any], *args: Any) -> bool:
    """Signal a process; False when it is not there (any more)."""
    handle = workflow.get_external_workflow_handle(workflow_id)
    try:
        await handle.signal(signal.__name__, args=args)
    except FailureError:
        return False
    return True


async def _announce(funding: FundingFacts) -> None:
    """Tell the process the money is for: the campaign its budget, the license its fee (or,
    the license's process having closed with the fee still owed, start the fee's payout
    under the ID that process would have used)."""
    if funding.license_id is None:
        confirmed = FundingConfirmed(
            funding_id=funding.funding_id,
            budget_minor=funding.budget_minor,
            fee_minor=funding.fee_minor,
            currency=funding.currency,
        )
        if not await _signal(
            campaign_workflow_id(funding.campaign_id), CampaignWorkflow.funded, confirmed
        ):
            workflow.logger.warning("campaign %s is not running", funding.campaign_id)
        return
    assert funding.fee_number is not None
    fee = FeeFunded(number=funding.fee_number, funding_id=funding.funding_id)
    if await _signal(license_workflow_id(funding.license_id), LicenseWorkflow.fee_funded, fee):
        return
    request = await workflow.execute_activity_method(
        FundingActivities.fee_payout_request,
        funding.funding_id,
        start_to_close_timeout=DB_TIMEOUT,
        retry_policy=DB_RETRY,
    )
    # One payout per fee, ever: a repeated confirmation starts nothing.
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await workflow.start_child_workflow(
            PayoutWorkflow.run,
            request,
            id=payout_workflow_id(request.payout_id),
            parent_close_policy=ParentClosePolicy.ABANDON,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=payout_search_attributes(request),
        )


async def _settle(order: SettlePayment) -> Settled:
    settled = await workflow.execute_activity_method(
        FundingActivities.settle_payment,
        order,
        start_to_close_timeout=PROVIDER_TIMEOUT,
        retry_policy=PROVIDER_RETRY,
    )
    if settled.funding is not None:
        await _announce(settled.funding)
    return settled


@workflow.defn
class PaymentEventWorkflow:
    @workflow.run
    async def run(self, event: ProviderEventRef) -> str:
        outcome = "ignored"
        if event.type.startswith(PAYMENT_EVENTS):
            outcome = (await _settle(SettlePayment(provider_ref=event.object_id))).outcome
        elif event.type == ACCOUNT_UPDATED:
            waiting = await workflow.execute_activity_method(
                FundingActivities.refresh_account,
                event.object_id,
                start_to_close_timeout=PROVIDER_TIMEOUT,
                retry_policy=PROVIDER_RETRY,
            )
            for payout_id in waiting:
                await _signal(payout_workflow_id(payout_id), PayoutWorkflow.creator_onboarded)
            outcome = "account_refreshed"
        await workflow.execute_activity_method(
            FundingActivities.mark_event_handled,
            event.event_id,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        return outcome


@workflow.defn
class FundingWorkflow:
    @workflow.run
    async def run(self, order: SettlePayment) -> Settled:
        return await _settle(order)


@workflow.defn
class PaymentEventSweepWorkflow:
    @workflow.run
    async def run(self) -> list[str]:
        events = await workflow.execute_activity_method(
            FundingActivities.unhandled_events,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
        )
        started = []
        for event in events:
            try:
                await workflow.start_child_workflow(
                    PaymentEventWorkflow.run,
                    event,
                    id=payment_event_workflow_id(event.event_id),
                    parent_close_policy=ParentClosePolicy.ABANDON,
                    id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                )
            except WorkflowAlreadyStartedError:
                continue  # its process runs (or ran) already
            started.append(event.event_id)
        return started


async def ensure_sweep_schedule(client: Client, task_queue: str) -> None:
    """Create the sweep's schedule, or point an existing one at `task_queue`."""
    action = ScheduleActionStartWorkflow(
        PaymentEventSweepWorkflow.run, id=SWEEP_SCHEDULE_ID, task_queue=task_queue
    )
    await ensure_interval_schedule(client, SWEEP_SCHEDULE_ID, action, SWEEP_EVERY)
