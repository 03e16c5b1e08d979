"""Spoken FTC disclosure, from the transcript's word timestamps.

The FTC's "Disclosures 101 for Social Media Influencers": in a video, say the disclosure (not
only write it), early, in words people understand: "ad", "advertisement", "sponsored",
"paid partnership", "thanks to <brand> for the free product", "<brand> partner/ambassador".
"Collab", "spon", or "thanks"/"ambassador" alone are not enough."""

from __future__ import annotations

import itertools
import re

from workflows.contracts.moderation import MediaFinding, ScreenText, Word

_CLEAR = [
    ("sponsored",),
    ("sponsor",),
    ("advertisement",),
    ("ad",),
    ("paid", "partnership"),
    ("paid", "promotion"),
    ("partnered", "with"),
    ("in", "partnership", "with"),
]
_VAGUE = [("collab",), ("collaboration",), ("spon",), ("sp",), ("thanks",), ("ambassador",)]


def normalize(text: str) -> str:
    return re.sub(r"[^\w']+", "", text.casefold())


def _find(words: list[str], phrase: tuple[str, ...]) -> list[int]:
    n = len(phrase)
    return [i for i in range(len(words) - n + 1) if tuple(words[i : i + n]) == phrase]


def _clear_phrases(brand: str) -> list[tuple[str, ...]]:
    phrases = list(_CLEAR)
    # Only the brand's words: "***" would otherwise make "- partner" a "<brand> partner".
    brand_tokens = tuple(token for token in (normalize(t) for t in brand.split()) if token)
    if brand_tokens:
        phrases += [
            (*brand_tokens, "partner"),
            (*brand_tokens, "ambassador"),
            ("thanks", "to", *brand_tokens, "for"),
            ("thank", "you", *brand_tokens, "for"),
            ("brought", "to", "you", "by", *brand_tokens),
            (*brand_tokens, "gifted", "me"),
        ]
    return phrases


# Said just before a disclosure word, these deny it ("this is not sponsored", "I turned down a
# paid partnership"); said around "ad", these make it another word ("1200 AD", "ad hoc").
_DENIALS = {"not", "no", "never", "isn't", "wasn't", "aren't", "without", "non", "nobody"}
_DENIAL_PAIRS = {("turned", "down"), ("said", "no"), ("no", "one")}
_NOT_AN_AD_AFTER = {"hoc", "free", "infinitum", "nauseam", "lib", "blocker", "blockers", "break"}


def _counts(tokens: list[str], index: int, phrase: tuple[str, ...]) -> bool:
    """Whether the phrase said at `index` is a disclosure: not denied, and for "ad" not a
    year, a Latin phrase or an ad blocker."""
    before = tokens[max(0, index - 3) : index]
    if any(t in _DENIALS for t in before) or any(
        pair in _DENIAL_PAIRS for pair in itertools.pairwise(before)
    ):
        return False
    if phrase == ("ad",):
        after = tokens[index + 1] if index + 1 < len(tokens) else ""
        previous = tokens[index - 1] if index > 0 else ""
        if after in _NOT_AN_AD_AFTER or previous.isdigit() or previous in {"bc", "b.c"}:
            return False
    return True


def shown_disclosure_at(shown: list[ScreenText], *, brand: str) -> float | None:
    """When a clear disclosure first appears as on-screen text, if it does. OCR splits
    words ("pa rtn ership"), so a phrase of several words also matches the frame's text
    run together, and a single word matches up to three neighbouring pieces joined."""
    phrases = _clear_phrases(brand)
    for frame in sorted(shown, key=lambda f: f.time_s):
        tokens = [t for t in (normalize(w) for w in frame.text.split()) if t]
        joined = "".join(tokens)
        pieces = {"".join(tokens[i : i + n]) for n in (1, 2, 3) for i in range(len(tokens))}
        if any("".join(p) in joined if len(p) > 1 else p[0] in pieces for p in phrases):
            return frame.time_s
    return None


def check_spoken_disclosure(
    words: list[Word], *, brand: str, within_s: float, shown: list[ScreenText] | None = None
) -> list[MediaFinding]:
    """The disclosure said (or, per the FTC's "said or shown", written on screen) within the
    first `within_s` seconds."""
    shown_at = shown_disclosure_at(shown or [], brand=brand)
    if shown_at is not None and shown_at <= within_s:
        return []
    tokens = [normalize(w.text) for w in words]
    phrases = _clear_phrases(brand)
    hits = sorted((i, p) for p in phrases for i in _find(tokens, p) if _counts(tokens, i, p))
    say = f'"This video is sponsored by {brand}"' if brand else '"This video is sponsored"'
    if hits:
        index, phrase = hits[0]
        at = words[index].start_s
        if at <= within_s:
            return []
        return [
            MediaFinding(
                check="ftc_disclosure",
                code="spoken_disclosure_late",
                severity="block",
                message=f'You say "{" ".join(phrase)}" at {clock(at)}; viewers who stop '
                f"earlier miss it. Say {say} within the first {within_s:g} seconds.",
                start_s=at,
                end_s=words[index + len(phrase) - 1].end_s,
            )
        ]
    vague = sorted((i, p) for p in _VAGUE for i in _find(tokens, p))
    if vague:
        index, phrase = vague[0]
        return [
            MediaFinding(
                check="ftc_disclosure",
                code="spoken_disclosure_insufficient",
                severity="block",
                message=f'"{" ".join(phrase)}" at {clock(words[index].start_s)} is not a clear '
                f"disclosure. Say {say} within the first {within_s:g} seconds.",
                start_s=words[index].start_s,
                end_s=words[index].end_s,
            )
        ]
    return [
        MediaFinding(
            check="ftc_disclosure",
            code="spoken_disclosure_missing",
            severity="block",
            message=f"The video never says or shows that it is sponsored. Say {say} (or show "
            f"it on screen) within the first {within_s:g} seconds.",
            start_s=0.0,
            end_s=within_s,
        )
    ]


def clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"
