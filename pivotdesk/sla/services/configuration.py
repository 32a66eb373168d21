"""Configuring service levels: business calendars, team calendars, policies with their targets, escalation levels.

Behind the gate (Perm.SLA_CONFIGURE: admins) for agents and API clients; the settings screens (`sla/forms`) and
the API write through these same functions, so they validate alike. Every input is validated into a readable
ValidationFailed (4xx), never a 500. After a change that can move deadlines, open tickets are rechecked by the
scanner: their sla_next_check_at is set to now (one UPDATE over the workspace's tickets with clocks).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Team, Workspace
from pivotdesk.accounts.permissions import Perm, authorize, authorize_system
from pivotdesk.common.errors import Conflict, ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.sla.domain.conditions import ConditionError, Conditions
from pivotdesk.sla.errors import SlaErrorCode
from pivotdesk.sla.models import (
    BusinessCalendar,
    EscalationLevel,
    Metric,
    SLAPolicy,
    SLATarget,
    TeamCalendar,
    condition_vocabulary,
)
from pivotdesk.sla.services.escalation import parse_actions
from pivotdesk.tickets.models import Priority, Status, Ticket

CALENDAR_FIELDS = frozenset(
    {"name", "time_zone", "weekly_hours", "country", "subdivision", "closed_dates", "working_dates", "is_default"}
)
POLICY_FIELDS = frozenset({"name", "description", "position", "active", "conditions", "calendar", "paused_statuses"})


def _require(actor: Actor, workspace_id: int) -> None:
    authorize(actor, Perm.SLA_CONFIGURE, workspace_id=workspace_id)


def _validation(exc: ValidationError) -> ValidationFailed:
    details = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    flat = {k: "; ".join(str(m) for m in v) for k, v in details.items()}
    return ValidationFailed("; ".join(f"{k}: {v}" for k, v in flat.items()), details=flat)


def recheck_open_tickets(*, actor: Actor, workspace_id: int) -> int:
    """Ask the scanner to recompute every open ticket of the workspace now (after a configuration change)."""
    _require(actor, workspace_id)
    return (
        Ticket.objects.filter(workspace_id=workspace_id, merged_into__isnull=True)
        .exclude(status=Status.CLOSED)
        .update(sla_next_check_at=now())
    )


def recheck_contact_tickets(*, actor: Actor, workspace_id: int, contact_id: int) -> int:
    """Ask the scanner to re-match the contact's unsolved tickets now (one UPDATE): the contact's tier or
    organization changed, or another contact was merged into it, so another policy may apply. Solved and closed
    tickets keep the policy they were measured by. System only (the contact-change task)."""
    authorize_system(actor)
    return (
        Ticket.objects.filter(workspace_id=workspace_id, requester_id=contact_id, merged_into__isnull=True)
        .exclude(status__in=(Status.SOLVED, Status.CLOSED))
        .update(sla_next_check_at=now())
    )


def recheck_organization_tickets(*, actor: Actor, workspace_id: int, organization_id: int) -> int:
    """Ask the scanner to re-match the unsolved tickets of an organization (its tier changed): the tickets that
    name it and those of its contacts (one UPDATE). System only (the organization-change task)."""
    authorize_system(actor)
    return (
        Ticket.objects.filter(workspace_id=workspace_id, merged_into__isnull=True)
        .filter(Q(organization_id=organization_id) | Q(requester__organization_id=organization_id))
        .exclude(status__in=(Status.SOLVED, Status.CLOSED))
        .update(sla_next_check_at=now())
    )


def _save_calendar(calendar: BusinessCalendar) -> BusinessCalendar:
    calendar.name = (calendar.name or "").strip()
    if not calendar.name or len(calendar.name) > 120:
        raise ValidationFailed(
            gettext("A calendar name is 1–120 characters."),
            code=SlaErrorCode.INVALID_NAME,
            details={"name": "required"},
        )
    calendar.country = (calendar.country or "").strip().upper()
    if calendar.country:
        import holidays

        try:
            holidays.country_holidays(calendar.country, subdiv=calendar.subdivision or None, years=[2026])
        except Exception as exc:  # NotImplementedError for a country, various for a subdivision
            where = f"{calendar.country}/{calendar.subdivision}" if calendar.subdivision else calendar.country
            raise ValidationFailed(
                gettext("No public holidays are known for “%(where)s”.") % {"where": where},
                code=SlaErrorCode.UNKNOWN_COUNTRY,
                details={"country": "unknown"},
            ) from exc
    try:
        calendar.clean()
    except ValidationError as exc:
        raise _validation(exc) from exc
    if calendar.is_default:
        BusinessCalendar.objects.filter(workspace_id=calendar.workspace_id, is_default=True).exclude(
            pk=calendar.pk
        ).update(is_default=False)
    try:
        with transaction.atomic():
            calendar.save()
    except IntegrityError as exc:
        raise Conflict(
            gettext("A calendar named “%(name)s” exists already.") % {"name": calendar.name},
            code=SlaErrorCode.DUPLICATE_NAME,
        ) from exc
    return calendar


@transaction.atomic
def calendar_create(*, workspace: Workspace, actor: Actor, **fields: Any) -> BusinessCalendar:
    """Create a business calendar (see BusinessCalendar for the shapes of the hours fields)."""
    _require(actor, workspace.pk)
    unknown = set(fields) - CALENDAR_FIELDS
    if unknown:
        raise ValidationFailed(
            gettext("Unknown calendar field(s): %(fields)s.") % {"fields": ", ".join(sorted(unknown))},
            code=SlaErrorCode.UNKNOWN_FIELD,
        )
    calendar = _save_calendar(BusinessCalendar(workspace=workspace, **fields))
    recheck_open_tickets(actor=actor, workspace_id=workspace.pk)
    return calendar


@transaction.atomic
def calendar_update(*, calendar: BusinessCalendar, actor: Actor, changes: dict[str, Any]) -> BusinessCalendar:
    """Change a business calendar; open tickets are rechecked (their deadlines may move)."""
    _require(actor, calendar.workspace_id)
    unknown = set(changes) - CALENDAR_FIELDS
    if unknown:
        raise ValidationFailed(
            gettext("Unknown calendar field(s): %(fields)s.") % {"fields": ", ".join(sorted(unknown))},
            code=SlaErrorCode.UNKNOWN_FIELD,
        )
    calendar = BusinessCalendar.objects.select_for_update().get(pk=calendar.pk)
    for name, value in changes.items():
        setattr(calendar, name, value)
    _save_calendar(calendar)
    recheck_open_tickets(actor=actor, workspace_id=calendar.workspace_id)
    return calendar


@transaction.atomic
def calendar_delete(*, calendar: BusinessCalendar, actor: Actor) -> None:
    """Delete a calendar; policies that used it fall back to the team's or the default calendar."""
    _require(actor, calendar.workspace_id)
    workspace_id = calendar.workspace_id
    calendar.delete()
    recheck_open_tickets(actor=actor, workspace_id=workspace_id)


