"""The ad disclosure in a caption, under the rules of the draft's target markets.

The caption is folded first (domain/compliance/text.py); its endorsement's language is the one
declared, checked by the language identifier (domain/compliance/language.py); the wording comes
from domain/compliance/lexicon.py; each finding cites the rule it breaks
(domain/compliance/rules.py)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from domain.compliance import lexicon
from domain.compliance.language import LANGUAGE_NAMES, endorsement_languages
from domain.compliance.rules import applicable, rule_for
from domain.compliance.text import Folded, fold
from domain.findings import Finding

Platform = Literal["instagram", "tiktok", "youtube_shorts"]
Kind = Literal["ad", "sponsored", "gift"]


@dataclass(frozen=True)
class Preview:
    """What a platform shows of a caption before its "more" cut."""

    chars: int
    lines: int


# Instagram's feed shows about 125 characters on two lines; TikTok's For You feed about 100 on
# two lines; YouTube Shorts one line of about 70 under the player. Without a platform, the
# longest one applies (Instagram's).
PREVIEWS: dict[str, Preview] = {
    "instagram": Preview(125, 2),
    "tiktok": Preview(100, 2),
    "youtube_shorts": Preview(70, 1),
}
DEFAULT_PREVIEW = PREVIEWS["instagram"]
# The platforms a license's rights name, as the previews know them.
_POSTED_ON: dict[str, Platform] = {
    "instagram": "instagram", "tiktok": "tiktok", "youtube": "youtube_shorts",
    "youtube_shorts": "youtube_shorts",
}  # fmt: skip


def posting_platform(platforms: list[str]) -> Platform | None:
    """Where a draft will be posted, when the brief's rights name exactly one platform whose
    preview the rules know; None (the longest preview applies) otherwise."""
    found = {_POSTED_ON[p] for p in (p.strip().lower() for p in platforms) if p in _POSTED_ON}
    return found.pop() if len(found) == 1 else None


# The ASA's "up front": the label opens the post, within its first words.
UPFRONT_CHARS = 40
# Hashtags in a row that make a cluster a disclosure gets lost in.
CLUSTER = 3
# How far before a disclosure word a denial is looked for, in words.
NEGATION_WORDS = 4


@dataclass(frozen=True)
class Match:
    start: int  # in the folded text
    end: int
    kind: Kind
    language: str
    lookalike: bool
    hashtag: bool


_HASHTAG = re.compile(r"#[^\s#]+")
_CLAUSE_END = re.compile(
    r"[.!?\n|;:,()\[\]]|\bbut\b|\bpero\b|\bmais\b|\baber\b|\bma\b|\bmas\b|\bmaar\b"
)


def _brand_patterns(brand: str) -> tuple[str, str]:
    tokens = re.findall(r"\w+", fold(brand).text)
    if not tokens:
        generic = r"(?!(?:a|an|the|my|our|your|proud|brand|official|best|life|crime)\b)@?[\w&'.-]+"
        tag = r"(?!(?:brand|proud|official|best|life|crime)(?:partner|ambassador))[a-z0-9]{2,}?"
        return generic, tag
    brand_re = "@?" + r"[\s_.&'-]*".join(re.escape(t) for t in tokens)
    tag_re = "_?".join(re.escape(t) for t in tokens)
    return f"(?:{brand_re})", f"(?:{tag_re})"


def _fill(pattern: str, brand: str, tag: str) -> str:
    return pattern.replace("{brand}", brand).replace("{tag}", tag)


@lru_cache(maxsize=256)
def _compiled(
    language: str, brand: str
) -> tuple[list[tuple[Kind, re.Pattern[str]]], list[re.Pattern[str]], list[re.Pattern[str]]]:
    brand_re, tag_re = _brand_patterns(brand)
    clear: list[tuple[Kind, re.Pattern[str]]] = [
        (kind, re.compile(_fill(p, brand_re, tag_re)))  # type: ignore[misc]
        for kind, p in lexicon.CLEAR[language]
    ]
    vague = [re.compile(_fill(p, brand_re, tag_re)) for p in lexicon.VAGUE[language]]
    denials = [re.compile(_fill(p, brand_re, tag_re)) for p in lexicon.DENIALS[language]]
    return clear, vague, denials


_NEGATORS = {lang: re.compile(p) for lang, p in lexicon.NEGATORS.items()}
_NEGATED_AFTER = {lang: re.compile(p) for lang, p in lexicon.NEGATED_AFTER.items()}
_NOT_AD_AFTER = re.compile(lexicon.NOT_AN_AD_AFTER)
_NOT_AD_BEFORE = re.compile(lexicon.NOT_AN_AD_BEFORE)
_AD_WORD = re.compile(r"(?<![a-z])ad(?![a-z])")


def _is_ad_sense(text: str, start: int, end: int) -> bool:
    """False when the "ad" in a match is another word: ad hoc, #ad-free, 1200 AD."""
    word = _AD_WORD.search(text, start, end)
    if word is None:
        return True
    if _NOT_AD_AFTER.search(text[word.end() : word.end() + 30]):
        return False
    return not _NOT_AD_BEFORE.search(text[max(0, word.start() - 20) : word.start()].lstrip("#"))


