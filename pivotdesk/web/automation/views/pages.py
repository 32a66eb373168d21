"""The rule list (triggers and time rules in order, each in words, switched on and off, moved up and down, deleted),
the "what would happen" preview and a rule's execution log. Every change goes through the rules services."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pivotdesk.automation.domain import conditions as conds
from pivotdesk.automation.domain.conditions import Explained
from pivotdesk.automation.models import Rule, RuleKind, RuleRun
from pivotdesk.automation.services import rules as rule_services
from pivotdesk.web.automation.views import words
from pivotdesk.web.automation.views.common import get_rule, manage, saved
from pivotdesk.web.base import Desk, agent_view

RUNS_SHOWN = 100
PREVIEW_TICKETS = 50
TRIGGER_EVENTS = tuple(e for e in conds.EVENTS if e != "time")


def _rule_row(rule: Rule, names: words.Names, *, first: bool, last: bool) -> dict[str, Any]:
    return {
        "rule": rule,
        "conditions": words.conditions_parts(rule.conditions or {}, names),
        "actions": words.actions_parts(rule.actions or [], names),
        "up": not first,
        "down": not last,
    }


@agent_view
def rule_list(request: HttpRequest, desk: Desk) -> HttpResponse:
    manage(desk)
    names = words.Names.load(desk.workspace.pk)
    rules = list(Rule.objects.filter(workspace=desk.workspace).order_by("position", "pk"))
    lists = []
    for kind, title in ((RuleKind.TRIGGER, _("Triggers")), (RuleKind.TIME, _("Time rules"))):
        mine = [r for r in rules if r.kind == kind]
        rows = [_rule_row(r, names, first=i == 0, last=i == len(mine) - 1) for i, r in enumerate(mine)]
        lists.append({"kind": kind, "title": title, "rows": rows})
    return render(request, "web/automation/rules.html", {"section": "rules", "lists": lists})


@require_POST
@agent_view
def rule_toggle(request: HttpRequest, desk: Desk, rule_id: int) -> HttpResponse:
    manage(desk)
    rule = get_rule(desk, rule_id)
    rule_services.rule_set_active(actor=desk.actor, rule=rule, active=request.POST.get("active") == "1")
    message = _("“%(name)s” is on.") if rule.active else _("“%(name)s” is off.")
    return saved(request, reverse("web:automation_rules"), message % {"name": rule.name})


@require_POST
@agent_view
def rule_move(request: HttpRequest, desk: Desk, rule_id: int) -> HttpResponse:
    """One place up or down among the rules of its kind."""
    manage(desk)
    rule = get_rule(desk, rule_id)
    ids = list(
        Rule.objects.filter(workspace=desk.workspace, kind=rule.kind)
        .order_by("position", "pk")
        .values_list("pk", flat=True)
    )
    at = ids.index(rule.pk)
    to = at - 1 if request.POST.get("direction") == "up" else at + 1
    if 0 <= to < len(ids):
        ids[at], ids[to] = ids[to], ids[at]
    rule_services.rules_reorder(actor=desk.actor, workspace=desk.workspace, kind=rule.kind, rule_ids=ids)
    return saved(request, reverse("web:automation_rules"), _("The order is saved."))


@require_POST
@agent_view
def rule_delete(request: HttpRequest, desk: Desk, rule_id: int) -> HttpResponse:
    manage(desk)
    rule = get_rule(desk, rule_id)
    name = rule.name
    rule_services.rule_delete(actor=desk.actor, rule=rule)
    return saved(request, reverse("web:automation_rules"), _("“%(name)s” is deleted.") % {"name": name})


# --- preview -----------------------------------------------------------------------------------------------------


def _fact_parts(item: Explained, names: words.Names) -> list[words.Part]:
    """The ticket's value the condition read: an old → new pair for the changed operators."""
    name, op = str(item.condition.get("field", "")), str(item.condition.get("op", ""))
    if op in conds.CHANGE_OPS:
        value = item.value
        if isinstance(value, list | tuple) and len(value) == 2:
            return [*words.value_parts(name, value[0], names), ("→ ", False), *words.value_parts(name, value[1], names)]
        return [(_("unchanged"), False)]
    return words.value_parts("category_path" if op == "under" else name, item.value, names)


def _preview_row(row: dict[str, Any], names: words.Names) -> dict[str, Any]:
    checks = [
        {"condition": words.condition_parts(e.condition, names), "value": _fact_parts(e, names), "matched": e.matched}
        for e in row["explained"]
    ]
    return {
        "ticket": row["ticket"],
        "fires": row["fires"],
        "pass": row["pass"],
        "checks": checks,
        "actions": words.actions_parts(row["actions"], names),
    }


@agent_view
def rule_preview(request: HttpRequest, desk: Desk, rule_id: int) -> HttpResponse:
    """What the rule would do to the latest tickets as they are now (for a trigger: as if the chosen event came)."""
    manage(desk)
    rule = get_rule(desk, rule_id)
    event = request.GET.get("event", "")
    if rule.kind == RuleKind.TIME or event not in TRIGGER_EVENTS:
        event = "time" if rule.kind == RuleKind.TIME else "ticket.updated"
    names = words.Names.load(desk.workspace.pk)
    rows = rule_services.preview(actor=desk.actor, rule=rule, limit=PREVIEW_TICKETS, event=event)
    context = {
        "section": "rules",
        "rule": rule,
        "event": event,
        "events": [(e, str(words.EVENT_LABELS[e])) for e in TRIGGER_EVENTS],
        "rows": [_preview_row(r, names) for r in rows],
        "fires": sum(1 for r in rows if r["fires"]),
        "conditions": words.conditions_parts(rule.conditions or {}, names),
    }
    return render(request, "web/automation/preview.html", context)


# --- execution log -----------------------------------------------------------------------------------------------


def _result_row(result: Any) -> dict[str, Any]:
    result = result if isinstance(result, dict) else {}
    kind = str(result.get("type", ""))
    return {
        "label": str(words.ACTION_LABELS.get(kind, kind)),
        "ok": bool(result.get("ok")),
        "detail": str(result.get("detail") or ""),
    }


@agent_view
def rule_runs(request: HttpRequest, desk: Desk, rule_id: int) -> HttpResponse:
    """The latest runs of a rule: on which ticket, when, which version, and each action's result."""
    manage(desk)
    rule = get_rule(desk, rule_id)
    runs = RuleRun.objects.filter(rule=rule, workspace=desk.workspace).select_related("ticket")
    rows = [
        {
            "run": run,
            "event": str(words.EVENT_LABELS.get(run.event, run.event)),
            "results": [_result_row(r) for r in run.results or []],
        }
        for run in runs.order_by("-created_at", "-pk")[:RUNS_SHOWN]
    ]
    return render(request, "web/automation/runs.html", {"section": "rules", "rule": rule, "rows": rows})
