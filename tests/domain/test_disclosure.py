from __future__ import annotations

import pytest

from activities.checks.activities import caption_check
from domain.disclosure import MORE_CUT, check_caption
from workflows.contracts.delivery import CheckRequest


def codes(caption: str, *, mentions: list[str] | None = None, required: bool = True) -> list[str]:
    findings = check_caption(
        caption, disclosure_required=required, mandatory_mentions=mentions or []
    )
    return [f.code for f in findings]


@pytest.mark.parametrize(
    "caption",
    [
        "#ad My morning routine with Glow",
        "Sponsored by Glow: my morning routine",
        "Paid partnership with Glow. Morning routine!",
        "#sponsored morning routine",
        "Advertisement: Glow serum review",
        "Thanks to Glow for the free product! Here's my review",
        "Glow partner here, trying the new serum",
        "ad: trying the new Glow serum",
    ],
)
def test_clear_disclosures_at_the_start_pass(caption: str) -> None:
    assert codes(caption) == []


@pytest.mark.parametrize("vague", ["#sp", "#spon", "#collab", "#thanks", "#ambassador"])
def test_wording_the_ftc_calls_insufficient_is_flagged(vague: str) -> None:
    findings = check_caption(
        f"Loving my new serum {vague}", disclosure_required=True, mandatory_mentions=[]
    )
    assert [f.code for f in findings] == ["disclosure_insufficient"]
    assert findings[0].span is not None
    start, end = findings[0].span
    assert f"Loving my new serum {vague}"[start:end] == vague


def test_a_missing_disclosure_is_flagged_with_what_to_do() -> None:
    findings = check_caption("Loving my new serum", disclosure_required=True, mandatory_mentions=[])
    assert [f.code for f in findings] == ["disclosure_missing"]
    assert "#ad" in findings[0].message


def test_a_disclosure_after_the_more_cut_is_flagged() -> None:
    caption = "x" * MORE_CUT + " #ad"
    assert codes(caption) == ["disclosure_below_fold"]


def test_a_disclosure_buried_among_trailing_hashtags_is_flagged() -> None:
    assert codes("Morning routine with my fave serum #glow #skincare #ad #serum") == [
        "disclosure_buried"
    ]
    assert codes("#ad #glow #skincare #serum") == []  # first thing in the caption


def test_no_disclosure_needed_when_the_brief_does_not_require_one() -> None:
    assert codes("Loving my new serum", required=False) == []


def test_mandatory_mentions_are_case_insensitive_and_each_reported() -> None:
    assert codes("#ad glow SERUM 30 ml is here", mentions=["Glow serum 30 ml"]) == []
    assert codes("#ad hello", mentions=["Glow serum", "@glowofficial"]) == [
        "mandatory_mention_missing",
        "mandatory_mention_missing",
    ]


def test_the_activity_blocks_only_on_blocking_findings() -> None:
    passed = caption_check(
        CheckRequest.model_validate(
            {
                "delivery_id": "00000000-0000-0000-0000-000000000001",
                "submission_id": "00000000-0000-0000-0000-000000000002",
                "caption": "#ad Glow serum",
                "disclosure_required": True,
                "mandatory_mentions": ["Glow serum"],
            }
        )
    )
    assert passed.passed
    assert passed.findings == []


@pytest.mark.parametrize(
    "caption",
    [
        "Big collab with Glow! Morning routine",
        "Thanks Glow! Loving the serum",
        "Proud ambassador of this serum",
        "Loving my serum #spon",
    ],
)
def test_vague_wording_without_a_hashtag_is_insufficient_too(caption: str) -> None:
    assert codes(caption) == ["disclosure_insufficient"]


WRONG = "disclosure_wrong_language"


@pytest.mark.parametrize(
    ("caption", "expected"),
    [
        ("#publicidad Mi rutina de la mañana con el sérum de Glow, es para mí", []),
        ("Werbung: meine Morgenroutine mit dem Serum, ich liebe es und das ist", []),
        ("#ad Mi rutina de la mañana con el sérum de Glow, es para mí", [WRONG]),
        ("Ma routine du matin avec le sérum, pour les curieux et les autres", [WRONG]),
    ],
)
def test_the_disclosure_is_in_the_language_of_the_post(caption: str, expected: list[str]) -> None:
    findings = check_caption(caption, disclosure_required=True, mandatory_mentions=[])
    assert [f.code for f in findings] == expected
    if expected:
        assert "#" in findings[0].message
