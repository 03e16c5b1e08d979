"""Findings, enumerations, moments and waits in the words people read: every finding code
the checks can produce has words, every enumeration value has words, and none of them shows
a code."""

from __future__ import annotations

import ast
import enum
import inspect
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from domain import enums
from domain.disclosure import check_caption
from domain.findings import FINDING_WORDS, GARM_WORDS, clock, finding_line, finding_words
from domain.labels import WORDS, words
from domain.words import (
    ago,
    amount_input,
    day,
    day_and_time,
    duration_words,
    money,
    parse_amount,
    sentences,
    when,
)

ROOT = Path(__file__).parent.parent.parent
# Where findings are made: the media probe, the checks, the moderation and its workflow,
# and the caption rules.
FINDING_SOURCES = [
    *sorted((ROOT / "activities" / "checks").glob("*.py")),
    *sorted((ROOT / "activities" / "media").glob("*.py")),
    *sorted((ROOT / "activities" / "moderation").glob("*.py")),
    ROOT / "domain" / "disclosure.py",
    ROOT / "workflows" / "moderation.py",
]
# Calls that take the code as their first argument.
CODE_FIRST = {"_reject", "_finding"}


def literal_codes() -> dict[str, set[str]]:
    """Every literal finding code in the sources (`code="..."`, or the first argument of a
    helper that makes one), with the f-string prefixes that build codes from a category."""
    codes: set[str] = set()
    prefixes: set[str] = set()
    for path in FINDING_SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            values = [k.value for k in node.keywords if k.arg == "code"]
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name in CODE_FIRST and node.args:
                values.append(node.args[0])
            for value in values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    codes.add(value.value)
                elif isinstance(value, ast.JoinedStr):
                    head = value.values[0]
                    assert isinstance(head, ast.Constant), ast.unparse(value)
                    prefixes.add(str(head.value))
    return {"codes": codes, "prefixes": prefixes}


def test_every_finding_code_the_checks_produce_has_words() -> None:
    found = literal_codes()
    assert len(found["codes"]) > 25  # the scan sees the checks
    assert found["prefixes"] == {"garm_", "caption_"}
    caption_codes = {c for c in found["codes"] if c.startswith(("disclosure_", "mandatory_"))}
    every = (
        found["codes"]
        | {f"garm_{category}" for category in GARM_WORDS}
        | {f"caption_{code}" for code in caption_codes}
    )
    missing = sorted(code for code in every if code not in FINDING_WORDS)
    assert missing == []


def test_the_brand_safety_categories_all_have_words() -> None:
    from activities.checks.brand_safety import GARM, RENAMED_CATEGORIES  # the categories flagged

    # The canonical GARM slugs, and the short names of findings stored before them.
    assert set(GARM) | set(RENAMED_CATEGORIES) == set(GARM_WORDS)


def test_caption_findings_read_as_words_with_or_without_the_prefix() -> None:
    [found] = check_caption(
        "Loving this serum #spon", disclosure_required=True, mandatory_mentions=[]
    )
    assert finding_words(found.code) == "Ad disclosure: the caption's wording isn't clear enough"
    assert finding_words(f"caption_{found.code}") == finding_words(found.code)


@pytest.mark.parametrize("code", sorted(FINDING_WORDS))
def test_finding_words_are_sentences_not_codes(code: str) -> None:
    text = finding_words(code)
    assert "_" not in text
    assert text[0].isupper()
    assert code not in text


def test_a_finding_line_gives_the_moment_the_words_and_how_serious() -> None:
    assert finding_line("garm_drugs_alcohol_tobacco", "warn", 4.6) == (
        "0:04 — Brand safety: drug, alcohol or tobacco reference (warning)"
    )
    assert finding_line("garm_arms", "review", 67) == (
        "1:07 — Brand safety: weapons reference (needs review)"
    )
    assert finding_line("disclosure_missing", "block") == (
        "Ad disclosure: the caption doesn't say it's an ad (must fix)"
    )
    assert clock(3723) == "1:02:03"


def test_a_code_without_words_still_reads_as_words() -> None:
    assert finding_words("some_new_check") == "Some new check"


