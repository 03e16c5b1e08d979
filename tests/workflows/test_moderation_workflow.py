"""ModerationWorkflow across the real CPU and GPU workers on the dev server, on generated
media with espeak-ng speech: disclosure said or not, a frame on a hash list, a corrupt upload,
a human review that runs past its SLA, and a phone-native upload whose own streams become the
master (its ladder after the decision) beside one in another codec that is transcoded."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.service import RPCError
from temporalio.worker import Worker

from activities.media.hashes import hash_image
from activities.media.tools import Limits
from activities.moderation.activities import MediaActivities
from domain.enums import Role
from integrations.storage import ObjectNotFound, store_from_settings
from models.moderation import escalations
from nexus.settings import Settings
from tests.activities.test_photo import phone_photo
from tests.media import raw_lavfi, video
from tests.support import login, make_tenant
from workers.cpu.main import build_worker as build_cpu_worker
from workflows.checks import AutomatedChecksWorkflow
from workflows.checks import workflow_id as checks_workflow_id
from workflows.contracts.delivery import CheckRequest
from workflows.contracts.moderation import (
    BriefRules,
    FrameHash,
    MediaAnalysis,
    ModerationReport,
    ModerationRequest,
    NudityScan,
    Renditions,
    ReuseRequest,
    ReviewDecision,
    SaveAnalysis,
    Transcript,
)
from workflows.moderation import ModerationWorkflow, renditions_workflow_id, workflow_id
from workflows.task_queues import cpu_queue, gpu_queue

BRIEF = BriefRules(brand="Glow", mandatory_mentions=["Glow"])
# A photo brief asks for no shape or length (as a delivery of a photo does).
PHOTO = {"kind": "photo", "brief": BRIEF.model_copy(update={"aspect_ratio": None})}


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The test's settings with a child-safety list holding the hash of one picture, and
    a two-second window for the spoken disclosure."""
    listed = raw_lavfi(tmp_path / "listed.png", "mandelbrot=s=360x640", "-frames:v", "1")
    entry = hash_image(listed, tmp_path, Limits(30, 2 * 1024**3)).hex
    # A file listed by its bytes: what it holds is never looked at.
    known = tmp_path / "known.mp4"
    known.write_bytes(b"bytes a hash list names " * 64)
    digest = hashlib.md5(known.read_bytes(), usedforsecurity=False).hexdigest()
    (tmp_path / "test-list.txt").write_text(f"# test hash list\n{entry}\nmd5,{digest},known\n")
    return settings.model_copy(
        update={
            "moderation": settings.moderation.model_copy(
                update={
                    "hash_lists": [tmp_path / "test-list.txt"],
                    "spoken_disclosure_within_s": 2.0,
                }
            )
        }
    )


async def start(
    client: Client, settings: Settings, source: Path, caption: str, **extra: object
) -> WorkflowHandle[ModerationWorkflow, ModerationReport]:
    asset_id = uuid.uuid4()
    key = f"uploads/{asset_id}/{source.name}"
    store_from_settings(settings.storage).put_file(key, source, "video/mp4")
    request = ModerationRequest.model_validate(
        {"asset_id": asset_id, "source_key": key, "caption": caption, "brief": BRIEF, **extra}
    )
    return await client.start_workflow(
        ModerationWorkflow.run,
        request,
        id=workflow_id(asset_id),
        task_queue=cpu_queue(settings.temporal.task_queue),
        execution_timeout=timedelta(seconds=120),
    )


def assert_said_sponsored(report: ModerationReport) -> None:
    """The spoken disclosure is in the transcript. Not the brand's name: on some machines the
    speech model hears espeak's "Glow" as "Globe"."""
    assert "this video is sponsored by" in report.transcript_text.casefold()


async def moderate(
    client: Client, settings: Settings, source: Path, caption: str
) -> ModerationReport:
    return await (await start(client, settings, source, caption)).result()


