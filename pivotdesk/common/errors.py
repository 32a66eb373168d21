"""Domain errors: a machine code and a readable message, mapped to 4xx by the API and the UI."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the domain was broken by the caller's input (HTTP 400 unless a subclass says otherwise)."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or {}

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class ValidationFailed(DomainError):
    """Input did not validate (field-level details in `details`)."""

    status_code = 422
    code = "validation_failed"


class NotFound(DomainError):
    """The object does not exist, or exists outside the caller's workspace or permissions (indistinguishable)."""

    status_code = 404
    code = "not_found"


class PermissionDenied(DomainError):
    """The caller may see the object but not do this to it."""

    status_code = 403
    code = "permission_denied"


class Conflict(DomainError):
    """The request conflicts with the current state (e.g. an invalid status transition, a duplicate)."""

    status_code = 409
    code = "conflict"


class RateLimited(DomainError):
    """Too many requests in the window."""

    status_code = 429
    code = "rate_limited"
