"""Moderation pipeline wall time for a phone-native upload: the master copied from the
upload's own streams (today's path) against the full one-pass transcode (the path every
upload took before, and still the one for uploads that are not browser-playable H.264).

Run by hand from the repository root (never in CI):

    .venv/bin/python bench/moderation.py  # --seconds 60

It generates a 1080x1920 30 fps H.264/AAC clip with real-footage-like noise (x264 cannot
compress it away the way it does clean test patterns) at a phone's bitrate (`--bitrate`,
16 Mb/s) and espeak-ng speech over pink noise, then, in one run, goes through the moderation
activities in the order ModerationWorkflow runs them (probe, the master and what the checks
read, frame hashes, then speech-to-text, the nudity detector and on-screen text OCR side by
side, then the checks), each through Temporal's activity environment with the real
filesystem store in between:

1. fast: `media.prepare` copies the streams into the master and decodes once for the frames,
   thumbnails and speech track; run before and again after the full path (on a shared 2-core
   host the load of other processes moves a run by tens of percent: the mean of the two is
   taken). The HLS ladder it leaves for after the decision is timed apart
   (`ladder_after_decision_s`): it is not part of the wait for the checks;
2. full: `media.transcode`, the one-pass transcode to every output, then the same steps.

The models are loaded and warmed once, before the timed runs, as a worker keeps them. Both
paths must reach the same decision with the same findings and frame hashes. Temporal
scheduling is left out: about 0.06 s per activity step on this class of machine, noise beside
the media work. Besides wall time, each side's CPU time (this process and its children:
ffmpeg, the models' threads) is reported: it moves far less with other people's load than
wall time does. Prints one JSON line on stdout (figures and the ratios); the per-step times
go to stderr.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from temporalio.testing import ActivityEnvironment

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from activities.moderation.activities import MediaActivities, ModelActivities
from activities.moderation.models import NudityScanner, TextEmbedder, Transcriber
from integrations.storage.filesystem import FilesystemStore
from nexus.settings import MediaSettings, ModerationSettings
from workflows.contracts.moderation import (
    BrandSafetyRequest,
    BriefRules,
    EvaluateRequest,
    LadderRequest,
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


def make_clip(path: Path, seconds: int, scratch: Path, bitrate: str) -> None:
    # A phone records 1080p30 H.264 (High profile) at about 16 Mb/s; "crf18" is the clip
    # this bench used before, x264 ultrafast at CRF 18, about 230 Mb/s on this noise.
    rate = (
        ["-preset", "ultrafast", "-crf", "18"]
        if bitrate == "crf18"
        else ["-preset", "superfast", "-profile:v", "high", "-b:v", bitrate,
              "-maxrate", bitrate, "-bufsize", bitrate]
    )  # fmt: skip
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
         "-map", "[v]", "-map", "[a]", "-c:v", "libx264", "-pix_fmt", "yuv420p", *rate,
         "-c:a", "aac", "-movflags", "+faststart", str(path)],
        check=True,
    )  # fmt: skip


@dataclass(frozen=True)
class Run:
    wall_s: float
    cpu_s: float
    steps: dict[str, float]
    outcome: tuple[Any, ...]  # decision, findings, frame hashes


@dataclass(frozen=True)
class Models:
    """Loaded once and warmed before the timed runs, as a worker keeps them: every run then
    pays for the work on its clip, not for reading weights from a cold disk."""

    transcriber: Transcriber
    scanner: NudityScanner
    embedder: TextEmbedder

    @classmethod
    def warm(cls, moderation: ModerationSettings, scratch: Path) -> Models:
        models = cls(
            Transcriber(moderation, "cpu"), NudityScanner(), TextEmbedder(moderation, "cpu")
        )
        frame = scratch / "warm.jpg"
        subprocess.run(
            ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-f", "lavfi",
             "-i", "testsrc2=s=360x640", "-frames:v", "1", str(frame)],
            check=True,
        )  # fmt: skip
        models.transcriber.transcribe(scratch / "speech.wav")
        models.scanner.scan([frame], [0.0])
        models.embedder.garm_matches(["warm up"])
        return models


def pipeline(source: Path, root: Path, media: MediaSettings, loaded: Models, *, fast: bool) -> Run:
    store = FilesystemStore(root / "objects")
    moderation = ModerationSettings()
    cpu = MediaActivities(store, create_engine("sqlite://"), media, moderation)
    models = ModelActivities(
        store, loaded.transcriber, loaded.scanner, loaded.embedder, media.work_dir
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
    convert = TranscodeRequest(asset_id=asset_id, source_key=key, info=probe.info)
    if fast:
        renditions = timed("prepare", cpu.prepare, convert)
        assert renditions.ladder_pending, "the clip was not copied"
    else:
        renditions = timed("transcode", cpu.transcode, convert)
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
    if fast:  # after the decision, off the checks' path
        timed("ladder", cpu.ladder, LadderRequest(asset_id=asset_id, info=probe.info,
                                                  renditions=renditions))  # fmt: skip
    print(f"decision={report.decision} findings={[f.code for f in report.findings]}",
          file=sys.stderr)  # fmt: skip
    outcome = (report.decision, report.findings, hashes.hashes, report.transcript_text)
    return Run(total, used, steps, outcome)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--bitrate", default="16M", help='the clip\'s video bitrate, or "crf18"')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nexus-bench-") as tmp:
        root = Path(tmp)
        media = MediaSettings(work_dir=root / "work")
        source = root / "clip.mp4"
        print(f"generating a {args.seconds} s 1080x1920 noisy clip ...", file=sys.stderr)
        make_clip(source, args.seconds, root, args.bitrate)
        print("loading the models ...", file=sys.stderr)
        loaded = Models.warm(ModerationSettings(), root)
        runs = {}
        for name, fast in (("fast", True), ("full", False), ("fast_again", True)):
            print(f"{name} pipeline ...", file=sys.stderr)
            runs[name] = pipeline(source, root / name, media, loaded, fast=fast)
            print(f"  {runs[name].wall_s:.1f} s {json.dumps(runs[name].steps)}", file=sys.stderr)
        full, fast_runs = runs["full"], (runs["fast"], runs["fast_again"])
        fast_s = sum(r.wall_s for r in fast_runs) / 2
        fast_cpu = sum(r.cpu_s for r in fast_runs) / 2
        print(
            json.dumps(
                {
                    "bench": "moderation",
                    "clip_s": args.seconds,
                    "resolution": "1080x1920",
                    "clip_bitrate": args.bitrate,
                    "clip_mb": round(source.stat().st_size / 1e6, 1),
                    "x264_preset": media.x264_preset,
                    "full_transcode_pipeline_s": round(full.wall_s, 2),
                    "fast_pipeline_s": round(fast_s, 2),
                    "fast_runs_s": [round(r.wall_s, 2) for r in fast_runs],
                    "ratio": round(fast_s / full.wall_s, 2),
                    "full_transcode_pipeline_cpu_s": round(full.cpu_s, 1),
                    "fast_pipeline_cpu_s": round(fast_cpu, 1),
                    "cpu_ratio": round(fast_cpu / full.cpu_s, 2),
                    "same_outcome": all(r.outcome == full.outcome for r in fast_runs),
                    "ladder_after_decision_s": runs["fast"].steps["ladder"],
                    "full_steps_s": full.steps,
                    "fast_steps_s": runs["fast"].steps,
                }
            )
        )


if __name__ == "__main__":
    main()
