"""Caption rules: FTC disclosure wording and placement, and the brief's mandatory mentions.

Follows the FTC's "Disclosures 101 for Social Media Influencers": the disclosure must be hard
to miss (in the first lines, before a "more" cut, not lost among other hashtags) and use clear
words ("ad", "sponsored", "paid partnership"); "sp", "spon", "collab", "thanks" or
"ambassador" alone are not enough.
"""

from __future__ import annotations

import re

from workflows.contracts.delivery import Finding

# Platforms cut captions after about this many characters behind a "more" link.
MORE_CUT = 125

_CLEAR = re.compile(
    r"(#ad\b|#advert(isement)?\b|#sponsored\b|#paidpartnership\b|\bpaid partnership\b"
    r"|\bsponsored\b|\badvertisement\b|^ad\b|\bad:|\bthanks to [\w .&'-]+ for the free product\b"
    r"|\b[\w&'-]+ (partner|ambassador)\b)",
    re.IGNORECASE | re.MULTILINE,
)
_VAGUE = re.compile(r"#(sp|spon|collab|thanks|ambassador)\b", re.IGNORECASE)
_TRAILING_TAGS = re.compile(r"(?:\s*#\w+){3,}\s*$")


def check_caption(
    caption: str, *, disclosure_required: bool, mandatory_mentions: list[str]
) -> list[Finding]:
    findings: list[Finding] = []
    if disclosure_required:
        findings.extend(_disclosure(caption))
    lowered = caption.casefold()
    for mention in mandatory_mentions:
        if mention.casefold() not in lowered:
            findings.append(
                Finding(
                    code="mandatory_mention_missing",
                    severity="block",
                    message=f'The brief asks you to mention "{mention}" in the caption.',
                )
            )
    return findings


def _disclosure(caption: str) -> list[Finding]:
    clear = list(_CLEAR.finditer(caption))
    if not clear:
        vague = _VAGUE.search(caption)
        if vague:
            return [
                Finding(
                    code="disclosure_insufficient",
                    severity="block",
                    message=f'"{vague.group(0)}" is not a clear disclosure: use "#ad", '
                    '"#sponsored" or "Paid partnership with <brand>".',
                    span=vague.span(),
                )
            ]
        return [
            Finding(
                code="disclosure_missing",
                severity="block",
                message='Add a clear disclosure such as "#ad" or "Paid partnership with '
                '<brand>" at the start of the caption.',
            )
        ]
    first = clear[0]
    if first.start() >= MORE_CUT:
        return [
            Finding(
                code="disclosure_below_fold",
                severity="block",
                message=f"The disclosure starts at character {first.start() + 1}, after the "
                f'"more" cut ({MORE_CUT}); move it to the beginning.',
                span=first.span(),
            )
        ]
    trailing = _TRAILING_TAGS.search(caption)
    if trailing and all(m.start() >= trailing.start() for m in clear) and trailing.start() > 0:
        return [
            Finding(
                code="disclosure_buried",
                severity="block",
                message="The disclosure is buried among hashtags at the end; put it on its "
                "own at the beginning.",
                span=first.span(),
            )
        ]
    return []
