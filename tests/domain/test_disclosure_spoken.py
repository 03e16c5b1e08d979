"""The spoken disclosure: a denial said aloud, or "AD" in a year, is no disclosure; "brought to
you by <brand>" and "<brand> gifted me" are."""

from __future__ import annotations

import pytest

from activities.checks.spoken import check_spoken_disclosure
from workflows.contracts.moderation import Word


def said(text: str) -> list[Word]:
    return [Word(text=w, start_s=i * 0.5, end_s=i * 0.5 + 0.4) for i, w in enumerate(text.split())]


def codes(text: str) -> list[str]:
    return [f.code for f in check_spoken_disclosure(said(text), brand="Glow", within_s=15)]


@pytest.mark.parametrize(
    "text",
    [
        "this video is not sponsored I just love the serum",
        "I turned down a paid partnership with them",
        "this castle was built in 1200 AD and it is lovely",
        "we held an ad hoc meeting about skincare",
    ],
)
def test_denials_and_other_senses_of_ad_are_not_disclosures(text: str) -> None:
    assert codes(text) == ["spoken_disclosure_missing"]


@pytest.mark.parametrize(
    "text",
    [
        "this video is brought to you by Glow",
        "Glow gifted me this serum so let's try it",
        "thank you Glow for the free serum",
        "this is an ad for Glow",
    ],
)
def test_clear_spoken_disclosures_pass(text: str) -> None:
    assert codes(text) == []
