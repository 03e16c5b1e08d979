"""Automated-check activities (CPU pool)."""

from __future__ import annotations

from temporalio import activity

from domain.compliance.rules import brief_markets
from domain.disclosure import check_caption
from workflows.contracts.delivery import CheckReport, CheckRequest


@activity.defn(name="checks.caption")
def caption_check(request: CheckRequest) -> CheckReport:
    findings = check_caption(
        request.caption,
        disclosure_required=request.disclosure_required,
        mandatory_mentions=request.mandatory_mentions,
        brand=request.brand,
        markets=brief_markets(request.markets),
        platform=request.platform,
        language=request.language,
    )
    return CheckReport(passed=not any(f.severity == "block" for f in findings), findings=findings)