async def test_a_video_that_says_it_is_sponsored_passes_with_renditions_and_captions(
    client: Client, settings: Settings, workers: list[Worker], tmp_path: Path
) -> None:
    source = video(tmp_path / "said.mp4", say="this video is sponsored by Glow", seconds=3)
    report = await moderate(client, settings, source, "#ad My Glow morning routine")
    assert (report.decision, report.findings) == ("pass", [])
    assert_said_sponsored(report)

    store = store_from_settings(settings.storage)
    assert report.renditions is not None
    # The upload's streams were copied into the master; its ladder follows the decision.
    await client.get_workflow_handle(renditions_workflow_id(report.asset_id)).result()
    for key in (report.renditions.master_key, report.renditions.hls_key, report.report_key):
        assert key is not None
        assert store.stat(key).size > 0
    assert report.captions_vtt_key is not None
    vtt = tmp_path / "captions.vtt"
    store.get_file(report.captions_vtt_key, vtt)
    assert vtt.read_text().startswith("WEBVTT")
    assert "sponsored" in vtt.read_text().casefold()


async def test_a_video_that_never_says_it_fails_with_the_finding_and_when(
    client: Client, settings: Settings, workers: list[Worker], tmp_path: Path
) -> None:
    silent = video(tmp_path / "never.mp4", say="here is my morning routine with Glow")
    report = await moderate(client, settings, silent, "#ad Glow morning")
    assert report.decision == "block"
    [finding] = report.findings
    assert (finding.code, finding.start_s, finding.end_s) == ("spoken_disclosure_missing", 0, 2)

    late = video(
        tmp_path / "late.mp4", say="morning routine. this video is sponsored by Glow",
        seconds=6, say_at=1.5,
    )  # fmt: skip
    report = await moderate(client, settings, late, "#ad Glow morning")
    [finding] = report.findings
    assert finding.code == "spoken_disclosure_late"
    assert finding.start_s is not None
    assert 2.5 < finding.start_s < 5.5
    assert "0:0" in finding.message


async def test_a_frame_on_a_hash_list_blocks_quarantines_and_escalates(
    client: Client, settings: Settings, workers: list[Worker], engine: Engine, tmp_path: Path
) -> None:
    source = video(tmp_path / "listed.mp4", image=tmp_path / "listed.png", seconds=2)
    report = await moderate(client, settings, source, "#ad Glow")
    assert report.decision == "block"
    assert [f.code for f in report.findings] == ["child_safety_hash_match"]
    assert report.renditions is None

    store = store_from_settings(settings.storage)
    assert store.list_keys(f"media/{report.asset_id}/") == [report.report_key]
    with pytest.raises(ObjectNotFound):
        store.stat(f"uploads/{report.asset_id}/listed.mp4")
    with Session(engine) as session:
        assert [e.kind for e in escalations(session, report.asset_id)] == ["child_safety"]

    # Never released: the workflow is closed, no review can reopen it.
    handle = client.get_workflow_handle(workflow_id(report.asset_id))
    with pytest.raises(RPCError, match="completed"):
        await handle.execute_update(
            ModerationWorkflow.review,
            ReviewDecision(decision="pass", reason="looks fine", reviewer="ops@nexus"),
        )


async def test_a_file_whose_md5_is_listed_is_quarantined_before_it_is_decoded(
    client: Client, settings: Settings, workers: list[Worker], engine: Engine, tmp_path: Path
) -> None:
    report = await moderate(client, settings, tmp_path / "known.mp4", "#ad Glow")
    assert (report.decision, [f.code for f in report.findings]) == (
        "block",
        ["child_safety_hash_match"],
    )
    assert report.renditions is None and report.info is None
    store = store_from_settings(settings.storage)
    assert store.list_keys(f"media/{report.asset_id}/") == [report.report_key]
    with pytest.raises(ObjectNotFound):
        store.stat(f"uploads/{report.asset_id}/known.mp4")
    with Session(engine) as session:
        [escalation] = escalations(session, report.asset_id)
    assert escalation.kind == "child_safety"


async def test_an_upload_that_never_arrived_gets_a_finding(
    client: Client, settings: Settings, workers: list[Worker]
) -> None:
    asset_id = uuid.uuid4()
    report = await client.execute_workflow(
        ModerationWorkflow.run,
        ModerationRequest(asset_id=asset_id, source_key=f"uploads/{asset_id}/never.mp4"),
        id=workflow_id(asset_id),
        task_queue=cpu_queue(settings.temporal.task_queue),
        execution_timeout=timedelta(seconds=60),
    )
    assert (report.decision, [f.code for f in report.findings]) == ("block", ["upload_missing"])