@transaction.atomic
def team_calendar_set(*, team: Team, calendar: BusinessCalendar | None, actor: Actor) -> TeamCalendar | None:
    """Give a team its business calendar (None: the team uses the workspace default)."""
    _require(actor, team.workspace_id)
    if calendar is not None and calendar.workspace_id != team.workspace_id:
        raise ValidationFailed(gettext("Unknown calendar."), code=SlaErrorCode.UNKNOWN_REFERENCE)
    if calendar is None:
        TeamCalendar.objects.filter(team=team).delete()
        recheck_open_tickets(actor=actor, workspace_id=team.workspace_id)
        return None
    link, _ = TeamCalendar.objects.update_or_create(
        team=team, defaults={"calendar": calendar, "workspace_id": team.workspace_id}
    )
    recheck_open_tickets(actor=actor, workspace_id=team.workspace_id)
    return link


def clean_conditions(workspace_id: int, raw: Any) -> dict[str, Any]:
    """Validate policy conditions against the workspace's vocabulary; returns the stored form."""
    from pivotdesk.customers.models import CustomerOrganization
    from pivotdesk.tickets.models import Category

    try:
        conditions = Conditions.from_json(raw, allowed=condition_vocabulary())
    except ConditionError as exc:
        raise ValidationFailed(
            gettext("Invalid conditions: %(problem)s") % {"problem": exc},
            code=SlaErrorCode.INVALID_CONDITIONS,
            details={"conditions": exc.errors},
        ) from exc
    for name, model in (("organization_ids", CustomerOrganization), ("category_ids", Category)):
        ids = getattr(conditions, name)
        found = set(model.objects.filter(workspace_id=workspace_id, pk__in=ids).values_list("pk", flat=True))
        if ids - found:
            missing = ", ".join(str(i) for i in sorted(ids - found))
            raise ValidationFailed(
                gettext("Invalid conditions: unknown %(kind)s(s) %(ids)s.") % {"kind": name[:-4], "ids": missing},
                code=SlaErrorCode.INVALID_CONDITIONS,
            )
    return conditions.to_json()


