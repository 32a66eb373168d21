"""Configuring service levels: business calendars, team calendars, policies with their targets, escalation levels.

Admin-only (workspace.configure) when an agent or API client acts; every input is validated into a readable
ValidationFailed (4xx), never a 500. After a change that can move deadlines, open tickets are rechecked by the
scanner: their sla_next_check_at is set to now (one UPDATE over the workspace's tickets with clocks).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Team, Workspace
from pivotdesk.accounts.permissions import Perm, require
from pivotdesk.common.errors import Conflict, ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.sla.domain.conditions import ConditionError, Conditions
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


def _require(actor: Actor) -> None:
    if actor.kind in ("agent", "api"):
        require(actor.agent, Perm.WORKSPACE_CONFIGURE)


def _validation(exc: ValidationError) -> ValidationFailed:
    details = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    flat = {k: "; ".join(str(m) for m in v) for k, v in details.items()}
    return ValidationFailed("; ".join(f"{k}: {v}" for k, v in flat.items()), details=flat)


def recheck_open_tickets(workspace_id: int) -> int:
    """Ask the scanner to recompute every open ticket of the workspace now (after a configuration change)."""
    return (
        Ticket.objects.filter(workspace_id=workspace_id, merged_into__isnull=True)
        .exclude(status=Status.CLOSED)
        .update(sla_next_check_at=now())
    )


def recheck_contact_tickets(*, workspace_id: int, contact_id: int) -> int:
    """Ask the scanner to re-match the contact's unsolved tickets now (one UPDATE): the contact's tier or
    organization changed, or another contact was merged into it, so another policy may apply. Solved and closed
    tickets keep the policy they were measured by."""
    return (
        Ticket.objects.filter(workspace_id=workspace_id, requester_id=contact_id, merged_into__isnull=True)
        .exclude(status__in=(Status.SOLVED, Status.CLOSED))
        .update(sla_next_check_at=now())
    )


def recheck_organization_tickets(*, workspace_id: int, organization_id: int) -> int:
    """Ask the scanner to re-match the unsolved tickets of an organization (its tier changed): the tickets that
    name it and those of its contacts (one UPDATE)."""
    return (
        Ticket.objects.filter(workspace_id=workspace_id, merged_into__isnull=True)
        .filter(Q(organization_id=organization_id) | Q(requester__organization_id=organization_id))
        .exclude(status__in=(Status.SOLVED, Status.CLOSED))
        .update(sla_next_check_at=now())
    )


def _save_calendar(calendar: BusinessCalendar) -> BusinessCalendar:
    calendar.name = (calendar.name or "").strip()
    if not calendar.name or len(calendar.name) > 120:
        raise ValidationFailed("A calendar name is 1–120 characters.", details={"name": "required"})
    calendar.country = (calendar.country or "").strip().upper()
    if calendar.country:
        import holidays

        try:
            holidays.country_holidays(calendar.country, subdiv=calendar.subdivision or None, years=[2026])
        except Exception as exc:  # NotImplementedError for a country, various for a subdivision
            where = f"{calendar.country}/{calendar.subdivision}" if calendar.subdivision else calendar.country
            raise ValidationFailed(
                f"No public holidays are known for '{where}'.", details={"country": "unknown"}
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
        raise Conflict(f"A calendar named '{calendar.name}' exists already.", code="duplicate_name") from exc
    return calendar


@transaction.atomic
def calendar_create(*, workspace: Workspace, actor: Actor, **fields: Any) -> BusinessCalendar:
    """Create a business calendar (see BusinessCalendar for the shapes of the hours fields)."""
    _require(actor)
    unknown = set(fields) - CALENDAR_FIELDS
    if unknown:
        raise ValidationFailed(f"Unknown calendar field(s): {', '.join(sorted(unknown))}.")
    calendar = _save_calendar(BusinessCalendar(workspace=workspace, **fields))
    recheck_open_tickets(workspace.pk)
    return calendar


@transaction.atomic
def calendar_update(*, calendar: BusinessCalendar, actor: Actor, changes: dict[str, Any]) -> BusinessCalendar:
    """Change a business calendar; open tickets are rechecked (their deadlines may move)."""
    _require(actor)
    unknown = set(changes) - CALENDAR_FIELDS
    if unknown:
        raise ValidationFailed(f"Unknown calendar field(s): {', '.join(sorted(unknown))}.")
    calendar = BusinessCalendar.objects.select_for_update().get(pk=calendar.pk)
    for name, value in changes.items():
        setattr(calendar, name, value)
    _save_calendar(calendar)
    recheck_open_tickets(calendar.workspace_id)
    return calendar


@transaction.atomic
def team_calendar_set(*, team: Team, calendar: BusinessCalendar | None, actor: Actor) -> TeamCalendar | None:
    """Give a team its business calendar (None: the team uses the workspace default)."""
    _require(actor)
    if calendar is not None and calendar.workspace_id != team.workspace_id:
        raise ValidationFailed("The calendar belongs to another workspace.", code="unknown_reference")
    if calendar is None:
        TeamCalendar.objects.filter(team=team).delete()
        recheck_open_tickets(team.workspace_id)
        return None
    link, _ = TeamCalendar.objects.update_or_create(
        team=team, defaults={"calendar": calendar, "workspace_id": team.workspace_id}
    )
    recheck_open_tickets(team.workspace_id)
    return link


def clean_conditions(workspace_id: int, raw: Any) -> dict[str, Any]:
    """Validate policy conditions against the workspace's vocabulary; returns the stored form."""
    from pivotdesk.customers.models import CustomerOrganization
    from pivotdesk.tickets.models import Category

    try:
        conditions = Conditions.from_json(raw, allowed=condition_vocabulary())
    except ConditionError as exc:
        raise ValidationFailed(f"Invalid conditions: {exc}", details={"conditions": exc.errors}) from exc
    for name, model in (("organization_ids", CustomerOrganization), ("category_ids", Category)):
        ids = getattr(conditions, name)
        found = set(model.objects.filter(workspace_id=workspace_id, pk__in=ids).values_list("pk", flat=True))
        if ids - found:
            missing = ", ".join(str(i) for i in sorted(ids - found))
            raise ValidationFailed(f"Invalid conditions: unknown {name[:-4]}(s) {missing}.")
    return conditions.to_json()


