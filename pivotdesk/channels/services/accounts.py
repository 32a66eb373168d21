"""Configuring channel accounts (mailboxes, bots, forms); secrets are encrypted at rest."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.accounts.permissions import Perm, authorize, authorize_system
from pivotdesk.channels.errors import ChannelErrorCode
from pivotdesk.channels.models import ChannelAccount, ChannelKind
from pivotdesk.common import egress
from pivotdesk.common.errors import Conflict, ValidationFailed

# The mail servers a mailbox connects to, with their default ports (the egress guard checks them on save and again
# on every connection: pivotdesk/channels/mailboxes.py, adapters/email_send.py).
MAIL_SERVER_KEYS = (("imap_host", "imap_port", 993), ("smtp_host", "smtp_port", 587))


def check_mail_servers(config: dict[str, Any]) -> None:
    """Refuse a mailbox whose IMAP or SMTP host is loopback, private or otherwise internal (unless
    PIVOTDESK_EGRESS_ALLOW lists it). A name that does not resolve now is left to connection time."""
    for key, port_key, default_port in MAIL_SERVER_KEYS:
        host = str(config.get(key) or "").strip()
        if not host:
            continue
        try:
            port = int(config.get(port_key) or default_port)
        except (TypeError, ValueError):
            port = default_port
        try:
            egress.check_host(host, port)
        except egress.EgressRefused as exc:
            raise ValidationFailed(
                gettext(
                    "The mail server “%(host)s” is not allowed: it is not a public address. An on-premises server "
                    "must be listed in PIVOTDESK_EGRESS_ALLOW by the operator."
                )
                % {"host": host[:200]},
                code=ChannelErrorCode.HOST_NOT_ALLOWED,
                details={key: "not_allowed"},
            ) from exc
        except egress.EgressUnreachable:
            continue


def channel_account_create(
    *,
    workspace: Workspace,
    actor: Actor,
    kind: str,
    name: str,
    config: dict[str, Any] | None = None,
    secrets: dict[str, Any] | None = None,
    active: bool = True,
) -> ChannelAccount:
    """Add a channel to a workspace; the webhook key of its public URL is generated."""
    authorize(actor, Perm.CHANNEL_CONFIGURE, workspace_id=workspace.pk)
    if kind not in ChannelKind.values:
        raise ValidationFailed(
            gettext("Unknown channel kind “%(kind)s”.") % {"kind": kind},
            code=ChannelErrorCode.UNKNOWN_KIND,
            details={"kind": ChannelKind.values},
        )
    name = name.strip()
    if not name:
        raise ValidationFailed(gettext("A channel needs a name."), code=ChannelErrorCode.NAME_REQUIRED)
    if ChannelAccount.objects.filter(workspace=workspace, name=name).exists():
        raise Conflict(
            gettext("A channel named “%(name)s” already exists.") % {"name": name}, code=ChannelErrorCode.CHANNEL_EXISTS
        )
    if kind == ChannelKind.EMAIL:
        check_mail_servers(config or {})
    account = ChannelAccount(workspace=workspace, kind=kind, name=name, config=config or {}, active=active)
    account.set_secrets(secrets or {})
    account.save()
    return account


def channel_account_update(
    *,
    account: ChannelAccount,
    actor: Actor,
    name: str | None = None,
    config: dict[str, Any] | None = None,
    secrets: dict[str, Any] | None = None,
    active: bool | None = None,
) -> ChannelAccount:
    """Change a channel's settings; given secrets are merged into the stored ones (a None value removes one)."""
    authorize(actor, Perm.CHANNEL_CONFIGURE, workspace_id=account.workspace_id)
    if name is not None:
        if not name.strip():
            raise ValidationFailed(gettext("A channel needs a name."), code=ChannelErrorCode.NAME_REQUIRED)
        account.name = name.strip()
    if config is not None:
        if account.kind == ChannelKind.EMAIL:
            check_mail_servers(config)
        account.config = config
    if secrets is not None:
        merged = {**account.secrets, **secrets}
        account.set_secrets({k: v for k, v in merged.items() if v is not None})
    if active is not None:
        account.active = active
    account.save()
    return account


def channel_account_record_poll(*, actor: Actor, account: ChannelAccount, error: str = "") -> None:
    """Remember when a polled channel (IMAP) last ran and its last error (shown to admins). System only."""
    authorize_system(actor)
    from pivotdesk.common.time import now

    ChannelAccount.objects.filter(pk=account.pk).update(last_polled_at=now(), last_error=error[:2000])


def channel_account_merge_config(*, actor: Actor, account: ChannelAccount, values: dict[str, Any]) -> ChannelAccount:
    """Merge a few keys into a channel's config under a row lock (a mailbox's IMAP cursor: UIDVALIDITY, last UID),
    leaving the other settings as they are. System only (the mailbox poller)."""
    authorize_system(actor)
    from django.db import transaction

    with transaction.atomic():
        locked = ChannelAccount.objects.select_for_update().get(pk=account.pk)
        config = {**locked.config, **values}
        ChannelAccount.objects.filter(pk=account.pk).update(config=config)
    account.config = config
    return account
