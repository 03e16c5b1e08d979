"""Contracts of the moderation pipeline (ModerationWorkflow and its activities)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Severity = Literal["block", "review", "warn"]
Decision = Literal["pass", "block", "review"]
CheckName = Literal[
    "ingest", "ftc_disclosure", "brief", "brand_safety", "child_safety", "nudity", "human_review"
]  # fmt: skip


class MediaFinding(BaseModel):
    """One thing a check found, with what the creator (or ops) can do about it."""

    check: CheckName
    code: str
    severity: Severity
    message: str
    span: tuple[int, int] | None = None  # characters of the caption it refers to
    start_s: float | None = None  # where in the video
    end_s: float | None = None


class MediaInfo(BaseModel):
    """What ffprobe found in the file (not what its name or header claims); of a photo, what
    its decoder found (no duration, no frame rate, its format as the codec)."""

    container: str
    size_bytes: int
    duration_s: float
    width: int  # as displayed (rotation applied)
    height: int
    fps: float
    video_codec: str
    audio_codec: str | None
    # The video stream's codec profile and pixel format ("High", "yuv420p"): whether a
    # browser plays the stream as it is. None in probes recorded before they were kept.
    video_profile: str | None = None
    pix_fmt: str | None = None


class HashMatch(BaseModel):
    time_s: float
    distance: int
    list_name: str
    # "pdq": a frame near a listed picture; "md5": the file's bytes are listed.
    kind: Literal["pdq", "md5"] = "pdq"


class ProbeResult(BaseModel):
    info: MediaInfo | None
    rejection: MediaFinding | None = None
    # SHA-256 of the upload's bytes: the same file sent again reuses its analysis.
    sha256: str | None = None
    # The upload's MD5 on a child-safety list: the file is quarantined before it is decoded.
    matches: list[HashMatch] = Field(default_factory=list)


class BriefRules(BaseModel):
    """What the campaign brief asks of the video."""

    disclosure_required: bool = True
    brand: str = ""
    mandatory_mentions: list[str] = Field(default_factory=list)
    banned_words: list[str] = Field(default_factory=list)
    min_duration_s: float | None = None
    max_duration_s: float | None = None
    aspect_ratio: Literal["9:16", "1:1", "16:9", "4:5"] | None = "9:16"
    # The disclosure rules' target markets (empty: the default) and posting platform.
    markets: list[str] = Field(default_factory=list)
    platform: Literal["instagram", "tiktok", "youtube_shorts"] | None = None
    # The language of the endorsement (None: the caption's, as the identifier reads it).
    language: str | None = None
    # Brand-safety sensitivity: "high" turns GARM warnings into reviews.
    sensitivity: Literal["low", "medium", "high"] = "medium"


MediaKind = Literal["video", "photo"]


class ModerationRequest(BaseModel):
    asset_id: uuid.UUID
    source_key: str
    kind: MediaKind = "video"
    caption: str = ""
    brief: BriefRules = Field(default_factory=BriefRules)
    # Ops answer a human review within this time or it escalates.
    review_sla_s: int = 4 * 3600
    # A transcode or model run whose worker stops heartbeating this long is retried elsewhere.
    heartbeat_timeout_s: int = 30
    # How long GPU work waits for a GPU worker before it runs on the CPU pool instead.
    gpu_wait_s: int = 300


class Renditions(BaseModel):
    """A video's renditions, or a photo's: its JPEG master, thumbnail and one frame (a photo
    has no playlist, contact sheet or audio)."""

    prefix: str  # every rendition of the asset lives under this key prefix
    master_key: str
    hls_key: str | None  # the master playlist
    thumbnail_keys: list[str]
    contact_sheet_key: str | None
    audio_key: str | None  # 16 kHz mono WAV
    frame_keys: list[str]  # sampled frames, for hashes and the nudity detector
    frame_times: list[float]
    # The master is the upload's own streams, copied; the HLS ladder and the contact sheet
    # (at `hls_key`, `contact_sheet_key`) follow after the decision.
    ladder_pending: bool = False


class TranscodeRequest(BaseModel):
    asset_id: uuid.UUID
    source_key: str
    info: MediaInfo


class LadderRequest(BaseModel):
    """The renditions the checks did not need: made from the master after the decision."""

    asset_id: uuid.UUID
    info: MediaInfo
    renditions: Renditions


class FrameHash(BaseModel):
    time_s: float
    pdq: str  # 64 hex digits
    quality: int


class FrameHashes(BaseModel):
    hashes: list[FrameHash]
    matches: list[HashMatch]


class Word(BaseModel):
    text: str
    start_s: float
    end_s: float


class Segment(BaseModel):
    text: str
    start_s: float
    end_s: float


class Transcript(BaseModel):
    language: str
    segments: list[Segment]
    words: list[Word]

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments).strip()


class FrameScore(BaseModel):
    time_s: float
    label: str
    score: float


class NudityScan(BaseModel):
    frames: list[FrameScore]  # the highest-scoring exposed class per frame that has one


class ScreenText(BaseModel):
    time_s: float
    text: str  # what OCR read on the frame shown at `time_s`


class MediaAnalysis(BaseModel):
    """Everything learned from a file's bytes alone: the same bytes give the same analysis,
    so a resubmission (a fixed caption, the same video) skips the transcode and the models."""

    renditions: Renditions
    hashes: list[FrameHash]
    transcript: Transcript
    nudity: NudityScan
    screen_text: list[ScreenText] = Field(default_factory=list)


class ReuseRequest(BaseModel):
    asset_id: uuid.UUID
    sha256: str


class ReusedAnalysis(BaseModel):
    analysis: MediaAnalysis  # renditions copied under this asset's own prefix
    hashes: FrameHashes  # matched against today's hash lists


class SaveAnalysis(BaseModel):
    sha256: str
    analysis: MediaAnalysis


class BrandSafetyRequest(BaseModel):
    words: list[Word]  # what is said, with the punctuation speech-to-text gave it
    caption: str


class SemanticMatch(BaseModel):
    """Speech or caption whose meaning is close to a GARM category's description."""

    category: str
    score: float  # cosine similarity of the sentence embeddings
    text: str
    start_s: float | None = None  # where it is said; None for the caption
    end_s: float | None = None


