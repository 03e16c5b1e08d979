"""Brand safety by meaning: obfuscated words read as written, negations and benign slang not
flagged, and the whole labelled set (tests/activities/brand_safety_cases.jsonl) measured with
the real all-MiniLM-L6-v2 model, as bench/brand_safety_eval.py reports it."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from activities.checks.brand_safety import CATEGORIES, RISK, check_brand_safety, normalise
from activities.moderation.models import TextEmbedder
from nexus.settings import ModerationSettings
from workflows.contracts.moderation import SemanticMatch

ROOT = Path(__file__).resolve().parents[2]
CANONICAL = [
    "adult_explicit",
    "arms_ammunition",
    "crime_harmful_acts",
    "death_injury_military_conflict",
    "online_piracy",
    "hate_speech_aggression",
    "obscenity_profanity",
    "illegal_drugs_tobacco_ecigs_vaping_alcohol",
    "spam_harmful_content",
    "terrorism",
    "debated_sensitive_social_issues",
    "misinformation",
]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "brand_safety_eval", ROOT / "bench/brand_safety_eval.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def embedder() -> TextEmbedder:
    return TextEmbedder(ModerationSettings(), "cpu")


def test_the_categories_are_garms_with_risk_levels() -> None:
    assert list(CATEGORIES) == CANONICAL
    assert {RISK[c] for c in CATEGORIES} == {"floor", "high", "medium"}
    assert RISK["terrorism"] == "floor"


@pytest.mark.parametrize(
    ("caption", "category", "flagged"),
    [
        ("this is so f*cking good", "obscenity_profanity", "f*cking"),
        ("what is this sh1t", "obscenity_profanity", "sh1t"),
        ("you stupid f.u.c.k", "obscenity_profanity", "f.u.c.k"),
        ("go f u c k yourself", "obscenity_profanity", "f u c k"),
        ("fuuuck this is amazing", "obscenity_profanity", "fuuuck"),
        ("w33d makes everything better", "illegal_drugs_tobacco_ecigs_vaping_alcohol", "w33d"),
        ("puffing my v@pe", "illegal_drugs_tobacco_ecigs_vaping_alcohol", "v@pe"),
        ("bought a g u n today", "arms_ammunition", "g u n"),
        ("new set on my 0nlyfans", "adult_explicit", "0nlyfans"),
        ("a \uff4e\uff41\uff5a\uff49 salute", "hate_speech_aggression", "\uff4e\uff41\uff5a\uff49"),
    ],
)
def test_obfuscated_words_are_read_as_written(caption: str, category: str, flagged: str) -> None:
    [finding] = check_brand_safety(caption=caption, words=[], sensitivity="high")
    assert finding.code == f"garm_{category}"
    assert finding.span is not None
    assert caption[finding.span[0] : finding.span[1]] == flagged  # what the creator wrote


def test_negated_and_benign_wording_is_not_flagged(embedder: TextEmbedder) -> None:
    for caption in (
        "this toner is alcohol-free",
        "no alcohol, no cigarettes, just sleep",
        "I never vape",
        "I killed it at the gym today",
        "at war with wrinkles and winning",
        "this highlighter is the bomb",
        "the price is a steal",
        "here is my morning routine with Glow serum 30 ml",
    ):
        lines = [caption]
        semantic = [
            SemanticMatch(category=c, score=s, text=lines[i])
            for i, c, s in embedder.garm_matches(lines)
        ]
        assert (
            check_brand_safety(caption=caption, words=[], sensitivity="high", semantic=semantic)
            == []
        ), caption
    assert normalise("I killed it at the gym") == "i did great at the gym"


def test_the_labelled_set_meets_the_targets(bench: ModuleType, embedder: TextEmbedder) -> None:
    cases = bench.load_cases()
    assert len(cases) >= 200
    assert sum(1 for c in cases if not c["categories"]) >= 50
    assert {c for case in cases for c in case["categories"]} == set(CANONICAL)
    figures = bench.evaluate(cases, bench.semantic_classifier(embedder))
    assert figures["overall_recall"] >= 0.9, figures["missed"]
    assert figures["benign_flagged"] <= 0.02, figures["wrongly_flagged"]
    # Held-out half (thresholds come from the dev half): no worse than the targets either.
    held_out = bench.evaluate(bench.load_cases(split="test"), bench.semantic_classifier(embedder))
    assert held_out["overall_recall"] >= 0.9
    assert held_out["benign_flagged"] <= 0.02
    # The lexicon alone, what brand safety was before meaning: far below.
    assert bench.evaluate(cases, bench.lexicon_classifier)["overall_recall"] < 0.6


def test_the_bench_prints_one_json_line_with_per_category_figures(bench: ModuleType) -> None:
    figures = bench.evaluate(
        [{"text": "this is so f*cking good", "categories": ["obscenity_profanity"]},
         {"text": "lovely serum", "categories": []}],
        bench.lexicon_classifier,
    )  # fmt: skip
    assert figures["recall"]["obscenity_profanity"] == 1.0
    assert figures["benign_flagged"] == 0.0
    assert json.loads(json.dumps(figures)) == figures
