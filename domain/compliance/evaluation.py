"""Scoring the disclosure rules on labelled cases (tests/domain/compliance_cases/ftc.jsonl):
accuracy over whole cases, and precision and recall per rule. A case is right when the
findings' (code, rule) pairs are exactly the labelled ones (and their severity, when the label
gives one)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from domain.compliance.ftc import check_disclosure
from domain.compliance.language import parse_language
from domain.compliance.rules import parse_markets
from domain.findings import Finding

Case = dict[str, Any]
Checker = Callable[[Case], list[Finding]]


def check_case(case: Case) -> list[Finding]:
    return check_disclosure(
        case["caption"],
        brand=case.get("brand") or "",
        language=parse_language(case.get("language")),
        markets=parse_markets(case.get("markets")),
        platform=case.get("platform"),
        paid_label=bool(case.get("paid_label")),
    )


def _expected(case: Case) -> set[tuple[str, ...]]:
    return {tuple(item) for item in case["expected"]}


def _got(findings: list[Finding], case: Case) -> set[tuple[str, ...]]:
    widths = {len(item) for item in case["expected"]} or {2}
    out: set[tuple[str, ...]] = set()
    for f in findings:
        full = (f.code, f.rule or "", f.severity)
        out.add(full if 3 in widths and any(len(e) == 3 for e in case["expected"]) else full[:2])
    return out


@dataclass
class Score:
    cases: int = 0
    right: int = 0
    wrong: list[dict[str, Any]] = field(default_factory=list)
    # Per rule: true positives, false positives, false negatives (a case counts once per rule).
    per_rule: dict[str, list[int]] = field(default_factory=dict)

    @property
    def accuracy(self) -> float:
        return self.right / self.cases if self.cases else 0.0

    def rules(self) -> dict[str, dict[str, float | int]]:
        out: dict[str, dict[str, float | int]] = {}
        for rule, (tp, fp, fn) in sorted(self.per_rule.items()):
            out[rule] = {
                "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
                "recall": round(tp / (tp + fn), 4) if tp + fn else 1.0,
                "support": tp + fn,
            }
        return out


def evaluate(cases: Iterable[Case], checker: Checker = check_case) -> Score:
    score = Score()
    for case in cases:
        findings = checker(case)
        expected, got = _expected(case), _got(findings, case)
        score.cases += 1
        if expected == got:
            score.right += 1
        else:
            score.wrong.append({"id": case["id"], "expected": sorted(expected), "got": sorted(got)})
        want_rules = {item[1] for item in expected}
        got_rules = {item[1] for item in got}
        for rule in want_rules | got_rules:
            counts = score.per_rule.setdefault(rule, [0, 0, 0])
            if rule in want_rules and rule in got_rules:
                counts[0] += 1
            elif rule in got_rules:
                counts[1] += 1
            else:
                counts[2] += 1
    return score
