"""`nexus compliance check`: the caption (and transcript) preflight from the command line, one
JSON answer per caption; with --jsonl, one answer per input line, the language identifier loaded
once for the whole batch."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError


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


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Exit status: 0 when every caption passed, 1 when one did not, 2 for input that could not
    be checked (a missing file, invalid flags)."""
    out = out or sys.stdout
    markets = [m for m in args.markets.split(",") if m.strip()]
    if args.jsonl is None:
        payload: dict[str, Any] = {
            "caption": args.caption,
            "brand": args.brand,
            "language": args.language,
            "markets": markets,
            "platform": args.platform,
            "paid_label": args.paid_label,
        }
        if args.transcript is not None:
            try:
                payload["transcript"] = _words(json.loads(args.transcript.read_text()))
            except (OSError, ValueError) as exc:
                print(f"nexus: cannot read the transcript: {exc}", file=sys.stderr)
                return 2
        answer, passed = _answer(payload)
        _print(out, answer)
        return 0 if passed else (2 if "error" in answer else 1)
    try:
        lines = args.jsonl.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        print(f"nexus: cannot read {args.jsonl}: {exc}", file=sys.stderr)
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
        if "transcript" in item:
            item["transcript"] = _words(item["transcript"])
        if isinstance(item.get("markets"), str):
            item["markets"] = [m for m in item["markets"].split(",") if m.strip()]
        answer, passed = _answer(item)
        _print(out, answer)
        if not passed:
            status = max(status, 1)
    return status