async def test_a_corrupt_upload_gets_a_clear_finding(
    client: Client, settings: Settings, workers: list[Worker], tmp_path: Path
) -> None:
    source = video(tmp_path / "ok.mp4", seconds=2)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(source.read_bytes()[:5000])
    report = await moderate(client, settings, broken, "#ad Glow")
    assert report.decision == "block"
    [finding] = report.findings
    assert finding.check == "ingest"
    assert finding.code in {"unreadable", "corrupt_video"}


async def test_a_review_past_its_sla_escalates_and_waits_for_ops(
    http: httpx.AsyncClient,
    client: Client,
    settings: Settings,
    engine: Engine,
    tmp_path: Path,
) -> None:
    source = video(tmp_path / "gun.mp4", say="sponsored by Glow. I love my gun", seconds=4)
    handle = await start(client, settings, source, "#ad Glow", review_sla_s=1)
    asset_id = uuid.UUID(handle.id.removeprefix("moderation-"))
    for _ in range(300):
        with Session(engine) as session:
            if escalations(session, asset_id):
                break
        await asyncio.sleep(0.1)
    ops = await login(http, make_tenant(engine, Role.OPS))
    status = (await http.get(f"/moderation/{asset_id}", headers=ops)).json()
    assert (status["stage"], status["escalated"]) == ("review", True)

    decision = {"decision": "pass", "reason": "a toy gun, fine"}
    creator = await login(http, make_tenant(engine, Role.CREATOR))
    refused = await http.post(f"/moderation/{asset_id}/review", json=decision, headers=creator)
    assert refused.status_code == 403
    done = await http.post(f"/moderation/{asset_id}/review", json=decision, headers=ops)
    assert done.status_code == 200, done.text
    assert done.json()["decision"] == "pass"
    again = await http.post(f"/moderation/{asset_id}/review", json=decision, headers=ops)
    assert again.status_code == 409

    report = await handle.result()
    assert report.decision == "pass"
    assert report.reviewed_by is not None
    assert report.reviewed_by.startswith("user:")
    assert [f.code for f in report.findings] == ["garm_arms_ammunition"]
    with Session(engine) as session:
        assert [e.kind for e in escalations(session, report.asset_id)] == ["review_overdue"]


async def test_the_automated_checks_run_moderation_for_a_draft_with_a_video(
    client: Client, settings: Settings, workers: list[Worker], tmp_path: Path
) -> None:
    submission_id = uuid.uuid4()
    key = f"uploads/{submission_id}/draft.mp4"
    source = video(tmp_path / "draft.mp4", say="here is my morning routine")
    store_from_settings(settings.storage).put_file(key, source, "video/mp4")
    report = await client.execute_workflow(
        AutomatedChecksWorkflow.run,
        CheckRequest(
            delivery_id=uuid.uuid4(),
            submission_id=submission_id,
            caption="#ad Glow morning",
            disclosure_required=True,
            mandatory_mentions=["Glow"],
            media_key=key,
            brand="Glow",
        ),
        id=checks_workflow_id(submission_id),
        task_queue=cpu_queue(settings.temporal.task_queue),
        execution_timeout=timedelta(seconds=120),
    )
    assert report.passed is False
    [finding] = report.findings
    assert (finding.code, finding.severity) == ("spoken_disclosure_missing", "block")
    assert "sponsored by Glow" in finding.message
    assert "(at 0:00)" in finding.message


