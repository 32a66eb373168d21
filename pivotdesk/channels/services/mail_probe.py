"""The mailbox connection test (issue 18): connect to IMAP (sign in, open the inbox, count its messages) and SMTP
(EHLO, STARTTLS or SSL, AUTH — no mail is sent) with the settings of the mailbox form, saved or not, and say per
step what worked and, when not, why: DNS, refused, timeout, TLS, sign-in (with the provider's hint about
authorisation codes), the egress guard.

Every connection goes through the egress guard (`common/egress.py`): a private or loopback server is refused before
any packet is sent, unless the operator allowed it, so the test is no way into the internal network. The results
are codes with their facts (`ProbeStep`), worded when shown (`channels.mail_texts`); each test of a saved mailbox
is kept (`MailboxCheck`: who, when, what), a test of an unsaved form too, without the account.
"""

from __future__ import annotations

import contextlib
import imaplib
import smtplib
import socket
import ssl
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils.translation import gettext
from imapclient.exceptions import IMAPClientError, LoginError

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.channels.domain import mail_oauth, mail_presets
from pivotdesk.channels.errors import ChannelErrorCode
from pivotdesk.channels.models import ChannelAccount, MailboxCheck
from pivotdesk.channels.services.mail_oauth import MailOAuthError, mail_oauth_access_token, oauth_user
from pivotdesk.common import egress, ratelimit
from pivotdesk.common.errors import NotFound, RateLimited

# What a connection attempt may raise besides the protocols' own errors: sockets, TLS, the egress guard's refusals.
_NET_ERRORS = (OSError, EOFError, ValueError, egress.EgressRefused, egress.EgressUnreachable)
PROBE_TIMEOUT = 8.0  # seconds per connect and per answer: an admin waits for the result
PROBES_PER_WINDOW = 30  # per admin and 10 minutes: the test is not a port scanner for the internet
WINDOW_SECONDS = 600


@dataclass
class ProbeStep:
    service: str  # imap | smtp
    step: str  # connect | login | inbox | tls | auth
    ok: bool
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.service}.{self.step}"


@dataclass
class ProbeReport:
    steps: list[ProbeStep]
    preset: str = ""
    check: MailboxCheck | None = None

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)


def _server_text(exc: BaseException) -> str:
    """The server's own words (for the admin's eyes, marked as not ours), without anything we sent."""
    if isinstance(exc, smtplib.SMTPResponseException):
        raw = exc.smtp_error
        text = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
        return f"{exc.smtp_code} {text}"[:200]
    text = str(exc.args[0]) if exc.args else ""
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    return text[:200]


def classify(exc: BaseException, host: str, port: int) -> tuple[str, dict[str, Any]]:  # noqa: C901 - one case a line
    """(result code, its facts) for a failure to connect, encrypt or sign in."""
    where = {"host": host[:200], "port": port}
    if isinstance(exc, egress.EgressRefused):
        return "egress_refused", where
    if isinstance(exc, egress.EgressUnreachable):
        cause = exc.__cause__
        if cause is None or isinstance(cause, socket.gaierror | UnicodeError):
            return "dns_failed", where  # no address, or the lookup failed (the guard found nothing to check)
        exc = cause
    if isinstance(exc, smtplib.SMTPServerDisconnected) and isinstance(exc.__context__, TimeoutError):
        exc = exc.__context__  # smtplib words a silent server as "Connection unexpectedly closed: timed out"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "tls_certificate", where
    if isinstance(exc, ssl.SSLError):
        return "tls_failed", where
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timeout", where
    if isinstance(exc, ConnectionRefusedError):
        return "refused", where
    if isinstance(exc, LoginError | smtplib.SMTPAuthenticationError):
        return "auth_failed", {"server": _server_text(exc)}
    if isinstance(exc, OSError):
        return "unreachable", where
    return "protocol_error", {"server": _server_text(exc)}


