"""A brief's terms in the words people read: deliverables as "2 (times) vertical video (9:16),
30 s", usage rights as channels, platforms, countries by name, term, exclusivity and edits,
instead of codes and enum values (built from domain/words.py and domain/labels.py).

Plain Python without I/O: the portal's pages and the API's marketplace answer both say it
the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.enums import DeliverableFormat
from domain.labels import words
from domain.words import days_words, join_words, money, platform_name, territory_words

TIMES = "\N{MULTIPLICATION SIGN}"
MODIFICATIONS = {
    "none": "used as delivered, without edits",
    "edit": "may be cut, captioned and edited",
    "derivative": "may be edited and made into new ads and works",
}


def deliverable_words(
    fmt: DeliverableFormat | str,
    duration_s: int | None,
    quantity: int | None = None,
    price: str | None = None,
) -> str:
    """The deliverable in words: "2 (times) vertical video (9:16), 30 s, $1,000.00 each",
    with a multiplication sign; quantity and price optional."""
    said = words(fmt)  # "video_9x16" -> "vertical video (9:16)"
    if quantity is not None:
        said = f"{quantity} {TIMES} {said}"
    if duration_s:
        said += f", {duration_s} s"
    if price is not None:
        said += f", {price} each" if quantity is not None and quantity > 1 else f", {price}"
    return said


@dataclass(frozen=True)
class Term:
    """One line of the usage rights: which term (a stable key), its name and what it says."""

    key: str
    label: str
    text: str


def term_words(perpetual: bool, term_days: int | None) -> str:
    if perpetual:
        return "perpetual: forever, with no end date"
    return f"{days_words(term_days)} from approval" if term_days else "as agreed at approval"


def exclusivity_words(days: int, category: str | None) -> str:
    if not days or not category:
        return "none: you may work with other brands"
    return f"{days_words(days)} in {category}: no work for competing brands in it meanwhile"


def usage_rights_words(rights: Mapping[str, Any], currency: str) -> list[Term]:
    """The usage rights a brief asks for (a `UsageRightsSpec` as a mapping), line by line."""
    channels = [words(c) for c in rights.get("channels") or []]
    platforms = [platform_name(p) for p in rights.get("platforms") or []]
    fee = int(rights.get("fee_minor") or 0)
    modification = str(rights.get("modification") or "edit")
    lines = [
        Term("channels", "Where the brand may use it",
             join_words(channels) or words("organic_social")),
        Term("platforms", "Platforms", join_words(platforms) if platforms else "any platform"),
        Term("territories", "Countries", territory_words(rights.get("territories") or ["WW"])),
        Term("term", "For how long",
             term_words(bool(rights.get("perpetual")), rights.get("term_days"))),
        Term("exclusivity", "Exclusivity",
             exclusivity_words(int(rights.get("exclusivity_days") or 0),
                               rights.get("exclusivity_category"))),
        Term("modification", "Edits", MODIFICATIONS.get(modification, modification)),
        Term("fee", "Paid usage fee",
             f"{money(fee, currency)} on top of the price" if fee
             else "included in the price"),
    ]  # fmt: skip
    if rights.get("attribution"):
        lines.append(
            Term("attribution", "Credit", "the brand credits you where it uses the content")
        )
    return lines
