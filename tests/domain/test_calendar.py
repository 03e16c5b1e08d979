from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.calendar import add_business_days, is_business_day

THURSDAY = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)


def test_three_business_days_from_thursday_is_tuesday() -> None:
    assert add_business_days(THURSDAY, 3) == datetime(2026, 12, 1, 15, 30, tzinfo=UTC)


def test_a_weekend_start_counts_from_monday() -> None:
    saturday = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    assert add_business_days(saturday, 0) == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert add_business_days(saturday, 1) == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^days must not be negative$"):
        add_business_days(THURSDAY, -1)


moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@given(moments, st.integers(min_value=0, max_value=60))
def test_business_day_properties(start: datetime, days: int) -> None:
    end = add_business_days(start, days)
    assert is_business_day(end)
    assert end.time() == start.time()
    # Exactly `days` business days lie after the (business-day-adjusted) start, up to the end.
    counted = 0
    moment = start
    while not is_business_day(moment):
        moment += timedelta(days=1)
    while moment < end:
        moment += timedelta(days=1)
        counted += is_business_day(moment)
    assert counted == days
    # Never more than days + 2 weekends per 5 days (+ a leading weekend) in calendar time.
    assert end - start <= timedelta(days=days + 2 * (days // 5 + 1) + 2)
