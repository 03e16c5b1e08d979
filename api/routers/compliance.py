"""`POST /compliance/preflight`: a caption (and a transcript, if there is one) checked against
the disclosure rulebook before upload, with the rules the delivery's checks apply. For creators
(the portal's live check calls the same code) and partner keys with `deliveries:write`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import ConfigDict

from activities.checks.preflight import PreflightAnswer, PreflightRequest, preflight
from api.deps import Principal, allow
from domain.enums import Role

router = APIRouter(prefix="/compliance", tags=["compliance"])
Checker = Annotated[Principal, Depends(allow(Role.CREATOR, scope="deliveries:write"))]


class PreflightBody(PreflightRequest):
    """The caption as it will be posted; `language` the endorsement's (en, es, fr, de, it,
    pt, nl, ja; identified from the text when absent); `markets` ISO country codes (US when
    absent); `paid_label` whether the platform's paid-partnership label will be on;
    `transcript` the video's words with their times, if any."""

    model_config = ConfigDict(extra="forbid")


@router.post("/preflight", response_model=PreflightAnswer)
def check(body: PreflightBody, principal: Checker) -> PreflightAnswer:
    """Findings (each with its code, the rule it cites, severity, message and the caption's
    characters it points at); `passed` when none must be fixed. Nothing is stored."""
    return preflight(body)
