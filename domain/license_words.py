"""License terms in the words people read them in: money as money, countries by name, dates
as dates, every enum in plain words. Shared by the certificate PDF and the portal's pages."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pycountry

WORLDWIDE = "WW"

# ISO 4217 currencies whose minor unit is not a hundredth.
_DECIMALS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX",
                     "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}  # fmt: skip
# Symbols a reader recognises without the code; every other currency is shown by its code.
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$",
            "NZD": "NZ$", "BRL": "R$", "MXN": "MX$"}  # fmt: skip

FORMATS = {
    "video_9x16": "Vertical video (9:16)",
    "video_16x9": "Landscape video (16:9)",
    "video_1x1": "Square video (1:1)",
    "photo": "Photo",
}
CHANNELS = {
    "organic_social": "Organic social media",
    "paid_social": "Paid social ads",
    "website_email": "Website and e-mail",
    "ecommerce": "E-commerce product pages",
    "broadcast_ooh": "Broadcast and out-of-home",
}
PLATFORMS = {
    "tiktok": "TikTok", "instagram": "Instagram", "youtube": "YouTube", "facebook": "Facebook",
    "snapchat": "Snapchat", "pinterest": "Pinterest", "linkedin": "LinkedIn", "x": "X",
    "twitter": "X (Twitter)", "threads": "Threads",
}  # fmt: skip
MODIFICATIONS = {
    "none": "Used as delivered: no edits",
    "edit": "May be edited (cuts, captions, resizing)",
    "derivative": "May be edited and used in derivative works",
}
STATUSES = {
    "active": "Active",
    "suspended": "Suspended while a dispute is open",
    "expired": "Expired",
    "terminated": "Terminated",
}
EVENTS = {
    "grant": "Granted",
    "change": "Terms changed",
    "renewal": "Renewed",
    "termination": "Terminated",
    "expiry": "Expired",
    "dispute_opened": "Dispute opened",
    "dispute_resolved": "Dispute resolved",
}


def money(amount_minor: int, currency: str) -> str:
    """Minor units as money: 100000 USD -> "$1,000.00"; 5000 CHF -> "50.00 CHF"."""
    places = _DECIMALS.get(currency, 2)
    major = f"{Decimal(amount_minor).scaleb(-places):,.{places}f}"
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{major}" if symbol else f"{major} {currency}"


def date(at: datetime | str) -> str:
    """A day as people write it: "1 March 2027" (UTC)."""
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    return f"{moment.day} {moment:%B %Y}"


def country(code: str) -> str:
    if code.upper() == WORLDWIDE:
        return "Worldwide"
    found = pycountry.countries.get(alpha_2=code.upper())
    if found is None:
        return code
    return str(getattr(found, "common_name", None) or found.name)


def territories(codes: list[str]) -> str:
    return ", ".join(sorted(country(c) for c in codes)) or "none"


def channels(names: list[str]) -> str:
    return ", ".join(CHANNELS.get(n, n.replace("_", " ")) for n in names)


def platforms(names: list[str]) -> str:
    if not names:
        return "Any platform"
    return ", ".join(PLATFORMS.get(n, n[:1].upper() + n[1:]) for n in names)


def deliverable_format(value: str | None) -> str:
    if value is None:
        return "Video"
    return FORMATS.get(value, value.replace("_", " "))


def status(value: str) -> str:
    return STATUSES.get(value, value.replace("_", " ").capitalize())


def event(kind: str) -> str:
    return EVENTS.get(kind, kind.replace("_", " ").capitalize())


def term(terms: dict[str, Any]) -> str:
    starts = date(terms["starts_at"])
    if terms.get("ends_at") is None:
        return f"From {starts}, perpetual (the creator consented to perpetual use)"
    return f"{starts} to {date(terms['ends_at'])}"


def exclusivity(terms: dict[str, Any]) -> str:
    held = terms.get("exclusivity")
    if not held:
        return "Not exclusive"
    return f"Exclusive in {held['category']} until {date(held['ends_at'])}"


def modification(value: str) -> str:
    return MODIFICATIONS.get(value) or value.replace("_", " ")


def attribution(required: bool) -> str:
    return "The creator must be credited" if required else "No credit required"


def license_fee(terms: dict[str, Any]) -> str:
    fee = int(terms.get("fee_minor") or 0)
    return money(fee, terms["currency"]) if fee else "Included in the price"


def summary(terms: dict[str, Any]) -> dict[str, str]:
    """The terms a list of licenses shows, in words."""
    return {
        "channels": channels(terms["channels"]),
        "platforms": platforms(terms.get("platforms") or []),
        "territories": territories(terms["territories"]),
        "term": term(terms),
        "exclusivity": exclusivity(terms),
        "license_fee": license_fee(terms),
    }