async def test_model_work_falls_back_to_the_cpu_pool_without_a_gpu_worker(
    client: Client, settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    source = video(tmp_path / "said.mp4", say="this video is sponsored by Glow", seconds=3)
    async with build_cpu_worker(client, settings, engine):  # no GPU pool at all
        handle = await start(client, settings, source, "#ad Glow morning", gpu_wait_s=1)
        report = await handle.result()
    assert report.decision == "pass"
    assert "sponsored" in report.transcript_text.casefold()
    queues = [
        event.activity_task_scheduled_event_attributes.task_queue.name
        async for event in handle.fetch_history_events()
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and event.activity_task_scheduled_event_attributes.activity_type.name == "media.transcribe"
    ]
    assert queues == [
        gpu_queue(settings.temporal.task_queue),
        cpu_queue(settings.temporal.task_queue),
    ]


async def test_an_upload_that_stalls_the_encoder_gets_a_finding_not_a_failed_process(
    client: Client, settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    media = settings.media.model_copy(
        update={"x264_preset": "veryslow", "transcode_timeout_s": 0.3}
    )
    stalling = settings.model_copy(update={"media": media})
    # Not the master's 9:16 frame: the upload is encoded, not copied.
    source = video(tmp_path / "heavy.mp4", seconds=3, size="352x640")
    async with build_cpu_worker(client, stalling, engine):
        report = await (await start(client, stalling, source, "#ad Glow")).result()
    assert report.decision == "block"
    assert [f.code for f in report.findings] == ["transcode_failed"]
    assert report.info is not None


def activity_names(history: WorkflowHistory) -> list[str]:
    return [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]


async def test_the_same_video_sent_again_reuses_its_analysis_under_its_own_keys(
    client: Client, settings: Settings, workers: list[Worker], tmp_path: Path
) -> None:
    source = video(tmp_path / "again.mp4", say="this video is sponsored by Glow", seconds=3)
    first = await start(client, settings, source, "Glow morning")  # no caption disclosure
    blocked = await first.result()
    assert blocked.decision == "block"
    assert "media.prepare" in activity_names(await first.fetch_history())

    # The creator fixes the caption only and uploads the same file again.
    second = await start(client, settings, source, "#ad My Glow morning routine")
    report = await second.result()
    names = activity_names(await second.fetch_history())
    assert "media.reuse_analysis" in names
    assert not {"media.prepare", "media.transcribe", "media.detect_nudity"} & set(names)
    assert (report.decision, report.findings) == ("pass", [])
    assert_said_sponsored(report)

    store = store_from_settings(settings.storage)
    assert report.renditions is not None
    assert report.renditions.prefix == f"media/{report.asset_id}/"
    for key in (report.renditions.master_key, *report.renditions.frame_keys):
        assert key.startswith(report.renditions.prefix)
        assert store.stat(key).size > 0

    # Renditions gone (deleted, quarantined): the next upload is analysed afresh.
    assert blocked.renditions is not None and report.renditions is not None
    for prefix in (blocked.renditions.prefix, report.renditions.prefix):
        for key in store.list_keys(prefix):
            store.delete(key)
    third = await start(client, settings, source, "#ad My Glow morning routine")
    assert (await third.result()).decision == "pass"
    assert "media.prepare" in activity_names(await third.fetch_history())


def test_a_reused_analysis_is_matched_against_todays_hash_lists(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    """A list that gained a hash since the bytes were first analysed still catches them."""
    store = store_from_settings(settings.storage)
    frame = tmp_path / "frame.jpg"
    raw_lavfi(frame, "mandelbrot=s=360x640", "-frames:v", "1")
    found = hash_image(frame, tmp_path, Limits(30, 2 * 1024**3))
    old = Renditions(
        prefix="media/old/", master_key="media/old/master.mp4", hls_key="media/old/hls.m3u8",
        thumbnail_keys=[], contact_sheet_key="media/old/sheet.jpg",
        audio_key="media/old/audio.wav", frame_keys=["media/old/f0.jpg"], frame_times=[0.5],
    )  # fmt: skip
    for key in ("media/old/master.mp4", "media/old/f0.jpg"):
        store.put_file(key, frame, "application/octet-stream")
    analysis = MediaAnalysis(
        renditions=old,
        hashes=[FrameHash(time_s=0.5, pdq=found.hex, quality=found.quality)],
        transcript=Transcript(language="en", segments=[], words=[]),
        nudity=NudityScan(frames=[]),
    )
    media = MediaActivities(store, engine, settings.media, settings.moderation)
    media.save_analysis(SaveAnalysis(sha256="ab" * 32, analysis=analysis))

    asset_id = uuid.uuid4()
    reused = media.reuse_analysis(ReuseRequest(asset_id=asset_id, sha256="ab" * 32))
    assert reused is not None
    assert [m.list_name for m in reused.hashes.matches] == ["test-list"]
    assert reused.analysis.renditions.frame_keys == [f"media/{asset_id}/f0.jpg"]
    assert media.reuse_analysis(ReuseRequest(asset_id=asset_id, sha256="cd" * 32)) is None


async def test_a_disclosure_shown_on_screen_passes_without_being_said(
    client: Client, settings: Settings, workers: list[Worker], tmp_path: Path
) -> None:
    shown = video(
        tmp_path / "shown.mp4", say="here is my morning routine with Glow",
        show="Paid partnership", seconds=3,
    )  # fmt: skip
    report = await moderate(client, settings, shown, "#ad Glow morning")
    assert (report.decision, report.findings) == ("pass", [])


async def test_speech_that_means_a_garm_category_is_flagged_where_it_is_said(
    client: Client, settings: Settings, workers: list[Worker], tmp_path: Path
) -> None:
    speech = "this video is sponsored by Glow. I took some pills and got so high"
    said = video(tmp_path / "high.mp4", say=speech, seconds=6)
    report = await moderate(client, settings, said, "#ad My Glow morning routine")
    [finding] = report.findings
    assert (finding.code, finding.severity) == (
        "garm_illegal_drugs_tobacco_ecigs_vaping_alcohol",
        "warn",
    )
    assert finding.start_s is not None and finding.start_s > 0
    assert report.decision == "pass"  # a warning for the brand to weigh, not a block


def streams(path: Path) -> dict[str, dict[str, Any]]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return {s["codec_type"]: s for s in json.loads(out)["streams"]}


async def test_a_phone_native_upload_is_checked_on_its_own_streams_and_its_ladder_follows(
    client: Client, settings: Settings, workers: list[Worker], tmp_path: Path
) -> None:
    source = video(tmp_path / "phone.mp4", say="this video is sponsored by Glow", seconds=3)
    handle = await start(client, settings, source, "#ad My Glow morning routine")
    report = await handle.result()
    # What the transcoded upload of the same clip gets (the first test above).
    assert (report.decision, report.findings) == ("pass", [])
    assert_said_sponsored(report)

    # The master is the upload's H.264 and AAC as they were, moov first.
    store = store_from_settings(settings.storage)
    assert report.renditions is not None
    master = tmp_path / "master.mp4"
    store.get_file(report.renditions.master_key, master)
    data = master.read_bytes()
    assert 0 <= data.find(b"moov") < data.find(b"mdat")
    mine, theirs = streams(master), streams(source)
    for kind in ("video", "audio"):
        for field in ("codec_name", "profile", "bit_rate", "width", "height"):
            assert mine[kind].get(field) == theirs[kind].get(field), (kind, field)

    # The ladder is not on the checks' path: started after the automated decision, by a
    # workflow the moderation does not wait for.
    history = await handle.fetch_history()
    assert "media.ladder" not in activity_names(history)
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        else e.start_child_workflow_execution_initiated_event_attributes.workflow_type.name
        for e in history.events
        if e.event_type
        in (
            EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
            EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
        )
    ]
    assert scheduled[-3:] == [
        "moderation.evaluate",
        "RenditionsWorkflow",
        "moderation.store_report",
    ]
    ladder: Renditions | None = await client.get_workflow_handle(
        renditions_workflow_id(report.asset_id), result_type=Renditions
    ).result()
    assert ladder is not None
    assert (ladder.hls_key, ladder.ladder_pending) == (report.renditions.hls_key, False)
    hls, sheet = report.renditions.hls_key, report.renditions.contact_sheet_key
    assert hls is not None and sheet is not None
    playlist = tmp_path / "master.m3u8"
    store.get_file(hls, playlist)
    assert "RESOLUTION=720x1280" in playlist.read_text()
    assert store.stat(sheet).size > 0


def vp9_clip(path: Path) -> Path:
    """A 9:16 VP9/Opus WebM: an accepted upload that no browser-playable MP4 can copy."""
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y",
         "-f", "lavfi", "-i", "testsrc2=s=360x640:r=15:d=2", "-f", "lavfi", "-i", "sine=d=2",
         "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k",
         "-c:a", "libopus", str(path)],
        check=True,
    )  # fmt: skip
    return path


