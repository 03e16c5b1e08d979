"""FTC disclosure rules measured on the labelled development set.

Run by hand from the repository root (never in CI):

    .venv/bin/python bench/compliance_eval.py  # --cases tests/domain/compliance_cases/ftc.jsonl

It checks every case of the set with the rulebook (domain/compliance/) and prints exactly one
JSON line: accuracy over whole cases, precision and recall per rule, the rulebook's version,
and the p50/p99 time of one caption check, wall clock and this thread's CPU time (the language
identifier loaded beforehand, as a worker does once). The baseline, measured in the same run,
is a plain keyword match ("#ad", "sponsored", "paid partnership" anywhere in the caption, no
placement or language): its accuracy and p99, and the ratios against it.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from domain.compliance.evaluation import Case, check_case, evaluate
from domain.compliance.language import detector
from domain.compliance.rules import RULEBOOK_VERSION
from domain.findings import Finding

DEFAULT_CASES = Path(__file__).resolve().parents[1] / "tests/domain/compliance_cases/ftc.jsonl"
_KEYWORD = re.compile(r"#ad\b|sponsored|paid partnership", re.IGNORECASE)


def keyword_baseline(case: Case) -> list[Finding]:
    if _KEYWORD.search(case["caption"]):
        return []
    return [
        Finding(code="disclosure_missing", rule="ftc-255.5-clear", severity="block", message="")
    ]


def _timings(
    cases: list[Case], checker: Any, rounds: int, clock: Any = time.perf_counter
) -> list[float]:
    times: list[float] = []
    for _ in range(rounds):
        for case in cases:
            start = clock()
            checker(case)
            times.append((clock() - start) * 1000)
    return times


def _p(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=Path, default=DEFAULT_CASES)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    cases = [json.loads(line) for line in args.cases.read_text().splitlines() if line.strip()]
    detector()  # loaded once, as a worker does at its first check
    score = evaluate(cases)
    baseline = evaluate(cases, keyword_baseline)
    times = _timings(cases, check_case, args.rounds)
    # The CPU the check itself used (this thread's time): on a busy machine the wall-clock
    # tail also holds the time other processes had the core.
    cpu_times = _timings(cases, check_case, args.rounds, time.thread_time)
    base_times = _timings(cases, keyword_baseline, args.rounds)
    p99, base_p99 = _p(times, 0.99), _p(base_times, 0.99)
    print(
        json.dumps(
            {
                "bench": "compliance_eval",
                "rulebook": RULEBOOK_VERSION,
                "cases": score.cases,
                "accuracy": round(score.accuracy, 4),
                "rules": score.rules(),
                "check_ms": {
                    "p50": round(statistics.median(times), 3),
                    "p99": round(p99, 3),
                    "cpu_p50": round(statistics.median(cpu_times), 3),
                    "cpu_p99": round(_p(cpu_times, 0.99), 3),
                },
                "wrong": [w["id"] for w in score.wrong],
                "baseline": {
                    "name": "keyword match",
                    "accuracy": round(baseline.accuracy, 4),
                    "p99_ms": round(base_p99, 4),
                },
                "accuracy_ratio": round(score.accuracy / baseline.accuracy, 3)
                if baseline.accuracy
                else None,
                "p99_ratio": round(p99 / base_p99, 1) if base_p99 else None,
            }
        )
    )


if __name__ == "__main__":
    main()
