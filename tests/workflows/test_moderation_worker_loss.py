"""A GPU worker that dies in the middle of model work (no answer, no more heartbeats) holds
the moderation only for the heartbeat timeout: the work is retried on a live worker, not
after the model work's 20-minute limit."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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
from workflows.contracts.moderation import Renditions, Segment, Transcript, Word
from workflows.task_queues import gpu_queue

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
        handle = await start(client, settings, source, "#ad Glow morning", heartbeat_timeout_s=2)
        report = await asyncio.wait_for(handle.result(), timeout=60)

    assert report.decision == "pass", report.reason
    attempts = [
        event.activity_task_started_event_attributes.attempt
        async for event in handle.fetch_history_events()
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    ]
    assert 2 in attempts
