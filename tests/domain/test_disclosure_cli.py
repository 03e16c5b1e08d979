"""`nexus compliance check`: one JSON answer per caption, and per line of a batch; spoken
disclosures from a transcript file count."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nexus.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict[str, Any]]]:
    code = main(["compliance", "check", *argv])
    lines = capsys.readouterr().out.splitlines()
    return code, [json.loads(line) for line in lines]


def test_a_caption_is_answered_with_its_findings_and_rules(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, [answer] = run(
        capsys, "--caption", "This is NOT an ad, I just love Glow", "--brand", "Glow"
    )
    assert code == 1
    assert answer["passed"] is False
    [finding] = answer["findings"]
    assert finding["code"] == "disclosure_denied"
    assert finding["rule"] == "ftc-465-fake-review"
    assert finding["severity"] == "block"
    assert finding["span"] == [8, 17]  # "NOT an ad"
    assert set(finding) == {"code", "rule", "severity", "message", "span"}

    code, [answer] = run(capsys, "--caption", "#ad my morning routine", "--markets", "US,GB")
    assert (code, answer) == (0, {"passed": True, "findings": []})


def test_a_spoken_disclosure_in_the_transcript_counts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    said = "this video is not sponsored"
    words = [
        {"text": w, "start_s": i * 0.4, "end_s": i * 0.4 + 0.3} for i, w in enumerate(said.split())
    ]
    transcript = tmp_path / "words.json"
    transcript.write_text(json.dumps({"words": words}))
    code, [answer] = run(
        capsys, "--caption", "#ad routine", "--brand", "Glow", "--transcript", str(transcript)
    )
    assert code == 1
    assert [f["code"] for f in answer["findings"]] == ["spoken_disclosure_missing"]

    said = "brought to you by Glow and here is my routine"
    words = [
        {"text": w, "start_s": i * 0.4, "end_s": i * 0.4 + 0.3} for i, w in enumerate(said.split())
    ]
    transcript.write_text(json.dumps(words))
    code, [answer] = run(
        capsys, "--caption", "#ad routine", "--brand", "Glow", "--transcript", str(transcript)
    )
    assert (code, answer["findings"]) == (0, [])


def test_a_batch_gets_one_answer_per_line_and_bad_lines_are_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    batch = tmp_path / "captions.jsonl"
    batch.write_text(
        "\n".join(
            [
                json.dumps({"caption": "#publicidad mi rutina de la mañana", "language": "es"}),
                json.dumps({"caption": "#ad mi rutina de la mañana", "language": "es"}),
                json.dumps({"caption": "x" * 100_000}),
                json.dumps({"caption": "#ad hi", "language": "klingon", "markets": "US,XX"}),
                "\x00\x01 not json",
            ]
        )
    )
    code, answers = run(capsys, "--jsonl", str(batch))
    assert code == 1
    assert len(answers) == 5
    assert answers[0] == {"passed": True, "findings": []}
    assert [f["code"] for f in answers[1]["findings"]] == ["disclosure_wrong_language"]
    assert [f["field"] for f in answers[2]["fields"]] == ["caption"]
    assert [f["field"] for f in answers[3]["fields"]] == ["language", "markets"]
    assert answers[4]["error"] == "line 5 is not a JSON object"
