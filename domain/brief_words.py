"""A brief's terms in the words people read: money as money, deliverables as "2 (times)
vertical video (9:16), 30 s", usage rights as channels, platforms, countries by name, term,
exclusivity and edits, instead of codes and enum values.

Plain Python without I/O: the portal's pages and the API's marketplace answer both say it
the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pycountry

from domain.enums import DeliverableFormat

TIMES = "\N{MULTIPLICATION SIGN}"
# ISO 4217 currencies whose minor unit is not a hundredth.
_DECIMALS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX",
                     "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}  # fmt: skip

FORMATS = {
    DeliverableFormat.VIDEO_9_16: "vertical video (9:16)",
    DeliverableFormat.VIDEO_16_9: "landscape video (16:9)",
    DeliverableFormat.VIDEO_1_1: "square video (1:1)",
    DeliverableFormat.PHOTO: "photo",
}
CHANNELS = {
    "organic_social": "organic social posts",
    "paid_social": "paid social ads",
    "website_email": "website and e-mail",
    "ecommerce": "online shops and marketplaces",
    "broadcast_ooh": "TV, radio and outdoor",
}
PLATFORMS = {
    "tiktok": "TikTok", "instagram": "Instagram", "youtube": "YouTube", "facebook": "Facebook",
    "snapchat": "Snapchat", "pinterest": "Pinterest", "linkedin": "LinkedIn", "x": "X",
    "twitter": "X (Twitter)", "twitch": "Twitch", "reddit": "Reddit", "threads": "Threads",
}  # fmt: skip
MODIFICATIONS = {
    "none": "used as delivered, without edits",
    "edit": "may be cut, captioned and edited",
    "derivative": "may be edited and made into new ads and works",
}
# Where pycountry's name reads like a registry entry rather than what people say.
_COUNTRY_NAMES = {
    "CD": "DR Congo", "FM": "Micronesia", "PS": "Palestine", "VA": "Vatican City",
    "VG": "British Virgin Islands", "VI": "U.S. Virgin Islands", "FK": "Falkland Islands",
}  # fmt: skip


def decimals(currency: str) -> int:
    """Digits after the decimal point in `currency`'s major unit."""
    return _DECIMALS.get(currency, 2)


def money_words(amount_minor: int, currency: str) -> str:
    """Minor units as major units with the code: 100000 USD -> "1,000.00 USD"."""
    places = decimals(currency)
    major = Decimal(amount_minor).scaleb(-places)
    return f"{major:,.{places}f} {currency}"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def format_words(fmt: DeliverableFormat | str) -> str:
    try:
        return FORMATS[DeliverableFormat(fmt)]
    except ValueError:
        return str(fmt).replace("_", " ")


def deliverable_words(
    fmt: DeliverableFormat | str,
    duration_s: int | None,
    quantity: int | None = None,
    price: str | None = None,
) -> str:
    """The deliverable in words: "2 (times) vertical video (9:16), 30 s, 1,000.00 USD each",
    with a multiplication sign; quantity and price optional."""
    words = format_words(fmt)
    if quantity is not None:
        words = f"{quantity} {TIMES} {words}"
    if duration_s:
        words += f", {duration_s} s"
    if price is not None:
        words += f", {price} each" if quantity is not None and quantity > 1 else f", {price}"
    return words


def country_name(code: str) -> str:
    code = code.strip().upper()
    if code == "WW":
        return "worldwide"
    if code in _COUNTRY_NAMES:
        return _COUNTRY_NAMES[code]
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return str(getattr(country, "common_name", None) or country.name)


def territory_words(codes: Iterable[str]) -> str:
    """ "worldwide", or the countries by name: "Canada, Germany and the United States"."""
    found = [c.strip().upper() for c in codes if c.strip()]
    if not found or "WW" in found:
        return "worldwide"
    names = sorted(country_name(c) for c in set(found))
    return join_words([_with_article(n) for n in names])


def _with_article(name: str) -> str:
    # "the United States", "the Netherlands": the names that read with it in a sentence.
    needs = name.startswith(("United ", "Netherlands", "Philippines", "Bahamas", "Gambia")) or (
        name.endswith(("Islands", "Republic", "Emirates"))
    )
    return f"the {name}" if needs else name


def join_words(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} and {parts[-1]}"


def days_words(days: int) -> str:
    """365 -> "1 year", 730 -> "2 years", 30 -> "30 days"."""
    if days >= 365 and days % 365 == 0:
        return plural(days // 365, "year")
    return plural(days, "day")


def platform_name(platform: str) -> str:
    return PLATFORMS.get(platform.strip().lower(), platform.strip())


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
    channels = [CHANNELS.get(c, str(c).replace("_", " ")) for c in rights.get("channels") or []]
    platforms = [platform_name(p) for p in rights.get("platforms") or []]
    fee = int(rights.get("fee_minor") or 0)
    modification = str(rights.get("modification") or "edit")
    lines = [
        Term("channels", "Where the brand may use it",
             join_words(channels) or CHANNELS["organic_social"]),
        Term("platforms", "Platforms", join_words(platforms) if platforms else "any platform"),
        Term("territories", "Countries", territory_words(rights.get("territories") or ["WW"])),
        Term("term", "For how long",
             term_words(bool(rights.get("perpetual")), rights.get("term_days"))),
        Term("exclusivity", "Exclusivity",
             exclusivity_words(int(rights.get("exclusivity_days") or 0),
                               rights.get("exclusivity_category"))),
        Term("modification", "Edits", MODIFICATIONS.get(modification, modification)),
        Term("fee", "Paid usage fee",
             f"{money_words(fee, currency)} on top of the price" if fee
             else "included in the price"),
    ]  # fmt: skip
    if rights.get("attribution"):
        lines.append(
            Term("attribution", "Credit", "the brand credits you where it uses the content")
        )
    return lines
