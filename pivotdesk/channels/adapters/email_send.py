"""The email adapter's outbound side: an agent's reply as a UTF-8 MIME mail over SMTP, threaded for mail clients.

The mail carries a Message-ID on the mailbox's domain (derived from the message, so a retry after a lost SMTP
answer re-sends the same id and the customer's client shows one mail), In-Reply-To the customer's last message,
References the ticket's known Message-IDs and the `[#number]` token in the subject, so the customer's reply
threads back whichever of the three their client keeps.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import TYPE_CHECKING

from django.conf import settings

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.adapters import register_sender
from pivotdesk.channels.domain.email_threading import subject_with_token
from pivotdesk.channels.domain.mail_oauth import xoauth2_string
from pivotdesk.common import egress
from pivotdesk.common.html import sanitize_html, text_to_html
from pivotdesk.common.time import now
from pivotdesk.tickets.models import Attachment, AuthorType, Message, MessageKind

if TYPE_CHECKING:
    from pivotdesk.channels.models import ChannelAccount, OutboundMessage

log = logging.getLogger(__name__)

MAX_REFERENCES = 20
# Lines that apps above channels add under every reply to a customer (the portal's "Follow your request: <link>",
# registered in its AppConfig.ready()): a provider gets the reply's message and returns a line, or "" for none.
FOOTER_PROVIDERS: list[Callable[[Message], str]] = []
_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|回复|答复|回覆)\s*[:：]", re.IGNORECASE)
_MSGID = re.compile(r"^<[^<>\s]+@[^<>\s]+>$")


def _send_error(message: str, *, permanent: bool) -> Exception:
    from pivotdesk.channels.services.outbox import SendError  # services import adapters: import late

    return SendError(message, permanent=permanent)


@dataclass
class OutgoingMail:
    """Everything a reply mail is made of, gathered from the ticket before any MIME is built."""

    from_address: str
    from_name: str
    to: list[tuple[str, str]]
    cc: list[tuple[str, str]]
    subject: str
    text: str
    html: str
    message_id: str
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)  # envelope recipients only: never a header
    auto_submitted: bool = False
    ticket_number: int = 0


def mailbox_domain(account: ChannelAccount | None) -> str:
    address = str((account.config if account else {}).get("address", ""))
    return address.rpartition("@")[2].strip().lower() or "pivotdesk.localhost"


def message_id_for(message: Message, domain: str) -> str:
    """A Message-ID unique to this reply and stable across retries: a keyed hash of the message, on our domain."""
    key = settings.SECRET_KEY.encode()
    digest = hmac.new(key, f"{message.workspace_id}:{message.pk}".encode(), hashlib.sha256).hexdigest()[:20]
    return f"<pd.{message.pk}.{digest}@{domain}>"


def _thread_ids(message: Message) -> tuple[str, list[str]]:
    """(In-Reply-To, References): the last customer Message-ID before this reply, and the ticket's known ids in
    order with the parent last, capped as RFC 5322 clients do (the first id and the most recent ones)."""
    earlier = list(
        Message.objects.filter(ticket_id=message.ticket_id, pk__lt=message.pk, kind=MessageKind.PUBLIC)
        .exclude(external_id="")
        .order_by("created_at", "pk")
        .values_list("external_id", "author_type")
    )
    known = [(mid, author) for mid, author in earlier if _MSGID.match(mid)]
    parent = next((mid for mid, author in reversed(known) if author == AuthorType.CONTACT), "")
    ids = list(dict.fromkeys(mid for mid, _ in known if mid != parent))
    if parent:
        ids.append(parent)
    if len(ids) > MAX_REFERENCES:
        ids = [ids[0], *ids[-(MAX_REFERENCES - 1) :]]
    return parent, ids


def _attachments(message: Message) -> list[tuple[str, bytes, str]]:
    files = []
    for att in Attachment.objects.filter(message=message).order_by("pk"):
        with att.file.open("rb") as fh:
            files.append((att.filename, fh.read(), att.content_type or "application/octet-stream"))
    return files


def _from_name(message: Message, account: ChannelAccount) -> str:
    configured = str(account.config.get("from_name", "")).strip()
    team = configured or account.workspace.name
    agent = message.author_agent.name if message.author_agent_id and message.author_agent else ""
    return f"{agent} ({team})" if agent and team else agent or team


def reply_mail(*, message: Message, account: ChannelAccount, recipient: str) -> OutgoingMail:
    """Gather the reply mail for an agent (or bot) message on a ticket."""
    ticket = message.ticket
    address = str(account.config.get("address", "")).strip()
    in_reply_to, references = _thread_ids(message)
    answering = (
        in_reply_to
        or Message.objects.filter(ticket_id=ticket.pk, author_type=AuthorType.CONTACT, pk__lt=message.pk).exists()
    )
    subject = subject_with_token(ticket.subject, ticket.number)
    if answering and not _REPLY_PREFIX.match(subject):
        subject = f"Re: {subject}"
    own = {address.lower(), recipient.lower()}
    cc = [
        (c.display_name if c.name else "", c.email)
        for c in ticket.cc_contacts.exclude(email="").order_by("pk")
        if c.email.lower() not in own
    ]
    # The agent's own Cc / Bcc of this reply (the composer's fields), each address once across To, Cc and Bcc.
    taken = own | {email.lower() for _, email in cc}
    for address in message.cc or []:
        if str(address).lower() not in taken:
            cc.append(("", str(address)))
            taken.add(str(address).lower())
    bcc = [str(a) for a in message.bcc or [] if str(a).lower() not in taken]
    requester = ticket.requester
    to_name = requester.display_name if requester.email.lower() == recipient.lower() and requester.name else ""
    html = sanitize_html(message.body_html) if message.body_html.strip() else text_to_html(message.body_text)
    text = message.body_text
    footer = footer_lines(message)
    if footer:
        text = f"{text}\n\n-- \n" + "\n".join(footer)
        html = f"{html}<hr>{text_to_html(chr(10).join(footer))}"
    return OutgoingMail(
        from_address=address,
        from_name=_from_name(message, account),
        to=[(to_name, recipient)],
        cc=cc,
        subject=subject,
        text=text,
        html=html,
        message_id=message_id_for(message, mailbox_domain(account)),
        in_reply_to=in_reply_to,
        references=references,
        attachments=_attachments(message),
        bcc=bcc,
        auto_submitted=message.author_type == AuthorType.BOT,
        ticket_number=ticket.number,
    )


def footer_lines(message: Message) -> list[str]:
    """The footer lines the registered providers give for a reply (a provider that fails adds nothing: the reply
    matters more than its footer)."""
    lines = []
    for provider in FOOTER_PROVIDERS:
        try:
            line = provider(message)
        except Exception:
            log.exception("mail footer provider %r failed for message %s", provider, message.pk)
            continue
        if line:
            lines.append(line)
    return lines


def _address_header(pairs: list[tuple[str, str]]) -> str:
    return ", ".join(formataddr((name, email)) if name else email for name, email in pairs)


def build_mime(mail: OutgoingMail) -> EmailMessage:
    """The MIME message: multipart/alternative text + HTML (mixed when there are attachments), all UTF-8."""
    msg = EmailMessage()
    msg["From"] = (
        Address(display_name=mail.from_name, addr_spec=mail.from_address) if mail.from_name else (mail.from_address)
    )
    msg["To"] = _address_header(mail.to)
    if mail.cc:
        msg["Cc"] = _address_header(mail.cc)
    msg["Reply-To"] = mail.from_address
    msg["Subject"] = mail.subject
    msg["Date"] = format_datetime(now())
    msg["Message-ID"] = mail.message_id
    if mail.in_reply_to:
        msg["In-Reply-To"] = mail.in_reply_to
    if mail.references:
        msg["References"] = " ".join(mail.references)
    if mail.auto_submitted:  # RFC 3834: only machine-written replies; a human reply must not look automatic
        msg["Auto-Submitted"] = "auto-replied"
    msg["X-PivotDesk-Ticket"] = str(mail.ticket_number)
    msg.set_content(mail.text or " ", subtype="plain", charset="utf-8", cte="8bit")
    page = f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>{mail.html}</body></html>'
    msg.add_alternative(page, subtype="html", charset="utf-8", cte="8bit")
    for filename, content, content_type in mail.attachments:
        maintype, _, subtype = content_type.partition("/")
        msg.add_attachment(content, maintype=maintype or "application", subtype=subtype or "octet-stream",
                           filename=filename)  # fmt: skip
    return msg


class _GuardedSMTP(smtplib.SMTP):
    """SMTP (and STARTTLS, which keeps the host name for the certificate) to the egress guard's checked address."""

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return egress.guarded_connection(host, port, timeout=timeout)


