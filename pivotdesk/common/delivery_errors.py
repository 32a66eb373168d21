"""Why a delivery failed, stored as facts and rendered in the reader's language (architecture rule 14).

Every outbox row (`OutboundMessage`, `notifications.Delivery`, `WebhookDelivery`) and a reply's
`Message.delivery_error` keep their reason in a text column. What goes there is `encode(code, detail, **params)`:
a small JSON object with a stable code (`DeliveryErrorCode`), its parameters and the raw technical detail (an SMTP
response, apprise's log line, an exception text) kept as it came. `describe(stored)` renders it in the active
language: "Could not connect to the mail server: [Errno 111] …" / "无法连接邮件服务器：[Errno 111] …". A column
written before this (plain English) is shown as it is.
"""

from __future__ import annotations

import json
import smtplib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

MAX_DETAIL = 1500
MAX_STORED = 1900


class DeliveryErrorCode(StrEnum):
    """Stable codes: a message may change wording, a code may not."""

    MAIL_CONNECT = "mail_connect"
    MAIL_AUTH = "mail_auth"
    MAIL_RECIPIENT_REFUSED = "mail_recipient_refused"
    MAIL_REFUSED = "mail_refused"
    MAIL_NOTHING_ACCEPTED = "mail_nothing_accepted"
    CONNECT = "connect"
    TIMEOUT = "timeout"
    HTTP_STATUS = "http_status"
    ADDRESS_REFUSED = "address_refused"
    UNREACHABLE = "unreachable"
    PROVIDER = "provider"
    BAD_TARGET_URL = "bad_target_url"
    TARGET_UNREADABLE = "target_unreadable"
    TARGET_REMOVED = "target_removed"
    NO_TARGET = "no_target"
    NO_EMAIL = "no_email"
    AGENT_DEACTIVATED = "agent_deactivated"
    NO_IDENTITY = "no_identity"
    NO_SENDER = "no_sender"
    NO_ACCOUNT = "no_account"
    ENDPOINT_OFF = "endpoint_off"
    ENDPOINT_DISABLED = "endpoint_disabled"
    WORKER_STOPPED = "worker_stopped"
    SEND_FAILED = "send_failed"


MESSAGES: dict[str, Promise] = {
    DeliveryErrorCode.MAIL_CONNECT: _("Could not connect to the mail server"),
    DeliveryErrorCode.MAIL_AUTH: _("The mail server did not accept the sign-in"),
    DeliveryErrorCode.MAIL_RECIPIENT_REFUSED: _("The mail server refused the recipient"),
    DeliveryErrorCode.MAIL_REFUSED: _("The mail server refused the message"),
    DeliveryErrorCode.MAIL_NOTHING_ACCEPTED: _("The mail backend accepted nothing"),
    DeliveryErrorCode.CONNECT: _("Could not connect to the receiving server"),
    DeliveryErrorCode.TIMEOUT: _("No answer within %(seconds)s s"),
    DeliveryErrorCode.HTTP_STATUS: _("The receiving server answered HTTP %(status)s"),
    DeliveryErrorCode.ADDRESS_REFUSED: _("Sending to this address is not allowed (not a public address)"),
    DeliveryErrorCode.UNREACHABLE: _("The receiving server could not be reached"),
    DeliveryErrorCode.PROVIDER: _("The messaging service reported a failure"),
    DeliveryErrorCode.BAD_TARGET_URL: _("The target's URL is not one the sender understands"),
    DeliveryErrorCode.TARGET_UNREADABLE: _("The target's stored URL cannot be read"),
    DeliveryErrorCode.TARGET_REMOVED: _("The target was removed or turned off"),
    DeliveryErrorCode.NO_TARGET: _("No active SMS / IM / push target for this kind"),
    DeliveryErrorCode.NO_EMAIL: _("The agent has no email address"),
    DeliveryErrorCode.AGENT_DEACTIVATED: _("The agent is deactivated"),
    DeliveryErrorCode.NO_IDENTITY: _("The customer has no %(channel)s address to reply to"),
    DeliveryErrorCode.NO_SENDER: _("No sender for the channel %(channel)s"),
    DeliveryErrorCode.NO_ACCOUNT: _("No active %(channel)s channel account to send through"),
    DeliveryErrorCode.ENDPOINT_OFF: _("Not sent: the endpoint is off"),
    DeliveryErrorCode.ENDPOINT_DISABLED: _("Turned off after %(count)s failed attempts in a row"),
    DeliveryErrorCode.WORKER_STOPPED: _("Not sent: earlier attempts never finished (their worker stopped)"),
    DeliveryErrorCode.SEND_FAILED: _("Sending failed"),
}


