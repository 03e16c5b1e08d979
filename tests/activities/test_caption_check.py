"""The caption check activity: the rules' findings, and a pass only without a blocking one."""

from __future__ import annotations

from activities.checks.activities import caption_check
from workflows.contracts.delivery import CheckRequest


def request(caption: str) -> CheckRequest:
    return CheckRequest.model_validate(
        {
            "delivery_id": "00000000-0000-0000-0000-000000000001",
            "submission_id": "00000000-0000-0000-0000-000000000002",
            "caption": caption,
            "disclosure_required": True,
            "mandatory_mentions": ["Glow serum"],
        }
    )


def test_the_activity_blocks_only_on_blocking_findings() -> None:
    passed = caption_check(request("#ad Glow serum"))
    assert passed.passed
    assert passed.findings == []
    blocked = caption_check(request("Glow serum"))
    assert not blocked.passed
    assert [f.code for f in blocked.findings] == ["disclosure_missing"]
