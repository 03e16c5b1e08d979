"""CPU pool: every workflow, plus activities that use the DB, ffmpeg, rules and integrations."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.campaigns import CampaignActivities
from activities.checks.activities import caption_check
from activities.deliveries import DeliveryActivities
from activities.health import CpuProbe
from activities.licensing.activities import LicensingActivities
from activities.moderation.activities import MediaActivities, ModelActivities
from activities.moderation.hash_lists import HashListActivities
from activities.moderation.models import NudityScanner, TextEmbedder, Transcriber
from activities.money.activities import MoneyActivities
from activities.money.fundings import FundingActivities
from activities.notifications import NotificationActivities
from integrations.notifications import notifier_from_settings
from integrations.payments import provider_from_settings
from integrations.storage import store_from_settings
from models.db import make_engine
from nexus.settings import Settings
from nexus.telemetry import configure_tracing
from nexus.temporal import connect, run_until_signalled
from workflows.campaign import CampaignWorkflow
from workflows.checks import AutomatedChecksWorkflow
from workflows.delivery import DeliveryWorkflow
from workflows.email_outbox import EmailOutboxSweepWorkflow, ensure_email_outbox_schedule
from workflows.hash_lists import HashListSyncWorkflow, ensure_hash_list_schedule
from workflows.health import HealthCheckWorkflow
from workflows.ledger import LedgerCheckpointWorkflow, ensure_checkpoint_schedule
from workflows.license import LicenseWorkflow
from workflows.moderation import ModerationWorkflow, RenditionsWorkflow
from workflows.payment_events import (
    FundingWorkflow,
    PaymentEventSweepWorkflow,
    PaymentEventWorkflow,
    ensure_sweep_schedule,
)
from workflows.payout import PayoutWorkflow
from workflows.task_queues import cpu_queue

MAX_CONCURRENT_ACTIVITIES = 16
# The sandbox still guards each run (no I/O, clocks or randomness); only the import of the
# project's own stateless modules and their heavy dependencies is shared between runs instead
# of repeated for every workflow started.
SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "workflows",
        "activities",
        "models",
        "integrations",
        "nexus",
        "pydantic",
        "sqlalchemy",
        "sqlmodel",
    )
)
WORKFLOWS = [
    CampaignWorkflow,
    DeliveryWorkflow,
    AutomatedChecksWorkflow,
    LicenseWorkflow,
    LedgerCheckpointWorkflow,
    PayoutWorkflow,
    PaymentEventWorkflow,
    FundingWorkflow,
    PaymentEventSweepWorkflow,
    EmailOutboxSweepWorkflow,
    ModerationWorkflow,
    RenditionsWorkflow,
    HashListSyncWorkflow,
    HealthCheckWorkflow,
]


def moderation_activities(settings: Settings, engine: Engine) -> list[Callable[..., Any]]:
    """The moderation pipeline's CPU activities, and the models for when no GPU worker
    takes their work in time (ModerationWorkflow falls back here; loaded on first use)."""
    store = store_from_settings(settings.storage)
    media = MediaActivities(store, engine, settings.media, settings.moderation)
    models = ModelActivities(
        store,
        Transcriber(settings.moderation, "cpu"),
        NudityScanner(),
        TextEmbedder(settings.moderation, "cpu"),
        settings.media.work_dir,
    )
    return [
        HashListActivities(settings.moderation.threatexchange).sync_threatexchange,
        media.probe,
        media.transcode,
        media.prepare,
        media.prepare_photo,
        media.ladder,
        media.hash_frames,
        media.read_screen_text,
        media.reuse_analysis,
        media.save_analysis,
        media.evaluate,
        media.store_report,
        media.quarantine,
        media.escalate,
        media.open_review,
        media.close_review,
        models.transcribe,
        models.detect_nudity,
        models.garm_similarity,
    ]


def cpu_activities(settings: Settings, engine: Engine) -> list[Callable[..., Any]]:
    """Every activity of the CPU pool (tests swap single ones by name, keeping the rest)."""
    campaigns = CampaignActivities(engine)
    deliveries = DeliveryActivities(engine)
    notifications = NotificationActivities(
        engine, notifier_from_settings(engine, settings.notifications)
    )
    probe = CpuProbe(engine)
    licensing = LicensingActivities(engine, settings.licensing)
    provider = provider_from_settings(engine, settings.payments)
    money = MoneyActivities(engine, provider)
    fundings = FundingActivities(engine, provider)
    return [
        campaigns.create_record,
        campaigns.record_stage,
        campaigns.record_application,
        campaigns.record_draft,
        deliveries.record,
        licensing.record,
        licensing.checkpoint,
        notifications.notify,
        notifications.send_due_email,
        notifications.give_up_email,
        caption_check,
        probe.probe_cpu,
        money.reserve,
        money.release,
        money.destination,
        money.transfer,
        money.transfer_settled,
        money.record_paid,
        money.record_payout,
        money.ops_users,
        money.refund_escrow,
        money.return_abandoned,
        fundings.settle_payment,
        fundings.funding_facts,
        fundings.campaign_fundings,
        fundings.fee_payout_request,
        fundings.refresh_account,
        fundings.mark_event_handled,
        fundings.unhandled_events,
        *moderation_activities(settings, engine),
    ]


def build_worker(client: Client, settings: Settings, engine: Engine) -> Worker:
    return Worker(
        client,
        task_queue=cpu_queue(settings.temporal.task_queue),
        workflows=WORKFLOWS,
        workflow_runner=SANDBOX
        if settings.temporal.workflow_sandbox
        else UnsandboxedWorkflowRunner(),
        activities=cpu_activities(settings, engine),
        # Sync activities (SQLAlchemy sessions) run on threads.
        activity_executor=ThreadPoolExecutor(MAX_CONCURRENT_ACTIVITIES),
        max_concurrent_activities=MAX_CONCURRENT_ACTIVITIES,
        graceful_shutdown_timeout=timedelta(seconds=30),
    )


async def main(settings: Settings) -> None:
    configure_tracing(settings.telemetry)
    # Activities retry a failed write, so a stale pooled connection costs one retry; skip the
    # liveness round trip every checkout would otherwise make.
    engine = make_engine(settings.database, pre_ping=False)
    try:
        client = await connect(settings.temporal, tracing=settings.telemetry.tracing)
        await ensure_checkpoint_schedule(
            client,
            cpu_queue(settings.temporal.task_queue),
            timedelta(minutes=settings.licensing.checkpoint_interval_minutes),
        )
        await ensure_sweep_schedule(client, cpu_queue(settings.temporal.task_queue))
        await ensure_email_outbox_schedule(
            client,
            cpu_queue(settings.temporal.task_queue),
            timedelta(seconds=settings.notifications.outbox_sweep_s),
        )
        await ensure_hash_list_schedule(
            client, cpu_queue(settings.temporal.task_queue), settings.moderation.threatexchange
        )
        await run_until_signalled(build_worker(client, settings, engine))
    finally:
        engine.dispose()
