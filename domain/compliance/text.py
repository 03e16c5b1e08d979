"""Text as a reader sees it, before any rule matches it.

A caption is matched on its *folded* form: Unicode NFKC (full-width and styled letters become
plain ones), zero-width and other invisible characters removed, letters of other scripts that
look like Latin ones (Cyrillic a, Greek o) replaced by the Latin letter, and case folded.
Every folded character remembers the caption character it came from, so a finding's span points
at what the creator wrote; and whether it came from a look-alike, so a disclosure that reads as
one only through look-alikes can be told apart from one written in plain letters."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from confusable_homoglyphs import categories, confusables

# Characters a reader does not see: zero-width spaces and joiners, the word joiner and its
# invisible operators, the byte-order mark, the soft hyphen, the Mongolian vowel separator,
# bidirectional marks and the Hangul fillers some apps use for "blank" lines.
INVISIBLE = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069"
    "\u3164\ufeff\uffa0"
)
# Typographic apostrophes and primes, read as the plain one: "isn\u2019t" is "isn't".
_APOSTROPHES = frozenset("\u2018\u2019\u201b\u02bc\u02b9\u2032\u0060\u00b4")
# Scripts whose letters are never folded: the Latin languages' own accented letters, the
# Japanese scripts, and digits and punctuation ("1" is not a look-alike of "l" here).
_KEPT_SCRIPTS = frozenset({"LATIN", "COMMON", "INHERITED", "HIRAGANA", "KATAKANA", "CJK", "HAN"})


@dataclass(frozen=True)
class Folded:
    """The folded text, and for each of its characters the caption index it came from and
    whether it was a look-alike of another script."""

    text: str
    origin: tuple[int, ...]
    lookalike: tuple[bool, ...]
    source: str

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The caption characters behind folded characters [start, end)."""
        if not self.origin:
            return (0, 0)
        first = self.origin[min(start, len(self.origin) - 1)]
        last = self.origin[min(max(end - 1, start), len(self.origin) - 1)]
        return (first, last + 1)

    def uses_lookalikes(self, start: int, end: int) -> bool:
        return any(self.lookalike[start:end])


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> tuple[str, bool]:
    """One caption character as folded text, and whether it was a look-alike."""
    if char in INVISIBLE:
        return "", False
    if char in _APOSTROPHES:
        return "'", False
    normal = unicodedata.normalize("NFKC", char)
    out: list[str] = []
    swapped = False
    for c in normal:
        if c in INVISIBLE or unicodedata.category(c) == "Cf":
            continue
        if ord(c) >= 0x80 and c.isalpha() and categories.alias(c) not in _KEPT_SCRIPTS:
            latin = _latin_twin(c)
            if latin is not None:
                out.append(latin)
                swapped = True
                continue
        out.append(c.casefold())
    return "".join(out), swapped


def _latin_twin(char: str) -> str | None:
    found = confusables.is_confusable(char, preferred_aliases=["latin"], greedy=True)
    if not found:
        return None
    for entry in found:
        for glyph in entry["homoglyphs"]:
            twin = glyph["c"]
            if isinstance(twin, str) and len(twin) == 1 and twin.isascii() and twin.isalpha():
                return twin.casefold()
    return None


def fold(caption: str) -> Folded:
    chars: list[str] = []
    origin: list[int] = []
    lookalike: list[bool] = []
    for index, char in enumerate(caption):
        if char.isascii():
            folded, swapped = (char.lower(), False)
        else:
            folded, swapped = _fold_char(char)
        for c in folded:
            chars.append(c)
            origin.append(index)
            lookalike.append(swapped)
    return Folded("".join(chars), tuple(origin), tuple(lookalike), caption)
