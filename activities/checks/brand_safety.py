"""Brand safety over the transcript and the caption: GARM's 12 categories, by meaning.

Each category (its canonical GARM slug) is defined in garm_exemplars.json by many exemplar
sentences, a risk level and a short lexicon of unambiguous words. The GPU pool's sentence
embedder (activities/moderation/models.py) finds each sentence's nearest exemplar: a sentence
nearest to a benign exemplar ("killed it at the gym", "alcohol-free toner") is not flagged, one
nearest to a category's exemplar counts when its similarity reaches that category's threshold,
calibrated on the development split of tests/activities/brand_safety_cases.jsonl
(bench/brand_safety_eval.py --calibrate). The lexicon catches the literal cases on every
worker, speech and caption alike.

Before either looks, text is normalised the way a reader reads it: Unicode folded (NFKC,
invisible characters, look-alike letters), leetspeak ("w33d", "sh1t", "v@pe"), masked words
("f*ck", "sh!t"), letters split by separators ("f.u.c.k", "g u n") and stretched letters
("fuuuck") restored; benign idioms with violent words ("killed it", "at war with wrinkles",
"the bomb") are read as what they mean. A lexicon word after a negation ("no alcohol", "never
smoke", "alcohol-free") does not count, and neither does the embedder's match for that category
in that sentence.

Each brand picks a sensitivity: "low" flags only the floor categories (the ones no brand
runs beside) for review; "medium" also warns on the rest; "high" sends everything to review.
A human reviews what is flagged; nothing is blocked on brand safety alone."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from activities.checks.spoken import clock
from domain.compliance.text import fold
from workflows.contracts.moderation import MediaFinding, SemanticMatch, Severity, Word

DATA_FILE = Path(__file__).with_name("garm_exemplars.json")
_DATA = json.loads(DATA_FILE.read_text(encoding="utf-8"))

CATEGORIES: tuple[str, ...] = tuple(_DATA["categories"])
# GARM's risk levels: "floor" is content no brand appears next to; "high" and "medium" follow
# the brand's sensitivity.
RISK: dict[str, str] = {c: v["risk"] for c, v in _DATA["categories"].items()}
THRESHOLDS: dict[str, float] = {c: float(v["threshold"]) for c, v in _DATA["categories"].items()}
GARM: dict[str, tuple[str, ...]] = {c: tuple(v["terms"]) for c, v in _DATA["categories"].items()}
# What each category is about, in many plain sentences: the embedder's exemplars.
GARM_DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    c: tuple(v["exemplars"]) for c, v in _DATA["categories"].items()
}
# Sentences that look risky to a keyword and are not: their nearest neighbours clear a text.
BENIGN = "benign"
BENIGN_EXEMPLARS: tuple[str, ...] = tuple(_DATA["benign"])
EXEMPLARS_VERSION: str = _DATA["version"]
FLOOR = frozenset(c for c, risk in RISK.items() if risk == "floor")

Sensitivity = Literal["low", "medium", "high"]
# The short names matches carried before the canonical slugs (a workflow in flight).
RENAMED_CATEGORIES = {
    "adult": "adult_explicit",
    "arms": "arms_ammunition",
    "crime": "crime_harmful_acts",
    "death_injury_conflict": "death_injury_military_conflict",
    "piracy": "online_piracy",
    "hate": "hate_speech_aggression",
    "drugs_alcohol_tobacco": "illegal_drugs_tobacco_ecigs_vaping_alcohol",
    "spam": "spam_harmful_content",
    "debated_social_issues": "debated_sensitive_social_issues",
}

# Leetspeak: digits and symbols standing for letters, inside a word that has letters.
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a",
                       "$": "s", "!": "i", "+": "t", "|": "l", "€": "e"})  # fmt: skip
_MASKS = "*#%_"
_SEPARATORS = re.compile(r"[.\-_*·•]")
_EDGE_PUNCT = "\"'()[]{}<>,;:?!.\u2026\u201c\u201d\u2018\u2019\u00ab\u00bb"
_NEGATORS = frozenset(
    {"no", "not", "never", "without", "zero", "non", "don't", "dont", "doesn't", "isn't",
     "aren't", "won't", "wasn't", "nor"}
)  # fmt: skip
# Idioms whose violent or risky words mean something harmless, read as what they mean.
_IDIOMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rf"(?<!\w){pattern}(?!\w)"), meaning)
    for pattern, meaning in (
        (r"(?:killed|killing|kill|kills) (?:it|that|this|the game)", "did great"),
        (r"(?:at war|battling|(?:a|the|my) battle|fight|fighting|war) (?:with|against|on)",
         "dealing with"),
        (r"(?:is|was|are) (?:the )?bomb(?: dot com)?", "is great"),
        (r"the bomb(?: dot com)?", "great"),
        (r"drop dead gorgeous", "very gorgeous"),
        (r"to die for", "wonderful"),
        (r"dying to", "eager to"),
        (r"i'?m dead", "i'm laughing"),
        (r"(?:is|was|looks) (?:so )?fire", "is great"),
        (r"secret weapon|weapon of choice", "favourite"),
        (r"(?:a|such a|total) steal", "a bargain"),
        (r"shot my shot", "tried my luck"),
        (r"(?:photo ?)?shoot|shot on location|shot this", "filmed"),
        (r"(?:a |one )?shot of (?:espresso|coffee|wheatgrass|ginger|vitamin)", "a drink of"),
        (r"killer (?:scent|look|thriller|deal|heels|smile)", "great"),
        (r"knockout look", "great look"),
        (r"bombshell", "glamorous"),
        (r"game changer", "great"),
        (r"battle of the", "comparison of the"),
        (r"drugstore", "budget shop"),
    )
)  # fmt: skip
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Token:
    """One word as a reader reads it, and the characters it came from."""

    text: str
    start: int
    end: int


@lru_cache(maxsize=1)
def _lexicon_words() -> frozenset[str]:
    return frozenset(w for terms in GARM.values() for t in terms for w in t.split())


def _stretched(word: str) -> str:
    """Letters stretched for effect ("fuuuck", "sooo") back to one."""
    return re.sub(r"(\w)\1{2,}", r"\1", word)


def _unmasked(word: str) -> str:
    """A masked lexicon word ("f*ck", "f**k", "sh#t") as the word; others unchanged."""
    if not any(m in word for m in _MASKS) or not word[:1].isalpha():
        return word
    pattern = re.compile(
        "".join(
            "[a-z]{1,3}" if run[0] in _MASKS else re.escape(run)
            for run in re.findall(rf"[{re.escape(_MASKS)}]+|[^{re.escape(_MASKS)}]+", word)
        )
    )
    for candidate in sorted(_lexicon_words(), key=len):
        if pattern.fullmatch(candidate):
            return candidate
    return word


def normal_word(raw: str) -> str:
    """One written word as read: folded, stripped of edge punctuation, de-leeted, unmasked,
    its separated letters joined."""
    word = fold(raw).text.strip(_EDGE_PUNCT.replace("!", ""))
    word = word.rstrip("!?.,")
    if not word:
        return ""
    if re.fullmatch(r"(?:[a-z0-9@$!][.\-_*·•]){2,}[a-z0-9@$!]", word):
        word = _SEPARATORS.sub("", word)  # f.u.c.k, n.u.d.e.s
    leet = r"[0-9@$!|+€]"
    if (
        word not in _lexicon_words()
        and re.search(rf"[a-z]{leet}|{leet}[a-z]", word)
        and not re.fullmatch(r"[0-9]+[a-z]{1,3}|[a-z]{1,3}[0-9]+", word)  # 30ml, mp4, 4k
    ):
        word = word.translate(_LEET)
    return _unmasked(_stretched(word))


def tokens(text: str) -> list[Token]:
    """The words of a text as read, with their character spans; single letters spaced out
    ("g u n", "f u c k") joined when they spell a lexicon word."""
    out = [Token(normal_word(m.group(0)), m.start(), m.end()) for m in _WORD.finditer(text)]
    out = [t for t in out if t.text]
    joined: list[Token] = []
    i = 0
    while i < len(out):
        j = i
        while j < len(out) and len(out[j].text) == 1 and out[j].text.isalpha():
            j += 1
        if j - i >= 3:
            word = "".join(t.text for t in out[i:j])
            if word in _lexicon_words():
                joined.append(Token(word, out[i].start, out[j - 1].end))
                i = j
                continue
        joined.append(out[i])
        i += 1
    return joined


def normalise(text: str) -> str:
    """A text as the embedder should read it: words normalised, benign idioms replaced by
    their meaning."""
    read = " ".join(t.text for t in tokens(text))
    for pattern, meaning in _IDIOMS:
        read = pattern.sub(meaning, read)
    return read


def exemplar_pairs() -> list[tuple[str, str]]:
    """(category, exemplar) for every category's exemplars and the benign ones."""
    pairs = [(c, e) for c, es in GARM_DESCRIPTIONS.items() for e in es]
    return pairs + [(BENIGN, e) for e in BENIGN_EXEMPLARS]