def _negated(text: str, start: int, end: int, language: str) -> bool:
    before = text[max(0, start - 60) : start]
    clause = _CLAUSE_END.split(before)[-1]
    # A hashtag stands on its own: only a word right before it ("not #ad") denies it.
    words = clause.split()[-(2 if text[start] == "#" else NEGATION_WORDS) :]
    window = " ".join(words)
    negator = _NEGATORS.get(language)
    if negator is not None and window and negator.search(window):
        return True
    after = _NEGATED_AFTER.get(language)
    return after is not None and after.search(text[end : end + 20]) is not None


def _find_clear(folded: Folded, language: str, brand: str) -> tuple[list[Match], list[Match]]:
    """Clear disclosures (kept) and those denied ("not sponsored"), in order."""
    text = folded.text
    clear, _, _ = _compiled(language, brand)
    kept: list[Match] = []
    denied: list[Match] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in clear:
        for m in pattern.finditer(text):
            start, end = m.span()
            while start < end and text[start].isspace():
                start += 1
            if start >= end or any(s < end and start < e for s, e in taken):
                continue
            if not _is_ad_sense(text, start, end):
                continue
            match = Match(
                start, end, kind, language, folded.uses_lookalikes(start, end),
                text[start] == "#",
            )  # fmt: skip
            taken.append((start, end))
            (denied if _negated(text, start, end, language) else kept).append(match)
    return sorted(kept, key=lambda m: m.start), sorted(denied, key=lambda m: m.start)


def _first(patterns: list[re.Pattern[str]], text: str) -> re.Match[str] | None:
    found = [m for m in (p.search(text) for p in patterns) if m is not None]
    return min(found, key=lambda m: m.start()) if found else None


