"""Notifications in the agent workspace: the live bell, the list, preferences with apprise targets, and the
delivery log for supervisors. Every write goes through `pivotdesk.notifications.services`."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from pivotdesk.common.delivery_errors import describe
from pivotdesk.common.errors import DomainError, PermissionDenied, ValidationFailed
from pivotdesk.notifications import selectors, services
from pivotdesk.notifications.domain.channels import EXTERNAL_CHANNELS, channels_for
from pivotdesk.notifications.kinds import DEFAULT_CHANNELS, GROUPS, KNOWN_KINDS
from pivotdesk.notifications.models import DeliveryChannel, DeliveryStatus
from pivotdesk.web.base import Desk, agent_view, redirect_next

DROPDOWN_SIZE = 8
LIST_PAGE_SIZE = 30
LOG_PAGE_SIZE = 50


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


# --- the bell and the list --------------------------------------------------------------------------------------


@require_GET
@agent_view
def bell(request: HttpRequest, desk: Desk) -> HttpResponse:
    """The unread count in the top bar (polled by HTMX every 15 s)."""
    return render(request, "web/notifications/_bell.html", {"unread": selectors.unread_count(agent=desk.agent)})


@require_GET
@agent_view
def dropdown(request: HttpRequest, desk: Desk) -> HttpResponse:
    """The newest notifications under the bell."""
    items = list(selectors.my_notifications(agent=desk.agent)[:DROPDOWN_SIZE])
    return render(
        request,
        "web/notifications/_dropdown.html",
        {"items": items, "unread": selectors.unread_count(agent=desk.agent)},
    )


@require_GET
@agent_view
def notification_list(request: HttpRequest, desk: Desk) -> HttpResponse:
    unread_only = request.GET.get("filter") == "unread"
    qs = selectors.my_notifications(agent=desk.agent, unread_only=unread_only)
    page = Paginator(qs, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "unread_only": unread_only,
        "unread": selectors.unread_count(agent=desk.agent),
        "can_manage": services.can_manage(desk.agent),
    }
    return render(request, "web/notifications/list.html", context)


def _local_url(request: HttpRequest, url: str) -> str | None:
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return url
    return None


def _with_param(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    return urlunsplit(parts._replace(query=urlencode([*query, (name, value)])))


@require_GET
@agent_view
def open_notification(request: HttpRequest, desk: Desk, notification_id: int) -> HttpResponse:
    """Go where the notification points (its URL, else its ticket, else the list). A GET changes nothing: a mail
    with `<img src="/notifications/5/open/">` must not mark anything read. The link carries `from_notification`
    and the page it lands on marks the notification read by POST (desk.js), as GitHub and Zendesk do."""
    n = selectors.access_notification(agent=desk.agent, notification_id=notification_id)
    target = _local_url(request, n.url)
    if target is None and n.ticket is not None:
        target = reverse("web:ticket", args=[n.ticket.number])
    if target is None:
        return HttpResponseRedirect(reverse("web:notifications"))
    return HttpResponseRedirect(_with_param(target, "from_notification", str(n.pk)))


@require_POST
@agent_view
def mark_read(request: HttpRequest, desk: Desk, notification_id: int) -> HttpResponse:
    services.notification_mark_read(actor=desk.actor, agent=desk.agent, notification_id=notification_id)
    if _is_htmx(request):
        return _refreshed_dropdown(request, desk)
    return redirect_next(request, reverse("web:notifications"))


@require_POST
@agent_view
def read_all(request: HttpRequest, desk: Desk) -> HttpResponse:
    count = services.notifications_mark_all_read(actor=desk.actor, agent=desk.agent)
    if _is_htmx(request):
        return _refreshed_dropdown(request, desk)
    messages.success(request, _("%(n)d notifications marked read.") % {"n": count})
    return redirect_next(request, reverse("web:notifications"))


def _refreshed_dropdown(request: HttpRequest, desk: Desk) -> HttpResponse:
    items = list(selectors.my_notifications(agent=desk.agent)[:DROPDOWN_SIZE])
    unread = selectors.unread_count(agent=desk.agent)
    return render(request, "web/notifications/_dropdown.html", {"items": items, "unread": unread, "oob_bell": True})


# --- preferences and targets ------------------------------------------------------------------------------------


def _rows(channels: dict[str, list[str]], posted: Any = None) -> list[dict[str, Any]]:
    """One row per known kind and group with the channels ticked: as posted (re-shown after an error), else the
    ones in effect (the agent's choice, else the default)."""
    rows = []
    for key, label in [*KNOWN_KINDS.items(), *GROUPS.items()]:
        if posted is not None:
            on = {c for c in EXTERNAL_CHANNELS if posted.get(f"ch:{key}:{c}")}
        elif key.endswith("*"):
            on = set(channels.get(key, DEFAULT_CHANNELS.get(key, [])))
        else:
            on = set(channels_for(key, channels, DEFAULT_CHANNELS))
        rows.append({"key": key, "label": label, "group": key.endswith("*"), "on": on})
    return rows


def _parse_time(value: str, field: str) -> dt.time | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.time.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            _("%(field)s: “%(value)s” is not a time; use HH:MM, e.g. 22:00.") % {"field": field, "value": value[:20]},
            code="bad_time",
        ) from None