def _clean_paused(value: Any) -> list[str]:
    if not isinstance(value, list) or any(v not in Status.values for v in value):
        raise ValidationFailed(
            gettext("Paused statuses must be a list of statuses (%(statuses)s).")
            % {"statuses": ", ".join(Status.values)},
            code=SlaErrorCode.INVALID_PAUSED_STATUSES,
        )
    if set(value) & {Status.SOLVED, Status.CLOSED}:
        raise ValidationFailed(
            gettext("Solved and closed stop the clocks already; they cannot be paused statuses."),
            code=SlaErrorCode.INVALID_PAUSED_STATUSES,
        )
    return sorted(set(value))


def clean_targets(raw: Any) -> list[dict[str, Any]]:
    """Validate a policy's targets: [{"priority", "metric", "minutes", "business_hours"?, "warn_at_percent"?,
    "warn_minutes_before"?}], one per (priority, metric)."""
    if not isinstance(raw, list):
        raise ValidationFailed(gettext("Targets must be a list."), code=SlaErrorCode.INVALID_TARGET)
    seen: set[tuple[str, str]] = set()
    out: list[dict[str, Any]] = []
    for i, t in enumerate(raw):
        where = f"targets[{i}]"
        if not isinstance(t, dict):
            raise ValidationFailed(
                gettext("%(where)s: an object with priority, metric and minutes.") % {"where": where},
                code=SlaErrorCode.INVALID_TARGET,
            )
        priority, metric = t.get("priority"), t.get("metric")
        if priority not in Priority.values:
            raise ValidationFailed(
                gettext("%(where)s: the priority must be one of %(choices)s.")
                % {"where": where, "choices": ", ".join(Priority.values)},
                code=SlaErrorCode.INVALID_TARGET,
            )
        if metric not in Metric.values:
            raise ValidationFailed(
                gettext("%(where)s: the metric must be one of %(choices)s.")
                % {"where": where, "choices": ", ".join(Metric.values)},
                code=SlaErrorCode.INVALID_TARGET,
            )
        if (priority, metric) in seen:
            raise ValidationFailed(
                gettext("%(where)s: %(priority)s %(metric)s is given twice.")
                % {"where": where, "priority": priority, "metric": metric},
                code=SlaErrorCode.INVALID_TARGET,
            )
        seen.add((priority, metric))
        minutes = t.get("minutes")
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 < minutes <= 525_600:
            raise ValidationFailed(
                gettext("%(where)s: minutes must be a whole number between 1 and 525600 (a year).") % {"where": where},
                code=SlaErrorCode.INVALID_TARGET,
            )
        percents = t.get("warn_at_percent", [75, 90])
        if not isinstance(percents, list) or any(
            isinstance(p, bool) or not isinstance(p, int) or not 0 < p < 100 for p in percents
        ):
            raise ValidationFailed(
                gettext("%(where)s: warn_at_percent must be whole numbers between 1 and 99.") % {"where": where},
                code=SlaErrorCode.INVALID_TARGET,
            )
        before = t.get("warn_minutes_before", [])
        if not isinstance(before, list) or any(
            isinstance(m, bool) or not isinstance(m, int) or not 0 < m < minutes for m in before
        ):
            raise ValidationFailed(
                gettext("%(where)s: warn_minutes_before must be whole numbers between 1 and %(most)s.")
                % {"where": where, "most": minutes - 1},
                code=SlaErrorCode.INVALID_TARGET,
            )
        out.append(
            {
                "priority": priority,
                "metric": metric,
                "minutes": minutes,
                "business_hours": bool(t.get("business_hours", True)),
                "warn_at_percent": sorted(set(percents)),
                "warn_minutes_before": sorted(set(before)),
            }
        )
    return out