class _GuardedSMTPSSL(smtplib.SMTP_SSL):
    """SMTP over TLS to the checked address; SNI and the certificate check use the host name."""

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = egress.guarded_connection(host, port, timeout=timeout)
        return self.context.wrap_socket(sock, server_hostname=host)


def _connect(account: ChannelAccount) -> smtplib.SMTP:
    config = account.config
    host = str(config.get("smtp_host", ""))
    if not host:
        raise _send_error(f"The mailbox '{account.name}' has no SMTP host configured.", permanent=True)
    security = str(config.get("smtp_security", "")).lower() or (
        "ssl" if config.get("smtp_ssl") else "starttls" if config.get("smtp_starttls", True) else "none"
    )
    port = int(config.get("smtp_port") or {"ssl": 465, "starttls": 587}.get(security, 25))
    timeout = float(config.get("smtp_timeout", 30))
    token = _oauth_token(account) if config.get("auth_method") == "oauth2" else ""  # before connecting
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if security == "ssl":
        client = _GuardedSMTPSSL(host, port, timeout=timeout, context=context)
    else:
        client = _GuardedSMTP(host, port, timeout=timeout)
        if security == "starttls":
            client.starttls(context=context)
    user = str(config.get("smtp_username", config.get("username", "")) or "")
    secrets = account.secrets
    password = str(secrets.get("smtp_password", secrets.get("password", "")) or "")
    client.ehlo_or_helo_if_needed()
    if token:  # XOAUTH2 (Office 365, Gmail); on the server's error challenge answer empty, so it says 535
        initial = xoauth2_string(user or str(config.get("address", "")), token)
        client.auth("XOAUTH2", lambda challenge=None: initial if challenge is None else "", initial_response_ok=True)
    elif user and password and client.has_extn("auth"):  # a local relay without AUTH takes mail unauthenticated
        client.login(user, password)
    return client


