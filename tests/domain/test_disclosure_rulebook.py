"""The disclosure rulebook measured on its labelled development set, and the behaviours the
set is built around, each shown on captions that are not in the set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from domain.compliance import (
    RULES,
    UnknownLanguage,
    UnknownMarket,
    check_disclosure,
    parse_language,
    parse_markets,
)
from domain.compliance.evaluation import evaluate
from domain.compliance.ftc import posting_platform
from domain.compliance.rules import brief_markets

CASES = Path(__file__).parent / "compliance_cases" / "ftc.jsonl"


def _cases() -> list[dict[str, object]]:
    return [json.loads(line) for line in CASES.read_text().splitlines() if line.strip()]


def test_the_development_set_stays_at_least_97_percent_right() -> None:
    cases = _cases()
    score = evaluate(cases)
    assert score.cases >= 200
    assert score.accuracy >= 0.97, score.wrong[:10]


def test_the_set_covers_every_language_and_every_rule() -> None:
    cases = _cases()
    languages = {c["language"] for c in cases if c["language"]}
    assert {"en", "es", "fr", "de", "it", "pt", "nl", "ja"} <= languages
    cited = {item[1] for c in cases for item in c["expected"]}  # type: ignore[attr-defined]
    assert cited == set(RULES)


def codes(caption: str, **kwargs: object) -> list[tuple[str, str | None]]:
    return [(f.code, f.rule) for f in check_disclosure(caption, brand="Lumen", **kwargs)]  # type: ignore[arg-type]


BODY = "Evening skincare with the Lumen night cream, my skin has never felt softer"


@pytest.mark.parametrize(
    "caption",
    [
        f"Honestly not sponsored, {BODY}",
        f"{BODY}. This isn't an ad btw",
        f"Lumen offered me a paid partnership and I turned it down. I turned down a paid "
        f"partnership because {BODY}",
        f"#NotSponsored {BODY}",
        f"This isn\u2019t sponsored: {BODY}",  # a typographic apostrophe
    ],
)
def test_a_denial_is_never_a_disclosure(caption: str) -> None:
    assert codes(caption) == [("disclosure_denied", "ftc-465-fake-review")]


@pytest.mark.parametrize(
    "caption",
    [
        f"Ad hoc night routine: {BODY}",
        f"#adfree evening! {BODY}",
        f"#ad\u200cventures at night: {BODY}",
        f"Built in 900 AD, this castle hotel had {BODY.lower()}",
        f"My partner says {BODY.lower()}",
    ],
)
def test_words_that_only_contain_or_resemble_a_disclosure_do_not_pass(caption: str) -> None:
    assert codes(caption) == [("disclosure_missing", "ftc-255.5-clear")]


@pytest.mark.parametrize(
    "caption",
    [
        f"#LumenPartner {BODY}",
        f"#Lumen_Ambassador {BODY}",
        f"Lumen gifted me this! {BODY}",
        f"Thank you Lumen for the free night cream! {BODY}",
        f"Brought to you by Lumen. {BODY}",
        f"\uff03\uff41\uff44 {BODY}",  # full-width
        f"#a\u200bd {BODY}",  # a zero-width space inside
    ],
)
def test_disclosures_the_ftc_accepts_pass(caption: str) -> None:
    assert codes(caption) == []


def test_a_disclosure_only_in_look_alike_letters_is_pointed_at() -> None:
    caption = f"#\u0455ponsored {BODY}"  # Cyrillic s
    [finding] = check_disclosure(caption, brand="Lumen")
    assert (finding.code, finding.rule) == ("disclosure_lookalike", "ftc-255.5-clear")
    assert finding.span == (0, 10)
    assert "look-alike" in finding.message


def test_the_disclosure_must_be_in_the_language_of_the_endorsement() -> None:
    spanish = "Mi crema de noche de Lumen, la piel nunca estuvo tan suave, la recomiendo mucho"
    assert codes(f"#ad {spanish}") == [("disclosure_wrong_language", "ftc-d101-language")]
    assert codes(f"#publicidad {spanish}") == []
    dutch = "Mijn avondroutine met de nachtcrème van Lumen, mijn huid was nog nooit zo zacht"
    assert codes(f"#ad {dutch}") == [("disclosure_wrong_language", "ftc-d101-language")]
    assert codes(f"#reclame {dutch}") == []
    # A short caption the identifier is unsure about: any local disclosure counts, an English
    # one still does not.
    assert codes("Mi crema de noche con Lumen #publicidad") == []
    assert codes("Mi crema de noche con Lumen #ad") == [
        ("disclosure_wrong_language", "ftc-d101-language")
    ]
    assert codes("The best night cream ever #publicidad") == [
        ("disclosure_missing", "ftc-255.5-clear")
    ]
    japanese = "Lumenのナイトクリームで夜のスキンケア。肌がとてもやわらかくなりました"
    assert codes(f"#ad {japanese}") == [("disclosure_wrong_language", "ftc-d101-language")]
    assert codes(f"#PR {japanese}") == []


def test_blank_lines_and_platform_previews_decide_what_is_seen() -> None:
    assert codes(f"{BODY}\n\u200b\n\u200b\n#ad") == [
        ("disclosure_below_fold", "ftc-d101-placement")
    ]
    assert codes("Night routine\n#ad", platform="instagram") == []
    assert codes("Night routine\n#ad", platform="youtube_shorts") == [
        ("disclosure_below_fold", "ftc-d101-placement")
    ]


def test_a_disclosure_in_the_middle_of_a_hashtag_cluster_is_buried() -> None:
    assert codes(f"{BODY} #skincare #ad #nightcream then more words") == [
        ("disclosure_buried", "ftc-d101-placement")
    ]


def test_the_markets_choose_the_rules() -> None:
    assert codes(f"Sponsored by Lumen: {BODY}", markets=("US",)) == []
    assert codes(f"Sponsored by Lumen: {BODY}", markets=("GB",)) == [
        ("disclosure_insufficient", "asa-cap-2.1-upfront")
    ]
    german = "Meine Abendroutine mit der Nachtcreme von Lumen, meine Haut war nie so weich"
    assert codes(f"#ad {german}", markets=("DE",)) == [
        ("disclosure_wrong_language", "eu-ucpd-hidden-ad")
    ]


def test_the_platform_label_is_taken_into_account() -> None:
    [finding] = check_disclosure(BODY, brand="Lumen", paid_label=True)
    assert (finding.code, finding.rule, finding.severity) == (
        "disclosure_label_only",
        "platform-paid-label",
        "warn",
    )
    assert check_disclosure(BODY, brand="Lumen", markets=("GB",), paid_label=True) == []


def test_markets_and_languages_are_validated() -> None:
    assert parse_markets(["us", "UK"]) == ("US", "GB")
    assert parse_markets([]) == ("US",)
    with pytest.raises(UnknownMarket, match="XX"):
        parse_markets(["XX"])
    assert parse_language("pt-BR") == "pt"
    assert parse_language(None) is None
    with pytest.raises(UnknownLanguage, match="klingon"):
        parse_language("klingon")


def test_a_brief_chooses_the_markets_and_the_platform() -> None:
    assert brief_markets(["gb", "UK"]) == ("GB",)
    # A list the rulebook cannot read holds the caption to the default market.
    assert brief_markets(["WW"]) == brief_markets([]) == ("US",)
    assert posting_platform(["TikTok"]) == "tiktok"
    assert posting_platform(["youtube"]) == "youtube_shorts"
    # Several platforms, or none the previews know: the longest preview applies.
    assert posting_platform(["tiktok", "instagram"]) is None
    assert posting_platform(["snapchat"]) is None
    assert posting_platform([]) is None