def _apply_policy_fields(policy: SLAPolicy, fields: dict[str, Any]) -> None:
    unknown = set(fields) - POLICY_FIELDS - {"targets"}
    if unknown:
        raise ValidationFailed(
            gettext("Unknown policy field(s): %(fields)s.") % {"fields": ", ".join(sorted(unknown))},
            code=SlaErrorCode.UNKNOWN_FIELD,
        )
    if "name" in fields:
        policy.name = str(fields["name"] or "").strip()
        if not policy.name or len(policy.name) > 120:
            raise ValidationFailed(gettext("A policy name is 1–120 characters."), code=SlaErrorCode.INVALID_NAME)
    if "description" in fields:
        policy.description = str(fields["description"] or "")
    if "position" in fields:
        if isinstance(fields["position"], bool) or not isinstance(fields["position"], int) or fields["position"] < 0:
            raise ValidationFailed(
                gettext("The position must be a whole number ≥ 0."), code=SlaErrorCode.INVALID_POSITION
            )
        policy.position = fields["position"]
    if "active" in fields:
        policy.active = bool(fields["active"])
    if "conditions" in fields:
        policy.conditions = clean_conditions(policy.workspace_id, fields["conditions"])
    if "paused_statuses" in fields:
        policy.paused_statuses = _clean_paused(fields["paused_statuses"])
    if "calendar" in fields:
        calendar = fields["calendar"]
        if calendar is not None and not isinstance(calendar, BusinessCalendar):
            calendar = BusinessCalendar.objects.filter(workspace_id=policy.workspace_id, pk=calendar).first()
            if calendar is None:
                raise ValidationFailed(gettext("Unknown calendar."), code=SlaErrorCode.UNKNOWN_REFERENCE)
        if calendar is not None and calendar.workspace_id != policy.workspace_id:
            raise ValidationFailed(gettext("Unknown calendar."), code=SlaErrorCode.UNKNOWN_REFERENCE)
        policy.calendar = calendar


def _set_targets(policy: SLAPolicy, targets: list[dict[str, Any]]) -> None:
    SLATarget.objects.filter(policy=policy).delete()
    SLATarget.objects.bulk_create([SLATarget(policy=policy, **t) for t in targets])


@transaction.atomic
def policy_create(*, workspace: Workspace, actor: Actor, name: str, **fields: Any) -> SLAPolicy:
    """Create a policy with its conditions and targets (see clean_targets); placed last unless a position is
    given. Open tickets are rechecked."""
    _require(actor, workspace.pk)
    policy = SLAPolicy(workspace=workspace)
    if "position" not in fields:
        last = SLAPolicy.objects.filter(workspace=workspace).order_by("-position").first()
        fields["position"] = (last.position + 1) if last else 0
    _apply_policy_fields(policy, {"name": name, **fields})
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError as exc:
        raise Conflict(
            gettext("A policy named “%(name)s” exists already.") % {"name": policy.name},
            code=SlaErrorCode.DUPLICATE_NAME,
        ) from exc
    _set_targets(policy, clean_targets(fields.get("targets", [])))
    recheck_open_tickets(actor=actor, workspace_id=workspace.pk)
    return policy


@transaction.atomic
def policy_update(*, policy: SLAPolicy, actor: Actor, changes: dict[str, Any]) -> SLAPolicy:
    """Change a policy (fields and/or the full list of targets); open tickets are rechecked, and the ones whose
    promise changed get old → new on their timeline."""
    _require(actor, policy.workspace_id)
    policy = SLAPolicy.objects.select_for_update().get(pk=policy.pk)
    _apply_policy_fields(policy, changes)
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError as exc:
        raise Conflict(
            gettext("A policy named “%(name)s” exists already.") % {"name": policy.name},
            code=SlaErrorCode.DUPLICATE_NAME,
        ) from exc
    if "targets" in changes:
        _set_targets(policy, clean_targets(changes["targets"]))
    recheck_open_tickets(actor=actor, workspace_id=policy.workspace_id)
    return policy


@transaction.atomic
def policy_delete(*, policy: SLAPolicy, actor: Actor) -> None:
    """Delete a policy; its tickets fall to the next matching policy at their recheck (outcomes keep its name)."""
    _require(actor, policy.workspace_id)
    workspace_id = policy.workspace_id
    policy.delete()
    recheck_open_tickets(actor=actor, workspace_id=workspace_id)


