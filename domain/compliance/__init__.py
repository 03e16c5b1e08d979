"""Compliance rules for captions: the FTC / ASA / EU ad-disclosure rulebook, applied to text as a
reader sees it, in the language of the endorsement."""

from domain.compliance.ftc import PREVIEWS, check_disclosure
from domain.compliance.language import SUPPORTED, UnknownLanguage, parse_language
from domain.compliance.rules import RULEBOOK_VERSION, RULES, UnknownMarket, parse_markets

__all__ = [
    "PREVIEWS",
    "RULEBOOK_VERSION",
    "RULES",
    "SUPPORTED",
    "UnknownLanguage",
    "UnknownMarket",
    "check_disclosure",
    "parse_language",
    "parse_markets",
]
