"""Customer notices: rows of the one outbox (`common.outbox`), sent through the customer's channel.

- `notice_enqueue` writes one row per `dedupe_key` (a redelivered event queues nothing twice) and queues its send
  after commit.
- `notice_send` claims the row (one worker wins), renders it in the customer's language (`portal.render`) and sends
  it through the channels adapters: e-mail by `email_send.smtp_deliver` through the workspace's mailbox (the one
  the request came in on, as the channels outbox picks it), SMS by the SMS adapter's sender; an account in demo
  delivery writes to the local sink; without any mailbox, e-mail goes through Django's mailer (`EMAIL_URL`,
  else files in `var/mail/`). A failure is retried with the shared back-off, then kept failed with its reason
  (`common.delivery_errors`), shown on the portal settings page with a retry button.
- Sign-in secrets are scrubbed from the row once sent.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from types import SimpleNamespace
from typing import Any, cast

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.accounts.permissions import Perm, authorize, authorize_system
from pivotdesk.channels import adapters
from pivotdesk.channels.adapters.email_send import smtp_deliver
from pivotdesk.channels.demo_delivery import is_demo_delivery, sink_dir
from pivotdesk.channels.models import ChannelAccount
from pivotdesk.channels.services.outbox import SendError, send_error_of
from pivotdesk.common import outbox
from pivotdesk.common.delivery_errors import DeliveryErrorCode, encode
from pivotdesk.common.outbox import OutboxStatus
from pivotdesk.common.time import now
from pivotdesk.customers.models import Contact
from pivotdesk.portal import selectors
from pivotdesk.portal.models import CustomerNotice, NoticeKind
from pivotdesk.portal.render import RenderedNotice, render_notice
from pivotdesk.tickets.models import Ticket

log = logging.getLogger(__name__)

SECRET_KEYS = ("code", "url")  # scrubbed from sign-in notices once sent
_SENDER = Actor.system("portal")


def _max_attempts() -> int:
    return max(1, int(getattr(settings, "PIVOTDESK_PORTAL_NOTICE_MAX_ATTEMPTS", 6)))


def _lease_seconds() -> float:
    return float(getattr(settings, "PIVOTDESK_OUTBOX_LEASE_SECONDS", 300.0))


def notice_enqueue(
    *,
    actor: Actor,
    workspace: Workspace,
    contact: Contact,
    kind: str,
    data: dict[str, Any],
    dedupe_key: str,
    language: str = "",
    ticket: Ticket | None = None,
    channel: str = "",
    recipient: str = "",
) -> CustomerNotice | None:
    """Queue one notice to a customer (idempotent by `dedupe_key`): through `channel`/`recipient` when given, else
    the customer's own channel. None when the key was already used. A customer with no address for any channel
    gets a failed row with the reason (never silence). System only."""
    authorize_system(actor)
    existing = CustomerNotice.objects.filter(workspace=workspace, dedupe_key=dedupe_key[:200]).first()
    if existing is not None:
        return None
    if not channel:
        preference = selectors.preference_for(contact=contact)
        channel, recipient = selectors.notice_route(contact=contact, channel=preference.channel)
    account = selectors.notice_account(workspace_id=workspace.pk, kind=channel, ticket=ticket) if channel else None
    row = CustomerNotice(
        workspace=workspace,
        contact=contact,
        ticket=ticket,
        kind=kind,
        channel=channel or "none",
        recipient=recipient[:255],
        account=account,
        language=language or selectors.contact_language(contact, workspace),
        data=data,
        dedupe_key=dedupe_key[:200],
    )
    if not channel:
        row.status = OutboxStatus.FAILED
        row.failed_at = now()
        row.next_attempt_at = None
        row.last_error = encode(DeliveryErrorCode.NO_IDENTITY, channel="email")
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:  # a concurrent twin of the same event won
        return None
    if row.status == OutboxStatus.QUEUED:
        from pivotdesk.portal.tasks import notice_send_task

        transaction.on_commit(lambda: notice_send_task.delay(row.pk))
    return row


def notice_send(*, actor: Actor, notice: CustomerNotice) -> CustomerNotice:
    """Try to send one notice if it is due (or its last send's lease ran out); returns the row as it stands after.
    One claim wins, so two workers never send it twice. System only."""
    authorize_system(actor)
    claimed = outbox.claim(
        CustomerNotice.objects.select_related("workspace", "account", "contact"),
        pk=notice.pk,
        lease_seconds=_lease_seconds(),
    )
    if claimed is None:
        notice.refresh_from_db()
        return notice
    notice = claimed
    if outbox.exhausted(notice, max_attempts=_max_attempts()):
        outbox.mark_failed(
            notice, reason=encode(DeliveryErrorCode.WORKER_STOPPED), max_attempts=_max_attempts(), permanent=True
        )
        return notice
    try:
        provider_id = _send(notice, render_notice(notice))
    except Exception as exc:  # every failure is a visible status with its reason
        permanent = isinstance(exc, SendError) and exc.permanent
        retry_after = exc.retry_after if isinstance(exc, SendError) else None
        reason = send_error_of(exc, channel=notice.channel)
        final = permanent or notice.attempts >= _max_attempts()
        outbox.mark_failed(
            notice,
            reason=reason,
            max_attempts=_max_attempts(),
            permanent=permanent,
            retry_after=retry_after,
            fields=_scrubbed(notice) if final else None,
        )
        log.warning("customer notice %s failed: %s", notice.pk, reason)
        return notice
    outbox.mark_sent(notice, fields={"provider_id": (provider_id or "")[:255], **_scrubbed(notice)})
    return notice


def _scrubbed(notice: CustomerNotice) -> dict[str, Any]:
    """A sign-in notice that reached its end keeps no usable secret (the link or code is dead weight after)."""
    if notice.kind not in (NoticeKind.SIGN_IN_LINK, NoticeKind.SIGN_IN_CODE):
        return {}
    return {"data": {k: v for k, v in notice.data.items() if k not in SECRET_KEYS}}


def _send(notice: CustomerNotice, rendered: RenderedNotice) -> str:
    account = notice.account
    if is_demo_delivery(account):
        return _demo(notice, rendered)
    if notice.channel == "email":
        return _send_email(notice, rendered, account)
    if notice.channel == "sms":
        sender = adapters.sender_for("sms")
        if account is None or sender is None:
            raise SendError(
                "No SMS channel to send through.",
                permanent=True,
                code=DeliveryErrorCode.NO_ACCOUNT,
                params={"channel": "sms"},
            )
        # the SMS adapter reads the text from `outbound.message.body_text` and the number from `recipient`
        outbound = SimpleNamespace(
            message=SimpleNamespace(body_text=rendered.text), recipient=notice.recipient, message_id=None
        )
        return sender(cast(Any, outbound), account)
    raise SendError(
        f"No sender for channel '{notice.channel}'.",
        permanent=True,
        code=DeliveryErrorCode.NO_SENDER,
        params={"channel": notice.channel},
    )


def _send_email(notice: CustomerNotice, rendered: RenderedNotice, account: ChannelAccount | None) -> str:
    html = f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>{rendered.html}</body></html>'
    address = str((account.config if account else {}).get("address", "")).strip()
    if account is None or not address or not account.config.get("smtp_host"):
        # no mailbox that sends: the installation's own mailer (EMAIL_URL, else files in var/mail/ in development)
        mail = EmailMultiAlternatives(
            subject=rendered.subject, body=rendered.text, to=[notice.recipient], headers=_auto_headers()
        )
        mail.attach_alternative(html, "text/html")
        mail.send()
        return str(mail.extra_headers.get("Message-ID", ""))
    domain = address.rpartition("@")[2] or "pivotdesk.localhost"
    msg = EmailMessage()
    from_name = str(account.config.get("from_name", "")).strip() or notice.workspace.name
    from email.headerregistry import Address

    msg["From"] = Address(display_name=from_name, addr_spec=address)
    msg["To"] = notice.recipient
    msg["Subject"] = rendered.subject
    msg["Date"] = format_datetime(now())
    message_id = make_msgid(idstring=f"pd-notice-{notice.pk}", domain=domain)
    msg["Message-ID"] = message_id
    for name, value in _auto_headers().items():
        msg[name] = value
    msg.set_content(rendered.text or " ", subtype="plain", charset="utf-8", cte="8bit")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="8bit")
    smtp_deliver(account=account, msg=msg, sender=address, recipients=[notice.recipient])
    return message_id


def _auto_headers() -> dict[str, str]:
    # RFC 3834: machine-written; clients and auto-responders must not answer it automatically
    return {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}


def _demo(notice: CustomerNotice, rendered: RenderedNotice) -> str:
    """An account in demo delivery: the notice is written to the local sink, nothing leaves the machine."""
    import json

    folder = sink_dir() / "portal"
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "channel": notice.channel,
        "recipient": notice.recipient,
        "subject": rendered.subject,
        "body": rendered.text,
        "written_at": now().isoformat(),
    }
    (folder / f"{notice.pk}.json").write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    return f"demo:portal/{notice.pk}"


def notice_retry(*, actor: Actor, notice: CustomerNotice) -> CustomerNotice:
    """Send a failed notice again now, with a fresh attempt budget (the settings page's "Retry")."""
    authorize(actor, Perm.NOTIFICATION_MANAGE, workspace_id=notice.workspace_id)
    if not outbox.retry_now(CustomerNotice.objects.filter(workspace_id=notice.workspace_id), pks=[notice.pk]):
        return notice
    return notice_send(actor=_SENDER, notice=notice)


def notices_due(*, batch_size: int = 200, max_batches: int = 10) -> list[int]:
    """Ids of notices whose next attempt is due, or whose send's lease ran out (the outbox's keyset scan)."""
    return list(outbox.scan_due(CustomerNotice, batch_size=batch_size, max_batches=max_batches))
