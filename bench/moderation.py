"""Moderation pipeline wall time against one plain ffmpeg transcode of the same file.

Run by hand from the repository root (never in CI):

    .venv/bin/python bench/moderation.py  # --seconds 60

It generates a 1080x1920 clip with real-footage-like noise (x264 cannot compress it away the
way it does clean test patterns) and espeak-ng speech over pink noise, then, in one run:

1. baseline: one `ffmpeg` transcode of the clip to the master rendition alone (9:16 H.264/AAC,
   the pipeline's x264 preset and CRF), run before and again after the pipeline: on a shared
   2-core host the load of other processes moves it by tens of percent, and the ratio is
   taken against the mean of the two;
2. pipeline: the moderation activities in the order ModerationWorkflow runs them (probe,
   one-pass transcode to every output, frame hashes, then speech-to-text, the nudity
   detector and on-screen text OCR side by side, then the checks), each through Temporal's
   activity environment with the real filesystem store in between.

Temporal scheduling is left out: about 0.06 s per activity step on this class of machine,
noise beside the media work. Besides wall time, each side's CPU time (this process and its
children: ffmpeg, the models' threads) is reported: on a shared host it moves far less with
other people's load than wall time does. Prints one JSON line on stdout (figures and the
ratios); the per-step times go to stderr.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from temporalio.testing import ActivityEnvironment

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from activities.media.transcode import fit
from activities.moderation.activities import MediaActivities, ModelActivities
from activities.moderation.models import NudityScanner, TextEmbedder, Transcriber
from integrations.storage.filesystem import FilesystemStore
from nexus.settings import MediaSettings, ModerationSettings
from workflows.contracts.moderation import (
    BrandSafetyRequest,
    BriefRules,
    EvaluateRequest,
    ModerationRequest,
    ProbeRequest,
    TranscodeRequest,
)

SCRIPT = (
    "Hi everyone, this video is sponsored by Glow. Today I am showing you my morning routine "
    "with the new Glow serum. It goes on light, it smells great, and my skin feels soft all day."
)


def cpu_seconds() -> float:
    """CPU time used so far by this process and the children it has waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def make_clip(path: Path, seconds: int, scratch: Path) -> None:
    wav = scratch / "speech.wav"
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(wav), SCRIPT], check=True)
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=s=1080x1920:r=30:d={seconds}",
         "-i", str(wav),
         "-f", "lavfi", "-i", f"anoisesrc=c=pink:a=0.03:d={seconds}",
         "-filter_complex",
         "[0:v]noise=alls=30:allf=t+u,hue=H=t/3[v];"
         f"[1:a]apad,atrim=0:{seconds}[s];[s][2:a]amix=inputs=2:duration=first[a]",
         "-map", "[v]", "-map", "[a]", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18",
         "-c:a", "aac", "-movflags", "+faststart", str(path)],
        check=True,
    )  # fmt: skip


def baseline(source: Path, out: Path, media: MediaSettings) -> tuple[float, float]:
    cpu = cpu_seconds()
    started = time.perf_counter()
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-i", str(source),
         "-vf", f"fps=30,{fit(1080, 1920)},format=yuv420p", "-c:v", "libx264",
         "-preset", media.x264_preset, "-profile:v", "high", "-crf", "21",
         "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", str(out)],
        check=True,
    )  # fmt: skip
    return time.perf_counter() - started, cpu_seconds() - cpu