def _preferences_context(desk: Desk, *, posted: Any = None, **extra: Any) -> dict[str, Any]:
    pref = services.preference_for(desk.agent)
    if posted is not None:
        form = {
            "quiet_hours_enabled": bool(posted.get("quiet_hours_enabled")),
            "quiet_start": posted.get("quiet_start", ""),
            "quiet_end": posted.get("quiet_end", ""),
            "urgent_overrides_quiet": bool(posted.get("urgent_overrides_quiet")),
        }
    else:
        form = {
            "quiet_hours_enabled": pref.quiet_hours_enabled,
            "quiet_start": pref.quiet_start.strftime("%H:%M") if pref.quiet_start else "",
            "quiet_end": pref.quiet_end.strftime("%H:%M") if pref.quiet_end else "",
            "urgent_overrides_quiet": pref.urgent_overrides_quiet,
        }
    context: dict[str, Any] = {
        "form": form,
        "rows": _rows(pref.channels or {}, posted),
        "channels": [(c, DeliveryChannel(c).label) for c in EXTERNAL_CHANNELS],
        "targets": list(selectors.my_targets(agent=desk.agent)),
        "time_zone": desk.agent.time_zone,
        "email": desk.agent.user.email,
        "can_manage": services.can_manage(desk.agent),
    }
    context.update(extra)
    return context


