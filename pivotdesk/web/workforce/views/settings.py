"""Workforce settings (supervisors): queues, contracts, shift templates and each agent's rostering profile. Every
form posts to the config services; a refused value is shown on its own form, which stays open."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pivotdesk.accounts.models import AgentProfile, Skill, Team
from pivotdesk.common.errors import DomainError, NotFound
from pivotdesk.tickets.models import Category
from pivotdesk.web.base import Desk, agent_view, int_or_none
from pivotdesk.web.workforce.views.common import done, ids, manage, number
from pivotdesk.web.workforce.views.people import availability_context, parse_preferences, parse_unavailable
from pivotdesk.workforce.errors import WorkforceErrorCode
from pivotdesk.workforce.models import (
    INTERVALS,
    Contract,
    QueueKind,
    ShiftKind,
    ShiftTemplate,
    WorkforceProfile,
    WorkQueue,
)
from pivotdesk.workforce.services import config

URL = "web:workforce_settings"


def channel_labels() -> list[tuple[str, str]]:
    labels = {
        "email": _("Email"),
        "web": _("Web form"),
        "chat": _("Chat"),
        "messaging": _("Messaging"),
        "sms": _("SMS"),
        "voice": _("Voice"),
        "video": _("Video"),
        "api": "API",
    }
    return [(c, labels.get(c, c)) for c in config.CHANNEL_TYPES]


def _field(name: str, label: str, value: Any, kind: str = "number", **extra: Any) -> dict[str, Any]:
    return {"name": name, "label": label, "value": "" if value is None else value, "type": kind, **extra}


def queue_fields(q: WorkQueue, desk: Desk) -> list[dict[str, Any]]:
    ws = desk.workspace
    chosen = set(q.categories.values_list("pk", flat=True)) if q.pk else set()
    return [
        _field("name", _("Name"), q.name, "text", required=True),
        _field("kind", _("Kind"), q.kind, "select", choices=QueueKind.choices),
        _field("channel_types", _("Channel types"), q.channel_types, "checks", choices=channel_labels()),
        _field(
            "team",
            _("Team"),
            str(q.team_id or ""),
            "select",
            choices=[("", _("(any team)")), *((str(t.pk), t.name) for t in Team.objects.filter(workspace=ws))],
            user=True,
        ),
        _field(
            "categories",
            _("Categories"),
            [str(c) for c in chosen],
            "multi",
            choices=[(str(c.pk), c.name) for c in Category.objects.filter(workspace=ws).order_by("name")],
            user=True,
        ),
        _field(
            "skill",
            _("Skill"),
            str(q.skill_id or ""),
            "select",
            choices=[("", _("(any skill)")), *((str(s.pk), s.name) for s in Skill.objects.filter(workspace=ws))],
            user=True,
        ),
        _field(
            "interval_minutes",
            _("Interval (minutes)"),
            str(q.interval_minutes),
            "select",
            choices=[(str(i), str(i)) for i in INTERVALS],
        ),
        _field("target_percent", _("Service level target (%)"), q.target_percent, step="any"),
        _field("target_seconds", _("…answered within (seconds)"), q.target_seconds),
        _field("asa_seconds", _("Average speed of answer target (seconds, optional)"), q.asa_seconds),
        _field("patience_seconds", _("Customer patience (seconds, optional)"), q.patience_seconds),
        _field("reply_target_minutes", _("Reply target (minutes, optional)"), q.reply_target_minutes),
        _field("shrinkage", _("Shrinkage (0–0.9)"), q.shrinkage, step="0.01"),
        _field("max_occupancy", _("Maximum occupancy (0.1–1)"), q.max_occupancy, step="0.01"),
        _field("default_aht_seconds", _("Default handling time (seconds)"), q.default_aht_seconds),
        _field("is_active", _("Active"), q.is_active, "check"),
    ]


def contract_fields(c: Contract) -> list[dict[str, Any]]:
    return [
        _field("name", _("Name"), c.name, "text", required=True),
        _field("min_hours_week", _("Minimum hours per week"), c.min_hours_week, step="any"),
        _field("max_hours_week", _("Maximum hours per week"), c.max_hours_week, step="any"),
        _field("min_rest_hours", _("Minimum rest between shifts (hours)"), c.min_rest_hours, step="any"),
        _field("max_consecutive_days", _("Maximum consecutive working days"), c.max_consecutive_days),
        _field("max_night_shifts_week", _("Maximum night shifts per week"), c.max_night_shifts_week),
        _field("min_days_off_week", _("Minimum days off per week"), c.min_days_off_week),
    ]


def template_fields(t: ShiftTemplate) -> list[dict[str, Any]]:
    return [
        _field("name", _("Name"), t.name, "text", required=True),
        _field("kind", _("Kind"), t.kind, "select", choices=ShiftKind.choices),
        _field("start_time", _("Start time"), t.start_time.strftime("%H:%M") if t.start_time else "09:00", "time"),
        _field("length_minutes", _("Length (minutes)"), t.length_minutes or 480),
        _field("unpaid_break_minutes", _("Unpaid lunch (minutes)"), t.unpaid_break_minutes),
        _field(
            "break_earliest_minutes",
            _("Lunch starts at the earliest (minutes into the shift)"),
            t.break_earliest_minutes,
        ),
        _field(
            "break_latest_minutes", _("Lunch starts at the latest (minutes into the shift)"), t.break_latest_minutes
        ),
        _field("paid_break_minutes", _("Paid breaks (minutes)"), t.paid_break_minutes),
        _field("is_active", _("Active"), t.is_active, "check"),
    ]


def _settings_page(
    request: HttpRequest, desk: Desk, *, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    ws = desk.workspace
    queues = list(WorkQueue.objects.filter(workspace=ws).select_related("skill", "team"))
    contracts = list(Contract.objects.filter(workspace=ws))
    templates = list(ShiftTemplate.objects.filter(workspace=ws))
    profiles = {p.agent_id: p for p in WorkforceProfile.objects.filter(workspace=ws).prefetch_related("templates")}
    agents = []
    for a in AgentProfile.objects.filter(workspace=ws, is_active=True).select_related("user"):
        profile = profiles.get(a.pk) or WorkforceProfile(agent=a, workspace=ws)
        agents.append(
            {
                "agent": a,
                "profile": profile,
                "allowed": {t.pk for t in profile.templates.all()} if profile.pk else set(),
                **availability_context(profile, ws.pk),
            }
        )
    agents.sort(key=lambda row: row["agent"].name.casefold())
    errors = errors or {}

    def entity(prefix: str, obj: Any, fields: list[dict[str, Any]]) -> dict[str, Any]:
        key = f"{prefix}-{obj.pk if obj is not None else 'new'}"
        return {"obj": obj, "fields": fields, "key": key, "error": errors.get(key, "")}

    for row in agents:
        row["key"] = f"agent-{row['agent'].pk}"
        row["error"] = errors.get(row["key"], "")
    context = {
        "section": "settings",
        "queues": [entity("queue", q, queue_fields(q, desk)) for q in queues],
        "new_queue": entity("queue", None, queue_fields(WorkQueue(workspace=ws), desk)),
        "contracts": [entity("contract", c, contract_fields(c)) for c in contracts],
        "new_contract": entity("contract", None, contract_fields(Contract(workspace=ws))),
        "templates": [entity("template", t, template_fields(t)) for t in templates],
        "new_template": entity("template", None, template_fields(ShiftTemplate(workspace=ws))),
        "agents": agents,
        "all_contracts": contracts,
        "all_templates": templates,
    }
    return render(request, "web/workforce/settings.html", context, status=status)


@agent_view
def settings_page(request: HttpRequest, desk: Desk) -> HttpResponse:
    manage(desk)
    return _settings_page(request, desk)


def _get[M: models.Model](model: type[M], desk: Desk, pk: Any) -> M | None:
    key = int_or_none(pk)
    if not key:
        return None
    obj = model._default_manager.filter(pk=key, workspace=desk.workspace).first()
    if obj is None:
        raise NotFound(_("Not found."), code=WorkforceErrorCode.NOT_FOUND)
    return obj


def _saved(request: HttpRequest, anchor: str) -> HttpResponse:
    messages.success(request, _("Saved."))
    return done(request, reverse(URL) + anchor)


@require_POST
@agent_view
def queue_save(request: HttpRequest, desk: Desk) -> HttpResponse:
    manage(desk)
    post = request.POST
    queue = _get(WorkQueue, desk, post.get("id"))
    fields: dict[str, Any] = {
        "name": post.get("name", ""),
        "kind": post.get("kind", QueueKind.ASYNC),
        "channel_types": post.getlist("channel_types"),
        "team": post.get("team") or None,
        "categories": ids(post.getlist("categories")),
        "skill": post.get("skill") or None,
        "interval_minutes": number(post.get("interval_minutes")),
        "target_percent": number(post.get("target_percent")),
        "target_seconds": number(post.get("target_seconds")),
        "asa_seconds": number(post.get("asa_seconds"), optional=True),
        "patience_seconds": number(post.get("patience_seconds"), optional=True),
        "reply_target_minutes": number(post.get("reply_target_minutes"), optional=True),
        "shrinkage": number(post.get("shrinkage")),
        "max_occupancy": number(post.get("max_occupancy")),
        "default_aht_seconds": number(post.get("default_aht_seconds")),
        "is_active": bool(post.get("is_active")),
    }
    key = f"queue-{queue.pk if queue else 'new'}"
    try:
        if queue is None:
            queue = config.queue_create(actor=desk.actor, workspace=desk.workspace, fields=fields)
        else:
            config.queue_update(actor=desk.actor, queue=queue, fields=fields)
    except DomainError as exc:
        return _settings_page(request, desk, errors={key: exc.message}, status=exc.status_code)
    return _saved(request, f"#queue-{queue.pk}")


@require_POST
@agent_view
def queue_delete(request: HttpRequest, desk: Desk, queue_id: int) -> HttpResponse:
    manage(desk)
    queue = _get(WorkQueue, desk, queue_id)
    assert queue is not None  # noqa: S101 - a path id is never 0
    config.queue_delete(actor=desk.actor, queue=queue)
    return _saved(request, "#queues")


def _fields(post: Any, names: list[str]) -> dict[str, Any]:
    return {n: (post.get(n, "").strip() if n in ("name", "kind", "start_time") else number(post.get(n))) for n in names}


CONTRACT_NAMES = [
    "name",
    "min_hours_week",
    "max_hours_week",
    "min_rest_hours",
    "max_consecutive_days",
    "max_night_shifts_week",
    "min_days_off_week",
]
TEMPLATE_NAMES = [
    "name",
    "kind",
    "start_time",
    "length_minutes",
    "unpaid_break_minutes",
    "break_earliest_minutes",
    "break_latest_minutes",
    "paid_break_minutes",
]


@require_POST
@agent_view
def contract_save(request: HttpRequest, desk: Desk) -> HttpResponse:
    manage(desk)
    contract = _get(Contract, desk, request.POST.get("id"))
    key = f"contract-{contract.pk if contract else 'new'}"
    try:
        contract = config.contract_save(
            actor=desk.actor, workspace=desk.workspace, fields=_fields(request.POST, CONTRACT_NAMES), contract=contract
        )
    except DomainError as exc:
        return _settings_page(request, desk, errors={key: exc.message}, status=exc.status_code)
    return _saved(request, f"#contract-{contract.pk}")


@require_POST
@agent_view
def contract_delete(request: HttpRequest, desk: Desk, contract_id: int) -> HttpResponse:
    manage(desk)
    contract = _get(Contract, desk, contract_id)
    assert contract is not None  # noqa: S101 - a path id is never 0
    config.contract_delete(actor=desk.actor, contract=contract)
    return _saved(request, "#contracts")


@require_POST
@agent_view
def template_save(request: HttpRequest, desk: Desk) -> HttpResponse:
    manage(desk)
    template = _get(ShiftTemplate, desk, request.POST.get("id"))
    key = f"template-{template.pk if template else 'new'}"
    fields = _fields(request.POST, TEMPLATE_NAMES)
    fields["is_active"] = bool(request.POST.get("is_active"))
    try:
        template = config.template_save(actor=desk.actor, workspace=desk.workspace, fields=fields, template=template)
    except DomainError as exc:
        return _settings_page(request, desk, errors={key: exc.message}, status=exc.status_code)
    return _saved(request, f"#template-{template.pk}")


@require_POST
@agent_view
def template_delete(request: HttpRequest, desk: Desk, template_id: int) -> HttpResponse:
    manage(desk)
    template = _get(ShiftTemplate, desk, template_id)
    assert template is not None  # noqa: S101 - a path id is never 0
    config.template_delete(actor=desk.actor, template=template)
    return _saved(request, "#templates")


@require_POST
@agent_view
def agent_profile_save(request: HttpRequest, desk: Desk, agent_id: int) -> HttpResponse:
    """An agent's contract, whether they are rostered, their allowed shifts, unavailability and preferences."""
    manage(desk)
    agent = _get(AgentProfile, desk, agent_id)
    assert agent is not None  # noqa: S101 - a path id is never 0
    post = request.POST
    try:
        config.profile_update(
            actor=desk.actor,
            agent=agent,
            contract=post.get("contract") or None,
            rosterable=bool(post.get("rosterable")),
            templates=ids(post.getlist("templates")),
            unavailable=parse_unavailable(post),
            preferences=parse_preferences(post),
        )
    except DomainError as exc:
        return _settings_page(request, desk, errors={f"agent-{agent.pk}": exc.message}, status=exc.status_code)
    return _saved(request, f"#agent-{agent.pk}")