@transaction.atomic
def policy_reorder(*, workspace: Workspace, actor: Actor, policy_ids: list[int]) -> list[SLAPolicy]:
    """Set the matching order: the given ids first, in that order; the others keep their order after them."""
    _require(actor, workspace.pk)
    policies = {p.pk: p for p in SLAPolicy.objects.filter(workspace=workspace)}
    unknown = [i for i in policy_ids if i not in policies]
    if unknown:
        raise ValidationFailed(
            gettext("Unknown policy id(s): %(ids)s.") % {"ids": ", ".join(map(str, unknown))},
            code=SlaErrorCode.UNKNOWN_REFERENCE,
        )
    rest = [p for p in sorted(policies.values(), key=lambda p: (p.position, p.pk)) if p.pk not in policy_ids]
    ordered = [policies[i] for i in dict.fromkeys(policy_ids)] + rest
    for position, policy in enumerate(ordered):
        policy.position = position
    SLAPolicy.objects.bulk_update(ordered, ["position"])
    recheck_open_tickets(actor=actor, workspace_id=workspace.pk)
    return ordered


@transaction.atomic
def escalation_level_set(
    *,
    policy: SLAPolicy,
    actor: Actor,
    level: int,
    actions: list[dict[str, Any]],
    minutes_after_breach: int = 0,
    metric: str = "",
) -> EscalationLevel:
    """Create or replace escalation level `level` (for `metric`, or any metric when empty) of a policy."""
    _require(actor, policy.workspace_id)
    minutes_after_breach, cleaned = _clean_level(policy, level, actions, minutes_after_breach, metric)
    row, _ = EscalationLevel.objects.update_or_create(
        policy=policy,
        level=level,
        metric=metric,
        defaults={"minutes_after_breach": minutes_after_breach, "actions": cleaned},
    )
    recheck_open_tickets(actor=actor, workspace_id=policy.workspace_id)
    return row


@transaction.atomic
def escalation_levels_replace(*, policy: SLAPolicy, actor: Actor, levels: list[dict[str, Any]]) -> None:
    """Replace a policy's whole escalation ladder: [{"level", "metric"?, "minutes_after_breach"?, "actions"}]."""
    _require(actor, policy.workspace_id)
    rows = []
    for item in levels:
        level: int = item.get("level", 0)  # checked by _clean_level
        metric: str = item.get("metric", "")
        minutes, cleaned = _clean_level(
            policy, level, item.get("actions", []), item.get("minutes_after_breach", 0), metric
        )
        rows.append(
            EscalationLevel(policy=policy, level=level, metric=metric, minutes_after_breach=minutes, actions=cleaned)
        )
    if len({(r.level, r.metric) for r in rows}) != len(rows):
        raise ValidationFailed(
            gettext("An escalation level is defined twice for the same target."), code=SlaErrorCode.INVALID_ESCALATION
        )
    EscalationLevel.objects.filter(policy=policy).delete()
    EscalationLevel.objects.bulk_create(sorted(rows, key=lambda r: (r.level, r.metric)))
    recheck_open_tickets(actor=actor, workspace_id=policy.workspace_id)


def _clean_level(
    policy: SLAPolicy, level: Any, actions: Any, minutes_after_breach: Any, metric: Any
) -> tuple[int, list[dict[str, Any]]]:
    if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 20:
        raise ValidationFailed(
            gettext("An escalation level is a whole number from 1 to 20."), code=SlaErrorCode.INVALID_ESCALATION
        )
    if metric and metric not in Metric.values:
        raise ValidationFailed(
            gettext("The metric must be empty (any) or one of %(metrics)s.") % {"metrics": ", ".join(Metric.values)},
            code=SlaErrorCode.INVALID_ESCALATION,
        )
    if isinstance(minutes_after_breach, bool) or not isinstance(minutes_after_breach, int):
        raise ValidationFailed(
            gettext("Minutes after the breach must be a whole number."), code=SlaErrorCode.INVALID_ESCALATION
        )
    if not 0 <= minutes_after_breach <= 525_600:
        raise ValidationFailed(
            gettext("Minutes after the breach must be between 0 and 525600."), code=SlaErrorCode.INVALID_ESCALATION
        )
    cleaned = parse_actions(actions, workspace_id=policy.workspace_id)
    if not cleaned:
        raise ValidationFailed(
            gettext("An escalation level needs at least one action."), code=SlaErrorCode.INVALID_ESCALATION
        )
    return minutes_after_breach, cleaned