@dataclass(frozen=True)
class _Settings:
    """What the test connects with: the form's (or the mailbox's) settings, passwords resolved."""

    config: dict[str, Any]
    imap_password: str
    smtp_password: str
    oauth_token: str  # an access token when the mailbox signs in with OAuth2
    oauth_error: str  # why there is none, when OAuth2 is chosen

    @property
    def oauth(self) -> bool:
        return str(self.config.get("auth_method") or "") == mail_presets.AUTH_OAUTH2


def _imap(s: _Settings, timeout: float) -> list[ProbeStep]:  # noqa: C901 - one step after the other, each with its failure
    from pivotdesk.channels.mailboxes import GuardedIMAPClient  # the poller's own client: the same guard

    config = s.config
    host = str(config.get("imap_host") or "").strip()
    if not host:
        return [ProbeStep("imap", "connect", False, "not_configured")]
    use_ssl = bool(config.get("imap_ssl", True))
    try:
        port = int(config.get("imap_port") or (993 if use_ssl else 143))
    except (TypeError, ValueError):
        port = 993 if use_ssl else 143
    steps: list[ProbeStep] = []
    try:
        client = GuardedIMAPClient(host, port=port, ssl=use_ssl, timeout=timeout)
    except (IMAPClientError, imaplib.IMAP4.error, *_NET_ERRORS) as exc:
        code, params = classify(exc, host, port)
        return [ProbeStep("imap", "connect", False, code, params), *_skipped("imap", "login", "inbox")]
    try:
        if not use_ssl and config.get("imap_starttls") and client.has_capability("STARTTLS"):
            client.starttls()
        steps.append(ProbeStep("imap", "connect", True, "connected", {"host": host[:200], "port": port}))
        user = str(config.get("username") or config.get("address") or "")
        try:
            if s.oauth:
                if not s.oauth_token:
                    steps.append(_oauth_missing("imap", "login", s.oauth_error))
                    return [*steps, *_skipped("imap", "inbox")]
                client.oauth2_login(user, s.oauth_token)
            else:
                if not s.imap_password:
                    return [*steps, ProbeStep("imap", "login", False, "no_password"), *_skipped("imap", "inbox")]
                client.login(user, s.imap_password)
        except (IMAPClientError, imaplib.IMAP4.error, OSError, EOFError) as exc:
            code, params = classify(exc, host, port)
            if code == "protocol_error" and isinstance(exc, imaplib.IMAP4.error):
                code = "auth_failed"
            return [*steps, ProbeStep("imap", "login", False, code, params), *_skipped("imap", "inbox")]
        steps.append(ProbeStep("imap", "login", True, "logged_in", {"user": user[:200]}))
        folder = str(config.get("folder") or "INBOX")
        try:
            selected = client.select_folder(folder, readonly=True)
        except (IMAPClientError, imaplib.IMAP4.error) as exc:
            return [*steps, ProbeStep("imap", "inbox", False, "folder_missing", {"folder": folder[:200],
                                                                                 "server": _server_text(exc)})]  # fmt: skip
        count = int(selected.get(b"EXISTS", 0) or 0)
        steps.append(ProbeStep("imap", "inbox", True, "inbox_counted", {"count": count, "folder": folder[:200]}))
    except (IMAPClientError, imaplib.IMAP4.error, OSError, EOFError) as exc:
        code, params = classify(exc, host, port)
        done = {st.step for st in steps}
        missing = [name for name in ("login", "inbox") if name not in done]
        steps.append(ProbeStep("imap", missing[0] if missing else "inbox", False, code, params))
        steps.extend(_skipped("imap", *missing[1:]))
    finally:
        _imap_close(client)
    return steps


def _imap_close(client: Any) -> None:
    try:
        client.logout()
    except Exception:  # closing a test connection must never fail the test's report
        with contextlib.suppress(Exception):  # already gone
            client.shutdown()


