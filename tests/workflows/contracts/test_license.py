"""The license contracts that carry the terms: the brief's requested rights, the granted terms
and changes to them, validated like the terms themselves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.license_terms import Period, Use, refusal
from workflows.contracts.campaign import UsageRightsSpec
from workflows.contracts.license import ExclusivityTerm, LicenseTerms, TermsChange

BASE = datetime(2027, 1, 1, tzinfo=UTC)
INSIDE = BASE + timedelta(days=100)
# Every UTC offset in use, -14:00..+14:00, to the minute.
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


def terms(**overrides: Any) -> LicenseTerms:
    values: dict[str, Any] = {
        "channels": ["organic_social", "paid_social"],
        "platforms": ["tiktok"],
        "territories": ["US", "CA"],
        "starts_at": BASE,
        "ends_at": BASE + timedelta(days=365),
        "fee_minor": 50_000,
        "currency": "USD",
    }
    values.update(overrides)
    return LicenseTerms.model_validate(values)


# -- LicenseTerms -------------------------------------------------------------------------


def test_terms_normalize_territories_and_platforms() -> None:
    t = terms(territories=["us", " de ", "US"], platforms=[" TikTok ", "tiktok", "Instagram"])
    assert t.territories == ["DE", "US"]
    assert t.platforms == ["instagram", "tiktok"]
    assert terms(territories=["fr", "ww"]).territories == ["WW"]


def test_terms_grant_decides_like_the_terms_say() -> None:
    grant = terms().grant()
    assert refusal(grant, Use("paid_social", "US", INSIDE, platform="tiktok")) is None
    assert refusal(grant, Use("paid_social", "GB", INSIDE)) == (
        "the license does not cover territory GB"
    )


@pytest.mark.parametrize(
    "ends_at",
    [
        BASE,
        BASE - timedelta(days=1),
        datetime(2027, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=3))),
    ],
)
def test_terms_ending_at_or_before_the_start_are_refused(ends_at: datetime) -> None:
    with pytest.raises(ValidationError, match="the end must be after the start"):
        terms(ends_at=ends_at)


def test_perpetual_terms_need_the_creators_consent() -> None:
    with pytest.raises(ValidationError, match="perpetual rights need the creator's explicit"):
        terms(ends_at=None)
    perpetual = terms(ends_at=None, perpetual_consent=True)
    assert perpetual.period().contains(BASE + timedelta(days=365 * 50))


@pytest.mark.parametrize("territories", [["US", "UK"], ["EU"], [], ["ZZ"]])
def test_terms_with_unknown_or_no_territories_are_refused(territories: list[str]) -> None:
    with pytest.raises(ValidationError) as raised:
        terms(territories=territories)
    assert raised.value.errors()[0]["loc"] == ("territories",)


def test_terms_refuse_naive_datetimes_and_exclusivity_ending_before_the_start() -> None:
    with pytest.raises(ValidationError) as raised:
        terms(starts_at=datetime(2027, 1, 1))
    assert raised.value.errors()[0]["loc"] == ("starts_at",)
    with pytest.raises(ValidationError, match="exclusivity must end after the license starts"):
        terms(exclusivity=ExclusivityTerm(category="Skin care", ends_at=BASE))


def test_terms_exclusivity_runs_from_the_license_start() -> None:
    exclusive = terms(
        exclusivity=ExclusivityTerm(category="Skin care", ends_at=BASE + timedelta(days=30))
    ).exclusive()
    assert exclusive is not None
    assert exclusive.period == Period(BASE, BASE + timedelta(days=30))
    assert terms().exclusive() is None


# -- from the brief's requested rights ------------------------------------------------------


def test_usage_rights_default_to_a_year_of_organic_social_worldwide() -> None:
    rights = UsageRightsSpec()
    assert (rights.channels, rights.territories, rights.term_days) == (
        ["organic_social"],
        ["WW"],
        365,
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"perpetual": True}, "either term_days or perpetual"),
        ({"term_days": None}, "either term_days or perpetual"),
        ({"exclusivity_days": 30}, "exclusivity needs both"),
        ({"exclusivity_category": "Skin care"}, "exclusivity needs both"),
        ({"territories": ["US", "UK"]}, "unknown territory code 'UK'"),
        ({"channels": []}, "at least 1 item"),
        ({"term_days": 0}, "greater than or equal to 1"),
    ],
)
def test_inconsistent_usage_rights_are_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        UsageRightsSpec.model_validate(fields)


def test_usage_rights_normalize_territories_and_platforms() -> None:
    rights = UsageRightsSpec(territories=["ca", "US", "us"], platforms=["TikTok", " ", "tiktok"])
    assert rights.territories == ["CA", "US"]
    assert rights.platforms == ["tiktok"]


@given(
    st.integers(min_value=1, max_value=3650),
    st.integers(min_value=1, max_value=3650),
    offsets,
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2035, 1, 1)),
)
def test_from_brief_runs_term_days_and_exclusivity_days_from_approval(
    term_days: int, exclusivity_days: int, tz: timezone, local: datetime
) -> None:
    starts_at = local.replace(tzinfo=tz)
    rights = UsageRightsSpec(
        channels=["paid_social"],
        territories=["de", "AT"],
        term_days=term_days,
        exclusivity_days=exclusivity_days,
        exclusivity_category="Skin care",
        modification="none",
        attribution=True,
        fee_minor=12_345,
    )
    t = LicenseTerms.from_brief(rights, starts_at=starts_at, currency="EUR", consent=False)
    assert t.starts_at == starts_at
    assert t.ends_at is not None
    # Exactly term_days of 24 hours, as instants.
    assert t.ends_at.astimezone(UTC) - starts_at.astimezone(UTC) == timedelta(days=term_days)
    period = t.period()
    assert period.contains(t.ends_at - timedelta(microseconds=1))
    assert not period.contains(t.ends_at.astimezone(UTC))
    assert t.exclusivity == ExclusivityTerm(
        category="Skin care", ends_at=starts_at + timedelta(days=exclusivity_days)
    )
    assert (t.channels, t.territories, t.modification, t.attribution) == (
        ["paid_social"],
        ["AT", "DE"],
        "none",
        True,
    )
    assert (t.fee_minor, t.currency, t.perpetual_consent) == (12_345, "EUR", False)


def test_from_brief_perpetual_rights_need_consent() -> None:
    rights = UsageRightsSpec(perpetual=True, term_days=None)
    granted = LicenseTerms.from_brief(rights, starts_at=BASE, currency="USD", consent=True)
    assert granted.ends_at is None
    assert granted.perpetual_consent
    with pytest.raises(ValidationError, match="perpetual rights need the creator's explicit"):
        LicenseTerms.from_brief(rights, starts_at=BASE, currency="USD", consent=False)


def test_from_brief_without_exclusivity_grants_none() -> None:
    t = LicenseTerms.from_brief(UsageRightsSpec(), starts_at=BASE, currency="USD", consent=False)
    assert t.exclusivity is None
    assert t.ends_at == BASE + timedelta(days=365)


# -- changes agreed by both parties --------------------------------------------------------


def test_a_change_that_changes_nothing_is_refused() -> None:
    with pytest.raises(ValidationError, match="the change changes nothing"):
        TermsChange(by="brand")
    # A fee or a note alone changes no term.
    with pytest.raises(ValidationError, match="the change changes nothing"):
        TermsChange(by="creator", fee_minor=10_000, note="for the trouble")


def test_a_change_cannot_both_end_and_be_perpetual() -> None:
    with pytest.raises(ValidationError, match="either ends_at or perpetual=true, not both"):
        TermsChange(by="brand", ends_at=BASE + timedelta(days=400), perpetual=True)


def test_an_extension_moves_the_end_and_keeps_everything_else() -> None:
    before = terms()
    later = BASE + timedelta(days=730)
    after = TermsChange(by="brand", ends_at=later, fee_minor=20_000).applied_to(
        before, accepted_by="creator"
    )
    assert after.ends_at == later
    assert after.model_dump(exclude={"ends_at"}) == before.model_dump(exclude={"ends_at"})
    assert before.ends_at == BASE + timedelta(days=365)  # the original is untouched


def test_a_change_of_terms_is_validated_like_new_terms() -> None:
    changed = TermsChange(by="creator", territories=["gb", "ie"], channels=["ecommerce"])
    after = changed.applied_to(terms(), accepted_by="brand")
    assert (after.territories, after.channels) == (["GB", "IE"], ["ecommerce"])
    with pytest.raises(ValueError, match="the end must be after the start"):
        TermsChange(by="brand", ends_at=BASE - timedelta(days=1)).applied_to(
            terms(), accepted_by="creator"
        )
    with pytest.raises(ValidationError, match="unknown territory code 'UK'"):
        TermsChange(by="brand", territories=["UK"])


@pytest.mark.parametrize(
    ("by", "accepted_by"), [("brand", "creator"), ("creator", "brand"), ("creator", "creator")]
)
def test_perpetual_terms_by_change_carry_consent_when_the_creator_is_a_party(
    by: Any, accepted_by: Any
) -> None:
    after = TermsChange(by=by, perpetual=True).applied_to(terms(), accepted_by=accepted_by)
    assert after.ends_at is None
    assert after.perpetual_consent


def test_perpetual_terms_by_change_without_the_creator_are_refused() -> None:
    with pytest.raises(ValueError, match="perpetual rights need the creator's explicit consent"):
        TermsChange(by="brand", perpetual=True).applied_to(terms(), accepted_by="brand")
