"""License terms: periods, territories, usage refusals and exclusivity."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pycountry
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.license_terms import (
    WORLDWIDE,
    Exclusivity,
    Grant,
    Period,
    TermError,
    Use,
    normalize_category,
    normalize_territories,
    refusal,
    territories_overlap,
    territory_covered,
)

BASE = datetime(2027, 1, 1, tzinfo=UTC)
COUNTRIES = sorted(c.alpha_2 for c in pycountry.countries)
# A few countries keep the generated sets small enough to overlap often.
SOME_COUNTRIES = ["US", "CA", "GB", "DE", "FR", "JP", "BR", "AU"]

# Every UTC offset in use, -14:00..+14:00, to the minute (a few are :30 or :45).
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


def at(minute: int) -> datetime:
    """A point on an integer timeline of minutes after BASE (UTC)."""
    return BASE + timedelta(minutes=minute)


# -- periods: half-open, instant-based --------------------------------------------------------

# (start, end) on the integer timeline; end None is open-ended.
intervals = st.integers(min_value=-500, max_value=500).flatmap(
    lambda start: st.tuples(
        st.just(start),
        st.one_of(st.none(), st.integers(min_value=start + 1, max_value=start + 500)),
    )
)
HORIZON = 2000  # beyond every generated start: stands in for "forever"


def minutes_of(interval: tuple[int, int | None]) -> set[int]:
    start, end = interval
    return set(range(start, HORIZON if end is None else end))


def period_of(interval: tuple[int, int | None], tz: timezone = UTC) -> Period:
    start, end = interval
    return Period(at(start).astimezone(tz), None if end is None else at(end).astimezone(tz))


@given(intervals, intervals, offsets, offsets)
def test_overlap_is_symmetric_and_matches_shared_instants(
    a: tuple[int, int | None], b: tuple[int, int | None], tz_a: timezone, tz_b: timezone
) -> None:
    # Endpoints on whole minutes: two half-open periods share an instant exactly when they
    # share a whole minute, whatever zone each is written in.
    pa, pb = period_of(a, tz_a), period_of(b, tz_b)
    expected = bool(minutes_of(a) & minutes_of(b))
    assert pa.overlaps(pb) == expected
    assert pb.overlaps(pa) == expected


@given(intervals, st.integers(min_value=-600, max_value=HORIZON - 1), offsets, offsets)
def test_contains_answers_on_the_instant_in_any_zone(
    interval: tuple[int, int | None], minute: int, period_tz: timezone, query_tz: timezone
) -> None:
    period = period_of(interval, period_tz)
    instant = at(minute)
    expected = minute in minutes_of(interval)
    assert period.contains(instant) == expected
    assert period.contains(instant.astimezone(query_tz)) == expected


@given(intervals, offsets)
def test_start_is_inclusive_and_end_exclusive(
    interval: tuple[int, int | None], tz: timezone
) -> None:
    start, end = interval
    period = period_of(interval)
    tick = timedelta(microseconds=1)
    assert period.contains(at(start).astimezone(tz))
    assert not period.contains((at(start) - tick).astimezone(tz))
    if end is not None:
        assert not period.contains(at(end).astimezone(tz))
        assert period.contains((at(end) - tick).astimezone(tz))


def test_a_license_ending_at_midnight_utc_does_not_cover_that_midnight_anywhere() -> None:
    period = Period(BASE, datetime(2027, 2, 1, tzinfo=UTC))
    new_york = timezone(timedelta(hours=-5))
    kiritimati = timezone(timedelta(hours=14))
    # 19:00 on 31 January in New York is midnight UTC on 1 February: already over.
    assert not period.contains(datetime(2027, 1, 31, 19, 0, tzinfo=new_york))
    assert period.contains(datetime(2027, 1, 31, 18, 59, 59, 999999, tzinfo=new_york))
    # Already 1 February 14:00 on Kiritimati, but still 31 January 23:59 UTC: covered.
    assert period.contains(datetime(2027, 2, 1, 13, 59, tzinfo=kiritimati))
    assert not period.contains(datetime(2027, 2, 1, 14, 0, tzinfo=kiritimati))


@given(offsets, offsets)
def test_adjacent_periods_do_not_overlap_whatever_the_zones(tz_a: timezone, tz_b: timezone) -> None:
    first = Period(BASE.astimezone(tz_a), (BASE + timedelta(days=30)).astimezone(tz_a))
    second = Period((BASE + timedelta(days=30)).astimezone(tz_b), None)
    assert not first.overlaps(second)
    assert not second.overlaps(first)


@given(offsets)
def test_the_end_must_be_a_later_instant_not_a_later_wall_clock(tz: timezone) -> None:
    # Same instant written in another zone: an empty period, refused.
    with pytest.raises(TermError) as raised:
        Period(BASE, BASE.astimezone(tz))
    assert raised.value.field == "ends_at"


def test_a_later_wall_clock_that_is_an_earlier_instant_is_refused() -> None:
    start = datetime(2027, 1, 1, 10, 0, tzinfo=UTC)
    end = datetime(2027, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=5)))  # 07:00 UTC
    with pytest.raises(TermError, match="after the start") as raised:
        Period(start, end)
    assert raised.value.field == "ends_at"


def test_instants_in_a_named_zone_are_compared_as_instants_across_a_dst_fold() -> None:
    # On 7 November 2027 New York's clocks go back at 02:00 EDT: 01:15 happens twice. Python
    # compares two datetimes of one tzinfo by wall clock, ignoring `fold`; the terms must not.
    new_york = ZoneInfo("America/New_York")
    starts = datetime(2027, 11, 7, 1, 30, tzinfo=new_york)  # EDT, 05:30 UTC
    ends = datetime(2027, 11, 7, 2, 0, tzinfo=new_york)  # EST, 07:00 UTC
    second_quarter_past_one = datetime(2027, 11, 7, 1, 15, fold=1, tzinfo=new_york)  # 06:15 UTC
    period = Period(starts, ends)
    assert period.contains(second_quarter_past_one.astimezone(UTC))
    assert period.contains(second_quarter_past_one)
    # An end 45 minutes after the start is a valid period, whatever its wall clock says.
    assert Period(starts, second_quarter_past_one).contains(starts)


def test_naive_datetimes_are_refused_naming_the_field() -> None:
    naive = datetime(2027, 1, 1)
    with pytest.raises(TermError, match="time zone") as raised:
        Period(naive, None)
    assert raised.value.field == "starts_at"
    with pytest.raises(TermError) as raised:
        Period(BASE, naive + timedelta(days=1))
    assert raised.value.field == "ends_at"
    with pytest.raises(TermError) as raised:
        Period(BASE, None).contains(naive)
    assert raised.value.field == "at"
    with pytest.raises(TermError) as raised:
        Use(channel="organic_social", territory="US", at=naive)
    assert raised.value.field == "at"


# -- territories --------------------------------------------------------------------------


def spelled(code: str, upper: bool, pad: bool) -> str:
    text = code if upper else code.lower()
    return f" {text} " if pad else text


country_codes = st.lists(st.sampled_from(COUNTRIES), min_size=1, max_size=8)
spellings = st.tuples(st.booleans(), st.booleans())


@given(country_codes, st.lists(spellings, min_size=8, max_size=8))
def test_territory_codes_are_upper_cased_and_deduplicated(
    codes: list[str], how: list[tuple[bool, bool]]
) -> None:
    raw = [spelled(code, *style) for code, style in zip(codes, how, strict=False)]
    assert normalize_territories(raw) == frozenset(codes)


@given(country_codes, st.sampled_from(["WW", "ww", " Ww "]), st.integers(min_value=0, max_value=8))
def test_worldwide_absorbs_every_other_code(codes: list[str], ww: str, position: int) -> None:
    raw = [*codes]
    raw.insert(min(position, len(raw)), ww)
    assert normalize_territories(raw) == frozenset({WORLDWIDE})


@pytest.mark.parametrize("code", ["UK", "EU", "XX", "USA", "U", "", "1A", "Deutschland"])
def test_unknown_territory_codes_are_refused(code: str) -> None:
    with pytest.raises(TermError) as raised:
        normalize_territories(["US", code])
    assert raised.value.field == "territories"
    assert repr(code) in str(raised.value)


def test_no_territory_at_all_is_refused() -> None:
    with pytest.raises(TermError, match="at least one") as raised:
        normalize_territories([])
    assert raised.value.field == "territories"


def expand(codes: frozenset[str]) -> frozenset[str]:
    """Set semantics: WW stands for every country."""
    return frozenset(COUNTRIES) if WORLDWIDE in codes else codes


territory_sets = st.one_of(
    st.just(frozenset({WORLDWIDE})),
    st.frozensets(st.sampled_from(SOME_COUNTRIES), min_size=1, max_size=5),
)


@given(territory_sets, st.sampled_from([*SOME_COUNTRIES, "NZ", WORLDWIDE]))
def test_a_use_is_covered_when_its_territories_are_a_subset_of_the_grant(
    granted: frozenset[str], territory: str
) -> None:
    wanted = expand(frozenset({territory}))
    assert territory_covered(granted, territory) == (wanted <= expand(granted))


@given(territory_sets, territory_sets)
def test_territories_overlap_when_they_share_a_country(
    a: frozenset[str], b: frozenset[str]
) -> None:
    shared = bool(expand(a) & expand(b))
    assert territories_overlap(a, b) == shared
    assert territories_overlap(b, a) == shared


def test_worldwide_use_needs_a_worldwide_grant() -> None:
    assert territory_covered(frozenset({WORLDWIDE}), WORLDWIDE)
    assert not territory_covered(frozenset(COUNTRIES), WORLDWIDE)


# -- the usage check's decision -----------------------------------------------------------

GRANT = Grant(
    channels=frozenset({"organic_social", "paid_social"}),
    platforms=frozenset({"tiktok", "instagram"}),
    territories=frozenset({"US", "CA"}),
    period=Period(BASE, BASE + timedelta(days=365)),
)
INSIDE = BASE + timedelta(days=100)


def test_a_use_within_every_term_is_allowed() -> None:
    assert refusal(GRANT, Use("paid_social", "CA", INSIDE, platform="tiktok")) is None
    # No platform named: the channel grant is enough.
    assert refusal(GRANT, Use("organic_social", "US", INSIDE)) is None


@pytest.mark.parametrize(
    ("use", "reason"),
    [
        (
            Use("broadcast_ooh", "US", INSIDE),
            "the license does not grant the broadcast_ooh channel",
        ),
        (
            Use("paid_social", "US", INSIDE, platform="youtube"),
            "the license does not grant the youtube platform",
        ),
        (Use("paid_social", "DE", INSIDE), "the license does not cover territory DE"),
        (Use("paid_social", WORLDWIDE, INSIDE), "the license does not cover territory WW"),
        (
            Use("paid_social", "US", BASE - timedelta(seconds=1)),
            f"the license starts at {BASE.isoformat()}",
        ),
        (
            Use("paid_social", "US", BASE + timedelta(days=365)),
            f"the license ended at {(BASE + timedelta(days=365)).isoformat()}",
        ),
    ],
)
def test_each_refusal_names_the_term_that_is_missing(use: Use, reason: str) -> None:
    assert refusal(GRANT, use) == reason


def test_a_grant_without_platforms_allows_every_platform_of_its_channels() -> None:
    open_platforms = Grant(GRANT.channels, frozenset(), GRANT.territories, GRANT.period)
    assert refusal(open_platforms, Use("paid_social", "US", INSIDE, platform="youtube")) is None


@given(
    st.sampled_from(["organic_social", "paid_social", "website_email", "ecommerce"]),
    st.one_of(st.none(), st.sampled_from(["tiktok", "instagram", "youtube"])),
    st.sampled_from([*SOME_COUNTRIES, WORLDWIDE]),
    st.integers(min_value=-5, max_value=370),
    offsets,
)
def test_refusal_is_none_exactly_when_every_term_allows_the_use(
    channel: str, platform: str | None, territory: str, day: int, tz: timezone
) -> None:
    when = (BASE + timedelta(days=day)).astimezone(tz)
    use = Use(channel, territory, when, platform=platform)
    allowed = (
        channel in GRANT.channels
        and (platform is None or platform in GRANT.platforms)
        and territory in GRANT.territories
        and 0 <= day < 365
    )
    assert (refusal(GRANT, use) is None) == allowed


# -- exclusivity --------------------------------------------------------------------------


def test_exclusivity_categories_compare_case_and_space_insensitively() -> None:
    assert normalize_category("  Skin   CARE ") == "skin care"
    mine = Exclusivity("Skin care", Period(BASE, BASE + timedelta(days=90)))
    theirs = Exclusivity(" SKIN\tcare", Period(BASE + timedelta(days=89), None))
    assert mine.collides_with(theirs)
    assert theirs.collides_with(mine)


def test_exclusivity_in_another_category_or_a_later_period_does_not_collide() -> None:
    mine = Exclusivity("Skin care", Period(BASE, BASE + timedelta(days=90)))
    assert not mine.collides_with(Exclusivity("Hair care", Period(BASE, BASE + timedelta(days=90))))
    # Starts the instant mine ends (written in another zone): no overlap.
    later = (BASE + timedelta(days=90)).astimezone(timezone(timedelta(hours=9)))
    assert not mine.collides_with(Exclusivity("skin care", Period(later, None)))
    # The word order matters: these are different categories.
    assert not mine.collides_with(Exclusivity("care skin", mine.period))


@given(
    st.sampled_from(["Skin care", "skin  care", "SKIN CARE", "Hair care"]),
    st.sampled_from(["Skin care", " skin care", "Hair  Care"]),
    intervals,
    intervals,
)
def test_exclusivities_collide_exactly_when_category_and_period_both_match(
    cat_a: str, cat_b: str, a: tuple[int, int | None], b: tuple[int, int | None]
) -> None:
    ea, eb = Exclusivity(cat_a, period_of(a)), Exclusivity(cat_b, period_of(b))
    same = cat_a.lower().split() == cat_b.lower().split()
    expected = same and bool(minutes_of(a) & minutes_of(b))
    assert ea.collides_with(eb) == expected
    assert eb.collides_with(ea) == expected


# -- answers in UTC, whatever zone the terms or the server are in ----------------------------


class _NoOffset(tzinfo):
    """A time zone that does not know its offset: as good as none."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


