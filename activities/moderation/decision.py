"""Every check over one video's or photo's evidence, and the decision they add up to."""

from __future__ import annotations

from activities.checks.brand_safety import check_brand_safety
from activities.checks.brief import check_brief
from activities.checks.safety import check_child_safety, check_nudity
from activities.checks.spoken import check_spoken_disclosure
from domain.compliance.rules import brief_markets
from domain.disclosure import check_caption
from domain.findings import finding_words
from nexus.settings import ModerationSettings
from workflows.contracts.moderation import Decision, EvaluateRequest, MediaFinding


def run_checks(evidence: EvaluateRequest, settings: ModerationSettings) -> list[MediaFinding]:
    request = evidence.request
    brief = request.brief
    words = evidence.transcript.words
    findings = check_child_safety(evidence.hashes.matches)
    findings += check_nudity(
        evidence.nudity.frames,
        review_score=settings.nudity_review_score,
        block_score=settings.nudity_block_score,
    )
    if brief.disclosure_required:
        findings += [
            MediaFinding(
                check="ftc_disclosure",
                code=f"caption_{f.code}",
                severity=f.severity,
                message=f.message,
                span=f.span,
            )
            # Mentions count when said or written: the brief check looks at both.
            for f in check_caption(
                request.caption,
                disclosure_required=True,
                mandatory_mentions=[],
                brand=brief.brand,
                markets=brief_markets(brief.markets),
                platform=brief.platform,
                language=brief.language,
            )
        ]
        if request.kind == "video":  # a photo's disclosure is in its caption
            findings += check_spoken_disclosure(
                words,
                brand=brief.brand,
                within_s=settings.spoken_disclosure_within_s,
                shown=evidence.screen_text,
            )
    findings += check_brief(brief, caption=request.caption, words=words, info=evidence.info)
    findings += check_brand_safety(
        caption=request.caption,
        words=words,
        sensitivity=brief.sensitivity,
        semantic=evidence.semantic,
    )
    return findings


def decide(findings: list[MediaFinding]) -> tuple[Decision, str]:
    if any(f.check == "child_safety" for f in findings):
        return "block", "Matched a child-safety hash list; referred to the safety team."
    blocking = [f for f in findings if f.severity == "block"]
    if blocking:
        return "block", "To fix: " + _listed(blocking)
    reviews = [f for f in findings if f.severity == "review"]
    if reviews:
        return "review", "Needs a person to look: " + _listed(reviews)
    return "pass", "All checks passed."


def _listed(findings: list[MediaFinding]) -> str:
    # What people read (the ops case, an escalation), so in words, not codes.
    return "; ".join(dict.fromkeys(finding_words(f.code) for f in findings)) + "."
