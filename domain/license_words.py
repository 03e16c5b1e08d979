"""License terms in the words people read them in: money as money, countries by name, dates
as dates, every enum in plain words (built from domain/words.py and domain/labels.py), as the
rows of a certificate read: each a capitalised phrase. Shared by the certificate PDF, the
API's license list and the portal's pages.

Channels, edits, statuses and ledger events keep the certificate's own phrasing here
("Organic social media"); domain/labels.py words the same channels for briefs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.labels import words
from domain.words import capital, country_name, day, money, platform_name

CHANNELS = {
    "organic_social": "Organic social media",
    "paid_social": "Paid social ads",
    "website_email": "Website and e-mail",
    "ecommerce": "E-commerce product pages",
    "broadcast_ooh": "Broadcast and out-of-home",
}
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


def territories(codes: Iterable[str]) -> str:
    return ", ".join(sorted(capital(country_name(c)) for c in codes)) or "none"


def channels(names: Iterable[str]) -> str:
    return ", ".join(CHANNELS.get(n, n.replace("_", " ")) for n in names)


def platforms(names: list[str]) -> str:
    if not names:
        return "Any platform"
    return ", ".join(platform_name(n) for n in names)


def deliverable_format(value: str | None) -> str:
    return capital(words(value)) if value is not None else "Video"


def status(value: str) -> str:
    return STATUSES.get(value, value.replace("_", " ").capitalize())


def event(kind: str) -> str:
    return EVENTS.get(kind, kind.replace("_", " ").capitalize())


def term(terms: dict[str, Any]) -> str:
    starts = day(terms["starts_at"])
    if terms.get("ends_at") is None:
        return f"From {starts}, perpetual (the creator consented to perpetual use)"
    return f"{starts} to {day(terms['ends_at'])}"


def exclusivity(terms: dict[str, Any]) -> str:
    held = terms.get("exclusivity")
    if not held:
        return "Not exclusive"
    return f"Exclusive in {held['category']} until {day(held['ends_at'])}"


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
