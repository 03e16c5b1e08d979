"""Moderation activities. `MediaActivities` run on the CPU pool (probe, transcode, hashes,
checks, quarantine); `ModelActivities` on the GPU pool (speech-to-text, nudity detector).

Every activity reads its inputs from object storage and writes its outputs back under keys
derived from the asset id, so a retry (after a crash or on another worker) redoes the same
work into the same keys."""

from __future__ import annotations

import contextvars
import hashlib
import json
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.checks.subtitles import to_srt, to_webvtt
from activities.media.hashes import HashLists, hash_frame
from activities.media.ocr import read_frame_text
from activities.media.photo import PhotoFailed, probe_photo, render_photo
from activities.media.probe import check_report, probe_report
from activities.media.tools import Limits, ToolTimeout
from activities.media.transcode import (
    TranscodeFailed,
    ladder,
    prepare,
    stream_copyable,
    transcode,
)
from activities.moderation.decision import decide, run_checks
from activities.moderation.models import NudityScanner, TextEmbedder, Transcriber
from integrations.storage import ObjectNotFound, ObjectStore
from models.db import session_scope
from models.moderation import close_review, open_escalation, open_review, recipient_of
from nexus.settings import MediaSettings, ModerationSettings
from workflows.contracts.moderation import (
    BrandSafetyRequest,
    EscalationRequest,
    EvaluateRequest,
    FrameHash,
    FrameHashes,
    HashMatch,
    LadderRequest,
    MediaAnalysis,
    MediaFinding,
    ModerationReport,
    NudityScan,
    ProbeRequest,
    ProbeResult,
    QuarantineRequest,
    Renditions,
    ReusedAnalysis,
    ReuseRequest,
    ReviewCase,
    ReviewClosed,
    ReviewRecipient,
    SaveAnalysis,
    ScreenText,
    Segment,
    SemanticMatch,
    TranscodeRequest,
    Transcript,
    Word,
)

CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".jpg": "image/jpeg",
    ".wav": "audio/wav",
}


def rendition_prefix(asset_id: uuid.UUID) -> str:
    return f"media/{asset_id}/"


def _digests(path: Path) -> tuple[str, str]:
    """SHA-256 (the analysis is reused by it) and MD5 (child-safety lists name files by it) of
    a file, in one read."""
    sha256, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    with path.open("rb") as raw:
        while chunk := raw.read(1 << 20):
            sha256.update(chunk)
            md5.update(chunk)
    return sha256.hexdigest(), md5.hexdigest()


def analysis_key(sha256: str) -> str:
    return f"analysis/{sha256}.json"


def probe_key(sha256: str) -> str:
    return f"analysis/{sha256}.probe.json"


@contextmanager
def scratch(work_dir: Path | None) -> Iterator[Path]:
    if work_dir is not None:
        work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nexus-media-", dir=work_dir) as tmp:
        yield Path(tmp)


@contextmanager
def heartbeating(every_s: float = 1.0) -> Iterator[list[float]]:
    """Heartbeat on a timer for as long as the block runs, with the latest progress the
    block appends: an encoder can be silent for seconds while it fills its lookahead, and
    a heartbeat only on progress lines would let a healthy transcode time out."""
    progress: list[float] = [0.0]
    stop = threading.Event()
    context = contextvars.copy_context()  # the activity's context, for the timer thread

    def beat() -> None:
        while not stop.wait(every_s):
            context.run(activity.heartbeat, progress[-1])

    ticker = threading.Thread(target=beat, daemon=True)
    ticker.start()
    try:
        yield progress
    finally:
        stop.set()
        ticker.join()


def _download(store: ObjectStore, key: str, dest: Path) -> Path:
    try:
        store.get_file(key, dest)
    except ObjectNotFound:
        raise ApplicationError(
            f"no object at {key}", type="MediaMissing", non_retryable=True
        ) from None
    return dest


def _moved(renditions: Renditions, prefix: str) -> Renditions:
    def move(key: str) -> str:
        return prefix + key.removeprefix(renditions.prefix)

    def move_any(key: str | None) -> str | None:
        return None if key is None else move(key)

    return Renditions(
        prefix=prefix,
        master_key=move(renditions.master_key),
        hls_key=move_any(renditions.hls_key),
        thumbnail_keys=[move(k) for k in renditions.thumbnail_keys],
        contact_sheet_key=move_any(renditions.contact_sheet_key),
        audio_key=move_any(renditions.audio_key),
        frame_keys=[move(k) for k in renditions.frame_keys],
        frame_times=renditions.frame_times,
        ladder_pending=renditions.ladder_pending,
    )


