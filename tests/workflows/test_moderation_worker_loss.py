"""A worker that dies in the middle of moderation work (no answer, no more heartbeats) holds
the moderation for seconds, not for the work's time limit (20 minutes for the models,
5 for the probe and the lookups): the work is retried on a live worker."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.worker import Worker

from activities.moderation.activities import ModelActivities
from activities.moderation.models import NudityScanner, TextEmbedder, Transcriber
from integrations.storage import store_from_settings
from nexus.settings import Settings
from tests.media import video
from tests.workflows.test_moderation_workflow import start
from workers.cpu.main import build_worker as build_cpu_worker
from workers.cpu.main import moderation_activities
from workers.gpu.main import build_worker as build_gpu_worker
from workflows.contracts.moderation import (
    ProbeRequest,
    ProbeResult,
    Renditions,
    ReusedAnalysis,
    ReuseRequest,
    Segment,
    Transcript,
    Word,
)
from workflows.moderation import ModerationWorkflow
from workflows.task_queues import cpu_queue, gpu_queue

SAID = "this video is sponsored by Glow"


@activity.defn(name="media.transcribe")
async def transcribe_on_a_dying_worker(renditions: Renditions) -> Transcript:
    if activity.info().attempt == 1:
        await asyncio.sleep(3600)  # the worker was killed: it never answers nor heartbeats
    words = [
        Word(text=w, start_s=0.3 + i * 0.2, end_s=0.5 + i * 0.2) for i, w in enumerate(SAID.split())
    ]
    return Transcript(
        language="en", segments=[Segment(text=SAID, start_s=0.3, end_s=1.7)], words=words
    )


@pytest.mark.heavy
async def test_model_work_held_by_a_dead_gpu_worker_is_retried_after_the_heartbeat_timeout(
    client: Client, settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    source = video(tmp_path / "said.mp4", say=SAID, seconds=2)
    models = ModelActivities(
        store_from_settings(settings.storage),
        Transcriber(settings.moderation, "cpu"),
        NudityScanner(),
        TextEmbedder(settings.moderation, "cpu"),
        settings.media.work_dir,
    )
    gpu = Worker(
        client,
        task_queue=gpu_queue(settings.temporal.task_queue),
        activities=[transcribe_on_a_dying_worker, models.detect_nudity, models.garm_similarity],
        activity_executor=ThreadPoolExecutor(2),
    )
    async with build_cpu_worker(client, settings, engine), gpu:
        # Seconds, not the 20-minute limit; not less than 10 s: loading a model holds the GIL
        # long enough to delay a live worker's heartbeat on a busy 2-core machine.
        handle = await start(client, settings, source, "#ad Glow morning", heartbeat_timeout_s=10)
        report = await asyncio.wait_for(handle.result(), timeout=60)

    assert report.decision == "pass", report.reason
    attempts = [
        event.activity_task_started_event_attributes.attempt
        async for event in handle.fetch_history_events()
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    ]
    assert 2 in attempts


@pytest.mark.heavy
async def test_media_work_held_by_a_dead_cpu_worker_is_retried_within_seconds(
    client: Client, settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    """The probe is noticed by its heartbeats, the analysis lookup by its short timeout."""
    source = video(tmp_path / "said.mp4", say=SAID, seconds=2)
    activities = {a.__name__: a for a in moderation_activities(settings, engine)}
    real_probe, real_reuse = activities.pop("probe"), activities.pop("reuse_analysis")
    worker_died = threading.Event()  # set at the end: the dead attempts' threads may go

    def first_attempt_dies() -> None:
        if activity.info().attempt == 1:
            worker_died.wait(120)  # never answers, never heartbeats

    @activity.defn(name="media.probe")
    def probe(request: ProbeRequest) -> ProbeResult:
        first_attempt_dies()
        return real_probe(request)  # type: ignore[no-any-return]

    @activity.defn(name="media.reuse_analysis")
    def reuse_analysis(request: ReuseRequest) -> ReusedAnalysis | None:
        first_attempt_dies()
        return real_reuse(request)  # type: ignore[no-any-return]

    cpu = Worker(
        client,
        task_queue=cpu_queue(settings.temporal.task_queue),
        workflows=[ModerationWorkflow],
        activities=[probe, reuse_analysis, *activities.values()],
        activity_executor=ThreadPoolExecutor(8),
    )
    async with cpu, build_gpu_worker(client, settings, "cpu"):
        handle = await start(client, settings, source, "#ad Glow", heartbeat_timeout_s=10)
        try:
            report = await asyncio.wait_for(handle.result(), timeout=90)
        finally:
            worker_died.set()  # before the worker's shutdown waits for the dead attempts

    assert report.decision == "pass", report.reason
    retried = [
        event.activity_task_started_event_attributes.attempt
        async for event in handle.fetch_history_events()
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    ]
    assert retried.count(2) == 2
