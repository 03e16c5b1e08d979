"""What an automated check reports about a submission: the value the rules return and the
delivery contracts carry, and each finding in the words a person reads (the check report,
the brand's review page, the ops review case) instead of its code."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class Finding(BaseModel):
    code: str
    severity: Literal["block", "warn"]
    # The rulebook rule it cites (domain/compliance/rules.py); None for findings outside it.
    rule: str | None = None
    message: str
    span: tuple[int, int] | None = None  # characters of the caption it refers to
    start_s: float | None = None  # where in the video


# GARM brand-safety categories (activities/checks/brand_safety.py), as a person names them:
# the canonical GARM slugs, then the short names of findings stored before them.
GARM_WORDS: dict[str, str] = {
    "adult_explicit": "adult or sexual content",
    "arms_ammunition": "weapons reference",
    "crime_harmful_acts": "crime or harmful acts",
    "death_injury_military_conflict": "death, injury or war",
    "online_piracy": "piracy or counterfeits",
    "hate_speech_aggression": "hate speech or aggression",
    "illegal_drugs_tobacco_ecigs_vaping_alcohol": "drug, alcohol, tobacco or vaping reference",
    "spam_harmful_content": "spam, scams or harmful content",
    "debated_sensitive_social_issues": "debated social issue",
    "adult": "adult or sexual content",
    "arms": "weapons reference",
    "crime": "crime reference",
    "death_injury_conflict": "death, injury or war",
    "piracy": "piracy or counterfeits",
    "hate": "hate speech",
    "obscenity_profanity": "swearing or obscenity",
    "drugs_alcohol_tobacco": "drug, alcohol or tobacco reference",
    "spam": "spam or giveaway bait",
    "terrorism": "terrorism or extremism",
    "debated_social_issues": "debated social issue",
    "misinformation": "misinformation",
}

# Caption rules (domain/disclosure.py): a caption-only draft reports them as they are, a
# video's moderation with the prefix "caption_".
_CAPTION_WORDS: dict[str, str] = {
    "disclosure_missing": "Ad disclosure: the caption doesn't say it's an ad",
    "disclosure_insufficient": "Ad disclosure: the caption's wording isn't clear enough",
    "disclosure_below_fold": 'Ad disclosure: hidden below the caption\'s "more" cut',
    "disclosure_buried": "Ad disclosure: buried among other hashtags",
    "disclosure_wrong_language": "Ad disclosure: not in the caption's language",
    "disclosure_lookalike": "Ad disclosure: written with look-alike letters",
    "disclosure_denied": "Ad disclosure: the caption says it isn't an ad",
    "disclosure_not_upfront": "Ad disclosure: not at the very start (UK)",
    "disclosure_label_only": "Ad disclosure: only the platform's paid-partnership label",
    "mandatory_mention_missing": "Brief: a required mention is missing",
}

FINDING_WORDS: dict[str, str] = {
    # The upload itself (activities/media/probe.py, the moderation's ingest).
    "upload_missing": "Upload: we didn't receive the video",
    "empty_file": "Upload: the file is empty",
    "file_too_large": "Upload: the file is too large",
    "unsupported_type": "Upload: not a video format we accept",
    "unreadable": "Upload: the file can't be read as a video",
    "no_video": "Upload: the file has no picture",
    "unsupported_codec": "Upload: the video's encoding isn't supported",
    "resolution_too_large": "Upload: the picture is larger than we accept",
    "frame_rate_too_high": "Upload: too many frames per second",
    "too_long": "Upload: the video is longer than we accept",
    "too_short": "Upload: the video is too short",
    "too_much_video": "Upload: too much video to process in one upload",
    "corrupt_video": "Upload: the video is damaged or cut short",
    "trailing_data": "Upload: the file holds more than the video",
    "transcode_failed": "Upload: we couldn't convert the video",
    # The ad disclosure, said or shown in the video (activities/checks/spoken.py).
    "spoken_disclosure_missing": "Ad disclosure: the video never says it's an ad",
    "spoken_disclosure_late": "Ad disclosure: said too late in the video",
    "spoken_disclosure_insufficient": "Ad disclosure: what's said isn't clear enough",
    # The brief (activities/checks/brief.py).
    "banned_word_spoken": "Brief: a word the brand rules out is said",
    "banned_word_written": "Brief: a word the brand rules out is in the caption",
    "too_short_for_brief": "Brief: shorter than the brief asks",
    "too_long_for_brief": "Brief: longer than the brief allows",
    "aspect_ratio_mismatch": "Brief: the picture has the wrong shape",
    # Safety (activities/checks/safety.py).
    "child_safety_hash_match": "Child safety: referred to our safety team",
    "nudity_explicit": "Nudity: explicit nudity",
    "nudity_possible": "Nudity: possible nudity",
    # A person's decision on a case held for review (workflows/moderation.py).
    "human_review_rejected": "Review team: changes needed",
    **_CAPTION_WORDS,
    **{f"caption_{code}": words for code, words in _CAPTION_WORDS.items()},
    **{f"garm_{category}": f"Brand safety: {words}" for category, words in GARM_WORDS.items()},
}

SEVERITY_WORDS: dict[str, str] = {
    "block": "must fix",
    "review": "needs review",
    "warn": "warning",
}


def finding_words(code: str) -> str:
    """The finding's kind in words; a code without words still reads as words, never as
    an identifier."""
    words = FINDING_WORDS.get(code)
    if words is not None:
        return words
    text = code.replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else "Finding"


def severity_words(severity: str) -> str:
    return SEVERITY_WORDS.get(severity, severity.replace("_", " "))


def clock(seconds: float) -> str:
    """A moment of a video as a player shows it: 0:04, 1:07, 1:02:03."""
    total = max(int(seconds), 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def finding_line(code: str, severity: str, start_s: float | None = None) -> str:
    """One finding in a line: "0:04 — Brand safety: drug, alcohol or tobacco reference
    (warning)"; without a moment, the words and the severity alone."""
    words = f"{finding_words(code)} ({severity_words(severity)})"
    return words if start_s is None else f"{clock(start_s)} — {words}"
