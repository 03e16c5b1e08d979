"""`nexus compliance brand-safety`: a text's GARM categories and findings as JSON, by the same
lexicon and sentence embedder as a draft's checks, one answer per line of a batch with the model
loaded once; the brand's sensitivity decides what is flagged; bad input names its field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nexus.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict[str, Any]]]:
    code = main(["compliance", "brand-safety", *argv])
    lines = capsys.readouterr().out.splitlines()
    return code, [json.loads(line) for line in lines]


def test_risky_texts_name_their_categories_and_benign_slang_is_clear(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, [answer] = run(capsys, "--text", "Smoke some w33d and get wasted tonight")
    assert code == 1
    assert answer["categories"] == ["illegal_drugs_tobacco_ecigs_vaping_alcohol"]
    [finding] = answer["findings"]
    assert set(finding) == {"code", "rule", "severity", "message", "span"}
    assert (finding["rule"], finding["severity"], finding["span"]) == (
        "garm-high-risk", "warn", [11, 15],
    )  # fmt: skip

    batch = tmp_path / "texts.jsonl"
    batch.write_text(
        "\n".join(
            json.dumps(item)
            for item in (
                # No lexicon word: the embedder's nearest exemplars decide.
                {"text": "these panties are completely see through lol"},
                {"text": "I killed it at the gym this morning, at war with wrinkles"},
                # Low sensitivity flags only the floor categories.
                {"text": "Smoke some w33d and get wasted tonight", "sensitivity": "low"},
                {"text": "\u0000binary"},
            )
        )
        + "\nnot json\n"
    )
    code, answers = run(capsys, "--jsonl", str(batch))
    assert code == 1
    assert [a.get("categories") for a in answers[:3]] == [["adult_explicit"], [], []]
    assert answers[3]["fields"][0]["field"] == "text"
    assert answers[4] == {"error": "line 5 is not a JSON object", "line": 5}


def test_a_floor_category_is_flagged_for_review_at_every_sensitivity(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for sensitivity in ("low", "medium", "high"):
        code, [answer] = run(capsys, "--text", "dm me for n.u.d.e.s", "--sensitivity", sensitivity)
        assert (code, answer["categories"]) == (1, ["adult_explicit"])
        assert {f["severity"] for f in answer["findings"]} == {"review"}
