"""The language of a caption's endorsement: the one the brief and the creator's profile declare,
checked against what the text is written in by a language identifier that ships its model
(lingua, restricted to the languages with disclosure rules, loaded once per process)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

SUPPORTED: Final = ("en", "es", "fr", "de", "it", "pt", "nl", "ja")
LANGUAGE_NAMES: Final = {
    "en": "English", "es": "Spanish", "fr": "French", "de": "German", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "ja": "Japanese",
}  # fmt: skip
_LINGUA: Final = {
    Language.ENGLISH: "en", Language.SPANISH: "es", Language.FRENCH: "fr",
    Language.GERMAN: "de", Language.ITALIAN: "it", Language.PORTUGUESE: "pt",
    Language.DUTCH: "nl", Language.JAPANESE: "ja",
}  # fmt: skip
# What the identifier should not read: hashtags, mentions, links and the disclosure labels
# themselves (the disclosure's language is what is being checked, not evidence for it).
_NOT_PROSE = re.compile(r"[#@]\w+|https?://\S+|www\.\S+")
_KANA_OR_HAN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")
# Below this many letters, or words, the identifier is not asked: too little to tell.
MIN_LETTERS: Final = 12
MIN_WORDS: Final = 3
_WORD = re.compile(r"[^\W\d_]{2,}")
# How sure the identifier must be to overrule a declared language.
OVERRULE_CONFIDENCE: Final = 0.8
OVERRULE_LETTERS: Final = 30
# The identifier's answer counts when its best language has at least this confidence and leads
# the next one by this much.
DECISIVE: Final = 0.25
DECISIVE_MARGIN: Final = 0.08
# Below this confidence the identified language may be any of its close neighbours.
SURE: Final = 0.7
# Below this confidence for English, a text the identifier hesitates over is not English.
NOT_ENGLISH: Final = 0.12


class UnknownLanguage(ValueError):
    """A language code without disclosure rules."""


def parse_language(code: str | None) -> str | None:
    """A declared language as one of SUPPORTED ("pt-BR" reads as "pt"); None when none is
    declared. Raises UnknownLanguage for any other code."""
    if code is None or not code.strip():
        return None
    base = code.strip().replace("_", "-").split("-")[0].lower()
    if base not in SUPPORTED:
        raise UnknownLanguage(
            f'"{code.strip()[:20]}" is not one of the supported languages: {", ".join(SUPPORTED)}.'
        )
    return base


@lru_cache(maxsize=1)
def detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*_LINGUA).with_preloaded_language_models().build()


def ranked(text: str) -> tuple[tuple[str, float], ...]:
    """The supported languages a text may be written in, most likely first, with the
    identifier's confidence; empty when the text has too few letters to tell."""
    prose = _NOT_PROSE.sub(" ", text)
    if len(_KANA_OR_HAN.findall(prose)) >= 2:
        return (("ja", 1.0),)
    if sum(c.isalpha() for c in prose) < MIN_LETTERS or len(_WORD.findall(prose)) < MIN_WORDS:
        return ()
    return tuple(
        (_LINGUA[v.language], v.value) for v in detector().compute_language_confidence_values(prose)
    )


def identify(text: str) -> tuple[str | None, float]:
    """The language a text is written in and how sure the identifier is; None when it cannot
    tell (too few letters, or no language clearly ahead)."""
    return _decisive(ranked(text))


def _decisive(found: tuple[tuple[str, float], ...]) -> tuple[str | None, float]:
    if not found:
        return None, 0.0
    best, value = found[0]
    second = found[1][1] if len(found) > 1 else 0.0
    if value < DECISIVE or value - second < DECISIVE_MARGIN:
        return None, value
    return best, value


def endorsement_languages(text: str, declared: str | None) -> tuple[str, ...]:
    """The language the disclosure has to be in, first, then any other one it may be in.

    Declared: that one, unless the text is clearly written in another. Not declared: the
    identified one; when that is not English but the identifier is unsure (a short caption:
    Spanish, Portuguese, French and Italian look alike in a few words), a disclosure in any
    supported language other than English counts, since what the rule refuses is an English
    disclosure on a caption in another language. When the identifier cannot tell and English is
    not ruled out: English."""
    candidates = ranked(text)
    found, confidence = _decisive(candidates)
    prose_letters = sum(c.isalpha() for c in _NOT_PROSE.sub(" ", text))
    if declared is not None:
        if (
            found is not None
            and found != declared
            and confidence >= OVERRULE_CONFIDENCE
            and prose_letters >= OVERRULE_LETTERS
        ):
            return (found,)
        return (declared,)
    primary = found
    if primary is None:
        english = dict(candidates).get("en", 0.0)
        if not candidates or candidates[0][0] == "en" or english >= NOT_ENGLISH:
            return ("en",)
        primary = candidates[0][0]
    if primary in ("en", "ja") or confidence >= SURE:
        return (primary,)
    return (primary, *(lang for lang in SUPPORTED if lang not in ("en", "ja", primary)))
