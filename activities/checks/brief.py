"""Brief compliance: mandatory mentions said or written, banned words absent, and the length
and aspect ratio the brief asked for."""

from __future__ import annotations

import re

from activities.checks.spoken import clock, normalize
from workflows.contracts.moderation import BriefRules, MediaFinding, MediaInfo, Word

ASPECTS = {"9:16": 9 / 16, "1:1": 1.0, "16:9": 16 / 9, "4:5": 4 / 5}
ASPECT_TOLERANCE = 0.03


def _said(words: list[Word], phrase: str) -> Word | None:
    tokens = [normalize(w.text) for w in words]
    wanted = [normalize(t) for t in phrase.split()]
    wanted = [t for t in wanted if t]
    if not wanted:
        return None
    for i in range(len(tokens) - len(wanted) + 1):
        if tokens[i : i + len(wanted)] == wanted:
            return words[i]
    return None


def _written(caption: str, phrase: str) -> re.Match[str] | None:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", caption, re.IGNORECASE)


def check_brief(
    brief: BriefRules, *, caption: str, words: list[Word], info: MediaInfo
) -> list[MediaFinding]:
    findings: list[MediaFinding] = []
    for mention in brief.mandatory_mentions:
        if _said(words, mention) is None and _written(caption, mention) is None:
            findings.append(
                MediaFinding(
                    check="brief",
                    code="mandatory_mention_missing",
                    severity="block",
                    message=f'The brief asks you to mention "{mention}": say it in the video '
                    "or write it in the caption.",
                )
            )
    for banned in brief.banned_words:
        spoken = _said(words, banned)
        if spoken is not None:
            findings.append(
                MediaFinding(
                    check="brief",
                    code="banned_word_spoken",
                    severity="block",
                    message=f'The brief rules out "{banned}"; it is said at '
                    f"{clock(spoken.start_s)}. Cut or re-record that part.",
                    start_s=spoken.start_s,
                    end_s=spoken.end_s,
                )
            )
        written = _written(caption, banned)
        if written is not None:
            findings.append(
                MediaFinding(
                    check="brief",
                    code="banned_word_written",
                    severity="block",
                    message=f'The brief rules out "{banned}"; remove it from the caption.',
                    span=written.span(),
                )
            )
    duration = info.duration_s
    if brief.min_duration_s is not None and duration < brief.min_duration_s:
        findings.append(
            MediaFinding(
                check="brief",
                code="too_short_for_brief",
                severity="block",
                message=f"The video lasts {duration:.0f} s; the brief asks for at least "
                f"{brief.min_duration_s:g} s.",
            )
        )
    if brief.max_duration_s is not None and duration > brief.max_duration_s + 0.5:
        findings.append(
            MediaFinding(
                check="brief",
                code="too_long_for_brief",
                severity="block",
                message=f"The video lasts {duration:.0f} s; the brief asks for at most "
                f"{brief.max_duration_s:g} s. Trim it.",
            )
        )
    if brief.aspect_ratio is not None:
        wanted = ASPECTS[brief.aspect_ratio]
        actual = info.width / info.height
        if abs(actual - wanted) / wanted > ASPECT_TOLERANCE:
            findings.append(
                MediaFinding(
                    check="brief",
                    code="aspect_ratio_mismatch",
                    severity="block",
                    message=f"The video is {info.width}x{info.height}; the brief asks for "
                    f"{brief.aspect_ratio}. Re-export it in that format.",
                )
            )
    return findings
