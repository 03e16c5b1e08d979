"""License terms: where, when and how an asset may be used, and when two licenses collide.

Plain Python without I/O: the contracts, the workflow, the activities and the usage check all
decide with these functions. Periods are half-open, [start, end): a license ending at midnight
UTC does not cover midnight. Every instant is an aware datetime; comparisons are on the instant,
so the same moment written in any time zone gets the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import pycountry

WORLDWIDE = "WW"
# Channels a license can grant, from the brief's usage rights.
CHANNELS = ("organic_social", "paid_social", "website_email", "ecommerce", "broadcast_ooh")
_COUNTRIES = frozenset(c.alpha_2 for c in pycountry.countries)


class TermError(ValueError):
    """A term that cannot be granted; `field` names the offending input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def normalize_territories(codes: Iterable[str]) -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes, upper-cased; "WW" (worldwide) absorbs every other code."""
    result: set[str] = set()
    for raw in codes:
        code = raw.strip().upper()
        if code != WORLDWIDE and code not in _COUNTRIES:
            raise TermError("territories", f"unknown territory code {raw!r} (ISO 3166-1 alpha-2)")
        result.add(code)
    if not result:
        raise TermError("territories", "give at least one territory code, or WW for worldwide")
    return frozenset({WORLDWIDE}) if WORLDWIDE in result else frozenset(result)


def territory_covered(granted: frozenset[str], territory: str) -> bool:
    """Whether use in `territory` (a country code, or WW for use everywhere) is granted."""
    return WORLDWIDE in granted or (territory != WORLDWIDE and territory in granted)


def territories_overlap(a: frozenset[str], b: frozenset[str]) -> bool:
    return WORLDWIDE in a or WORLDWIDE in b or not a.isdisjoint(b)


def as_utc(field: str, value: datetime) -> datetime:
    """The instant in UTC. Comparing in one fixed zone keeps named zones honest: two times in
    the same ZoneInfo compare by wall clock, which is wrong across a daylight-saving fold."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise TermError(field, "give a time zone (for example 2027-01-31T00:00:00Z)")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class Period:
    """[starts_at, ends_at); ends_at None is open-ended (a perpetual license)."""

    starts_at: datetime
    ends_at: datetime | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "starts_at", as_utc("starts_at", self.starts_at))
        if self.ends_at is not None:
            object.__setattr__(self, "ends_at", as_utc("ends_at", self.ends_at))
            if self.ends_at <= self.starts_at:
                raise TermError("ends_at", "the end must be after the start")

    def contains(self, at: datetime) -> bool:
        at = as_utc("at", at)
        return self.starts_at <= at and (self.ends_at is None or at < self.ends_at)

    def overlaps(self, other: Period) -> bool:
        starts_before_other_ends = other.ends_at is None or self.starts_at < other.ends_at
        other_starts_before_end = self.ends_at is None or other.starts_at < self.ends_at
        return starts_before_other_ends and other_starts_before_end


def normalize_category(category: str) -> str:
    """Exclusivity categories compare case- and space-insensitively ("Skin care" = "skin  care")."""
    return " ".join(category.casefold().split())


@dataclass(frozen=True)
class Exclusivity:
    """The creator works for no other brand in `category` during `period`."""

    category: str
    period: Period

    def collides_with(self, other: Exclusivity) -> bool:
        return normalize_category(self.category) == normalize_category(
            other.category
        ) and self.period.overlaps(other.period)


@dataclass(frozen=True)
class Grant:
    """What a license allows, as the usage check needs it."""

    channels: frozenset[str]
    platforms: frozenset[str]  # empty: every platform of the granted channels
    territories: frozenset[str]
    period: Period


@dataclass(frozen=True)
class Use:
    """One intended use of an asset: the usage check's question."""

    channel: str
    territory: str
    at: datetime
    platform: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", as_utc("at", self.at))


def refusal(grant: Grant, use: Use) -> str | None:
    """Why `grant` does not allow `use`, or None when it does."""
    if use.channel not in grant.channels:
        return f"the license does not grant the {use.channel} channel"
    if use.platform is not None and grant.platforms and use.platform not in grant.platforms:
        return f"the license does not grant the {use.platform} platform"
    if not territory_covered(grant.territories, use.territory):
        return f"the license does not cover territory {use.territory}"
    if use.at < grant.period.starts_at:
        return f"the license starts at {grant.period.starts_at.isoformat()}"
    if grant.period.ends_at is not None and use.at >= grant.period.ends_at:
        return f"the license ended at {grant.period.ends_at.isoformat()}"
    return None