class _ProbeSMTP(smtplib.SMTP):
    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return egress.guarded_connection(host, port, timeout=timeout)


class _ProbeSMTPSSL(smtplib.SMTP_SSL):
    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = egress.guarded_connection(host, port, timeout=timeout)
        return self.context.wrap_socket(sock, server_hostname=host)


def smtp_security(config: dict[str, Any]) -> str:
    """ssl | starttls | none, as the sender reads it (adapters/email_send.py)."""
    return str(config.get("smtp_security", "")).lower() or (
        "ssl" if config.get("smtp_ssl") else "starttls" if config.get("smtp_starttls", True) else "none"
    )


def _smtp(s: _Settings, timeout: float) -> list[ProbeStep]:
    config = s.config
    host = str(config.get("smtp_host") or "").strip()
    if not host:
        return [ProbeStep("smtp", "connect", False, "not_configured")]
    security = smtp_security(config)
    try:
        port = int(config.get("smtp_port") or {"ssl": 465, "starttls": 587}.get(security, 25))
    except (TypeError, ValueError):
        port = 587
    context = ssl.create_default_context()
    steps: list[ProbeStep] = []
    client: smtplib.SMTP | None = None
    step = "connect"
    try:
        if security == "ssl":
            client = _ProbeSMTPSSL(host, port, timeout=timeout, context=context)
        else:
            client = _ProbeSMTP(host, port, timeout=timeout)
        steps.append(ProbeStep("smtp", "connect", True, "connected", {"host": host[:200], "port": port}))
        step = "tls"
        client.ehlo()
        if security == "starttls":
            if not client.has_extn("starttls"):
                return [*steps, ProbeStep("smtp", "tls", False, "starttls_unsupported"), *_skipped("smtp", "auth")]
            client.starttls(context=context)
            client.ehlo()
            steps.append(ProbeStep("smtp", "tls", True, "tls_ok", {"mode": "STARTTLS"}))
        elif security == "ssl":
            steps.append(ProbeStep("smtp", "tls", True, "tls_ok", {"mode": "SSL/TLS"}))
        else:
            steps.append(ProbeStep("smtp", "tls", True, "plain_connection"))
        step = "auth"
        steps.append(_smtp_auth(client, s))
    except (smtplib.SMTPException, *_NET_ERRORS) as exc:
        code, params = classify(exc, host, port)
        steps.append(ProbeStep("smtp", step, False, code, params))
        steps.extend(_skipped("smtp", *[n for n in ("tls", "auth") if n not in {st.step for st in steps}]))
    finally:
        if client is not None:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()
    return steps


def _smtp_auth(client: smtplib.SMTP, s: _Settings) -> ProbeStep:
    config = s.config
    if not client.has_extn("auth"):
        return ProbeStep("smtp", "auth", False, "auth_unsupported")
    offered = client.esmtp_features.get("auth", "").upper().split()
    if s.oauth:
        if not s.oauth_token:
            return _oauth_missing("smtp", "auth", s.oauth_error)
        if "XOAUTH2" not in offered:
            return ProbeStep("smtp", "auth", False, "auth_unsupported", {"server": " ".join(offered)[:200]})
        user = str(config.get("smtp_username") or config.get("username") or config.get("address") or "")
        smtp_xoauth2(client, user, s.oauth_token)
        return ProbeStep("smtp", "auth", True, "logged_in", {"user": user[:200]})
    user = str(config.get("smtp_username") or config.get("username") or config.get("address") or "")
    if not s.smtp_password:
        return ProbeStep("smtp", "auth", False, "no_password")
    client.login(user, s.smtp_password)
    return ProbeStep("smtp", "auth", True, "logged_in", {"user": user[:200]})


