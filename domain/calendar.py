"""Business-day arithmetic for review windows and creator phases (pure, deterministic)."""

from __future__ import annotations

from datetime import datetime, timedelta

SATURDAY = 5


def is_business_day(moment: datetime) -> bool:
    return moment.weekday() < SATURDAY


def add_business_days(start: datetime, days: int) -> datetime:
    """The same time of day `days` business days later (Monday to Friday, in the timezone of
    `start`). A start on a weekend counts from the following Monday."""
    if days < 0:
        raise ValueError("days must not be negative")
    moment = start
    while not is_business_day(moment):
        moment += timedelta(days=1)
    remaining = days
    while remaining:
        moment += timedelta(days=1)
        if is_business_day(moment):
            remaining -= 1
    return moment