ENUMS = [
    member
    for _, cls in inspect.getmembers(enums, inspect.isclass)
    if issubclass(cls, enum.Enum) and cls.__module__ == enums.__name__
    for member in cls
]


def test_the_scan_sees_every_enumeration() -> None:
    assert {type(m).__name__ for m in ENUMS} >= {"DeliverableFormat", "DeliveryStage", "Role"}


@pytest.mark.parametrize("member", ENUMS, ids=lambda m: f"{type(m).__name__}.{m.name}")
def test_every_enumeration_value_has_words(member: enum.Enum) -> None:
    assert member.value in WORDS, f"{type(member).__name__}.{member.name} has no words"
    assert "_" not in words(member)


def test_values_read_as_people_say_them() -> None:
    assert words(enums.DeliverableFormat.VIDEO_9_16) == "vertical video (9:16)"
    assert words(enums.DeliveryStage.IN_REVIEW) == "in review"
    assert words(enums.Role.PARTNER) == "API partner"
    assert words("awaiting_transfer") == "awaiting transfer"
    assert words("paid_social") == "paid social ads"
    assert words("something_unheard_of") == "something unheard of"
    assert words(None) == ""


def test_moments_and_waits_read_as_dates_and_durations() -> None:
    assert when(datetime(2026, 12, 8, 14, 0, tzinfo=UTC)) == "Tue 8 Dec, 14:00 UTC"
    assert duration_words(timedelta(seconds=20)) == "less than a minute"
    assert duration_words(timedelta(minutes=12)) == "12 min"
    assert duration_words(timedelta(hours=3, minutes=5)) == "3 h 5 min"
    assert duration_words(timedelta(days=2, hours=4, minutes=9)) == "2 days 4 h"
    assert duration_words(timedelta(days=1)) == "1 day"
    assert duration_words(timedelta(hours=4)) == "4 h"


def test_money_reads_the_same_everywhere_with_its_symbol_or_its_code() -> None:
    assert money(125_000, "USD") == "$1,250.00"
    assert money(123_456, "EUR") == "€1,234.56"
    assert money(550_000, "GBP") == "£5,500.00"
    assert money(100_000, "cad") == "CA$1,000.00"
    # Each currency keeps its decimals; one without a symbol of its own shows its code.
    assert money(1_500, "JPY") == "¥1,500"
    assert money(1_234, "KWD") == "1.234 KWD"
    assert money(5_000, "CHF") == "50.00 CHF"
    assert money(-500, "USD") == "-$5.00"


def test_amounts_read_as_typed_and_typed_amounts_are_checked() -> None:
    assert amount_input(125_000, "USD") == "1250.00"
    assert amount_input(1_500, "JPY") == "1500"
    assert parse_amount("5,500.5", "USD") == 550_050
    assert parse_amount(amount_input(1_234, "KWD"), "KWD") == 1_234
    for bad, why in [("abc", "Enter an amount"), ("1.234", "at most 2"), ("", "Enter an amount")]:
        with pytest.raises(ValueError, match=why):
            parse_amount(bad, "USD")
    with pytest.raises(ValueError, match="whole amounts"):
        parse_amount("10.5", "JPY")


def test_days_and_moments_read_as_people_write_them() -> None:
    moment = datetime(2027, 3, 1, 14, 5, tzinfo=UTC)
    assert day(moment) == day(date(2027, 3, 1)) == day(moment.isoformat()) == "1 March 2027"
    assert day_and_time(moment) == "1 March 2027, 14:05 UTC"
    # Said in UTC whatever zone the moment was given in.
    assert day_and_time("2027-03-01T23:30:00-02:00") == "2 March 2027, 01:30 UTC"
    assert ago(moment - timedelta(minutes=5), moment) == "5 minutes ago"


def test_messages_read_as_one_paragraph_with_one_full_stop_each() -> None:
    assert sentences(["Add #ad to the caption.", "Say the brand", "", "Why?"]) == (
        "Add #ad to the caption. Say the brand. Why?"
    )
    assert sentences([]) == ""
