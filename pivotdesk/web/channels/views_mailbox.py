"""The mailbox form's own parts (issue 18): presets and their notes, the connection test, OAuth2 sign-in with
Microsoft or Google (start, the provider's callback, disconnect) and the mailbox's last tests."""

from __future__ import annotations

import re
import time
from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from pivotdesk.accounts.permissions import Perm, require
from pivotdesk.channels import mail_texts
from pivotdesk.channels import selectors as channel_selectors
from pivotdesk.channels.domain import mail_presets
from pivotdesk.channels.models import ChannelAccount, ChannelKind, OAuthStatus
from pivotdesk.channels.services.mail_oauth import (
    mail_oauth_complete,
    mail_oauth_disconnect,
    mail_oauth_start,
    provider_of,
)
from pivotdesk.channels.services.mail_probe import mailbox_probe
from pivotdesk.common.errors import NotFound, ValidationFailed
from pivotdesk.web.base import Desk, agent_view
from pivotdesk.web.channels.forms import read_settings

SESSION_FLOWS = "mail_oauth_flows"
FLOW_SECONDS = 15 * 60  # a sign-in at the provider must come back within this
MAX_FLOWS = 5


# Names that stay as they are in any language (protocols, settings, menu paths): shown as code, `translate="no"`.
_NAMES = re.compile(r"\b(?:[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[a-z]+(?:_[a-z0-9]+)+|X?OAUTH2|OAuth2?|POP3(?:/SMTP/IMAP)?)\b")


def names_marked(text: str) -> SafeString:
    """The text, escaped, with setting names and protocol names marked as code (not to be translated)."""
    escaped = str(escape(text))
    return mark_safe(_NAMES.sub(lambda m: f'<code translate="no">{m.group()}</code>', escaped))


def steps_for_display(steps: list[dict[str, Any]], preset: str) -> list[dict[str, Any]]:
    """Stored (or fresh) steps as the page shows them: the step's name, ✓/✗, the reason in the reader's language,
    and the server's own words apart (marked as not ours)."""
    rows = []
    for step in steps:
        key = f"{step.get('service', '')}.{step.get('step', '')}"
        code = str(step.get("code", ""))
        params = step.get("params") or {}
        rows.append(
            {
                "label": str(mail_texts.STEP_LABELS.get(key, key)),
                "ok": bool(step.get("ok")),
                "skipped": code == "skipped",
                "code": code,
                "text": names_marked(mail_texts.step_text(step, preset)),
                "server": str(params.get("server", ""))[:200] if isinstance(params, dict) else "",
            }
        )
    return rows


def mailbox_context(account: ChannelAccount | None, config: dict[str, Any]) -> dict[str, Any]:
    """What the mailbox form adds to the channel form: presets (for mailbox.js), notes, the OAuth2 state, the last
    connection tests."""
    presets = [
        {
            "key": p.key,
            "label": mail_texts.preset_label(p),
            "config": p.server_config(),
            "domains": list(p.domains),
            "oauth": p.oauth_provider,
            "notes": [names_marked(str(mail_texts.PRESET_NOTES[n])) for n in p.notes if n in mail_texts.PRESET_NOTES],
        }
        for p in mail_presets.PRESETS
    ]
    selected = str(config.get("preset") or "")
    if not selected:
        matched = mail_presets.preset_matching(config) or mail_presets.guess_preset(str(config.get("address") or ""))
        selected = matched.key if matched else ""
    context: dict[str, Any] = {
        "mail_presets": presets,
        "mail_presets_data": {p["key"]: {k: p[k] for k in ("config", "domains", "oauth")} for p in presets},
        "mail_preset_selected": selected,
        "option_labels": {
            "preset": {p["key"]: p["label"] for p in presets},
            "auth_method": {k: str(v) for k, v in mail_texts.AUTH_METHOD_LABELS.items()},
        },
    }
    if account is not None:
        grant = channel_selectors.oauth_grant(account=account)
        provider = (grant.provider if grant else "") or provider_of(account)
        checks = channel_selectors.recent_checks(account=account)
        context.update(
            {
                "oauth_grant": grant,
                "oauth_provider": provider,
                "oauth_button": str(mail_texts.OAUTH_PROVIDER_LABELS.get(provider, "")),
                "oauth_error_text": mail_texts.oauth_error_text(grant.error_code) if grant and grant.error_code else "",
                "mail_checks": [{"check": c, "rows": steps_for_display(list(c.steps or []), c.preset)} for c in checks],
            }
        )
    return context


def _probe(request: HttpRequest, desk: Desk, account: ChannelAccount | None) -> HttpResponse:
    require(desk.agent, Perm.CHANNEL_CONFIGURE)
    try:
        config, typed = read_settings(ChannelKind.EMAIL, request.POST, account.config if account else {})
        report = mailbox_probe(
            actor=desk.actor,
            workspace=desk.workspace,
            config=config,
            secrets={k: v for k, v in (typed or {}).items() if v},
            account=account,
        )
    except ValidationFailed as exc:
        context = {"error": exc.message, "full_page": not getattr(request, "htmx", False), "account": account}
        return render(request, "web/channels/_probe_result.html", context, status=exc.status_code)
    context = {
        "rows": steps_for_display([asdict(s) for s in report.steps], report.preset),
        "ok": report.ok,
        "check": report.check,
        "full_page": not getattr(request, "htmx", False),
        "account": account,
    }
    return render(request, "web/channels/_probe_result.html", context)


