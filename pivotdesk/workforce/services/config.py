"""Configuring workforce: queues, contracts, shift templates, agents' rostering profiles, forecast events.

Behind the gate (Perm.WORKFORCE_MANAGE: supervisors and admins); an agent edits their own availability and
preferences (SELF_MANAGE). The screens and the API write through these functions, so they validate alike: every
bad value is a readable ValidationFailed (4xx), never a 500.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Skill, Team, Workspace
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.tickets.models import Category
from pivotdesk.workforce.errors import WorkforceErrorCode
from pivotdesk.workforce.models import (
    Contract,
    ForecastEvent,
    QueueKind,
    ShiftKind,
    ShiftTemplate,
    WorkforceProfile,
    WorkQueue,
)

QUEUE_FIELDS = frozenset(
    {
        "name",
        "kind",
        "channel_types",
        "team",
        "categories",
        "skill",
        "interval_minutes",
        "target_percent",
        "target_seconds",
        "asa_seconds",
        "patience_seconds",
        "reply_target_minutes",
        "shrinkage",
        "max_occupancy",
        "default_aht_seconds",
        "is_active",
    }
)
CONTRACT_FIELDS = frozenset(
    {
        "name",
        "min_hours_week",
        "max_hours_week",
        "min_rest_hours",
        "max_consecutive_days",
        "max_night_shifts_week",
        "min_days_off_week",
    }
)
TEMPLATE_FIELDS = frozenset(
    {
        "name",
        "kind",
        "start_time",
        "length_minutes",
        "unpaid_break_minutes",
        "break_earliest_minutes",
        "break_latest_minutes",
        "paid_break_minutes",
        "is_active",
    }
)
CHANNEL_TYPES = ("email", "web", "chat", "messaging", "sms", "voice", "video", "api")


def _require(actor: Actor, workspace_id: int) -> None:
    authorize(actor, Perm.WORKFORCE_MANAGE, workspace_id=workspace_id)


def _invalid(exc: ValidationError) -> ValidationFailed:
    details = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    flat = {k: "; ".join(str(m) for m in v) for k, v in details.items()}
    return ValidationFailed(
        "; ".join(f"{k}: {v}" for k, v in flat.items()), code=WorkforceErrorCode.INVALID_VALUE, details=flat
    )


def _unknown(fields: dict[str, Any], allowed: frozenset[str]) -> None:
    extra = sorted(set(fields) - allowed)
    if extra:
        raise ValidationFailed(
            gettext("Unknown field(s): %(fields)s.") % {"fields": ", ".join(extra)},
            code=WorkforceErrorCode.INVALID_VALUE,
            details=dict.fromkeys(extra, "unknown"),
        )


def _save(obj: models.Model, *, exclude: list[str] | None = None) -> None:
    try:
        obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise _invalid(exc) from exc
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise ValidationFailed(
            gettext("That name is already used."), code=WorkforceErrorCode.DUPLICATE_NAME, details={"name": "taken"}
        ) from exc


def _ref[M: models.Model](model: type[M], workspace_id: int, value: Any, field: str) -> M | None:
    if value in (None, ""):
        return None
    pk = value.pk if isinstance(value, models.Model) else value
    try:
        return model._default_manager.get(pk=int(pk), workspace_id=workspace_id)
    except (model.DoesNotExist, TypeError, ValueError) as exc:  # type: ignore[attr-defined]
        raise ValidationFailed(
            gettext("Unknown %(field)s “%(value)s”.") % {"field": field, "value": value},
            code=WorkforceErrorCode.INVALID_VALUE,
            details={field: "unknown"},
        ) from exc


def _name(value: Any) -> str:
    name = str(value or "").strip()
    if not name or len(name) > 120:
        raise ValidationFailed(
            gettext("A name of 1 to 120 characters is required."),
            code=WorkforceErrorCode.INVALID_VALUE,
            details={"name": "required"},
        )
    return name


# --- queues ----------------------------------------------------------------------------------------------------


def _apply_queue(queue: WorkQueue, fields: dict[str, Any]) -> list[Category] | None:
    _unknown(fields, QUEUE_FIELDS)
    ws = queue.workspace_id
    categories: list[Category] | None = None
    for key, value in fields.items():
        if key == "name":
            queue.name = _name(value)
        elif key == "kind":
            if value not in QueueKind.values:
                raise ValidationFailed(
                    gettext("Unknown queue kind “%(value)s”.") % {"value": value},
                    code=WorkforceErrorCode.INVALID_VALUE,
                    details={"kind": "unknown"},
                )
            queue.kind = value
        elif key == "channel_types":
            values = [str(v).strip() for v in (value or []) if str(v).strip()]
            bad = [v for v in values if v not in CHANNEL_TYPES]
            if bad:
                raise ValidationFailed(
                    gettext("Unknown channel type(s): %(values)s.") % {"values": ", ".join(bad)},
                    code=WorkforceErrorCode.INVALID_VALUE,
                    details={"channel_types": "unknown"},
                )
            queue.channel_types = sorted(set(values))
        elif key == "team":
            queue.team = _ref(Team, ws, value, "team")
        elif key == "skill":
            queue.skill = _ref(Skill, ws, value, "skill")
        elif key == "categories":
            categories = [c for c in (_ref(Category, ws, v, "category") for v in (value or [])) if c is not None]
        else:
            setattr(queue, key, value)
    return categories


def queue_create(*, actor: Actor, workspace: Workspace, fields: dict[str, Any]) -> WorkQueue:
    _require(actor, workspace.pk)
    queue = WorkQueue(workspace=workspace)
    categories = _apply_queue(queue, fields)
    if not queue.name:
        queue.name = _name("")
    with transaction.atomic():
        _save(queue)
        if categories is not None:
            queue.categories.set(categories)
    return queue


def queue_update(*, actor: Actor, queue: WorkQueue, fields: dict[str, Any]) -> WorkQueue:
    _require(actor, queue.workspace_id)
    categories = _apply_queue(queue, fields)
    with transaction.atomic():
        _save(queue)
        if categories is not None:
            queue.categories.set(categories)
    return queue


def queue_delete(*, actor: Actor, queue: WorkQueue) -> None:
    _require(actor, queue.workspace_id)
    queue.delete()


# --- contracts and shift templates ------------------------------------------------------------------------------


def contract_save(
    *, actor: Actor, workspace: Workspace, fields: dict[str, Any], contract: Contract | None = None
) -> Contract:
    """Create a contract, or change one."""
    _require(actor, workspace.pk)
    _unknown(fields, CONTRACT_FIELDS)
    contract = contract or Contract(workspace=workspace)
    if contract.workspace_id != workspace.pk:
        raise ValidationFailed(
            gettext("The contract belongs to another workspace."), code=WorkforceErrorCode.WRONG_WORKSPACE
        )
    for key, value in fields.items():
        setattr(contract, key, _name(value) if key == "name" else value)
    if contract.min_hours_week is not None and contract.max_hours_week is not None:
        try:
            low, high = float(contract.min_hours_week), float(contract.max_hours_week)
        except (TypeError, ValueError):
            low, high = 0.0, 1.0
        if low > high:
            raise ValidationFailed(
                gettext("The minimum hours per week cannot be above the maximum."),
                code=WorkforceErrorCode.INVALID_VALUE,
                details={"min_hours_week": "above max"},
            )
    _save(contract)
    return contract


def contract_delete(*, actor: Actor, contract: Contract) -> None:
    _require(actor, contract.workspace_id)
    contract.delete()


def _time(value: Any) -> dt.time:
    if isinstance(value, dt.time):
        return value
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError as exc:
        raise ValidationFailed(
            gettext("“%(value)s” is not a time of day (HH:MM).") % {"value": value},
            code=WorkforceErrorCode.INVALID_VALUE,
            details={"start_time": "HH:MM"},
        ) from exc


def template_save(
    *, actor: Actor, workspace: Workspace, fields: dict[str, Any], template: ShiftTemplate | None = None
) -> ShiftTemplate:
    """Create a shift template, or change one. The lunch window must fit inside the shift."""
    _require(actor, workspace.pk)
    _unknown(fields, TEMPLATE_FIELDS)
    template = template or ShiftTemplate(workspace=workspace)
    if template.workspace_id != workspace.pk:
        raise ValidationFailed(
            gettext("The template belongs to another workspace."), code=WorkforceErrorCode.WRONG_WORKSPACE
        )
    for key, value in fields.items():
        if key == "name":
            template.name = _name(value)
        elif key == "start_time":
            template.start_time = _time(value)
        elif key == "kind":
            if value not in ShiftKind.values:
                raise ValidationFailed(
                    gettext("Unknown shift kind “%(value)s”.") % {"value": value},
                    code=WorkforceErrorCode.INVALID_VALUE,
                    details={"kind": "unknown"},
                )
            template.kind = value
        else:
            setattr(template, key, value)
    try:
        lunch = int(template.unpaid_break_minutes or 0)
        earliest, latest = int(template.break_earliest_minutes or 0), int(template.break_latest_minutes or 0)
        length = int(template.length_minutes or 0)
    except (TypeError, ValueError):
        lunch = earliest = latest = length = 0  # the model's validation below names the bad field
    if lunch and not (0 <= earliest <= latest and latest + lunch <= length):
        raise ValidationFailed(
            gettext("The lunch window must lie inside the shift (earliest ≤ latest, and latest + lunch ≤ length)."),
            code=WorkforceErrorCode.INVALID_VALUE,
            details={"break_latest_minutes": "outside the shift"},
        )
    _save(template)
    return template


def template_delete(*, actor: Actor, template: ShiftTemplate) -> None:
    _require(actor, template.workspace_id)
    template.delete()


# --- agents' profiles -------------------------------------------------------------------------------------------


def _spans(value: Any) -> dict[str, list[list[int]]]:
    """{"0": [[start_min, end_min], …], …} validated: weekdays 0–6, minutes 0–1440, start < end."""
    if not isinstance(value, dict):
        raise ValidationFailed(
            gettext("Unavailability is a list of times per weekday."), code=WorkforceErrorCode.INVALID_VALUE
        )
    out: dict[str, list[list[int]]] = {}
    for day, spans in value.items():
        if str(day) not in {str(d) for d in range(7)} or not isinstance(spans, list):
            raise ValidationFailed(
                gettext("Unknown weekday “%(value)s” (0 = Monday … 6 = Sunday).") % {"value": day},
                code=WorkforceErrorCode.INVALID_VALUE,
            )
        clean = []
        for span in spans:
            try:
                start, end = int(span[0]), int(span[1])
            except (TypeError, ValueError, IndexError) as exc:
                raise ValidationFailed(
                    gettext("A time span is [start minute, end minute]."), code=WorkforceErrorCode.INVALID_VALUE
                ) from exc
            if not 0 <= start < end <= 1440:
                raise ValidationFailed(
                    gettext("A time span must lie within the day and end after it starts."),
                    code=WorkforceErrorCode.INVALID_VALUE,
                )
            clean.append([start, end])
        if clean:
            out[str(day)] = clean
    return out


def _preferences(value: Any, workspace_id: int) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationFailed(gettext("Preferences must be an object."), code=WorkforceErrorCode.INVALID_VALUE)
    days = sorted({int(d) for d in value.get("days_off", []) if str(d).isdigit() and 0 <= int(d) <= 6})
    templates = [
        t.pk for t in (_ref(ShiftTemplate, workspace_id, v, "template") for v in value.get("templates", [])) if t
    ]
    return {"days_off": days, "templates": templates, "avoid_nights": bool(value.get("avoid_nights", False))}


def profile_for(agent: AgentProfile) -> WorkforceProfile:
    """The agent's rostering profile (created with defaults the first time)."""
    profile, _created = WorkforceProfile.objects.get_or_create(
        agent=agent, defaults={"workspace_id": agent.workspace_id}
    )
    return profile