class MediaActivities:
    def __init__(
        self,
        store: ObjectStore,
        engine: Engine,
        media: MediaSettings,
        moderation: ModerationSettings,
    ) -> None:
        self._store = store
        self._engine = engine
        self._media = media
        self._moderation = moderation
        # A bad configured list stops the worker at start, not mid-review; a synced list is
        # read again whenever a sync rewrites it.
        synced = moderation.threatexchange
        self._hash_lists = HashLists(
            moderation.hash_lists, synced.list_path if synced.configured else None
        )
        self._transcode_slots = threading.BoundedSemaphore(media.max_concurrent_transcodes)

    @activity.defn(name="media.probe")
    def probe(self, request: ProbeRequest) -> ProbeResult:
        try:
            size = self._store.stat(request.source_key).size
        except ObjectNotFound:
            # An expected outcome (an upload never finished), not a failed process.
            return ProbeResult(
                info=None,
                rejection=MediaFinding(
                    check="ingest",
                    code="upload_missing",
                    severity="block",
                    message="We did not receive your video. Upload it again.",
                ),
            )
        if size > self._media.max_upload_bytes:
            # Refused before a byte is downloaded.
            return ProbeResult(
                info=None,
                rejection=MediaFinding(
                    check="ingest",
                    code="file_too_large",
                    severity="block",
                    message=f"The file is {size / 1e6:,.1f} MB; the limit is "
                    f"{self._media.max_upload_bytes / 1e6:,.1f} MB.",
                ),
            )
        with heartbeating(), scratch(self._media.work_dir) as tmp:
            source = _download(self._store, request.source_key, tmp / "source")
            digest, md5 = _digests(source)
            listed = [
                HashMatch(time_s=0, distance=0, list_name=hash_list.name, kind="md5")
                for hash_list in self._hash_lists.current()
                if md5 in hash_list.md5
            ]
            if listed:
                # Known abuse by its bytes: not decoded, not probed, not kept.
                return ProbeResult(info=None, sha256=digest, matches=listed)
            if request.kind == "photo":
                return probe_photo(source, self._media)
            # Bytes probed before (a resubmission) skip ffprobe and the decode check.
            try:
                self._store.get_file(probe_key(digest), tmp / "probe.json")
            except ObjectNotFound:
                result, report = probe_report(source, self._media)
                if report is not None:
                    (tmp / "probe.json").write_text(json.dumps(report))
                    self._store.put_file(probe_key(digest), tmp / "probe.json", "application/json")
            else:
                known = json.loads((tmp / "probe.json").read_bytes())
                result = check_report(known, size, self._media)
            if result.info is None:
                return result
            return result.model_copy(update={"sha256": digest})

    @activity.defn(name="media.transcode")
    def transcode(self, request: TranscodeRequest) -> Renditions:
        return self._transcode(request)

    @activity.defn(name="media.prepare")
    def prepare(self, request: TranscodeRequest) -> Renditions:
        """What the checks need, soonest: an upload that is already a master is copied,
        not encoded, and its ladder left for later; any other gets the full transcode."""
        if not stream_copyable(request.info):
            return self._transcode(request)
        prefix = rendition_prefix(request.asset_id)
        with heartbeating(), scratch(self._media.work_dir) as tmp:
            source = _download(self._store, request.source_key, tmp / "source")
            out = tmp / "out"
            with self._converting() as progress:
                outputs = prepare(source, request.info, out, self._media, progress.append)
            self._upload(out, prefix)
        return Renditions(
            prefix=prefix,
            master_key=prefix + outputs.master,
            hls_key=prefix + "hls/master.m3u8",
            thumbnail_keys=[prefix + k for k in outputs.thumbnails],
            contact_sheet_key=prefix + "contact.jpg",
            audio_key=prefix + outputs.audio,
            frame_keys=[prefix + k for k in outputs.frames],
            frame_times=outputs.frame_times,
            ladder_pending=True,
        )

    @activity.defn(name="media.prepare_photo")
    def prepare_photo(self, request: TranscodeRequest) -> Renditions:
        """A probed photo's master (upright, without its metadata), thumbnail and the frame
        the hashes and models read."""
        prefix = rendition_prefix(request.asset_id)
        with heartbeating(), scratch(self._media.work_dir) as tmp:
            source = _download(self._store, request.source_key, tmp / "source")
            out = tmp / "out"
            try:
                outputs = render_photo(source, out, self._media)
            except PhotoFailed as exc:
                raise ApplicationError(
                    f"photo failed: {exc}", type="TranscodeFailed", non_retryable=True
                ) from exc
            self._upload(out, prefix)
        return Renditions(
            prefix=prefix,
            master_key=prefix + outputs.master,
            hls_key=None,
            thumbnail_keys=[prefix + outputs.thumbnail],
            contact_sheet_key=None,
            audio_key=None,
            frame_keys=[prefix + outputs.frame],
            frame_times=[0.0],
        )

    @activity.defn(name="media.ladder")
    def ladder(self, request: LadderRequest) -> Renditions:
        """The HLS ladder and the contact sheet of a copied master, at the keys its
        renditions already name."""
        renditions = request.renditions
        with heartbeating(), scratch(self._media.work_dir) as tmp:
            master = _download(self._store, renditions.master_key, tmp / "master.mp4")
            out = tmp / "out"
            with self._converting() as progress:
                hls, sheet = ladder(master, request.info, out, self._media, progress.append)
            self._upload(out, renditions.prefix)
        return renditions.model_copy(
            update={
                "hls_key": renditions.prefix + hls,
                "contact_sheet_key": renditions.prefix + sheet,
                "ladder_pending": False,
            }
        )

    def _transcode(self, request: TranscodeRequest) -> Renditions:
        prefix = rendition_prefix(request.asset_id)
        with heartbeating(), scratch(self._media.work_dir) as tmp:
            source = _download(self._store, request.source_key, tmp / "source")
            out = tmp / "out"
            with self._converting() as progress:
                outputs = transcode(source, request.info, out, self._media, progress.append)
            self._upload(out, prefix)
        return Renditions(
            prefix=prefix,
            master_key=prefix + outputs.master,
            hls_key=prefix + outputs.hls,
            thumbnail_keys=[prefix + k for k in outputs.thumbnails],
            contact_sheet_key=prefix + outputs.contact_sheet,
            audio_key=prefix + outputs.audio,
            frame_keys=[prefix + k for k in outputs.frames],
            frame_times=outputs.frame_times,
        )

    @contextmanager
    def _converting(self) -> Iterator[list[float]]:
        """One of the worker's transcode slots, heartbeating while it waits for it too (a
        queued transcode is not a dead one); a file ffmpeg cannot convert in time is the
        creator's to fix."""
        try:
            with heartbeating() as progress, self._transcode_slots:
                yield progress
        except (TranscodeFailed, ToolTimeout) as exc:
            raise ApplicationError(
                f"transcode failed: {exc}", type="TranscodeFailed", non_retryable=True
            ) from exc

    def _upload(self, out: Path, prefix: str) -> None:
        for path in sorted(p for p in out.rglob("*") if p.is_file()):
            relative = path.relative_to(out).as_posix()
            content_type = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
            self._store.put_file(prefix + relative, path, content_type)
            activity.heartbeat("uploading")

    @activity.defn(name="media.hash_frames")
    def hash_frames(self, renditions: Renditions) -> FrameHashes:
        hashes: list[FrameHash] = []
        with heartbeating(), scratch(self._media.work_dir) as tmp:
            for i, (key, time_s) in enumerate(
                zip(renditions.frame_keys, renditions.frame_times, strict=True)
            ):
                found = hash_frame(_download(self._store, key, tmp / f"{i}.jpg"))
                hashes.append(FrameHash(time_s=time_s, pdq=found.hex, quality=found.quality))
        return self._match(hashes)

    def _match(self, hashes: list[FrameHash]) -> FrameHashes:
        matches: list[HashMatch] = []
        lists = self._hash_lists.current()
        for found in hashes:
            # Flat or featureless frames hash unreliably: they neither match nor clear.
            if found.quality < self._moderation.pdq_min_quality:
                continue
            for hash_list in lists:
                distance = hash_list.nearest(found.pdq)
                if distance is not None and distance <= self._moderation.pdq_match_distance:
                    matches.append(
                        HashMatch(time_s=found.time_s, distance=distance, list_name=hash_list.name)
                    )
        return FrameHashes(hashes=hashes, matches=matches)

    @activity.defn(name="media.read_screen_text")
    def read_screen_text(self, renditions: Renditions) -> list[ScreenText]:
        """On-screen text inside the disclosure window (a disclosure shown later does not
        count, so later frames are not read), one frame every `screen_text_every_s`: a
        disclosure has to stay on screen long enough to be read, so it spans several."""
        window = self._moderation.spoken_disclosure_within_s
        every = self._moderation.screen_text_every_s
        limits = Limits(self._media.probe_timeout_s, self._media.tool_memory_bytes)
        found: list[ScreenText] = []
        last_read = -every
        with scratch(self._media.work_dir) as tmp:
            for i, (key, time_s) in enumerate(
                zip(renditions.frame_keys, renditions.frame_times, strict=True)
            ):
                if time_s > window:
                    break
                if time_s - last_read < every:
                    continue
                last_read = time_s
                text = read_frame_text(_download(self._store, key, tmp / f"{i}.jpg"), tmp, limits)
                if text:
                    found.append(ScreenText(time_s=time_s, text=text))
                activity.heartbeat(i)
        return found

    @activity.defn(name="media.reuse_analysis")
    def reuse_analysis(self, request: ReuseRequest) -> ReusedAnalysis | None:
        """The stored analysis of the same bytes, its renditions copied under this asset's
        prefix and its frame hashes matched against today's lists; None when there is none
        or its renditions are gone."""
        with scratch(self._media.work_dir) as tmp:
            try:
                self._store.get_file(analysis_key(request.sha256), tmp / "analysis.json")
            except ObjectNotFound:
                return None
            stored = MediaAnalysis.model_validate_json((tmp / "analysis.json").read_bytes())
        old, new = stored.renditions.prefix, rendition_prefix(request.asset_id)
        renditions = _moved(stored.renditions, new)
        try:
            for key in self._store.list_keys(old):
                self._store.copy(key, new + key.removeprefix(old))
            self._store.stat(renditions.master_key)
        except ObjectNotFound:
            return None
        if renditions.ladder_pending and renditions.hls_key is not None:
            # The first asset's ladder may have been made since its analysis was saved.
            try:
                self._store.stat(renditions.hls_key)
            except ObjectNotFound:
                pass
            else:
                renditions = renditions.model_copy(update={"ladder_pending": False})
        analysis = stored.model_copy(update={"renditions": renditions})
        return ReusedAnalysis(analysis=analysis, hashes=self._match(stored.hashes))

    @activity.defn(name="media.save_analysis")
    def save_analysis(self, request: SaveAnalysis) -> str:
        key = analysis_key(request.sha256)
        with scratch(self._media.work_dir) as tmp:
            path = tmp / "analysis.json"
            path.write_text(request.analysis.model_dump_json())
            self._store.put_file(key, path, "application/json")
        return key

    @activity.defn(name="moderation.evaluate")
    def evaluate(self, evidence: EvaluateRequest) -> ModerationReport:
        findings = run_checks(evidence, self._moderation)
        decision, reason = decide(findings)
        vtt_key: str | None = None
        srt_key: str | None = None
        if evidence.request.kind == "video":  # a photo has nothing to caption
            prefix = evidence.renditions.prefix
            vtt_key, srt_key = prefix + "captions.vtt", prefix + "captions.srt"
            with scratch(self._media.work_dir) as tmp:
                segments = evidence.transcript.segments
                (tmp / "c.vtt").write_text(to_webvtt(segments), encoding="utf-8")
                (tmp / "c.srt").write_text(to_srt(segments), encoding="utf-8")
                self._store.put_file(vtt_key, tmp / "c.vtt", "text/vtt")
                self._store.put_file(srt_key, tmp / "c.srt", "application/x-subrip")
        return ModerationReport(
            asset_id=evidence.request.asset_id,
            decision=decision,
            reason=reason,
            findings=findings,
            info=evidence.info,
            renditions=evidence.renditions,
            transcript_text=evidence.transcript.text,
            captions_vtt_key=vtt_key,
            captions_srt_key=srt_key,
        )

    @activity.defn(name="moderation.store_report")
    def store_report(self, report: ModerationReport) -> str:
        key = rendition_prefix(report.asset_id) + "report.json"
        with scratch(self._media.work_dir) as tmp:
            path = tmp / "report.json"
            path.write_text(json.dumps(report.model_dump(mode="json"), indent=2))
            self._store.put_file(key, path, "application/json")
        return key

    @activity.defn(name="moderation.quarantine")
    def quarantine(self, request: QuarantineRequest) -> int:
        """Take the upload and every rendition out of storage (presigned links die with them)
        and open the ops escalation. Returns how many objects were removed."""
        with session_scope(self._engine) as session:
            open_escalation(session, request.asset_id, "child_safety", request.reason)
        keys = [request.source_key, *self._store.list_keys(rendition_prefix(request.asset_id))]
        if request.sha256 is not None:
            keys += [analysis_key(request.sha256), probe_key(request.sha256)]
        for key in keys:
            self._store.delete(key)
        return len(keys)

    @activity.defn(name="moderation.escalate")
    def escalate(self, request: EscalationRequest) -> bool:
        with session_scope(self._engine) as session:
            return open_escalation(session, request.asset_id, request.kind, request.reason)

    @activity.defn(name="moderation.open_review")
    def open_review(self, case: ReviewCase) -> ReviewRecipient | None:
        """Record the case ops review (once), and answer whose draft it is, if a creator's:
        they are told a person is on it."""
        with session_scope(self._engine) as session:
            open_review(session, case)
            return recipient_of(session, case.asset_id)

    @activity.defn(name="moderation.close_review")
    def close_review(self, closed: ReviewClosed) -> None:
        with session_scope(self._engine) as session:
            close_review(session, closed)