def nearest_category(scores: dict[str, float], floor: float) -> tuple[str, float]:
    """The category a text reads as, from its similarity to each category's nearest exemplar
    (and the benign ones'): the closest category reaching both the floor and its own threshold,
    unless a benign exemplar is closer still; (BENIGN, score) when none is."""
    benign = scores.get(BENIGN, -1.0)
    passing = [
        (score, category)
        for category, score in scores.items()
        if category in THRESHOLDS and score >= max(floor, THRESHOLDS[category]) and score > benign
    ]
    if not passing:
        return BENIGN, benign
    score, category = max(passing)
    return category, score


def borderline(scores: dict[str, float], floor: float, band: float) -> str | None:
    """The category too close to call for a text: the one whose similarity comes nearest to
    what decides it (the highest of its threshold, the floor and the nearest benign exemplar's
    similarity, as in `nearest_category`), within `band`, above or below; None when every
    category is clearly in or out."""
    benign = scores.get(BENIGN, -1.0)
    close = [
        (abs(score - max(floor, THRESHOLDS[category], benign)), category)
        for category, score in scores.items()
        if category in THRESHOLDS
    ]
    nearest = min(close, default=None)
    return nearest[1] if nearest is not None and nearest[0] <= band else None


def definition(category: str) -> str:
    """What a category means, in words a judge reads: its name and a few exemplars."""
    examples = "; ".join(f'"{e}"' for e in GARM_DESCRIPTIONS[category][:4])
    return f"{_words(category)} content ({RISK[category]} risk), for example {examples}"


