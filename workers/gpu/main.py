"""GPU pool: model activities on their own task queue; runs on the CPU when there is no CUDA."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from activities.health import GpuProbe
from activities.moderation.activities import ModelActivities
from activities.moderation.models import NudityScanner, TextEmbedder, Transcriber
from integrations.storage import store_from_settings
from nexus.settings import Settings
from nexus.telemetry import configure_tracing
from nexus.temporal import connect, run_until_signalled
from workers.gpu.runtime import resolve_device
from workflows.task_queues import gpu_queue


def build_worker(client: Client, settings: Settings, device: str) -> Worker:
    probe = GpuProbe(device)
    models = ModelActivities(
        store_from_settings(settings.storage),
        Transcriber(settings.moderation, device),
        NudityScanner(),
        TextEmbedder(settings.moderation, device),
        settings.media.work_dir,
    )
    return Worker(
        client,
        task_queue=gpu_queue(settings.temporal.task_queue),
        activities=[
            probe.probe_gpu,
            models.transcribe,
            models.detect_nudity,
            models.garm_similarity,
        ],
        # Models hold the device: few at a time.
        max_concurrent_activities=settings.gpu.max_concurrent_activities,
        activity_executor=ThreadPoolExecutor(settings.gpu.max_concurrent_activities),
        graceful_shutdown_timeout=timedelta(seconds=60),
    )


async def main(settings: Settings) -> None:
    configure_tracing(settings.telemetry)
    device = resolve_device(settings.gpu.device)
    client = await connect(settings.temporal, tracing=settings.telemetry.tracing)
    await run_until_signalled(build_worker(client, settings, device))
