"""A caption (and, when there is one, a transcript) checked before upload: the same rules the
delivery's checks run (domain/disclosure.py, activities/checks/spoken.py), behind one validated
input, for the CLI (`nexus compliance check`), `POST /compliance/preflight` and the portal's
live check."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from activities.checks.spoken import check_spoken_disclosure
from domain.compliance import RULEBOOK_VERSION, RULES, parse_language, parse_markets
from domain.compliance.rules import brief_markets
from domain.disclosure import check_caption
from domain.findings import finding_words, severity_words
from workflows.contracts.moderation import Word

# The longest caption a platform takes (YouTube's description: 5,000 characters).
MAX_CAPTION = 5000
MAX_BRAND = 200
MAX_WORDS = 20_000
SPOKEN_WITHIN_S = 15.0

# The spoken findings' rules (the caption's findings carry their own).
_SPOKEN_RULES = {
    "spoken_disclosure_missing": "ftc-255.5-clear",
    "spoken_disclosure_insufficient": "ftc-255.5-clear",
    "spoken_disclosure_late": "ftc-d101-placement",
}


class SpokenWord(BaseModel):
    """One word of the transcript and when it is said, in seconds from the start."""

    text: str = Field(max_length=200)
    start_s: float = Field(ge=0, le=86_400, allow_inf_nan=False)
    end_s: float = Field(ge=0, le=86_400, allow_inf_nan=False)


def readable(value: str) -> str:
    """`value` when it is text; ValueError for binary data (NUL or other control characters
    but line breaks and tabs)."""
    if any(c == "\x00" or (ord(c) < 32 and c not in "\n\r\t") for c in value):
        raise ValueError("must be text, not binary data")
    return value


class PreflightRequest(BaseModel):
    caption: str = Field(min_length=1, max_length=MAX_CAPTION)
    brand: str = Field(default="", max_length=MAX_BRAND)
    language: str | None = Field(default=None, max_length=35)
    markets: list[str] = Field(default_factory=list, max_length=50)
    platform: Literal["instagram", "tiktok", "youtube_shorts"] | None = None
    paid_label: bool = False
    transcript: list[SpokenWord] | None = Field(default=None, max_length=MAX_WORDS)

    @field_validator("caption", "brand")
    @classmethod
    def _text(cls, value: str) -> str:
        readable(value)
        if value is not None and not value.strip() and value != "":
            raise ValueError("must not be blank")
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        return parse_language(value)  # UnknownLanguage is a ValueError: a field error

    @field_validator("markets")
    @classmethod
    def _markets(cls, value: list[str]) -> list[str]:
        return list(parse_markets(value))


class PreflightFinding(BaseModel):
    code: str
    rule: str | None
    severity: str
    message: str
    span: tuple[int, int] | None = None
    start_s: float | None = None


class PreflightAnswer(BaseModel):
    passed: bool
    findings: list[PreflightFinding]
    rulebook: str = RULEBOOK_VERSION
    language: str | None = None


def preflight(request: PreflightRequest) -> PreflightAnswer:
    markets = tuple(request.markets) or parse_markets([])
    caption_findings = check_caption(
        request.caption,
        disclosure_required=True,
        mandatory_mentions=[],
        brand=request.brand,
        language=request.language,
        markets=markets,
        platform=request.platform,
        paid_label=request.paid_label,
    )
    findings = [
        PreflightFinding(
            code=f.code, rule=f.rule, severity=f.severity, message=f.message, span=f.span
        )
        for f in caption_findings
    ]
    if request.transcript is not None:
        words = [Word(text=w.text, start_s=w.start_s, end_s=w.end_s) for w in request.transcript]
        for m in check_spoken_disclosure(words, brand=request.brand, within_s=SPOKEN_WITHIN_S):
            findings.append(
                PreflightFinding(
                    code=m.code,
                    rule=_SPOKEN_RULES.get(m.code),
                    severity=m.severity,
                    message=m.message,
                    start_s=m.start_s,
                )
            )
    return PreflightAnswer(
        passed=not any(f.severity == "block" for f in findings),
        findings=findings,
        language=request.language,
    )


def answer_json(answer: PreflightAnswer) -> dict[str, Any]:
    """The answer as the CLI prints it: passed, and each finding's code, rule, severity,
    message and span (and where in the video, for a spoken one)."""
    out: list[dict[str, Any]] = []
    for f in answer.findings:
        item: dict[str, Any] = {
            "code": f.code,
            "rule": f.rule,
            "severity": f.severity,
            "message": f.message,
            "span": list(f.span) if f.span else None,
        }
        if f.start_s is not None:
            item["start_s"] = f.start_s
        out.append(item)
    return {"passed": answer.passed, "findings": out}


class LiveFinding(BaseModel):
    """A finding as the portal shows it: its kind and the rule in words, never as codes."""

    words: str
    message: str
    severity: str
    rule: str


class LiveCheck(BaseModel):
    passed: bool
    findings: list[LiveFinding]


def live_caption_check(
    caption: str, *, brand: str, markets: list[str], language: str | None
) -> LiveCheck:
    """The portal's check as the creator types: the brief's brand and target markets (a market
    the rulebook does not know falls back to the default) and the endorsement's declared
    language (None: the caption's own)."""
    findings = check_caption(
        caption[:MAX_CAPTION],
        disclosure_required=True,
        mandatory_mentions=[],
        brand=brand,
        markets=brief_markets(markets),
        language=language,
    )
    return LiveCheck(
        passed=not any(f.severity == "block" for f in findings),
        findings=[
            LiveFinding(
                words=finding_words(f.code),
                message=f.message,
                severity=severity_words(f.severity),
                rule=RULES[f.rule].title if f.rule in RULES else "",
            )
            for f in findings
        ],
    )