def smtp_xoauth2(client: smtplib.SMTP, user: str, token: str) -> None:
    """AUTH XOAUTH2 with the initial response; on the server's JSON error challenge answer empty, so it sends 535
    (smtplib then raises SMTPAuthenticationError)."""
    initial = mail_oauth.xoauth2_string(user, token)
    client.auth("XOAUTH2", lambda challenge=None: initial if challenge is None else "", initial_response_ok=True)


def _skipped(service: str, *names: str) -> list[ProbeStep]:
    return [ProbeStep(service, name, False, "skipped") for name in names]


def _oauth_missing(service: str, step: str, error: str) -> ProbeStep:
    if error in ("", "not_connected"):
        return ProbeStep(service, step, False, "oauth_not_connected")
    return ProbeStep(service, step, False, "oauth_failed", {"reason": error[:64]})


def _resolve(actor: Actor, config: dict[str, Any], typed: dict[str, Any], account: ChannelAccount | None) -> _Settings:
    stored = account.secrets if account is not None else {}
    merged = {**stored, **{k: v for k, v in typed.items() if v}}
    imap_password = str(merged.get("imap_password") or merged.get("password") or "")
    smtp_password = str(merged.get("smtp_password") or merged.get("password") or "")
    token, error = "", ""
    if str(config.get("auth_method") or "") == mail_presets.AUTH_OAUTH2:
        if account is None:
            error = "not_connected"
        else:
            try:
                token = mail_oauth_access_token(actor=actor, account=account)
            except MailOAuthError as exc:
                error = exc.code
    return _Settings(config, imap_password, smtp_password, token, error)


def mailbox_probe(
    *,
    actor: Actor,
    workspace: Workspace,
    config: dict[str, Any],
    secrets: dict[str, Any] | None = None,
    account: ChannelAccount | None = None,
    timeout: float = PROBE_TIMEOUT,
) -> ProbeReport:
    """Test a mailbox's IMAP and SMTP settings without saving them. `secrets` are the passwords typed into the form
    (an empty one keeps the stored one of `account`). Both servers are tried at once; the result is kept as a
    `MailboxCheck` (who tested when, each step's code). Needs the channel configuration permission."""
    authorize(actor, Perm.CHANNEL_CONFIGURE, workspace_id=workspace.pk)
    if account is not None and account.workspace_id != workspace.pk:
        raise NotFound(gettext("Unknown channel."), code=ChannelErrorCode.CHANNEL_NOT_FOUND)
    who = str(actor.agent.pk) if actor.agent is not None else f"{actor.kind}:{workspace.pk}"
    verdict = ratelimit.hit(scope="mailbox-probe", key=who, limit=PROBES_PER_WINDOW, window_seconds=WINDOW_SECONDS)
    if not verdict.allowed:
        raise RateLimited(
            gettext("Too many connection tests: try again in %(seconds)s seconds.") % {"seconds": verdict.retry_after},
            code="probe_rate_limited",
            details={"retry_after": verdict.retry_after},
        )
    if account is not None and str(config.get("auth_method") or "") == mail_presets.AUTH_OAUTH2:
        account.config = {**account.config, **config}  # the provider the form names, for the token refresh
    settings = _resolve(actor, config, dict(secrets or {}), account)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="mail-probe") as pool:
        imap = pool.submit(_imap, settings, timeout)
        smtp = pool.submit(_smtp, settings, timeout)
        steps = [*imap.result(), *smtp.result()]
    preset = str(config.get("preset") or "")
    if not preset:
        matched = mail_presets.preset_matching(config)
        preset = matched.key if matched else ""
    report = ProbeReport(steps=steps, preset=preset)
    report.check = MailboxCheck.objects.create(
        workspace=workspace,
        account=account,
        checked_by=actor.agent,
        actor_label=actor.display[:200],
        ok=report.ok,
        preset=preset[:32],
        steps=[asdict(s) for s in steps],
    )
    return report


__all__ = ["ProbeReport", "ProbeStep", "classify", "mailbox_probe", "oauth_user", "smtp_xoauth2"]
