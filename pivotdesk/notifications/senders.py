"""The wire: email through Django's mail API, everything else through apprise. Each returns (ok, reason) and
never raises for a delivery problem; the reason is what the delivery log shows, stored as a code with its raw
detail (`common.delivery_errors.encode`) and rendered in the reader's language."""

from __future__ import annotations

import concurrent.futures
import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers

from pivotdesk.common import egress
from pivotdesk.common.delivery_errors import DeliveryErrorCode, encode, from_smtp_exception

log = logging.getLogger(__name__)

_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="apprise")


def from_email() -> str:
    return str(getattr(settings, "PIVOTDESK_NOTIFICATIONS_FROM_EMAIL", "") or settings.DEFAULT_FROM_EMAIL)


def send_email(*, to: str, subject: str, body: str, html: str | None = None) -> tuple[bool, str]:
    """One plain-text email (with an optional HTML part) through settings.EMAIL_*."""
    # The default mailer (settings.MAILERS, or EMAIL_* before Django 7); its timeout is EMAIL_TIMEOUT / OPTIONS.
    connection = mailers.default
    message = EmailMultiAlternatives(
        subject=subject.replace("\n", " ").replace("\r", " ")[:255],
        body=body,
        from_email=from_email(),
        to=[to],
        connection=connection,
        headers={"Auto-Submitted": "auto-generated", "X-PivotDesk-Notification": "1"},
    )
    if html:
        message.attach_alternative(html, "text/html")
    try:
        sent = connection.send_messages([message])
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        return False, from_smtp_exception(exc).encode()
    return (True, "") if sent else (False, encode(DeliveryErrorCode.MAIL_NOTHING_ACCEPTED))


def _apprise_once(url: str, title: str, body: str) -> tuple[bool, str]:
    import apprise  # 18 MiB: loaded where a message is sent, not in every web process at start-up

    instance = apprise.Apprise()
    with apprise.LogCapture(level=logging.INFO, fmt="%(levelname)s %(message)s") as captured:  # type: ignore[no-untyped-call]
        if not instance.add(url):
            return False, encode(DeliveryErrorCode.BAD_TARGET_URL)
        ok = bool(instance.notify(title=title, body=body))
        output = captured.getvalue()
    if ok:
        return True, ""
    # The useful lines are warnings/errors; fall back to everything apprise said.
    # INFO, not DEBUG: a DEBUG capture would lower apprise's logger level and send its payload dumps to our logs.
    lines = [ln for ln in output.splitlines() if ln.startswith(("WARNING", "ERROR"))] or output.splitlines()
    reason = " | ".join(ln.strip() for ln in lines if ln.strip())
    return False, encode(DeliveryErrorCode.PROVIDER, reason[:1500])


# Schemes whose "host" is a server the message is sent to (for the others it is a token or a chat id).
_SERVER_SCHEMES = frozenset(
    {"json", "jsons", "xml", "xmls", "form", "forms", "ntfy", "ntfys", "gotify", "gotifys", "apprise", "apprises"}
    | {"mmost", "mmosts", "rocket", "rockets", "matrix", "matrixs", "mqtt", "mqtts", "rsyslog", "syslog"}
)


def apprise_host(url: str) -> str:
    """The host apprise would read from a target URL ("" when it has none or apprise cannot parse the URL)."""
    import apprise

    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    return str(getattr(plugin, "host", "") or "")


def check_apprise_host(url: str, *, unresolved_ok: bool = False) -> None:
    """The egress guard's rule for an apprise target: a server-type scheme's host (`json://`, `ntfy://`, …) must
    resolve to allowed addresses, and any numeric host must be allowed. Raises egress.EgressRefused, or
    EgressUnreachable for a server name that does not resolve (unless `unresolved_ok`). Apprise connects with its
    own HTTP stack, so the address cannot be pinned: this narrows DNS rebinding to the moment between the check and
    apprise's own lookup (docs/security.md)."""
    import apprise

    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    host = str(getattr(plugin, "host", "") or "")
    if not host:
        return
    scheme = url.split("://", 1)[0].lower()
    try:
        if scheme in _SERVER_SCHEMES:
            egress.check_host(host, int(getattr(plugin, "port", None) or 443))
        elif egress.parse_ip_literal(host) is not None:
            egress.check_host(host)
    except egress.EgressUnreachable:
        if not unresolved_ok:
            raise


def send_apprise(*, url: str, title: str, body: str, timeout: float) -> tuple[bool, str]:
    """Send through apprise, giving up after `timeout` seconds (the plugin keeps running in its thread). The
    target's host is checked by the egress guard first, at every send (an allowlist or DNS may have changed)."""
    try:
        check_apprise_host(url)
    except egress.EgressRefused as exc:
        return False, encode(DeliveryErrorCode.ADDRESS_REFUSED, str(exc))
    except egress.EgressUnreachable as exc:
        return False, encode(DeliveryErrorCode.UNREACHABLE, str(exc))
    future = _POOL.submit(_apprise_once, url, title, body)
    try:
        return future.result(timeout=timeout)
    except concurrent.futures.TimeoutError:
        return False, encode(DeliveryErrorCode.TIMEOUT, seconds=f"{timeout:g}")
    except Exception as exc:  # a plugin bug must not take the worker down
        log.exception("apprise crashed")
        return False, encode(DeliveryErrorCode.SEND_FAILED, f"{type(exc).__name__}: {exc}"[:1000])
