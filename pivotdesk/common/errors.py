"""Domain errors: a machine code and a readable message, mapped to 4xx by the API and the UI.

The convention (Zulip's `JsonableError(_("…"))`, Saleor's `order/error_codes.py`):

- the **message** is written for a person and translated **at the raise site**, with named placeholders so a
  translator may reorder them::

      raise ValidationFailed(
          gettext("Unknown priority “%(value)s”.") % {"value": value}, code=TicketErrorCode.UNKNOWN_PRIORITY
      )

  `gettext` runs in the language of the request (LocaleMiddleware: the session's language or `Accept-Language`),
  so `str(exc)`, the API's JSON `message` and the UI's toast are already in the reader's language. A lazy string
  (`gettext_lazy`) is accepted too and rendered when read. A permission error says in words what is not allowed;
  the permission's code goes in `details`, never in the message.
- the **code** is stable, snake_case and never translated: each app lists its codes in `<app>/errors.py` as a
  `StrEnum` (`TicketErrorCode`, …); a class's default (`validation_failed`, `not_found`, …) stands when no finer
  code helps a client. `pivotdesk/common/tests/test_error_messages.py` fails on a raise whose message is not marked
  for translation.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise


class DomainError(Exception):
    """A rule of the domain was broken by the caller's input (HTTP 400 unless a subclass says otherwise)."""

    status_code = 400
    code = "invalid"

    def __init__(
        self, message: str | Promise, *, code: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self._message = message
        if code is not None:
            self.code = str(code)
        self.details = details or {}

    @property
    def message(self) -> str:
        """The message in the active language (a lazy message is rendered now)."""
        return str(self._message)

    def __str__(self) -> str:
        return self.message

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
