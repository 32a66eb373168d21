"""Rules as data: save (every save is a new version), switch on and off, order, delete, and the "what would
happen" preview over the latest tickets — computed by the same cycle the triggers run, so the preview is what the
rule then does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.common.errors import Conflict, ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.tickets.models import Ticket

from ..domain import conditions as conds
from ..domain.cycle import Trigger, run_cycle
from ..domain.effects import simulate
from ..errors import AutomationErrorCode
from ..models import Rule, RuleKind, RuleVersion
from . import actions as acts
from . import facts as fact_builder

MAX_NAME = 160
PREVIEW_MAX = 200


def _check(kind: str, conditions: Any, actions: Any) -> None:
    if kind not in RuleKind.values:
        raise ValidationFailed(gettext("Unknown rule kind."), code=AutomationErrorCode.INVALID_VALUE)
    if not isinstance(conditions, dict):
        raise ValidationFailed(gettext("Conditions must be an object."), code=AutomationErrorCode.INVALID_CONDITIONS)
    problems = conds.validate(conditions, translate=gettext)
    if problems:
        raise ValidationFailed(
            problems[0].message,
            code=AutomationErrorCode.INVALID_CONDITIONS,
            details={p.path or "conditions": p.message for p in problems},
        )
    wrong = acts.validate(actions)
    if wrong:
        raise ValidationFailed(
            wrong[0].message,
            code=AutomationErrorCode.INVALID_ACTIONS,
            details={f"actions.{e.path}".rstrip("."): e.message for e in wrong},
        )


def rule_save(
    *,
    actor: Actor,
    workspace: Workspace,
    name: str,
    conditions: dict[str, Any],
    actions: list[dict[str, Any]],
    kind: str = RuleKind.TRIGGER,
    description: str = "",
    active: bool = True,
    rule: Rule | None = None,
) -> Rule:
    """Create a rule, or save a new version of `rule` (runs in progress keep the version they started with)."""
    authorize(actor, Perm.AUTOMATION_MANAGE, workspace_id=workspace.pk)
    name = (name or "").strip()[:MAX_NAME]
    if not name:
        raise ValidationFailed(gettext("Give the rule a name."), code=AutomationErrorCode.INVALID_VALUE)
    if rule is not None and rule.workspace_id != workspace.pk:
        raise ValidationFailed(gettext("The rule belongs to another workspace."), code=AutomationErrorCode.NOT_FOUND)
    _check(kind, conditions, actions)
    agent = actor.agent
    try:
        with transaction.atomic():
            if rule is None:
                position = Rule.objects.filter(workspace=workspace, kind=kind).count()
                rule = Rule.objects.create(
                    workspace=workspace,
                    name=name,
                    kind=kind,
                    description=description,
                    active=active,
                    conditions=conditions,
                    actions=actions,
                    position=position,
                    created_by=agent,
                )
            else:
                rule = Rule.objects.select_for_update().get(pk=rule.pk)
                rule.name, rule.kind, rule.description, rule.active = name, kind, description, active
                rule.conditions, rule.actions, rule.version = conditions, actions, rule.version + 1
                rule.save()
            RuleVersion.objects.create(
                workspace=workspace,
                rule=rule,
                version=rule.version,
                name=name,
                conditions=conditions,
                actions=actions,
                saved_by=agent,
            )
    except IntegrityError as exc:
        raise Conflict(
            gettext("A rule named “%(name)s” exists already.") % {"name": name},
            code=AutomationErrorCode.DUPLICATE_NAME,
        ) from exc
    return rule


def rule_set_active(*, actor: Actor, rule: Rule, active: bool) -> Rule:
    authorize(actor, Perm.AUTOMATION_MANAGE, workspace_id=rule.workspace_id)
    Rule.objects.filter(pk=rule.pk).update(active=active, updated_at=now())
    rule.active = active
    return rule


def rule_delete(*, actor: Actor, rule: Rule) -> None:
    authorize(actor, Perm.AUTOMATION_MANAGE, workspace_id=rule.workspace_id)
    rule.delete()


def rules_reorder(*, actor: Actor, workspace: Workspace, kind: str, rule_ids: list[int]) -> None:
    """Put the rules of one kind in this order (ids not listed keep their relative order after them)."""
    authorize(actor, Perm.AUTOMATION_MANAGE, workspace_id=workspace.pk)
    rules = list(Rule.objects.filter(workspace=workspace, kind=kind).order_by("position", "pk"))
    order = {pk: i for i, pk in enumerate(rule_ids)}
    rules.sort(key=lambda r: (order.get(r.pk, len(order)), r.position, r.pk))
    with transaction.atomic():
        for position, r in enumerate(rules):
            if r.position != position:
                Rule.objects.filter(pk=r.pk).update(position=position, updated_at=now())


def count_fired(rule_ids: Sequence[int], at: dt.datetime) -> None:
    """One more firing for each rule (each at most once per cycle): one statement for a cycle's rules."""
    if rule_ids:
        Rule.objects.filter(pk__in=set(rule_ids)).update(fired_count=F("fired_count") + 1, last_fired_at=at)


# --- preview -----------------------------------------------------------------------------------------------------


def as_trigger(rule: Rule) -> Trigger:
    return Trigger(id=rule.pk, conditions=rule.conditions or {}, actions=tuple(rule.actions or []))


def preview(*, actor: Actor, rule: Rule, limit: int = 50, event: str = "") -> list[dict[str, Any]]:
    """What the rule would do to each of the workspace's latest `limit` tickets, as they are now: for a trigger,
    the cycle of all active triggers (this one included, even when switched off) on the ticket as if `event`
    happened, and what this rule would fire; for a time rule, whether it matches now."""
    authorize(actor, Perm.AUTOMATION_MANAGE, workspace_id=rule.workspace_id)
    at = now()
    event = event or ("time" if rule.kind == RuleKind.TIME else "ticket.updated")
    others = (
        []
        if rule.kind == RuleKind.TIME
        else list(
            Rule.objects.filter(workspace_id=rule.workspace_id, kind=RuleKind.TRIGGER, active=True).exclude(pk=rule.pk)
        )
    )
    ordered = sorted([*others, rule], key=lambda r: (r.position, r.pk))
    triggers = [as_trigger(r) for r in ordered]
    needs = set().union(*(conds.fields_used(t.conditions) for t in triggers))
    tickets = (
        Ticket.objects.filter(workspace_id=rule.workspace_id, merged_into__isnull=True)
        .select_related("requester__organization", "category", "workspace", "assignee")
        .prefetch_related("tags")
        .order_by("-created_at", "-pk")[: max(1, min(limit, PREVIEW_MAX))]
    )
    out = []
    for ticket in tickets:
        snapshot = fact_builder.build(ticket, at=at, event=event, needs=needs)
        _final, fired = run_cycle(triggers, snapshot, simulate)
        mine = next((f for f in fired if f.trigger_id == rule.pk), None)
        out.append(
            {
                "ticket": ticket,
                "fires": mine is not None,
                "pass": mine.pass_number if mine else None,
                "explained": conds.explain(rule.conditions or {}, snapshot),
                "actions": list(rule.actions or []) if mine else [],
            }
        )
    return out