async def test_an_upload_in_another_codec_still_gets_the_full_transcode(
    client: Client, settings: Settings, workers: list[Worker], tmp_path: Path
) -> None:
    webm = vp9_clip(tmp_path / "vp9.webm")
    handle = await start(client, settings, webm, "#ad Glow")
    report = await handle.result()
    assert report.info is not None and report.info.video_codec == "vp9"
    assert report.renditions is not None and not report.renditions.ladder_pending
    store = store_from_settings(settings.storage)
    master = tmp_path / "master.mp4"
    store.get_file(report.renditions.master_key, master)
    assert (streams(master)["video"]["codec_name"], streams(master)["audio"]["codec_name"]) == (
        "h264",
        "aac",
    )
    # Its ladder came with the transcode, before the decision.
    hls, sheet = report.renditions.hls_key, report.renditions.contact_sheet_key
    assert hls is not None and sheet is not None
    assert store.stat(hls).size > 0
    assert store.stat(sheet).size > 0


async def moderate_photo(
    client: Client, settings: Settings, source: Path, caption: str
) -> ModerationReport:
    return await (await start(client, settings, source, caption, **PHOTO)).result()


async def test_a_photo_is_checked_without_speech_and_kept_upright_without_its_metadata(
    client: Client, settings: Settings, workers: list[Worker], tmp_path: Path
) -> None:
    source = phone_photo(tmp_path / "phone.jpg")
    handle = await start(client, settings, source, "#ad My Glow morning", **PHOTO)
    report = await handle.result()
    assert (report.decision, report.findings) == ("pass", [])
    assert report.info is not None
    assert (report.info.container, report.info.width, report.info.height) == ("jpeg", 300, 400)
    renditions = report.renditions
    assert renditions is not None
    assert (renditions.hls_key, renditions.audio_key, renditions.contact_sheet_key) == (
        None,
        None,
        None,
    )
    assert report.captions_vtt_key is None  # nothing is said in a photo

    master = tmp_path / "master.jpg"
    store_from_settings(settings.storage).get_file(renditions.master_key, master)
    with Image.open(master) as kept:
        assert (kept.format, kept.size, dict(kept.getexif())) == ("JPEG", (300, 400), {})
    names = activity_names(await handle.fetch_history())
    assert "media.prepare_photo" in names and "media.detect_nudity" in names
    assert not {"media.transcribe", "media.prepare", "media.transcode"} & set(names)

    # The caption carries a photo's disclosure: without it the photo is blocked, and no
    # spoken disclosure is asked of it.
    undisclosed = await moderate_photo(client, settings, source, "My Glow morning")
    assert undisclosed.decision == "block"
    assert [f.check for f in undisclosed.findings] == ["ftc_disclosure"]
    assert all(f.code.startswith("caption_") for f in undisclosed.findings)


async def test_a_photo_on_a_hash_list_is_quarantined_and_a_video_sent_as_one_refused(
    client: Client, settings: Settings, workers: list[Worker], engine: Engine, tmp_path: Path
) -> None:
    report = await moderate_photo(client, settings, tmp_path / "listed.png", "#ad Glow")
    assert (report.decision, [f.code for f in report.findings]) == (
        "block",
        ["child_safety_hash_match"],
    )
    assert report.renditions is None
    store = store_from_settings(settings.storage)
    assert store.list_keys(f"media/{report.asset_id}/") == [report.report_key]
    with Session(engine) as session:
        assert [e.kind for e in escalations(session, report.asset_id)] == ["child_safety"]

    clip = video(tmp_path / "clip.mp4", seconds=1)
    refused = await moderate_photo(client, settings, clip, "#ad Glow")
    assert (refused.decision, [f.code for f in refused.findings]) == (
        "block",
        ["unsupported_type"],
    )
    assert "Upload a JPEG, PNG or WebP photo" in refused.reason
