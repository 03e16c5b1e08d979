"""`nexus compliance check`: the caption (and transcript) preflight from the command line, one
JSON answer per caption; `nexus compliance brand-safety`: a text's GARM categories and findings,
by the lexicon and the sentence embedder the checks of a draft use. With --jsonl, one answer per
input line, the language identifier or the embedder loaded once for the whole batch."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TextIO

from pydantic import BaseModel, Field, ValidationError, field_validator


def add_parser(sub: Any) -> None:
    cmd = sub.add_parser("compliance", help="check captions against the disclosure rulebook")
    actions = cmd.add_subparsers(dest="compliance_command", required=True)
    check = actions.add_parser(
        "check",
        help="print {passed, findings: [{code, rule, severity, message, span}]} as JSON",
    )
    one = check.add_mutually_exclusive_group(required=True)
    one.add_argument("--caption", help="the caption to check")
    one.add_argument(
        "--jsonl",
        type=Path,
        help="a file with one JSON object per line (caption, brand, language, markets, "
        "platform, paid_label, transcript); prints one answer per line",
    )
    check.add_argument("--brand", default="", help="the brand's name")
    check.add_argument("--language", help="the endorsement's language (en, es, fr, ...)")
    check.add_argument("--markets", default="", help="target markets, e.g. US,GB")
    check.add_argument("--platform", choices=["instagram", "tiktok", "youtube_shorts"])
    check.add_argument(
        "--paid-label", action="store_true", help="the platform's paid-partnership label is on"
    )
    check.add_argument(
        "--transcript",
        type=Path,
        help='a JSON file: [{"text", "start_s", "end_s"}, ...] or {"words": [...]}',
    )

    safety = actions.add_parser(
        "brand-safety",
        help="print {categories: [slug, ...], findings: [{code, rule, severity, message, "
        "span}]} as JSON",
    )
    one = safety.add_mutually_exclusive_group(required=True)
    one.add_argument("--text", help="the text to check (a caption, a script, what is said)")
    one.add_argument(
        "--jsonl",
        type=Path,
        help="a file with one JSON object per line (text, sensitivity); prints one answer per line",
    )
    safety.add_argument(
        "--sensitivity",
        choices=["low", "medium", "high"],
        default="medium",
        help="the brand's: low flags only the floor categories, high everything (medium)",
    )


class _SafetyText(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)
    sensitivity: Literal["low", "medium", "high"] = "medium"

    @field_validator("text")
    @classmethod
    def _readable(cls, value: str) -> str:
        from activities.checks.preflight import readable

        return readable(value)


class _BrandSafety:
    """The embedder, loaded on the first text and kept for the rest of a batch."""

    def __init__(self) -> None:
        self._embedder: Any = None

    def answer(self, payload: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        from activities.checks.brand_safety import RISK, check_brand_safety
        from activities.moderation.activities import semantic_matches
        from activities.moderation.models import TextEmbedder
        from nexus.settings import Settings

        try:
            wanted = _SafetyText.model_validate(payload)
        except ValidationError as exc:
            return _errors(exc), False
        if self._embedder is None:
            self._embedder = TextEmbedder(Settings().moderation, "cpu")
        found = check_brand_safety(
            caption=wanted.text,
            words=[],
            sensitivity=wanted.sensitivity,
            semantic=semantic_matches(self._embedder, wanted.text, []),
        )
        categories = sorted({f.code.removeprefix("garm_") for f in found})
        findings = [
            {
                "code": f.code,
                "rule": f"garm-{RISK[f.code.removeprefix('garm_')]}-risk",
                "severity": f.severity,
                "message": f.message,
                "span": list(f.span) if f.span else None,
            }
            for f in found
        ]
        return {"categories": categories, "findings": findings}, not categories


def _errors(exc: ValidationError) -> dict[str, Any]:
    return {
        "error": "invalid input",
        "fields": [
            {"field": ".".join(str(p) for p in e["loc"]) or "input", "message": e["msg"]}
            for e in exc.errors()
        ],
    }


def _words(raw: Any) -> Any:
    return raw.get("words", raw) if isinstance(raw, dict) else raw


def _answer(payload: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    from activities.checks.preflight import PreflightRequest, answer_json, preflight

    try:
        request = PreflightRequest.model_validate(payload)
    except ValidationError as exc:
        return _errors(exc), False
    answer = answer_json(preflight(request))
    return answer, bool(answer["passed"])


def _print(out: TextIO, obj: dict[str, Any]) -> None:
    out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    out.flush()


Answer = Callable[[dict[str, Any]], tuple[dict[str, Any], bool]]


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Exit status: 0 when every caption passed (every text was clear), 1 when one did not, 2
    for input that could not be checked (a missing file, invalid flags)."""
    out = out or sys.stdout
    if args.compliance_command == "brand-safety":
        checker = _BrandSafety()
        if args.jsonl is None:
            return _one(out, checker.answer({"text": args.text, "sensitivity": args.sensitivity}))
        return _batch(args.jsonl, out, lambda item: checker.answer(
            {"sensitivity": args.sensitivity, **item}
        ))  # fmt: skip
    if args.jsonl is not None:
        return _batch(args.jsonl, out, _check_item)
    payload: dict[str, Any] = {
        "caption": args.caption,
        "brand": args.brand,
        "language": args.language,
        "markets": [m for m in args.markets.split(",") if m.strip()],
        "platform": args.platform,
        "paid_label": args.paid_label,
    }
    if args.transcript is not None:
        try:
            payload["transcript"] = _words(json.loads(args.transcript.read_text()))
        except (OSError, ValueError) as exc:
            print(f"nexus: cannot read the transcript: {exc}", file=sys.stderr)
            return 2
    return _one(out, _answer(payload))


def _check_item(item: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """A batch line of `check`: a transcript or markets written as the flags take them."""
    if "transcript" in item:
        item["transcript"] = _words(item["transcript"])
    if isinstance(item.get("markets"), str):
        item["markets"] = [m for m in item["markets"].split(",") if m.strip()]
    return _answer(item)


def _one(out: TextIO, answered: tuple[dict[str, Any], bool]) -> int:
    answer, passed = answered
    _print(out, answer)
    return 0 if passed else (2 if "error" in answer else 1)


def _batch(path: Path, out: TextIO, answer: Answer) -> int:
    """One answer per JSON line of the file."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        print(f"nexus: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    status = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            item = None
        if not isinstance(item, dict):
            _print(out, {"error": f"line {number} is not a JSON object", "line": number})
            status = max(status, 1)
            continue
        answered, passed = answer(item)
        _print(out, answered)
        if not passed:
            status = max(status, 1)
    return status