class EvaluateRequest(BaseModel):
    request: ModerationRequest
    info: MediaInfo
    renditions: Renditions
    hashes: FrameHashes
    transcript: Transcript
    nudity: NudityScan
    screen_text: list[ScreenText] = Field(default_factory=list)
    semantic: list[SemanticMatch] = Field(default_factory=list)


class ReviewDecision(BaseModel):
    decision: Literal["pass", "block"]
    reason: str = Field(min_length=1, max_length=2000)
    reviewer: str = Field(min_length=1, max_length=200)


class ModerationReport(BaseModel):
    asset_id: uuid.UUID
    decision: Decision
    reason: str
    findings: list[MediaFinding]
    info: MediaInfo | None = None
    renditions: Renditions | None = None
    transcript_text: str = ""
    captions_vtt_key: str | None = None
    captions_srt_key: str | None = None
    report_key: str | None = None
    reviewed_by: str | None = None
    decided_at: datetime | None = None


class ProbeRequest(BaseModel):
    asset_id: uuid.UUID
    source_key: str
    kind: MediaKind = "video"


class QuarantineRequest(BaseModel):
    asset_id: uuid.UUID
    source_key: str
    reason: str
    # The stored analysis of these bytes, which must never be reused again.
    sha256: str | None = None


class ReviewCase(BaseModel):
    """A video held for a person: what ops see (the caption, the findings, the checked
    master to play) and by when it must be decided."""

    asset_id: uuid.UUID
    caption: str
    reason: str
    findings: list[MediaFinding]
    master_key: str | None = None
    captions_vtt_key: str | None = None
    opened_at: datetime
    due_at: datetime


class ReviewRecipient(BaseModel):
    """The creator of a held draft (a delivery's submission): who is told a person reviews
    it, and where their delivery is."""

    user_id: uuid.UUID
    delivery_id: uuid.UUID
    campaign_title: str


class ReviewClosed(BaseModel):
    asset_id: uuid.UUID
    decision: Literal["pass", "block"]
    note: str
    reviewer: str
    decided_at: datetime


class EscalationRequest(BaseModel):
    asset_id: uuid.UUID
    kind: Literal["child_safety", "review_overdue"]
    reason: str


Stage = Literal["probing", "transcoding", "analyzing", "review", "done"]


class ModerationStatus(BaseModel):
    asset_id: uuid.UUID
    stage: Stage
    decision: Decision | None = None
    escalated: bool = False
    # While a person reviews it: by when they decide.
    review_due_at: datetime | None = None