def _oauth_token(account: ChannelAccount) -> str:
    """An OAuth2 access token for the mailbox (refreshed when expired); a refused refresh fails the send, for good
    unless the provider or the network was the trouble."""
    from pivotdesk.channels.services.mail_oauth import MailOAuthError, mail_oauth_access_token  # import late

    try:
        return mail_oauth_access_token(actor=Actor.system("channel"), account=account)
    except MailOAuthError as exc:
        raise _send_error(f"SMTP sign-in failed: {exc}", permanent=not exc.transient) from exc


def smtp_deliver(*, account: ChannelAccount, msg: EmailMessage, sender: str, recipients: list[str]) -> None:
    """Hand a message to the account's SMTP server. Transient trouble (no connection, timeout, 4xx) raises a
    retryable SendError; a 5xx answer raises a permanent one."""
    try:
        client = _connect(account)
    except egress.EgressRefused as exc:  # the host is not allowed: no retry will change that
        raise _send_error(f"SMTP connection failed: {exc}", permanent=True) from exc
    except egress.EgressUnreachable as exc:  # one terse message for closed, filtered and unknown
        raise _send_error(f"SMTP connection failed: {exc}", permanent=False) from exc
    except smtplib.SMTPResponseException as exc:
        raise _smtp_error(exc) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise _send_error(f"SMTP connection failed: {exc}", permanent=False) from exc
    try:
        refused = client.send_message(msg, from_addr=sender, to_addrs=recipients)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(f"{rcpt}: {code} {text.decode(errors='replace')}" for rcpt, (code, text) in
                           exc.recipients.items())  # fmt: skip
        raise _send_error(f"Recipients refused: {detail}", permanent=all(c >= 500 for c in codes)) from exc
    except smtplib.SMTPResponseException as exc:
        raise _smtp_error(exc) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise _send_error(f"SMTP failed: {exc}", permanent=False) from exc
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()
    primary = recipients[0].lower()
    if any(r.lower() == primary for r in refused):  # only CCs may be refused for the reply to count as sent
        raise _send_error(f"Recipient refused: {refused}", permanent=True)


def _smtp_error(exc: smtplib.SMTPResponseException) -> Exception:
    text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    return _send_error(f"SMTP {exc.smtp_code} {text}".strip(), permanent=exc.smtp_code >= 500)


@register_sender("email")
def send_email(outbound: OutboundMessage, account: ChannelAccount | None) -> str:
    """Send an agent's reply by email through the mailbox the ticket came in on; returns its Message-ID."""
    if account is None or not account.config.get("address"):
        raise _send_error("No mailbox with an address is configured to send email from.", permanent=True)
    message = Message.objects.select_related("ticket__requester", "author_agent__user", "workspace").get(
        pk=outbound.message_id
    )
    mail = reply_mail(message=message, account=account, recipient=outbound.recipient)
    msg = build_mime(mail)
    recipients = [email for _, email in mail.to + mail.cc] + mail.bcc  # Bcc: the envelope only
    smtp_deliver(account=account, msg=msg, sender=mail.from_address, recipients=recipients)
    return mail.message_id