def _clean_paused(value: Any) -> list[str]:
    if not isinstance(value, list) or any(v not in Status.values for v in value):
        raise ValidationFailed(f"paused_statuses must be a list of statuses ({', '.join(Status.values)}).")
    if set(value) & {Status.SOLVED, Status.CLOSED}:
        raise ValidationFailed("Solved and closed stop the clocks already; they cannot be paused statuses.")
    return sorted(set(value))


def clean_targets(raw: Any) -> list[dict[str, Any]]:
    """Validate a policy's targets: [{"priority", "metric", "minutes", "business_hours"?, "warn_at_percent"?,
    "warn_minutes_before"?}], one per (priority, metric)."""
    if not isinstance(raw, list):
        raise ValidationFailed("targets must be a list.")
    seen: set[tuple[str, str]] = set()
    out: list[dict[str, Any]] = []
    for i, t in enumerate(raw):
        where = f"targets[{i}]"
        if not isinstance(t, dict):
            raise ValidationFailed(f"{where}: an object with priority, metric and minutes.")
        priority, metric = t.get("priority"), t.get("metric")
        if priority not in Priority.values:
            raise ValidationFailed(f"{where}: priority must be one of {', '.join(Priority.values)}.")
        if metric not in Metric.values:
            raise ValidationFailed(f"{where}: metric must be one of {', '.join(Metric.values)}.")
        if (priority, metric) in seen:
            raise ValidationFailed(f"{where}: {priority} {metric} is given twice.")
        seen.add((priority, metric))
        minutes = t.get("minutes")
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 < minutes <= 525_600:
            raise ValidationFailed(f"{where}: minutes must be a whole number between 1 and 525600 (a year).")
        percents = t.get("warn_at_percent", [75, 90])
        if not isinstance(percents, list) or any(
            isinstance(p, bool) or not isinstance(p, int) or not 0 < p < 100 for p in percents
        ):
            raise ValidationFailed(f"{where}: warn_at_percent must be whole numbers between 1 and 99.")
        before = t.get("warn_minutes_before", [])
        if not isinstance(before, list) or any(
            isinstance(m, bool) or not isinstance(m, int) or not 0 < m < minutes for m in before
        ):
            raise ValidationFailed(f"{where}: warn_minutes_before must be whole numbers between 1 and {minutes - 1}.")
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
        raise ValidationFailed(f"Unknown policy field(s): {', '.join(sorted(unknown))}.")
    if "name" in fields:
        policy.name = str(fields["name"] or "").strip()
        if not policy.name or len(policy.name) > 120:
            raise ValidationFailed("A policy name is 1–120 characters.")
    if "description" in fields:
        policy.description = str(fields["description"] or "")
    if "position" in fields:
        if isinstance(fields["position"], bool) or not isinstance(fields["position"], int) or fields["position"] < 0:
            raise ValidationFailed("position must be a whole number ≥ 0.")
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
                raise ValidationFailed("Unknown calendar.", code="unknown_reference")
        if calendar is not None and calendar.workspace_id != policy.workspace_id:
            raise ValidationFailed("Unknown calendar.", code="unknown_reference")
        policy.calendar = calendar


