"""Child safety and nudity findings.

A hash-list match blocks the asset outright and is never shown to the creator in detail (the
message says only that it went to the safety team). Nudity scores come from the detector,
thresholds from settings: at or above `block` the asset is blocked, at or above `review` a
human decides."""

from __future__ import annotations

from activities.checks.spoken import clock
from workflows.contracts.moderation import FrameScore, HashMatch, MediaFinding


def check_child_safety(matches: list[HashMatch]) -> list[MediaFinding]:
    if not matches:
        return []
    first = min(matches, key=lambda m: m.time_s)
    return [
        MediaFinding(
            check="child_safety",
            code="child_safety_hash_match",
            severity="block",
            message="This upload cannot be accepted. It has been referred to our safety team.",
            start_s=first.time_s,
        )
    ]


def check_nudity(
    frames: list[FrameScore], *, review_score: float, block_score: float
) -> list[MediaFinding]:
    blocked = [f for f in frames if f.score >= block_score]
    if blocked:
        return [_finding("nudity_explicit", "block", blocked)]
    flagged = [f for f in frames if f.score >= review_score]
    if flagged:
        return [_finding("nudity_possible", "review", flagged)]
    return []


def _finding(code: str, severity: str, frames: list[FrameScore]) -> MediaFinding:
    first, last = frames[0], frames[-1]
    return MediaFinding(
        check="nudity",
        code=code,
        severity="block" if severity == "block" else "review",
        message=f"Nudity detected from {clock(first.time_s)} to {clock(last.time_s)} "
        f"({len(frames)} sampled frames). Remove or cover it; the brief does not allow it.",
        start_s=first.time_s,
        end_s=last.time_s,
    )
