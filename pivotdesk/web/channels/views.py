"""Admin screens of the channels: accounts (mailboxes, messaging, form, chat) and failed inbound payloads; and
retrying a failed outbound reply from the conversation."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pivotdesk.accounts.permissions import Perm, require
from pivotdesk.channels import intake_selectors
from pivotdesk.channels import selectors as channel_selectors
from pivotdesk.channels.models import ChannelAccount, ChannelKind, InboundPayload
from pivotdesk.channels.services import accounts as account_services
from pivotdesk.channels.services.outbox import outbox_retry
from pivotdesk.channels.services.rejections import rejected_not_stored
from pivotdesk.channels.services.web_form import inbound_reprocess
from pivotdesk.common.delivery_errors import describe
from pivotdesk.common.errors import NotFound, ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.common.user_files import download_disposition, protect_user_content
from pivotdesk.tickets import selectors as ticket_selectors
from pivotdesk.web.base import Desk, agent_view
from pivotdesk.web.channels.forms import extra_config, fields_for, read_settings
from pivotdesk.web.channels.views_mailbox import mailbox_context

RAW_PREVIEW_BYTES = 200_000


def _admin(desk: Desk) -> None:
    """Whether the channel screens show at all: the permission the channel services check on save."""
    require(desk.agent, Perm.CHANNEL_CONFIGURE)


def public_urls(request: HttpRequest, account: ChannelAccount) -> dict[str, str]:
    """What to paste where: the webhook URL for the platform's console, the form link, the widget's script tag."""
    key = account.webhook_key
    urls = {"webhook": request.build_absolute_uri(reverse("channels:inbound", args=[account.kind, key]))}
    if account.kind == ChannelKind.WEB_FORM:
        urls = {"form": request.build_absolute_uri(reverse("channels:form", args=[key]))}
    elif account.kind == ChannelKind.CHAT:
        script = request.build_absolute_uri("/static/channels/widget.js")
        urls = {"embed": f'<script src="{script}" data-channel="{key}" async></script>'}
    return urls


@agent_view
def channel_list(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Every channel of the workspace with its status, last poll, last error and public URL."""
    _admin(desk)
    accounts = list(channel_selectors.account_list(workspace=desk.workspace))
    rows = [{"account": a, "urls": public_urls(request, a)} for a in accounts]
    failed = channel_selectors.failed_payloads(workspace=desk.workspace).count()
    return render(
        request,
        "web/channels/list.html",
        {"rows": rows, "failed_count": failed, "kinds": [(k.value, k.label) for k in ChannelKind]},
    )


def _form_context(request: HttpRequest, kind: str, account: ChannelAccount | None, **extra: Any) -> dict[str, Any]:
    config = account.config if account is not None else {}
    stored = account.secrets if account is not None else {}
    mailbox = mailbox_context(account, config) if kind == ChannelKind.EMAIL else {}
    labels = mailbox.get("option_labels", {})
    if kind == ChannelKind.EMAIL and "preset" not in config and mailbox.get("mail_preset_selected"):
        config = {**config, "preset": mailbox["mail_preset_selected"]}
    fields = [
        {
            "field": f,
            "value": config.get(f.key, ""),
            "is_set": bool(stored.get(f.key)),
            "options": [(o, _option_label(labels.get(f.key, {}), o)) for o in f.options],
        }
        for f in fields_for(kind)
    ]
    context = {
        "kind": kind,
        "kind_label": ChannelKind(kind).label,
        "account": account,
        "fields": fields,
        "config_json": json.dumps(extra_config(kind, config), ensure_ascii=False, indent=2),
        "other_secrets": sorted(k for k in stored if k not in {f.key for f in fields_for(kind)}),
        "urls": public_urls(request, account) if account is not None else {},
        "rejected_not_stored": (
            rejected_not_stored(account=account, since=now() - dt.timedelta(hours=1)) if account is not None else 0
        ),
        "kinds_all": [(k.value, k.label) for k in ChannelKind],
        **mailbox,
    }
    context.update(extra)
    return context


def _option_label(labels: dict[str, str], value: str) -> str:
    if value in labels:
        return labels[value]
    return _("none") if value == "none" else value


