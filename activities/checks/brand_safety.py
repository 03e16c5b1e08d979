"""Brand safety over the transcript and the caption: GARM's 12 categories, by lexicon and by
sentence-embedding similarity to each category's description (the matches come from the
model pool; this module only turns them into findings).

Each brand picks a sensitivity: "low" flags only the floor categories (the ones no brand
runs beside) for review; "medium" also warns on the rest; "high" sends everything to review.
The lexicons are deliberately short and literal: they find the obvious cases cheaply; the
embeddings catch the same meaning in other words. A human reviews what either flags; nothing
is blocked on brand safety alone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from activities.checks.spoken import clock, normalize
from workflows.contracts.moderation import MediaFinding, SemanticMatch, Severity, Word

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
# What each category is about, in plain sentences: speech or caption whose embedding is close
# to one of these counts as that category even when no lexicon word is used.
GARM_DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "adult": ("sexually explicit content, pornography or nudity",),
    "arms": ("guns, firearms, ammunition and weapons", "shooting a rifle or a pistol"),
    "crime": ("stealing, robbery, fraud and other crimes", "how to get away with a crime"),
    "death_injury_conflict": ("death, killing, violent injury and war",),
    "piracy": ("pirated movies, illegal downloads and counterfeit goods",),
    "hate": (
        "hate speech against people because of their race, religion or origin",
        "calling immigrants or minorities animals who should be expelled",
    ),
    "obscenity_profanity": ("swearing, obscene insults and vulgar language",),
    "drugs_alcohol_tobacco": (
        "taking illegal drugs or getting high",
        "getting drunk on alcohol",
        "smoking cigarettes or vaping",
    ),
    "spam": ("click the link to win free money or a prize",),
    "terrorism": ("terrorist attacks, bombings and extremist violence",),
    "debated_social_issues": ("abortion, gun control and immigration debates",),
    "misinformation": (
        "false health claims that a product cures diseases",
        "conspiracy theories that vaccines are dangerous",
    ),
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
    *,
    caption: str,
    words: list[Word],
    sensitivity: Sensitivity,
    semantic: list[SemanticMatch] | None = None,
) -> list[MediaFinding]:
    findings = _lexicon_findings(caption, words, sensitivity)
    flagged = {f.code for f in findings}
    for match in sorted(semantic or [], key=lambda m: -m.score):
        severity = _severity(match.category, sensitivity)
        code = f"garm_{match.category}"
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
                f"{match.category.replace('_', ' ')} content, which this brand avoids.",
                start_s=match.start_s,
                end_s=match.end_s,
            )
        )
    return findings


def _lexicon_findings(
    caption: str, words: list[Word], sensitivity: Sensitivity
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
