"""Brand safety over the transcript and the caption: GARM's 12 categories, by lexicon.

Each brand picks a sensitivity: "low" flags only the floor categories (the ones no brand
runs beside) for review; "medium" also warns on the rest; "high" sends everything to review.
The lexicons are deliberately short and literal: they find the obvious cases cheaply and a
human reviews what they flag; nothing is blocked on a word alone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from activities.checks.spoken import clock, normalize
from workflows.contracts.moderation import MediaFinding, Severity, Word

GARM: dict[str, tuple[str, ...]] = {
    "adult": ("porn", "porno", "xxx", "nude", "nudes", "onlyfans", "sex tape", "explicit"),
    "arms": ("gun", "guns", "rifle", "ammo", "ammunition", "firearm", "pistol", "explosives"),
    "crime": ("steal", "stole", "robbery", "shoplifting", "fraud", "scam", "burglary"),
    "death_injury_conflict": ("killed", "murder", "dead body", "war", "massacre", "gore"),
    "piracy": ("torrent", "pirated", "cracked", "free download", "bootleg", "warez"),
    "hate": ("nazi", "white power", "subhuman", "ethnic cleansing"),
    "obscenity_profanity": ("fuck", "fucking", "shit", "bitch", "cunt", "motherfucker"),
    "drugs_alcohol_tobacco": (
        "cocaine",
        "heroin",
        "meth",
        "weed",
        "vape",
        "vaping",
        "cigarette",
        "tequila shots",
        "get drunk",
        "wasted",
    ),
    "spam": ("click the link", "dm me", "giveaway", "free money", "follow for follow"),
    "terrorism": ("jihad", "isis", "terrorist", "bomb making", "suicide bomber"),
    "debated_social_issues": ("abortion", "gun control", "immigration", "election fraud"),
    "misinformation": ("vaccines cause", "flat earth", "cures cancer", "miracle cure", "hoax"),
}
# GARM's "floor": content no brand should appear next to at all.
FLOOR = frozenset({"adult", "arms", "hate", "terrorism", "crime"})

Sensitivity = Literal["low", "medium", "high"]


@dataclass(frozen=True)
class _Hit:
    category: str
    term: str


def _severity(category: str, sensitivity: Sensitivity) -> Severity | None:
    if sensitivity == "high":
        return "review"
    if category in FLOOR:
        return "review"
    return "warn" if sensitivity == "medium" else None


def check_brand_safety(
    *, caption: str, words: list[Word], sensitivity: Sensitivity
) -> list[MediaFinding]:
    findings: list[MediaFinding] = []
    tokens = [normalize(w.text) for w in words]
    for category, terms in GARM.items():
        severity = _severity(category, sensitivity)
        if severity is None:
            continue
        for term in terms:
            wanted = [normalize(t) for t in term.split()]
            for i in range(len(tokens) - len(wanted) + 1):
                if tokens[i : i + len(wanted)] == wanted:
                    findings.append(
                        MediaFinding(
                            check="brand_safety",
                            code=f"garm_{category}",
                            severity=severity,
                            message=f'"{term}" at {clock(words[i].start_s)} touches the '
                            f"{category.replace('_', ' ')} category, which this brand "
                            "avoids. Consider cutting it.",
                            start_s=words[i].start_s,
                            end_s=words[i + len(wanted) - 1].end_s,
                        )
                    )
                    break
            match = re.search(rf"(?<!\w){re.escape(term)}(?!\w)", caption, re.IGNORECASE)
            if match:
                findings.append(
                    MediaFinding(
                        check="brand_safety",
                        code=f"garm_{category}",
                        severity=severity,
                        message=f'"{match.group(0)}" in the caption touches the '
                        f"{category.replace('_', ' ')} category, which this brand avoids.",
                        span=match.span(),
                    )
                )
    return findings