def calendar_token_regenerate(*, actor: Actor, agent: AgentProfile) -> WorkforceProfile:
    """A fresh secret for the agent's iCalendar feed link: the previous link stops working (one's own, or anyone's
    for a supervisor)."""
    own = actor.is_agent(agent.pk)
    authorize(actor, Perm.SELF_MANAGE if own else Perm.WORKFORCE_MANAGE, workspace_id=agent.workspace_id)
    profile = profile_for(agent)
    profile.calendar_token = secrets.token_urlsafe(24)
    profile.save(update_fields=["calendar_token", "updated_at"])
    return profile


def profile_update(
    *,
    actor: Actor,
    agent: AgentProfile,
    contract: Any = ...,
    rosterable: bool | None = None,
    templates: list[Any] | None = None,
    unavailable: dict[str, Any] | None = None,
    preferences: dict[str, Any] | None = None,
) -> WorkforceProfile:
    """A supervisor sets an agent's contract, allowed shifts and whether they are rostered; an agent (or a
    supervisor) sets their unavailability and preferences."""
    own = actor.is_agent(agent.pk)
    planning = contract is not ... or rosterable is not None or templates is not None
    authorize(
        actor, Perm.WORKFORCE_MANAGE if planning or not own else Perm.SELF_MANAGE, workspace_id=agent.workspace_id
    )
    with transaction.atomic():
        profile = profile_for(agent)
        if contract is not ...:
            profile.contract = _ref(Contract, agent.workspace_id, contract, "contract")
        if rosterable is not None:
            profile.rosterable = bool(rosterable)
        if unavailable is not None:
            profile.unavailable = _spans(unavailable)
        if preferences is not None:
            profile.preferences = _preferences(preferences, agent.workspace_id)
        profile.save()
        if templates is not None:
            profile.templates.set(
                [t for t in (_ref(ShiftTemplate, agent.workspace_id, v, "template") for v in templates) if t]
            )
    return profile