@agent_view
def channel_add(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Add a mailbox or a messaging channel (kind chosen first, then its fields)."""
    _admin(desk)
    kind = request.POST.get("kind") or request.GET.get("kind") or ChannelKind.EMAIL
    if kind not in ChannelKind.values:
        raise ValidationFailed(_("Unknown channel kind."))
    if request.method != "POST":
        return render(request, "web/channels/edit.html", _form_context(request, kind, None))
    try:
        config, secrets = read_settings(kind, request.POST, {})
        account = account_services.channel_account_create(
            actor=desk.actor,
            workspace=desk.workspace,
            kind=kind,
            name=request.POST.get("name", ""),
            config=config,
            secrets={k: v for k, v in (secrets or {}).items() if v is not None},
            active=bool(request.POST.get("active")),
        )
    except ValidationFailed as exc:
        context = _form_context(request, kind, None, error=exc.message, name=request.POST.get("name", ""))
        return render(request, "web/channels/edit.html", context, status=400)
    flash.success(request, _("Channel “%(name)s” added.") % {"name": account.name})
    return HttpResponseRedirect(reverse("web:channel_edit", args=[account.pk]))


@agent_view
def channel_edit(request: HttpRequest, desk: Desk, account_id: int) -> HttpResponse:
    """Change a channel's settings; stored secrets are never shown back, only whether they are set."""
    _admin(desk)
    account = channel_selectors.access_account(workspace=desk.workspace, account_id=account_id)
    if request.method != "POST":
        return render(request, "web/channels/edit.html", _form_context(request, account.kind, account))
    try:
        config, secrets = read_settings(account.kind, request.POST, account.config)
        account = account_services.channel_account_update(
            actor=desk.actor,
            account=account,
            name=request.POST.get("name", account.name),
            config=config,
            secrets=secrets,
            active=bool(request.POST.get("active")),
        )
    except ValidationFailed as exc:
        context = _form_context(request, account.kind, account, error=exc.message)
        return render(request, "web/channels/edit.html", context, status=400)
    flash.success(request, _("Channel “%(name)s” saved.") % {"name": account.name})
    return HttpResponseRedirect(reverse("web:channel_edit", args=[account.pk]))


@agent_view
def inbound_failed(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Inbound payloads that could not be processed, with their reason, newest first."""
    _admin(desk)
    rows = list(channel_selectors.failed_payloads(workspace=desk.workspace).select_related("account")[:200])
    return render(request, "web/channels/inbound.html", {"payloads": rows})


def _preview(payload: InboundPayload) -> tuple[str, bool]:
    raw = bytes(payload.raw)
    return raw[:RAW_PREVIEW_BYTES].decode("utf-8", errors="replace"), len(raw) > RAW_PREVIEW_BYTES


@agent_view
def inbound_payload(request: HttpRequest, desk: Desk, payload_id: int) -> HttpResponse:
    """One stored payload: its reason, meta and the raw body as text."""
    _admin(desk)
    payload = channel_selectors.access_payload(workspace=desk.workspace, payload_id=payload_id)
    text, truncated = _preview(payload)
    meta = json.dumps(payload.meta, ensure_ascii=False, indent=2)
    return render(
        request,
        "web/channels/payload.html",
        {"payload": payload, "raw_text": text, "truncated": truncated, "meta": meta, "size": len(bytes(payload.raw))},
    )


@agent_view
def inbound_payload_raw(request: HttpRequest, desk: Desk, payload_id: int) -> HttpResponse:
    """The raw bytes exactly as received, as a download (never rendered by the browser)."""
    _admin(desk)
    payload = channel_selectors.access_payload(workspace=desk.workspace, payload_id=payload_id)
    extension = {"email": "eml"}.get(payload.channel, "json" if "json" in payload.content_type else "bin")
    response = HttpResponse(bytes(payload.raw), content_type="application/octet-stream")
    response["Content-Disposition"] = download_disposition(f"payload-{payload.pk}.{extension}")
    return protect_user_content(response=response)


@require_POST
@agent_view
def inbound_reprocess_view(request: HttpRequest, desk: Desk, payload_id: int) -> HttpResponse:
    """Process a failed payload again (after a fix); the result is shown as a message."""
    _admin(desk)
    payload = channel_selectors.access_payload(workspace=desk.workspace, payload_id=payload_id)
    payload = inbound_reprocess(actor=desk.actor, payload=payload)
    if payload.status == "failed":
        flash.error(request, _("Still failing: %(reason)s") % {"reason": payload.reason})
        return HttpResponseRedirect(reverse("web:inbound_payload", args=[payload.pk]))
    flash.success(
        request,
        _("Payload #%(id)s processed: %(status)s.") % {"id": payload.pk, "status": payload.get_status_display()},
    )
    return HttpResponseRedirect(reverse("web:inbound_failed"))


@require_POST
@agent_view
def delivery_retry(request: HttpRequest, desk: Desk, number: int, message_id: int) -> HttpResponse:
    """Send a failed reply again now; the message shows its new delivery status."""
    ticket = ticket_selectors.access_ticket_by_number(workspace=desk.workspace, agent=desk.agent, number=number)
    outbound = intake_selectors.outbound_for_message(workspace=desk.workspace, message_id=message_id)
    if outbound.message.ticket_id != ticket.pk:
        raise NotFound("No outbound delivery for this message.")
    outbound = outbox_retry(actor=desk.actor, outbound=outbound)
    if getattr(request, "htmx", False):
        message = next(m for m in ticket_selectors.message_list(ticket=ticket) if m.pk == message_id)
        return render(request, "web/ticket/_message.html", {"m": message, "ticket": ticket})
    if outbound.status == "failed":
        flash.error(request, _("Still not delivered: %(reason)s") % {"reason": describe(outbound.last_error)})
    else:
        flash.success(request, _("Delivery retried: %(status)s.") % {"status": outbound.get_status_display()})
    return HttpResponseRedirect(reverse("web:ticket", args=[number]) + f"#m{message_id}")