@dataclass(frozen=True)
class DeliveryError:
    """A delivery failure as facts: a code, its parameters, the raw technical detail (untranslated), and which
    attempt it was when the outbox will try again (0: no retry announced)."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)
    detail: str = ""
    attempt: int = 0

    def encode(self) -> str:
        data: dict[str, Any] = {"code": self.code}
        if self.params:
            data["params"] = self.params
        if self.detail:
            data["detail"] = self.detail[:MAX_DETAIL]
        if self.attempt:
            data["attempt"] = self.attempt
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        while len(text) > MAX_STORED and data.get("detail"):  # escapes can grow it: the columns cut at 2000
            data["detail"] = data["detail"][: len(data["detail"]) // 2]
            text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return text

    def retrying(self, attempt: int) -> DeliveryError:
        return DeliveryError(self.code, dict(self.params), self.detail, attempt)

    def message(self) -> str:
        """The sentence in the active language, with the detail after a colon."""
        template = MESSAGES.get(self.code)
        if template is None:
            text = self.code
        else:
            params = dict(self.params)
            if "channel" in params:
                params["channel"] = _channel_label(str(params["channel"]))
            try:
                text = str(template) % params if "%(" in str(template) else str(template)
            except (KeyError, TypeError, ValueError):
                text = str(template)
        if self.detail:
            inner = parse(self.detail)  # a reason that is itself a stored error (an endpoint's disabled reason)
            detail = inner.message() if inner is not None else self.detail
            text = gettext("%(error)s: %(detail)s") % {"error": text, "detail": detail}
        if self.attempt:
            text = gettext("Retrying (attempt %(attempt)s): %(error)s") % {"attempt": self.attempt, "error": text}
        return text


def _channel_label(channel: str) -> str:
    from pivotdesk.common.choices import Channel

    try:
        return str(Channel(channel).label)
    except ValueError:
        return channel


def encode(code: str, detail: str = "", **params: Any) -> str:
    """The stored form of a delivery error (what goes in `last_error` / `delivery_error`)."""
    return DeliveryError(str(code), params, detail).encode()


def parse(stored: str) -> DeliveryError | None:
    """The facts of a stored error; None for an empty column or free text written before codes existed."""
    if not stored or not stored.startswith('{"code"'):
        return None
    try:
        data = json.loads(stored)
    except ValueError:
        # A detail cut by a column's length limit: keep what can be read.
        return None
    if not isinstance(data, dict) or not isinstance(data.get("code"), str):
        return None
    params = data.get("params") if isinstance(data.get("params"), dict) else {}
    attempt = data.get("attempt")
    attempt = attempt if isinstance(attempt, int) else 0
    return DeliveryError(data["code"], params or {}, str(data.get("detail") or ""), attempt)


def describe(stored: str) -> str:
    """The stored error in the reader's language (free text written before codes existed is shown as it is)."""
    error = parse(stored)
    return error.message() if error is not None else (stored or "")


def code_of(stored: str) -> str:
    """The stored error's code ("" for none or free text)."""
    error = parse(stored)
    return error.code if error is not None else ""


def _exception_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:MAX_DETAIL]


def from_smtp_exception(exc: BaseException) -> DeliveryError:
    """What an SMTP send raised, as a delivery error (the server's answer kept as the detail)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        detail = "; ".join(f"{k}: {v[0]} {v[1]!r}" for k, v in exc.recipients.items())
        return DeliveryError(DeliveryErrorCode.MAIL_RECIPIENT_REFUSED, detail=detail[:MAX_DETAIL])
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return DeliveryError(DeliveryErrorCode.MAIL_AUTH, detail=_exception_text(exc))
    if isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError):
        return DeliveryError(DeliveryErrorCode.MAIL_CONNECT, detail=_exception_text(exc))
    if isinstance(exc, smtplib.SMTPResponseException):  # sender refused, data refused, any other answer
        return DeliveryError(DeliveryErrorCode.MAIL_REFUSED, detail=_exception_text(exc))
    if isinstance(exc, smtplib.SMTPException):
        return DeliveryError(DeliveryErrorCode.SEND_FAILED, detail=_exception_text(exc))
    if isinstance(exc, OSError):  # refused, unreachable, timed out (TimeoutError is an OSError)
        return DeliveryError(DeliveryErrorCode.MAIL_CONNECT, detail=_exception_text(exc))
    return DeliveryError(DeliveryErrorCode.SEND_FAILED, detail=_exception_text(exc))


def from_exception(exc: BaseException) -> DeliveryError:
    """Any send failure as a delivery error: mail, network (the egress guard's refusals included) or other."""
    import httpx

    from pivotdesk.common import egress

    if isinstance(exc, smtplib.SMTPException):
        return from_smtp_exception(exc)
    if isinstance(exc, egress.EgressRefused):
        return DeliveryError(DeliveryErrorCode.ADDRESS_REFUSED, detail=str(exc)[:MAX_DETAIL])
    if isinstance(exc, egress.EgressUnreachable):
        return DeliveryError(DeliveryErrorCode.UNREACHABLE, detail=str(exc)[:MAX_DETAIL])
    if isinstance(exc, httpx.TimeoutException):
        return DeliveryError(DeliveryErrorCode.UNREACHABLE, detail=_exception_text(exc))
    if isinstance(exc, httpx.ConnectError | ConnectionError):
        return DeliveryError(DeliveryErrorCode.CONNECT, detail=_exception_text(exc))
    return DeliveryError(DeliveryErrorCode.SEND_FAILED, detail=_exception_text(exc))
