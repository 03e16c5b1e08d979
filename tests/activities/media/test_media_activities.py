"""The CPU media activities outside a workflow: transcodes queue for the worker's slots."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from temporalio.testing import ActivityEnvironment

import activities.media.probe as probe_module
import activities.moderation.activities as media_activities
from activities.media.transcode import Outputs
from activities.moderation.activities import MediaActivities
from integrations.storage.filesystem import FilesystemStore
from nexus.settings import MediaSettings, ModerationSettings
from tests.media import video
from workflows.contracts.moderation import (
    MediaInfo,
    ProbeRequest,
    ProbeResult,
    TranscodeRequest,
)

INFO = MediaInfo(
    container="mov,mp4", size_bytes=10, duration_s=2.0, width=360, height=640, fps=15,
    video_codec="h264", audio_codec="aac",
)  # fmt: skip


def test_one_worker_runs_at_most_its_share_of_transcodes_and_heartbeats_while_queued(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FilesystemStore(tmp_path / "objects")
    (tmp_path / "src.mp4").write_bytes(b"video")
    store.put_file("uploads/a.mp4", tmp_path / "src.mp4", "video/mp4")
    running, peak, lock = [0], [0], threading.Lock()
    started: dict[str, float] = {}

    def fake_transcode(source: Path, info: MediaInfo, out: Path, *_: Any) -> Outputs:
        started[threading.current_thread().name] = time.monotonic()
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(1.5)
        with lock:
            running[0] -= 1
        out.mkdir()
        (out / "master.mp4").write_bytes(b"m")
        return Outputs("master.mp4", "hls/master.m3u8", [], "contact.jpg", "audio.wav", [], [])

    monkeypatch.setattr(media_activities, "transcode", fake_transcode)
    worker = MediaActivities(
        store, create_engine("sqlite://"), MediaSettings(work_dir=tmp_path / "work"),
        ModerationSettings(),
    )  # fmt: skip
    heartbeats: dict[str, list[float]] = {"a": [], "b": []}

    def run() -> None:
        beats = heartbeats[threading.current_thread().name]
        env = ActivityEnvironment()
        env.on_heartbeat = lambda *details: beats.append(time.monotonic())
        request = TranscodeRequest(asset_id=uuid.uuid4(), source_key="uploads/a.mp4", info=INFO)
        env.run(worker.transcode, request)

    threads = [threading.Thread(target=run, name=name) for name in heartbeats]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] == 1
    queued = max(started, key=lambda name: started[name])
    assert any(beat < started[queued] for beat in heartbeats[queued])  # heartbeats while queued


def test_bytes_probed_before_skip_the_tools_but_meet_todays_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FilesystemStore(tmp_path / "objects")
    clip = video(tmp_path / "clip.mp4", seconds=2)
    store.put_file("uploads/a.mp4", clip, "video/mp4")
    store.put_file("uploads/b.mp4", clip, "video/mp4")

    def probe(media: MediaSettings, key: str) -> ProbeResult:
        worker = MediaActivities(store, create_engine("sqlite://"), media, ModerationSettings())
        result: ProbeResult = ActivityEnvironment().run(
            worker.probe, ProbeRequest(asset_id=uuid.uuid4(), source_key=key)
        )
        return result

    media = MediaSettings(work_dir=tmp_path / "work")
    first = probe(media, "uploads/a.mp4")
    assert first.info is not None and first.sha256 is not None
    assert store.list_keys("analysis/") == [f"analysis/{first.sha256}.probe.json"]

    def no_tools(*_: Any) -> None:
        raise AssertionError("ffprobe or ffmpeg ran for bytes probed before")

    monkeypatch.setattr(probe_module, "run_tool", no_tools)
    again = probe(media, "uploads/b.mp4")
    assert again == first
    # The stored report is held to the limits of the day: a stricter one refuses the file.
    refused = probe(media.model_copy(update={"max_duration_s": 1.5}), "uploads/b.mp4")
    assert refused.info is None and refused.rejection is not None
    assert refused.rejection.code == "too_long"
