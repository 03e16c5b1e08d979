"""A brief's terms in words: what creators read on marketplace cards, brief pages and the
brief they accept."""

from __future__ import annotations

from domain.brief_words import deliverable_words, usage_rights_words
from domain.enums import DeliverableFormat
from domain.words import days_words, territory_words
from workflows.contracts.campaign import UsageRightsSpec

TIMES = "\N{MULTIPLICATION SIGN}"


def test_a_deliverable_reads_as_count_format_length_and_price() -> None:
    assert deliverable_words(DeliverableFormat.VIDEO_9_16, 30) == "vertical video (9:16), 30 s"
    assert deliverable_words("video_16x9", None, 1, "$800.00") == (
        f"1 {TIMES} landscape video (16:9), $800.00"
    )
    assert deliverable_words("photo", None, 3, "€50.00") == f"3 {TIMES} photo, €50.00 each"


def test_territories_are_countries_by_name_or_worldwide() -> None:
    assert territory_words(["WW"]) == "worldwide"
    assert territory_words(["US", "WW"]) == "worldwide"
    assert territory_words(["us", "DE", "GB"]) == (
        "Germany, the United Kingdom and the United States"
    )
    assert territory_words(["FR"]) == "France"


def test_terms_count_in_years_when_they_are_whole_years() -> None:
    assert (days_words(1), days_words(30), days_words(365), days_words(730)) == (
        "1 day", "30 days", "1 year", "2 years",
    )  # fmt: skip


def test_usage_rights_read_line_by_line() -> None:
    asked = UsageRightsSpec(
        channels=["organic_social", "paid_social"], platforms=["tiktok"], territories=["CA"],
        term_days=None, perpetual=True, exclusivity_days=90, exclusivity_category="skincare",
        modification="none", fee_minor=25_000, attribution=True,
    )  # fmt: skip
    lines = {t.key: (t.label, t.text) for t in usage_rights_words(asked.model_dump(), "USD")}
    assert lines["channels"] == (
        "Where the brand may use it", "organic social posts and paid social ads",
    )  # fmt: skip
    assert lines["platforms"][1] == "TikTok"
    assert lines["territories"][1] == "Canada"
    assert lines["term"][1].startswith("perpetual")
    assert lines["exclusivity"][1].startswith("90 days in skincare")
    assert lines["modification"][1] == "used as delivered, without edits"
    assert lines["fee"][1] == "$250.00 on top of the price"
    assert "attribution" in lines

    default = {t.key: t.text for t in usage_rights_words(UsageRightsSpec().model_dump(), "EUR")}
    assert default["term"] == "1 year from approval"
    assert default["platforms"] == "any platform"
    assert default["territories"] == "worldwide"
    assert default["exclusivity"] == "none: you may work with other brands"
    assert default["fee"] == "included in the price"
    assert "attribution" not in default
