"""The CPU worker is SIGKILLed in the middle of a transcode: its encoder dies with it, the
transcode is retried on a fresh worker process once heartbeats stop, and the moderation
finishes with the same outcome."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.worker import Worker

from integrations.storage import store_from_settings
from nexus.settings import Settings
from tests.e2e.support import until
from tests.media import video
from workers.gpu.main import build_worker as build_gpu_worker
from workflows.contracts.moderation import BriefRules, ModerationRequest
from workflows.moderation import ModerationWorkflow, workflow_id
from workflows.task_queues import cpu_queue


async def start_cpu_worker(settings: Settings, log: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "NEXUS_DATABASE__URL": settings.database.url.get_secret_value(),
        "NEXUS_TEMPORAL__ADDRESS": settings.temporal.address,
        "NEXUS_TEMPORAL__NAMESPACE": settings.temporal.namespace,
        "NEXUS_TEMPORAL__TASK_QUEUE": settings.temporal.task_queue,
        "NEXUS_STORAGE__ROOT": str(settings.storage.root),
        # Secrets have no defaults: a worker without its key refuses to start.
        "NEXUS_LICENSING__LEDGER_SIGNING_KEY": (
            settings.licensing.ledger_signing_key.get_secret_value()
        ),
        "NEXUS_MEDIA__WORK_DIR": str(log.with_suffix("")),
        # A slow preset: the transcode lasts long enough to be interrupted.
        "NEXUS_MEDIA__X264_PRESET": "medium",
    }
    with log.open("w") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "nexus", "worker", "cpu",
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip

    async def polling() -> bool:
        text = await asyncio.to_thread(log.read_text)
        assert process.returncode is None, text[-3000:]
        return "worker polling" in text

    await until(polling, timeout_s=60)
    return process


def commands(work_dir: Path) -> list[bytes]:
    """Command lines of the processes working on a worker's scratch files."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            line = cmdline.read_bytes()
        except OSError:
            continue  # the process ended while we looked
        if str(work_dir).encode() in line:
            found.append(line)
    return found


def encoding(work_dir: Path) -> bool:
    return any(b"master.mp4" in line for line in commands(work_dir))


def no_tools(work_dir: Path) -> bool:
    return not commands(work_dir)


@pytest.mark.heavy
# Temporal cancels a sync activity by raising in its thread; landing in a weakref callback
# during garbage collection, that is reported as unraisable, which says nothing of the test.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_a_worker_killed_mid_transcode_does_not_lose_the_moderation(
    client: Client, settings: Settings, tmp_path: Path
) -> None:
    asset_id = uuid.uuid4()
    key = f"uploads/{asset_id}/clip.mp4"
    # Not the master's 9:16 frame, so it is encoded (a phone-native upload is only copied).
    source = video(
        tmp_path / "clip.mp4", seconds=4, size="352x640", say="this video is sponsored by Glow"
    )
    store_from_settings(settings.storage).put_file(key, source, "video/mp4")

    processes = [await start_cpu_worker(settings, tmp_path / "cpu-0.log")]
    gpu: Worker = build_gpu_worker(client, settings, "cpu")
    try:
        async with gpu:
            handle = await client.start_workflow(
                ModerationWorkflow.run,
                ModerationRequest(
                    asset_id=asset_id,
                    source_key=key,
                    caption="#ad Glow",
                    brief=BriefRules(brand="Glow"),
                    heartbeat_timeout_s=10,
                ),
                id=workflow_id(asset_id),
                task_queue=cpu_queue(settings.temporal.task_queue),
                execution_timeout=timedelta(seconds=180),
            )

            # The worker's encoder is running: kill the worker in the middle of it.
            await until(lambda: asyncio.to_thread(encoding, tmp_path / "cpu-0"), timeout_s=60)
            processes[0].send_signal(signal.SIGKILL)
            assert await asyncio.wait_for(processes[0].wait(), 15) == -signal.SIGKILL
            await until(lambda: asyncio.to_thread(no_tools, tmp_path / "cpu-0"), timeout_s=5)

            processes.append(await start_cpu_worker(settings, tmp_path / "cpu-1.log"))
            report = await handle.result()
    finally:
        for process in processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), 45)

    assert report.decision == "pass"
    assert report.renditions is not None
    attempts = [
        event.activity_task_started_event_attributes.attempt
        async for event in handle.fetch_history_events()
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    ]
    assert 2 in attempts  # the transcode ran again on the new worker