def _set_targets(policy: SLAPolicy, targets: list[dict[str, Any]]) -> None:
    SLATarget.objects.filter(policy=policy).delete()
    SLATarget.objects.bulk_create([SLATarget(policy=policy, **t) for t in targets])


@transaction.atomic
def policy_create(*, workspace: Workspace, actor: Actor, name: str, **fields: Any) -> SLAPolicy:
    """Create a policy with its conditions and targets (see clean_targets); placed last unless a position is
    given. Open tickets are rechecked."""
    _require(actor)
    policy = SLAPolicy(workspace=workspace)
    if "position" not in fields:
        last = SLAPolicy.objects.filter(workspace=workspace).order_by("-position").first()
        fields["position"] = (last.position + 1) if last else 0
    _apply_policy_fields(policy, {"name": name, **fields})
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError as exc:
        raise Conflict(f"A policy named '{policy.name}' exists already.", code="duplicate_name") from exc
    _set_targets(policy, clean_targets(fields.get("targets", [])))
    recheck_open_tickets(workspace.pk)
    return policy


@transaction.atomic
def policy_update(*, policy: SLAPolicy, actor: Actor, changes: dict[str, Any]) -> SLAPolicy:
    """Change a policy (fields and/or the full list of targets); open tickets are rechecked, and the ones whose
    promise changed get old → new on their timeline."""
    _require(actor)
    policy = SLAPolicy.objects.select_for_update().get(pk=policy.pk)
    _apply_policy_fields(policy, changes)
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError as exc:
        raise Conflict(f"A policy named '{policy.name}' exists already.", code="duplicate_name") from exc
    if "targets" in changes:
        _set_targets(policy, clean_targets(changes["targets"]))
    recheck_open_tickets(policy.workspace_id)
    return policy


@transaction.atomic
def policy_delete(*, policy: SLAPolicy, actor: Actor) -> None:
    """Delete a policy; its tickets fall to the next matching policy at their recheck (outcomes keep its name)."""
    _require(actor)
    workspace_id = policy.workspace_id
    policy.delete()
    recheck_open_tickets(workspace_id)


@transaction.atomic
def policy_reorder(*, workspace: Workspace, actor: Actor, policy_ids: list[int]) -> list[SLAPolicy]:
    """Set the matching order: the given ids first, in that order; the others keep their order after them."""
    _require(actor)
    policies = {p.pk: p for p in SLAPolicy.objects.filter(workspace=workspace)}
    unknown = [i for i in policy_ids if i not in policies]
    if unknown:
        raise ValidationFailed(f"Unknown policy id(s): {', '.join(map(str, unknown))}.")
    rest = [p for p in sorted(policies.values(), key=lambda p: (p.position, p.pk)) if p.pk not in policy_ids]
    ordered = [policies[i] for i in dict.fromkeys(policy_ids)] + rest
    for position, policy in enumerate(ordered):
        policy.position = position
    SLAPolicy.objects.bulk_update(ordered, ["position"])
    recheck_open_tickets(workspace.pk)
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
    _require(actor)
    if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 20:
        raise ValidationFailed("An escalation level is a whole number from 1 to 20.")
    if metric and metric not in Metric.values:
        raise ValidationFailed(f"metric must be empty (any) or one of {', '.join(Metric.values)}.")
    if isinstance(minutes_after_breach, bool) or not isinstance(minutes_after_breach, int):
        raise ValidationFailed("minutes_after_breach must be a whole number.")
    if not 0 <= minutes_after_breach <= 525_600:
        raise ValidationFailed("minutes_after_breach must be between 0 and 525600.")
    cleaned = parse_actions(actions, workspace_id=policy.workspace_id)
    if not cleaned:
        raise ValidationFailed("An escalation level needs at least one action.")
    row, _ = EscalationLevel.objects.update_or_create(
        policy=policy,
        level=level,
        metric=metric,
        defaults={"minutes_after_breach": minutes_after_breach, "actions": cleaned},
    )
    recheck_open_tickets(policy.workspace_id)
    return row