def _severity(category: str, sensitivity: Sensitivity) -> Severity | None:
    if sensitivity == "high":
        return "review"
    if category in FLOOR:
        return "review"
    return "warn" if sensitivity == "medium" else None


def _words(category: str) -> str:
    return category.replace("_", " ")


@dataclass(frozen=True)
class _Hit:
    category: str
    term: str
    start: int  # token indexes [start, end)
    end: int
    negated: bool


def _lexicon_hits(found: list[Token]) -> list[_Hit]:
    words = [t.text for t in found]
    hits: list[_Hit] = []
    for category, terms in GARM.items():
        for term in terms:
            wanted = term.split()
            for i in range(len(words) - len(wanted) + 1):
                if words[i : i + len(wanted)] != wanted:
                    continue
                end = i + len(wanted)
                before = words[max(0, i - 3) : i]
                after = words[end] if end < len(words) else ""
                negated = category != "obscenity_profanity" and (
                    any(w in _NEGATORS for w in before) or after == "free"
                )
                hits.append(_Hit(category, term, i, end, negated))
    return hits


def _split_free(found: list[Token]) -> list[Token]:
    """ "alcohol-free" read as "alcohol free", so that the negation rule sees it."""
    out: list[Token] = []
    for t in found:
        if t.text.endswith("-free") and len(t.text) > 5:
            out += [Token(t.text[:-5], t.start, t.end), Token("free", t.start, t.end)]
        else:
            out.append(t)
    return out


def _negated_in(text: str) -> set[str]:
    """The categories a text names only to deny ("no alcohol", "alcohol-free")."""
    hits = _lexicon_hits(_split_free(tokens(text)))
    return {h.category for h in hits if h.negated} - {h.category for h in hits if not h.negated}


def check_brand_safety(
    *,
    caption: str,
    words: list[Word],
    sensitivity: Sensitivity,
    semantic: list[SemanticMatch] | None = None,
) -> list[MediaFinding]:
    findings = _lexicon_findings(caption, words, sensitivity)
    flagged = {f.code for f in findings}
    for match in sorted(semantic or [], key=lambda m: -m.score):
        category = RENAMED_CATEGORIES.get(match.category, match.category)
        if category not in THRESHOLDS or category in _negated_in(match.text):
            continue
        severity = _severity(category, sensitivity)
        code = f"garm_{category}"
        if severity is None or code in flagged:
            continue  # one finding a category: the lexicon's is the more precise
        flagged.add(code)
        where = (
            "The caption" if match.start_s is None else f"What is said at {clock(match.start_s)}"
        )
        findings.append(
            MediaFinding(
                check="brand_safety",
                code=code,
                severity=severity,
                message=f'{where} ("{match.text[:80]}") reads as '
                f"{_words(category)} content, which this brand avoids.",
                start_s=match.start_s,
                end_s=match.end_s,
            )
        )
    return findings


def _lexicon_findings(
    caption: str, words: list[Word], sensitivity: Sensitivity
) -> list[MediaFinding]:
    findings: list[MediaFinding] = []
    seen: set[str] = set()
    said = [(w, normal_word(w.text)) for w in words]
    said = [(w, text) for w, text in said if text]
    spoken = _split_free([Token(text, i, i) for i, (_, text) in enumerate(said)])
    for hit in _lexicon_hits(spoken):
        severity = _severity(hit.category, sensitivity)
        if hit.negated or severity is None or f"said:{hit.category}" in seen:
            continue
        seen.add(f"said:{hit.category}")
        first, last = said[spoken[hit.start].start][0], said[spoken[hit.end - 1].start][0]
        findings.append(
            MediaFinding(
                check="brand_safety",
                code=f"garm_{hit.category}",
                severity=severity,
                message=f'"{hit.term}" at {clock(first.start_s)} touches the '
                f"{_words(hit.category)} category, which this brand avoids. Consider cutting it.",
                start_s=first.start_s,
                end_s=last.end_s,
            )
        )
    written = _split_free(tokens(caption))
    for hit in _lexicon_hits(written):
        severity = _severity(hit.category, sensitivity)
        if hit.negated or severity is None or f"written:{hit.category}" in seen:
            continue
        seen.add(f"written:{hit.category}")
        span = (written[hit.start].start, written[hit.end - 1].end)
        findings.append(
            MediaFinding(
                check="brand_safety",
                code=f"garm_{hit.category}",
                severity=severity,
                message=f'"{caption[span[0] : span[1]]}" in the caption touches the '
                f"{_words(hit.category)} category, which this brand avoids.",
                span=span,
            )
        )
    return findings
