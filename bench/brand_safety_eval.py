"""Brand safety (GARM categories) measured on the labelled set.

Run by hand from the repository root (never in CI):

    .venv/bin/python bench/brand_safety_eval.py  # --cases FILE --split dev|test|all
    .venv/bin/python bench/brand_safety_eval.py --calibrate  # thresholds from the dev split

Every case's text goes through what a worker does: its lines embedded by the pool's model
(activities/moderation/models.py, on the CPU here) against the categories' exemplars, then
activities/checks/brand_safety.py's lexicon and per-category thresholds at the "high"
sensitivity (every category reported). It prints exactly one JSON line: recall and precision
per category, their macro means, and the share of benign cases flagged; the baseline, measured
in the same run, is the lexicon alone (no embeddings), with the ratios against it.

--calibrate prints the thresholds that the development split supports (each category's
threshold maximises caught cases minus twice the wrongly flagged ones) instead; they are copied
into activities/checks/garm_exemplars.json by hand, so that a change is reviewed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from activities.checks.brand_safety import BENIGN, CATEGORIES, THRESHOLDS, check_brand_safety
from activities.moderation.models import TextEmbedder
from nexus.settings import ModerationSettings
from workflows.contracts.moderation import SemanticMatch

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CASES = ROOT / "tests/activities/brand_safety_cases.jsonl"
Case = dict[str, Any]
Classifier = Callable[[str], set[str]]


def load_cases(path: Path = DEFAULT_CASES, split: str = "all") -> list[Case]:
    cases = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [c for c in cases if split == "all" or c.get("split") == split]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def semantic_classifier(embedder: TextEmbedder) -> Classifier:
    """What the moderation workflow decides for a caption: the embedder's matches of its
    lines (media.garm_similarity) and the lexicon, at the "high" sensitivity."""

    def classify(text: str) -> set[str]:
        lines = _lines(text)
        semantic = [
            SemanticMatch(category=category, score=score, text=lines[i])
            for i, category, score in embedder.garm_matches(lines)
        ]
        found = check_brand_safety(caption=text, words=[], sensitivity="high", semantic=semantic)
        return {f.code.removeprefix("garm_") for f in found}

    return classify


def lexicon_classifier(text: str) -> set[str]:
    found = check_brand_safety(caption=text, words=[], sensitivity="high")
    return {f.code.removeprefix("garm_") for f in found}


def evaluate(cases: Iterable[Case], classify: Classifier) -> dict[str, Any]:
    tp = dict.fromkeys(CATEGORIES, 0)
    fp = dict.fromkeys(CATEGORIES, 0)
    fn = dict.fromkeys(CATEGORIES, 0)
    benign = benign_flagged = 0
    missed: list[str] = []
    wrong: list[str] = []
    for case in cases:
        expected = set(case["categories"])
        found = classify(case["text"])
        if not expected:
            benign += 1
            benign_flagged += bool(found)
        for category in CATEGORIES:
            if category in expected and category in found:
                tp[category] += 1
            elif category in expected:
                fn[category] += 1
                missed.append(f"{category}: {case['text']}")
            elif category in found:
                fp[category] += 1
                wrong.append(f"{category}: {case['text']}")
    recall = {c: _ratio(tp[c], tp[c] + fn[c]) for c in CATEGORIES}
    precision = {c: _ratio(tp[c], tp[c] + fp[c]) for c in CATEGORIES}
    return {
        "recall": recall,
        "precision": precision,
        "macro_recall": round(sum(recall.values()) / len(recall), 3),
        "macro_precision": round(sum(precision.values()) / len(precision), 3),
        "overall_recall": _ratio(sum(tp.values()), sum(tp.values()) + sum(fn.values())),
        "benign_cases": benign,
        "benign_flagged": _ratio(benign_flagged, benign),
        "missed": missed,
        "wrongly_flagged": wrong,
    }


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 3) if whole else 1.0


def calibrate(cases: list[Case], embedder: TextEmbedder) -> dict[str, float]:
    """Each category's threshold on the development cases: among the texts closer to the
    category than to any benign exemplar, the one that maximises the cases of the category it
    catches minus twice the others it flags."""
    per_case: list[tuple[set[str], list[dict[str, float]]]] = []
    for case in cases:
        lines = _lines(case["text"])
        per_case.append((set(case["categories"]), embedder.category_scores(lines)))
    out: dict[str, float] = {}
    for category in CATEGORIES:
        scored = []
        for labels, rows in per_case:
            best = max((r[category] for r in rows if r[category] > r[BENIGN]), default=None)
            if best is not None:
                scored.append((best, category in labels))
        candidates = sorted({round(s, 2) for s, _ in scored} | {0.35, 0.8})
        best_t, best_gain = 0.8, float("-inf")
        for t in candidates:
            gain = sum(1 if right else -2 for s, right in scored if s >= t)
            # Ties go to the lower threshold: unseen wordings sit further from the exemplars.
            if gain > best_gain:
                best_t, best_gain = t, gain
        out[category] = max(0.35, min(0.8, best_t))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=Path, default=DEFAULT_CASES)
    parser.add_argument("--split", choices=["dev", "test", "all"], default="all")
    parser.add_argument("--calibrate", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="list missed and wrong cases")
    args = parser.parse_args()
    embedder = TextEmbedder(ModerationSettings(), "cpu")
    if args.calibrate:
        dev = load_cases(args.cases, "dev")
        print(
            json.dumps({"split": "dev", "cases": len(dev), "thresholds": calibrate(dev, embedder)})
        )
        return
    cases = load_cases(args.cases, args.split)
    figures = evaluate(cases, semantic_classifier(embedder))
    baseline = evaluate(cases, lexicon_classifier)
    detail = ("missed", "wrongly_flagged")
    out: dict[str, Any] = {
        "bench": "brand_safety",
        "split": args.split,
        "cases": len(cases),
        **{k: v for k, v in figures.items() if k not in detail or args.verbose},
        "thresholds": THRESHOLDS,
        "baseline_lexicon_only": {
            k: baseline[k] for k in ("macro_recall", "overall_recall", "benign_flagged")
        },
        "ratio_recall_vs_baseline": round(
            figures["overall_recall"] / max(baseline["overall_recall"], 0.001), 2
        ),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
