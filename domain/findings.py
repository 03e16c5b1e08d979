"""What an automated check reports about a submission: the value the rules return and the
delivery contracts carry."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class Finding(BaseModel):
    code: str
    severity: Literal["block", "warn"]
    message: str
    span: tuple[int, int] | None = None  # characters of the caption it refers to
    start_s: float | None = None  # where in the video