def sentences(words: list[Word], max_words: int = 30, pause_s: float = 1.0) -> list[Segment]:
    """Speech split into sentences (at end punctuation or a pause): one sentence carries one
    meaning, where a speech-to-text segment may run several together."""
    out: list[Segment] = []
    current: list[Word] = []
    for word in words:
        if current and (word.start_s - current[-1].end_s > pause_s or len(current) >= max_words):
            out.append(_sentence(current))
            current = []
        current.append(word)
        if word.text.rstrip().endswith((".", "!", "?")):
            out.append(_sentence(current))
            current = []
    if current:
        out.append(_sentence(current))
    return out


def semantic_matches(
    embedder: TextEmbedder, caption: str, words: list[Word]
) -> list[SemanticMatch]:
    """The spoken sentences and caption lines whose meaning is close to a GARM category: what
    the checks of a draft and `nexus compliance brand-safety` both ask the embedder."""
    lines = [line.strip() for line in caption.splitlines() if line.strip()]
    spoken = sentences(words)
    texts = [s.text for s in spoken] + lines
    matches = []
    for i, category, score in embedder.garm_matches(texts):
        said = spoken[i] if i < len(spoken) else None
        matches.append(
            SemanticMatch(
                category=category,
                score=score,
                text=texts[i],
                start_s=said.start_s if said else None,
                end_s=said.end_s if said else None,
            )
        )
    return matches


