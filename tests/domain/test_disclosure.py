"""The caption rules a creator meets: FTC disclosure wording, placement and language, and the
brief's mandatory mentions."""

from __future__ import annotations

import pytest

from domain.disclosure import MORE_CUT, check_caption


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
        (
            "Ma routine du matin avec le sérum, pour les curieux et les autres",
            ["disclosure_missing"],
        ),
    ],
)
def test_the_disclosure_is_in_the_language_of_the_post(caption: str, expected: list[str]) -> None:
    findings = check_caption(caption, disclosure_required=True, mandatory_mentions=[])
    assert [f.code for f in findings] == expected
    if expected:
        assert "#" in findings[0].message


# -- the "more" cut, to the character --------------------------------------------------------


def test_a_disclosure_on_the_last_character_before_the_cut_passes() -> None:
    assert codes("x" * (MORE_CUT - 1) + "#ad") == []


def test_a_disclosure_starting_on_the_cut_is_below_it_and_named_by_position() -> None:
    caption = "x" * MORE_CUT + "#ad"
    [finding] = check_caption(caption, disclosure_required=True, mandatory_mentions=[])
    assert finding.code == "disclosure_below_fold"
    assert finding.severity == "block"
    assert finding.span == (MORE_CUT, MORE_CUT + 3)
    assert f"starts at character {MORE_CUT + 1}," in finding.message


SPANISH = "Mi rutina de la mañana con el sérum, es para mí "  # six Spanish small words


def test_a_local_disclosure_before_the_cut_passes() -> None:
    padding = "x" * (MORE_CUT - 1 - len(SPANISH))
    assert codes(SPANISH + padding + "#publicidad") == []


def test_a_local_disclosure_starting_on_the_cut_is_below_it_and_named_by_position() -> None:
    caption = SPANISH + "x" * (MORE_CUT - len(SPANISH)) + "#publicidad"
    [finding] = check_caption(caption, disclosure_required=True, mandatory_mentions=[])
    assert finding.code == "disclosure_below_fold"
    assert finding.severity == "block"
    assert finding.span is not None
    assert caption[slice(*finding.span)] == "#publicidad"
    assert finding.span[0] == MORE_CUT
    assert f"starts at character {MORE_CUT + 1}," in finding.message


# -- which language's rules apply ------------------------------------------------------------


def test_the_declared_language_decides_when_the_text_is_too_short_to_tell() -> None:
    assert codes("#ad rutina y el la") == []
    findings = check_caption(
        "#ad rutina y el la", disclosure_required=True, mandatory_mentions=[], language="es"
    )
    assert [f.code for f in findings] == [WRONG]
    assert "#publicidad" in findings[0].message


def test_the_identifier_overrules_a_declared_language_the_text_is_clearly_not_in() -> None:
    caption = "#werbung Meine Morgenroutine mit dem neuen Serum, ich liebe es wirklich sehr"
    findings = check_caption(
        caption, disclosure_required=True, mandatory_mentions=[], language="en"
    )
    assert findings == []


def test_an_english_disclosure_in_another_language_is_pointed_at() -> None:
    caption = "Mi rutina con el sérum de Glow, es para mí #ad"
    [finding] = check_caption(caption, disclosure_required=True, mandatory_mentions=[])
    assert finding.code == WRONG
    assert finding.span is not None
    assert caption[slice(*finding.span)] == "#ad"


# -- buried among the trailing hashtags ------------------------------------------------------


def test_a_disclosure_opening_the_trailing_hashtags_is_buried_too() -> None:
    caption = "Morning routine!#ad #glow #skin"
    [finding] = check_caption(caption, disclosure_required=True, mandatory_mentions=[])
    assert finding.code == "disclosure_buried"
    assert finding.span is not None
    assert caption[slice(*finding.span)] == "#ad"


def test_a_disclosure_before_the_trailing_hashtags_is_not_buried() -> None:
    assert codes("Morning routine #ad with my serum #glow #skincare #serum") == []


# -- what the creator reads ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caption", "message"),
    [
        (
            "#ad Mi rutina de la mañana con el sérum de Glow, es para mí",
            'Add "#publicidad" at the start: the disclosure must be in the language of the '
            "post (Spanish), and an English one is not enough.",
        ),
        (
            "Loving my new serum #spon",
            '"#spon" is not a clear disclosure: use "#ad", "#sponsored" or "Paid partnership '
            'with <brand>".',
        ),
        (
            "Loving my new serum",
            'Add a clear disclosure such as "#ad" or "Paid partnership with <brand>" at the '
            "start of the caption.",
        ),
        (
            "x" * MORE_CUT + "#ad",
            f'The disclosure starts at character {MORE_CUT + 1}, after the "more" cut '
            f"({MORE_CUT}); move it to the beginning.",
        ),
        (
            "Morning routine with my fave serum #glow #skincare #ad #serum",
            "The disclosure is buried among hashtags; put it on its own at the beginning.",
        ),
    ],
)
def test_each_finding_tells_the_creator_what_to_do(caption: str, message: str) -> None:
    findings = check_caption(caption, disclosure_required=True, mandatory_mentions=[])
    assert [(f.severity, f.message) for f in findings] == [("block", message)]


def test_a_missing_mention_is_named_in_the_message() -> None:
    [finding] = check_caption("#ad hello", disclosure_required=True, mandatory_mentions=["Glow"])
    assert (finding.severity, finding.message) == (
        "block",
        'The brief asks you to mention "Glow" in the caption.',
    )
