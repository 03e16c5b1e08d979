"""Caption rules: the FTC disclosure (through the rulebook in domain/compliance/) and the brief's
mandatory mentions. The one entry point the delivery's checks, the moderation's decision, the
CLI and the preflight API all call."""

from __future__ import annotations

from domain.compliance.ftc import DEFAULT_PREVIEW, check_disclosure
from domain.compliance.language import endorsement_languages
from domain.compliance.text import fold
from domain.findings import Finding

# Platforms cut captions after about this many characters behind a "more" link.
MORE_CUT = DEFAULT_PREVIEW.chars


def check_caption(
    caption: str,
    *,
    disclosure_required: bool,
    mandatory_mentions: list[str],
    brand: str = "",
    language: str | None = None,
    markets: tuple[str, ...] = ("US",),
    platform: str | None = None,
    paid_label: bool = False,
) -> list[Finding]:
    findings: list[Finding] = []
    if disclosure_required:
        findings.extend(
            check_disclosure(
                caption,
                brand=brand,
                language=language,
                markets=markets,
                platform=platform,
                paid_label=paid_label,
            )
        )
    folded = fold(caption).text
    for mention in mandatory_mentions:
        if fold(mention).text not in folded:
            findings.append(
                Finding(
                    code="mandatory_mention_missing",
                    severity="block",
                    message=f'The brief asks you to mention "{mention}" in the caption.',
                )
            )
    return findings


def caption_language(caption: str, declared: str | None = None) -> str:
    """The language the caption's disclosure has to be in (see check_disclosure)."""
    return endorsement_languages(fold(caption).text, declared)[0]