def _columns(text: str, index: int) -> int:
    """How wide the caption is up to `index` as a feed draws it: wide (CJK, full-width)
    characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text[:index])


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index)


def _clusters(text: str) -> list[tuple[int, int, int]]:
    """Runs of CLUSTER or more hashtags separated only by spaces: (start, end, count)."""
    runs: list[tuple[int, int, int]] = []
    tags = list(_HASHTAG.finditer(text))
    i = 0
    while i < len(tags):
        j = i
        while j + 1 < len(tags) and not text[tags[j].end() : tags[j + 1].start()].strip():
            j += 1
        if j - i + 1 >= CLUSTER:
            runs.append((tags[i].start(), tags[j].end(), j - i + 1))
        i = j + 1
    return runs


def _buried(text: str, match: Match) -> bool:
    """A hashtag disclosure inside a cluster of hashtags, unless it opens the caption."""
    if not match.hashtag:
        return False
    for start, end, _ in _clusters(text):
        if start <= match.start < end:
            opens_caption = not text[:start].strip() and match.start == start
            return not opens_caption
    return False


@dataclass(frozen=True)
class Problem:
    kind: str
    message: str
    span: tuple[int, int] | None


_CODES = {
    "missing": "disclosure_missing",
    "insufficient": "disclosure_insufficient",
    "not_ad_label": "disclosure_insufficient",
    "lookalike": "disclosure_lookalike",
    "below_fold": "disclosure_below_fold",
    "buried": "disclosure_buried",
    "wrong_language": "disclosure_wrong_language",
    "denied": "disclosure_denied",
    "not_upfront": "disclosure_not_upfront",
    "label_only": "disclosure_label_only",
}


def check_disclosure(
    caption: str,
    *,
    brand: str = "",
    language: str | None = None,
    markets: tuple[str, ...] = ("US",),
    platform: str | None = None,
    paid_label: bool = False,
) -> list[Finding]:
    """Findings about the caption's ad disclosure, each citing its rule. `language` is the
    declared one (already validated), `markets` ISO country codes (already validated)."""
    folded = fold(caption)
    text = folded.text
    languages = endorsement_languages(text, language)
    lang = languages[0]
    rules = applicable(markets)
    preview = PREVIEWS.get(platform or "", DEFAULT_PREVIEW)
    example = lexicon.EXAMPLE[lang]
    who = f" with {brand}" if brand.strip() else " with <brand>"

    kept, denied = [], []
    for candidate in languages:
        found, negated = _find_clear(folded, candidate, brand)
        kept += found
        denied += negated
    kept.sort(key=lambda m: m.start)
    denied.sort(key=lambda m: m.start)
    plain = [m for m in kept if not m.lookalike]
    denials = [(m.start, m.end) for m in denied]
    _, vague_patterns, denial_patterns = _compiled(lang, brand)
    if lang != "en":
        _, _, en_denials = _compiled("en", brand)
        denial_patterns = denial_patterns + en_denials
    for pattern in denial_patterns:
        denials += [m.span() for m in pattern.finditer(text)]

    problems: list[Problem] = []
    if denials:
        start, end = min(denials)
        problems.append(
            Problem(
                "denied",
                f'"{caption[slice(*folded.span(start, end))]}" says the post is not paid for, '
                f"but it is part of a paid campaign: remove it and disclose the partnership "
                f'with "{example}" at the start.',
                folded.span(start, end),
            )
        )
    if not plain:
        english = _find_clear(folded, "en", brand)[0] if lang != "en" else []
        if kept:
            first = kept[0]
            problems.append(
                Problem(
                    "lookalike",
                    f'"{caption[slice(*folded.span(first.start, first.end))]}" only looks like '
                    f"a disclosure: it is written with look-alike letters from another "
                    f'alphabet, which screen readers and search do not read as "{example}". '
                    "Type it in plain letters.",
                    folded.span(first.start, first.end),
                )
            )
        elif english:
            problems.append(
                Problem(
                    "wrong_language",
                    f'Add "{example}" at the start: the disclosure must be in the language of '
                    f"the post ({LANGUAGE_NAMES[lang]}), and an English one is not enough.",
                    folded.span(english[0].start, english[0].end),
                )
            )
        elif not denials:
            vague = _first(vague_patterns, text)
            if vague is not None:
                span = folded.span(*vague.span())
                while span[0] < span[1] and caption[span[0]].isspace():
                    span = (span[0] + 1, span[1])
                problems.append(
                    Problem(
                        "insufficient",
                        f'"{caption[slice(*span)]}" is not a clear disclosure: use '
                        + (
                            f'"#ad", "#sponsored" or "Paid partnership{who}".'
                            if lang == "en"
                            else f'"{example}".'
                        ),
                        span,
                    )
                )
            else:
                problems.append(
                    Problem(
                        "missing",
                        f'Add a clear disclosure such as "{example}"'
                        + (f' or "Paid partnership{who}"' if lang == "en" else "")
                        + " at the start of the caption.",
                        None,
                    )
                )
    else:
        first = plain[0]
        span = folded.span(first.start, first.end)
        line = _line_of(caption, span[0])
        column = _columns(caption, span[0])
        if column >= preview.chars or line >= preview.lines:
            where = (
                f'starts at character {span[0] + 1}, after the "more" cut ({preview.chars})'
                if column >= preview.chars
                else f'is on line {line + 1}, below the {preview.lines} line(s) shown before "more"'
            )
            problems.append(
                Problem("below_fold", f"The disclosure {where}; move it to the beginning.", span)
            )
        elif all(_buried(text, m) for m in plain):
            problems.append(
                Problem(
                    "buried",
                    "The disclosure is buried among hashtags; put it on its own at the beginning.",
                    span,
                )
            )
        if "asa-cap-2.1-upfront" in rules:
            labels = [m for m in plain if m.kind == "ad"]
            if not labels:
                problems.append(
                    Problem(
                        "not_ad_label",
                        f'In the UK, "{caption[slice(*span)]}" is not enough: the ASA asks for '
                        f'"Ad" or "#ad" at the start.',
                        span,
                    )
                )
            elif not any(p.kind in ("below_fold", "buried") for p in problems):
                label = folded.span(labels[0].start, labels[0].end)
                if label[0] >= UPFRONT_CHARS or _line_of(caption, label[0]) > 0:
                    problems.append(
                        Problem(
                            "not_upfront",
                            "In the UK the label must come first: start the caption with "
                            '"Ad" or "#ad".',
                            label,
                        )
                    )

    if paid_label:
        kept_problems = [p for p in problems if p.kind in ("denied", "lookalike")]
        # The ASA and the EU rule take the label as the disclosure; the FTC asks for one in the
        # caption too, so for the US it stays a warning.
        if len(kept_problems) < len(problems) and "ftc-255.5-clear" in rules:
            kept_problems.append(
                Problem(
                    "label_only",
                    "The platform's paid-partnership label is on; the FTC still asks for a "
                    f'clear disclosure in the caption: add "{example}" at the start.',
                    None,
                )
            )
        problems = kept_problems

    findings: list[Finding] = []
    for problem in problems:
        rule = rule_for(problem.kind, rules)
        if rule is None:
            continue
        findings.append(
            Finding(
                code=_CODES[problem.kind],
                rule=rule,
                severity="warn" if problem.kind == "label_only" else "block",
                message=problem.message,
                span=problem.span,
            )
        )
    return findings