# --- forecast events --------------------------------------------------------------------------------------------


def forecast_event_create(
    *,
    actor: Actor,
    workspace: Workspace,
    name: str,
    start: dt.datetime,
    end: dt.datetime,
    multiplier: float,
    queue: WorkQueue | None = None,
) -> ForecastEvent:
    """A known peak or dip: the forecast in [start, end) is multiplied (双十一 ×5 from 14:00)."""
    _require(actor, workspace.pk)
    if queue is not None and queue.workspace_id != workspace.pk:
        raise ValidationFailed(
            gettext("The queue belongs to another workspace."), code=WorkforceErrorCode.WRONG_WORKSPACE
        )
    if start is None or end is None or end <= start:
        raise ValidationFailed(
            gettext("The period must end after it starts."),
            code=WorkforceErrorCode.INVALID_PERIOD,
            details={"end": "after start"},
        )
    try:
        factor = float(multiplier)
    except (TypeError, ValueError):
        factor = -1.0
    if not 0 <= factor <= 100:
        raise ValidationFailed(
            gettext("The multiplier must be between 0 and 100."),
            code=WorkforceErrorCode.INVALID_VALUE,
            details={"multiplier": "0–100"},
        )
    event = ForecastEvent(
        workspace=workspace,
        queue=queue,
        name=_name(name),
        start=start,
        end=end,
        multiplier=factor,
        created_by=actor.agent,
    )
    _save(event)
    return event


def forecast_event_delete(*, actor: Actor, event: ForecastEvent) -> None:
    _require(actor, event.workspace_id)
    event.delete()
