"""The disclosure rulebook: every rule a caption finding can cite, where it comes from, and the
markets it applies to. Versioned: a change of what a rule accepts bumps RULEBOOK_VERSION, and
docs/compliance.md lists the same rules."""

from __future__ import annotations

from dataclasses import dataclass

import pycountry

RULEBOOK_VERSION = "2026.12.1"

# Member states of the European Union and the EEA, where the Unfair Commercial Practices
# Directive's hidden-advertising rules apply.
EU_EEA = frozenset(
    {
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
        "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    source: str
    # The target markets the rule applies to; None: every market.
    markets: frozenset[str] | None


RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            "ftc-255.5-clear",
            "A material connection to the brand is disclosed in clear, unambiguous words",
            "FTC Guides Concerning the Use of Endorsements and Testimonials in Advertising, "
            "16 CFR 255.5; Disclosures 101 for Social Media Influencers",
            frozenset({"US"}),
        ),
        Rule(
            "ftc-d101-placement",
            "The disclosure is hard to miss: before the preview's cut, not among other hashtags",
            "FTC, Disclosures 101 for Social Media Influencers (2019, revised 2023)",
            frozenset({"US"}),
        ),
        Rule(
            "ftc-d101-language",
            "The disclosure is in the language of the endorsement",
            "FTC, Disclosures 101 for Social Media Influencers; 16 CFR 255.5(b)",
            frozenset({"US"}),
        ),
        Rule(
            "ftc-465-fake-review",
            'No claim that a paid endorsement is independent ("not sponsored", "I bought it '
            'myself")',
            "FTC Trade Regulation Rule on the Use of Consumer Reviews and Testimonials, "
            "16 CFR Part 465 (465.2, 465.5)",
            frozenset({"US"}),
        ),
        Rule(
            "asa-cap-2.1-upfront",
            'Marketing communications are obviously identifiable: "Ad" or "#ad" up front',
            "UK CAP Code rule 2.1 and 2.4; ASA/CAP \"Influencers' guide to making clear that "
            'ads are ads" (2020)',
            frozenset({"GB"}),
        ),
        Rule(
            "eu-ucpd-hidden-ad",
            "Paid content is identified as such, clearly and in the language of the post",
            "Directive 2005/29/EC (Unfair Commercial Practices), Article 7(2) and Annex I "
            "point 11; national codes (DE UWG 5a(4), FR loi 2023-451 art. 5)",
            EU_EEA,
        ),
        Rule(
            "platform-paid-label",
            "The platform's own paid-partnership label is used",
            'Instagram "Paid partnership" label, TikTok "Content disclosure" / "Paid '
            'partnership", YouTube "Includes paid promotion"',
            None,
        ),
    )
}

# Which rule a kind of problem breaks, in order of preference: the finding cites the first one
# that applies to the target markets. A problem no applicable rule covers is no finding.
PROBLEM_RULES: dict[str, tuple[str, ...]] = {
    "missing": ("ftc-255.5-clear", "asa-cap-2.1-upfront", "eu-ucpd-hidden-ad"),
    "insufficient": ("ftc-255.5-clear", "asa-cap-2.1-upfront", "eu-ucpd-hidden-ad"),
    "lookalike": ("ftc-255.5-clear", "asa-cap-2.1-upfront", "eu-ucpd-hidden-ad"),
    "below_fold": ("ftc-d101-placement", "asa-cap-2.1-upfront", "eu-ucpd-hidden-ad"),
    "buried": ("ftc-d101-placement", "asa-cap-2.1-upfront", "eu-ucpd-hidden-ad"),
    "wrong_language": ("ftc-d101-language", "eu-ucpd-hidden-ad", "asa-cap-2.1-upfront"),
    "denied": ("ftc-465-fake-review", "asa-cap-2.1-upfront", "eu-ucpd-hidden-ad"),
    "not_upfront": ("asa-cap-2.1-upfront",),
    "not_ad_label": ("asa-cap-2.1-upfront",),
    "label_only": ("platform-paid-label",),
}

DEFAULT_MARKETS: tuple[str, ...] = ("US",)


class UnknownMarket(ValueError):
    """A market that is not an ISO 3166-1 country code."""


def parse_markets(markets: list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """Target markets as upper-case ISO 3166-1 alpha-2 codes ("UK" read as "GB"); none given:
    the default. Raises UnknownMarket naming the first code that is not a country."""
    out: list[str] = []
    for raw in markets or ():
        code = raw.strip().upper()
        if code == "UK":
            code = "GB"
        if len(code) != 2 or not code.isalpha() or pycountry.countries.get(alpha_2=code) is None:
            raise UnknownMarket(f'"{raw.strip()[:20]}" is not a country code such as US or GB.')
        if code not in out:
            out.append(code)
    return tuple(out) or DEFAULT_MARKETS


def brief_markets(countries: list[str]) -> tuple[str, ...]:
    """A brief's target countries as the rulebook's markets; the default where they name none
    the rulebook reads (a brief's list is the brand's, not checked against ISO 3166)."""
    try:
        return parse_markets(countries)
    except UnknownMarket:
        return DEFAULT_MARKETS


def applicable(markets: tuple[str, ...]) -> frozenset[str]:
    """The ids of the rules that apply to a draft for these markets. A market no rule names
    (JP, BR, ...) is held to the FTC's rules, the platform's baseline."""
    wanted = set(markets)
    if not any(rule.markets and rule.markets & wanted for rule in RULES.values()):
        wanted.add("US")
    return frozenset(
        rule.id for rule in RULES.values() if rule.markets is None or rule.markets & wanted
    )


def rule_for(problem: str, rules: frozenset[str]) -> str | None:
    return next((r for r in PROBLEM_RULES[problem] if r in rules), None)