@require_POST
@agent_view
def mailbox_probe_new(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Test the settings of a mailbox not saved yet (nothing is saved; the test itself is recorded)."""
    return _probe(request, desk, None)


@require_POST
@agent_view
def mailbox_probe_saved(request: HttpRequest, desk: Desk, account_id: int) -> HttpResponse:
    """Test a mailbox's settings as they stand in the form (empty passwords: the stored ones)."""
    require(desk.agent, Perm.CHANNEL_CONFIGURE)
    account = _mailbox(desk, account_id)
    return _probe(request, desk, account)


def _mailbox(desk: Desk, account_id: int) -> ChannelAccount:
    account = channel_selectors.access_account(workspace=desk.workspace, account_id=account_id)
    if account.kind != ChannelKind.EMAIL:
        raise NotFound(_("Channel not found."), code="channel_not_found")
    return account


def redirect_uri(request: HttpRequest) -> str:
    """Where the provider sends the admin back: configured (behind a proxy), else this site's callback URL."""
    configured = str(getattr(settings, "PIVOTDESK_OAUTH_REDIRECT_URI", "") or "")
    return configured or request.build_absolute_uri(reverse("web:mailbox_oauth_callback"))


@require_POST
@agent_view
def mailbox_oauth_start(request: HttpRequest, desk: Desk, account_id: int) -> HttpResponse:
    """Send the admin to Microsoft's or Google's sign-in page (authorization code with PKCE)."""
    require(desk.agent, Perm.CHANNEL_CONFIGURE)
    account = _mailbox(desk, account_id)
    url, flow = mail_oauth_start(actor=desk.actor, account=account, redirect_uri=redirect_uri(request))
    flows = {
        k: v
        for k, v in dict(request.session.get(SESSION_FLOWS, {})).items()
        if time.time() - float(v.get("started", 0)) < FLOW_SECONDS
    }
    flows[flow["state"]] = flow
    request.session[SESSION_FLOWS] = dict(sorted(flows.items(), key=lambda kv: kv[1]["started"])[-MAX_FLOWS:])
    return HttpResponseRedirect(url)


@require_GET
@agent_view
def mailbox_oauth_callback(request: HttpRequest, desk: Desk) -> HttpResponse:
    """The provider's redirect back: the state must be one this session started (single use, 15 minutes); the code
    is exchanged at the token endpoint and the refresh token kept; a refusal is shown and kept on the mailbox."""
    require(desk.agent, Perm.CHANNEL_CONFIGURE)
    state = str(request.GET.get("state", ""))[:200]
    flows = dict(request.session.get(SESSION_FLOWS, {}))
    flow = flows.pop(state, None) if state else None
    request.session[SESSION_FLOWS] = flows
    if not isinstance(flow, dict) or time.time() - float(flow.get("started", 0)) > FLOW_SECONDS:
        # A stale or foreign answer (a reload, another browser, a forged link): back to the channels, saying why.
        flash.error(
            request,
            _("Signing in with the provider failed: %(reason)s.")
            % {"reason": mail_texts.oauth_error_text("state_mismatch")},
        )
        return HttpResponseRedirect(reverse("web:channels"))
    account = _mailbox(desk, int(flow["account_id"]))
    edit = reverse("web:channel_edit", args=[account.pk])
    grant = mail_oauth_complete(
        actor=desk.actor,
        account=account,
        code=str(request.GET.get("code", "")),
        code_verifier=str(flow["verifier"]),
        redirect_uri=str(flow["redirect_uri"]),
        error=str(request.GET.get("error", ""))[:64],
    )
    if grant.status != OAuthStatus.CONNECTED:
        reason = mail_texts.oauth_error_text(grant.error_code)
        flash.error(request, _("Signing in with the provider failed: %(reason)s.") % {"reason": reason})
        return HttpResponseRedirect(edit)
    flash.success(request, _("Signed in: the mailbox now uses OAuth2 for IMAP and SMTP."))
    return HttpResponseRedirect(edit)


@require_POST
@agent_view
def mailbox_oauth_disconnect(request: HttpRequest, desk: Desk, account_id: int) -> HttpResponse:
    """Forget the mailbox's OAuth2 tokens."""
    require(desk.agent, Perm.CHANNEL_CONFIGURE)
    account = _mailbox(desk, account_id)
    mail_oauth_disconnect(actor=desk.actor, account=account)
    flash.success(request, _("The OAuth2 sign-in was removed from this mailbox."))
    return HttpResponseRedirect(reverse("web:channel_edit", args=[account.pk]))
