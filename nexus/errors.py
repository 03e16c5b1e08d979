"""One error hierarchy for the platform, rendered by the API as RFC 9457 problem+json."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    field: str
    reason: str


class AppError(Exception):
    status: int = 400
    title: str = "Bad request"
    type_slug: str = "bad-request"

    def __init__(self, detail: str, *, errors: list[FieldProblem] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class ValidationFailed(AppError):
    status = 422
    title = "Validation failed"
    type_slug = "validation-failed"


class Unauthenticated(AppError):
    status = 401
    title = "Authentication required"
    type_slug = "unauthenticated"


class Forbidden(AppError):
    status = 403
    title = "Forbidden"
    type_slug = "forbidden"


class NotFound(AppError):
    status = 404
    title = "Not found"
    type_slug = "not-found"


class Conflict(AppError):
    status = 409
    title = "Conflict"
    type_slug = "conflict"


class Gone(AppError):
    status = 410
    title = "Gone"
    type_slug = "gone"


class PayloadTooLarge(AppError):
    status = 413
    title = "Payload too large"
    type_slug = "payload-too-large"


class ServiceUnavailable(AppError):
    status = 503
    title = "Service unavailable"
    type_slug = "service-unavailable"