@agent_view
def preferences(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Per-kind channels and quiet hours; the agent's apprise targets are listed and managed below."""
    if request.method != "POST":
        return render(request, "web/notifications/preferences.html", _preferences_context(desk))
    posted = request.POST
    keys = [*KNOWN_KINDS.keys(), *GROUPS.keys()]
    channels = {key: [c for c in EXTERNAL_CHANNELS if posted.get(f"ch:{key}:{c}")] for key in keys}
    try:
        services.preference_save(
            actor=desk.actor,
            agent=desk.agent,
            channels=channels,
            quiet_hours_enabled=bool(posted.get("quiet_hours_enabled")),
            quiet_start=_parse_time(posted.get("quiet_start", ""), _("Quiet hours start")),
            quiet_end=_parse_time(posted.get("quiet_end", ""), _("Quiet hours end")),
            urgent_overrides_quiet=bool(posted.get("urgent_overrides_quiet")),
        )
    except DomainError as exc:
        context = _preferences_context(desk, error=exc.message, posted=posted)
        return render(request, "web/notifications/preferences.html", context, status=exc.status_code)
    messages.success(request, _("Notification preferences saved."))
    return HttpResponseRedirect(reverse("web:notification_preferences"))


@require_POST
@agent_view
def target_add(request: HttpRequest, desk: Desk) -> HttpResponse:
    shared = request.POST.get("shared") == "1"
    kinds = [k.strip() for k in request.POST.get("kinds", "").replace("，", ",").split(",") if k.strip()]
    try:
        target = services.target_create(
            actor=desk.actor,
            agent=desk.agent,
            label=request.POST.get("label", ""),
            url=request.POST.get("url", ""),
            kinds=kinds,
            shared=shared,
        )
    except DomainError as exc:
        if shared:
            raise
        context = _preferences_context(desk, target_error=exc.message, target_posted=request.POST)
        return render(request, "web/notifications/preferences.html", context, status=exc.status_code)
    messages.success(request, _("Target “%(label)s” added. Send a test to check it.") % {"label": target.label})
    fallback = reverse("web:notification_deliveries" if shared else "web:notification_preferences")
    return redirect_next(request, fallback)


def _target(desk: Desk, request: HttpRequest, target_id: int) -> Any:
    shared = request.POST.get("shared") == "1"
    return selectors.access_target(agent=desk.agent, target_id=target_id, shared=shared)


@require_POST
@agent_view
def target_test(request: HttpRequest, desk: Desk, target_id: int) -> HttpResponse:
    """Send a test message now and show what happened (the reason apprise gave when it failed)."""
    target = _target(desk, request, target_id)
    ok, stored = services.target_test(actor=desk.actor, target=target, agent=desk.agent)
    reason = describe(stored)  # in the reader's language, apprise's own words kept as the detail
    if _is_htmx(request):
        return render(request, "web/notifications/_test_result.html", {"ok": ok, "reason": reason, "target": target})
    if ok:
        messages.success(request, _("Test sent to “%(label)s”.") % {"label": target.label})
    else:
        messages.error(request, _("Test to “%(label)s” failed: %(reason)s") % {"label": target.label, "reason": reason})
    return redirect_next(request, reverse("web:notification_preferences"))


@require_POST
@agent_view
def target_toggle(request: HttpRequest, desk: Desk, target_id: int) -> HttpResponse:
    target = _target(desk, request, target_id)
    services.target_set_active(actor=desk.actor, target=target, agent=desk.agent, active=not target.active)
    return redirect_next(request, reverse("web:notification_preferences"))


@require_POST
@agent_view
def target_delete(request: HttpRequest, desk: Desk, target_id: int) -> HttpResponse:
    target = _target(desk, request, target_id)
    services.target_delete(actor=desk.actor, target=target, agent=desk.agent)
    messages.success(request, _("Target removed."))
    return redirect_next(request, reverse("web:notification_preferences"))


# --- delivery log (supervisors, admins) -------------------------------------------------------------------------


@require_GET
@agent_view
def delivery_log(request: HttpRequest, desk: Desk) -> HttpResponse:
    if not services.can_manage(desk.agent):
        raise PermissionDenied(_("Only supervisors and admins see the delivery log."), code="permission_denied")
    status = request.GET.get("status", "")
    channel = request.GET.get("channel", "")
    if channel not in DeliveryChannel.values:
        channel = ""
    qs = selectors.delivery_log(workspace=desk.workspace, status=status, channel=channel)
    page = Paginator(qs, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status if status in DeliveryStatus.values else "",
        "channel": channel,
        "statuses": DeliveryStatus.choices,
        "channels": DeliveryChannel.choices,
        "shared_targets": list(selectors.workspace_targets(workspace=desk.workspace)),
        "max_attempts": services.max_attempts(),
    }
    return render(request, "web/notifications/deliveries.html", context)


@require_POST
@agent_view
def delivery_retry(request: HttpRequest, desk: Desk, delivery_id: int) -> HttpResponse:
    delivery = selectors.access_delivery(workspace=desk.workspace, delivery_id=delivery_id)
    delivery = services.delivery_retry(delivery=delivery, actor=desk.actor)
    if delivery.status == DeliveryStatus.SENT:
        messages.success(request, _("Delivery sent."))
    else:
        messages.info(request, _("Delivery queued again."))
    return redirect_next(request, reverse("web:notification_deliveries"))