def pipeline(
    source: Path, root: Path, media: MediaSettings
) -> tuple[float, float, dict[str, float]]:
    store = FilesystemStore(root / "objects")
    moderation = ModerationSettings()
    cpu = MediaActivities(store, create_engine("sqlite://"), media, moderation)
    models = ModelActivities(
        store,
        Transcriber(moderation, "cpu"),
        NudityScanner(),
        TextEmbedder(moderation, "cpu"),
        media.work_dir,
    )
    env = ActivityEnvironment()
    steps: dict[str, float] = {}

    def timed(name: str, fn: Any, *args: Any) -> Any:
        started = time.perf_counter()
        result = env.run(fn, *args)
        steps[name] = round(time.perf_counter() - started, 2)
        return result

    cpu_at_start = cpu_seconds()
    started = time.perf_counter()
    asset_id = uuid.uuid4()
    key = f"uploads/{asset_id}/clip.mp4"
    store.put_file(key, source, "video/mp4")
    probe = timed("probe", cpu.probe, ProbeRequest(asset_id=asset_id, source_key=key))
    assert probe.info is not None, probe.rejection
    renditions = timed(
        "transcode",
        cpu.transcode,
        TranscodeRequest(asset_id=asset_id, source_key=key, info=probe.info),
    )
    hashes = timed("hash_frames", cpu.hash_frames, renditions)
    with ThreadPoolExecutor(3) as pool:
        model_started = time.perf_counter()
        transcript = pool.submit(timed, "transcribe", models.transcribe, renditions)
        nudity = pool.submit(timed, "detect_nudity", models.detect_nudity, renditions)
        screen = pool.submit(timed, "read_screen_text", cpu.read_screen_text, renditions)
        transcript_result, nudity_result = transcript.result(), nudity.result()
        screen_text = screen.result()
        steps["models_wall"] = round(time.perf_counter() - model_started, 2)
    request = ModerationRequest(
        asset_id=asset_id, source_key=key, caption="#ad My Glow morning routine",
        brief=BriefRules(brand="Glow", mandatory_mentions=["Glow"]),
    )  # fmt: skip
    semantic = timed(
        "garm_similarity",
        models.garm_similarity,
        BrandSafetyRequest(words=transcript_result.words, caption=request.caption),
    )
    report = timed(
        "evaluate",
        cpu.evaluate,
        EvaluateRequest(
            request=request, info=probe.info, renditions=renditions, hashes=hashes,
            transcript=transcript_result, nudity=nudity_result, screen_text=screen_text,
            semantic=semantic,
        ),
    )  # fmt: skip
    timed("store_report", cpu.store_report, report)
    total = time.perf_counter() - started
    used = cpu_seconds() - cpu_at_start
    print(f"decision={report.decision} findings={[f.code for f in report.findings]}",
          file=sys.stderr)  # fmt: skip
    return total, used, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nexus-bench-") as tmp:
        root = Path(tmp)
        media = MediaSettings(work_dir=root / "work")
        source = root / "clip.mp4"
        print(f"generating a {args.seconds} s 1080x1920 noisy clip ...", file=sys.stderr)
        make_clip(source, args.seconds, root)
        print("baseline: one plain transcode to the master ...", file=sys.stderr)
        before, before_cpu = baseline(source, root / "plain.mp4", media)
        print(f"  {before:.1f} s; pipeline ...", file=sys.stderr)
        total, total_cpu, steps = pipeline(source, root, media)
        print(json.dumps(steps), file=sys.stderr)
        print("baseline again ...", file=sys.stderr)
        after, after_cpu = baseline(source, root / "plain.mp4", media)
        plain = (before + after) / 2
        plain_cpu = (before_cpu + after_cpu) / 2
        print(
            json.dumps(
                {
                    "bench": "moderation",
                    "clip_s": args.seconds,
                    "resolution": "1080x1920",
                    "x264_preset": media.x264_preset,
                    "baseline_transcode_s": round(plain, 2),
                    "baseline_runs_s": [round(before, 2), round(after, 2)],
                    "pipeline_s": round(total, 2),
                    "ratio": round(total / plain, 2),
                    "baseline_cpu_s": round(plain_cpu, 1),
                    "pipeline_cpu_s": round(total_cpu, 1),
                    "cpu_ratio": round(total_cpu / plain_cpu, 2),
                    "steps_s": steps,
                }
            )
        )


if __name__ == "__main__":
    main()