def _sentence(words: list[Word]) -> Segment:
    text = " ".join(w.text.strip() for w in words).strip()
    return Segment(text=text, start_s=words[0].start_s, end_s=words[-1].end_s)


class ModelActivities:
    def __init__(
        self,
        store: ObjectStore,
        transcriber: Transcriber,
        scanner: NudityScanner,
        embedder: TextEmbedder,
        work_dir: Path | None,
    ) -> None:
        self._store = store
        self._transcriber = transcriber
        self._scanner = scanner
        self._embedder = embedder
        self._work_dir = work_dir

    @activity.defn(name="media.garm_similarity")
    def garm_similarity(self, request: BrandSafetyRequest) -> list[SemanticMatch]:
        """Speech segments and caption lines close in meaning to a GARM category."""
        with heartbeating():  # the model may load first: alive, not stuck
            return semantic_matches(self._embedder, request.caption, request.words)

    @activity.defn(name="media.transcribe")
    def transcribe(self, renditions: Renditions) -> Transcript:
        assert renditions.audio_key is not None, "only a video is transcribed"
        with heartbeating(), scratch(self._work_dir) as tmp:
            wav = _download(self._store, renditions.audio_key, tmp / "audio.wav")
            return self._transcriber.transcribe(wav)

    @activity.defn(name="media.detect_nudity")
    def detect_nudity(self, renditions: Renditions) -> NudityScan:
        with heartbeating(), scratch(self._work_dir) as tmp:
            frames = [
                _download(self._store, key, tmp / f"{i}.jpg")
                for i, key in enumerate(renditions.frame_keys)
            ]
            return NudityScan(frames=self._scanner.scan(frames, renditions.frame_times))