def test_a_time_zone_without_an_offset_is_refused_like_none() -> None:
    with pytest.raises(TermError) as raised:
        Period(datetime(2027, 1, 1, tzinfo=_NoOffset()), None)
    assert raised.value.field == "starts_at"


def test_refusals_name_the_period_in_utc_whatever_zones_it_was_given_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")  # the server's own zone must not leak in
    time.tzset()
    try:
        plus_two = timezone(timedelta(hours=2))
        period = Period(
            datetime(2027, 1, 1, 2, 0, tzinfo=plus_two),
            datetime(2027, 7, 1, 2, 0, tzinfo=plus_two),
        )
        grant = replace(GRANT, period=period)
        early = Use("paid_social", "US", datetime(2026, 12, 31, 20, 0, tzinfo=plus_two))
        late = Use("paid_social", "US", datetime(2027, 7, 1, 0, 0, tzinfo=UTC))
        assert refusal(grant, early) == "the license starts at 2027-01-01T00:00:00+00:00"
        assert refusal(grant, late) == "the license ended at 2027-07-01T00:00:00+00:00"
        use = Use("paid_social", "US", datetime(2027, 3, 1, 9, 0, tzinfo=plus_two))
        assert use.at.isoformat() == "2027-03-01T07:00:00+00:00"
    finally:
        monkeypatch.undo()
        time.tzset()


# -- what a refused term says ----------------------------------------------------------------


def test_refused_terms_say_what_to_give() -> None:
    with pytest.raises(TermError) as raised:
        normalize_territories([])
    assert str(raised.value) == "give at least one territory code, or WW for worldwide"
    with pytest.raises(TermError) as raised:
        Period(datetime(2027, 1, 1), None)
    assert str(raised.value) == "give a time zone (for example 2027-01-31T00:00:00Z)"
    with pytest.raises(TermError) as raised:
        Period(BASE, BASE)
    assert (raised.value.field, str(raised.value)) == ("ends_at", "the end must be after the start")
