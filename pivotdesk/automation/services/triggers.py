"""Triggers on the desk's events and time rules on an hourly sweep.

For an event: the workspace's active triggers run as one cycle (`domain.cycle`: in order, restarting after a rule
fires, each at most once) over the ticket's facts; what fired is carried out in that order with the rule as the
actor. Changes made by rules publish `ticket.updated` with actor_type "rule", which this runner ignores: the cycle
already saw them (loop protection across events). A run row per (rule, ticket, event) makes a redelivered event
fire nothing twice.

Time rules: the sweep reads the tickets that are not closed (in pk batches; a rule that names statuses narrows it
in SQL) and fires each matching rule once per ticket per period — the rule's version, the ticket's status and its
last customer message — so "pending 72 h without a reply → remind" reminds once, again only after the customer
wrote and the ticket went back to pending.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Sum

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.permissions import authorize_system
from pivotdesk.common import events
from pivotdesk.common.time import now
from pivotdesk.tickets.models import Message, Status, Ticket, TicketEvent
from pivotdesk.tickets.services import timeline

from ..domain import conditions as conds
from ..domain.compiled import CHANGES_PREFIX, compile_conditions
from ..domain.cycle import Trigger, run_cycle
from ..domain.effects import simulate
from ..models import Rule, RuleKind, RuleRun
from . import actions as acts
from . import facts as fact_builder
from .rules import as_trigger, count_fired

log = logging.getLogger(__name__)
SWEEP_BATCH = 500
TIMELINE_VERB = "automation_fired"


def rule_actor(rule: Rule) -> Actor:
    return Actor(kind="rule", label=rule.name)


def _event_name(event: Mapping[str, Any]) -> str:
    """The rules' name for a desk event ("" when rules do not react to it)."""
    name = str(event.get("name", ""))
    payload = event.get("payload") or {}
    if name == "message.created":
        if payload.get("author_type") == "contact":
            return "customer.replied" if _is_reply(payload) else ""
        if payload.get("author_type") == "agent" and payload.get("kind") == "public":
            return "agent.replied"
        return ""
    return fact_builder.EVENTS.get(name, "")


def _is_reply(payload: Mapping[str, Any]) -> bool:
    """A customer's message after the first: the first one opened the ticket (ticket.created covers it)."""
    message_id, ticket_id = payload.get("message_id"), payload.get("ticket_id")
    if not isinstance(message_id, int) or not isinstance(ticket_id, int):
        return False
    return Message.objects.filter(ticket_id=ticket_id, pk__lt=message_id).exists()


def _event_extra(event: Mapping[str, Any]) -> dict[str, Any]:
    """Facts and placeholder values an event brings besides the ticket (a business event's type and data)."""
    payload = event.get("payload") or {}
    if event.get("name") != "automation.business_event":
        return {}
    from ..models import BusinessEvent

    event_id = payload.get("business_event_id")
    row = BusinessEvent.objects.filter(pk=event_id).first() if isinstance(event_id, int) else None
    extra: dict[str, Any] = {"event_type": str(payload.get("type", ""))}
    data = row.data if row is not None and isinstance(row.data, dict) else {}
    for key, value in list(data.items())[:50]:
        if isinstance(value, str | int | float | bool):
            extra[f"event.{key}"] = value
    extra["event.key"] = payload.get("key", "")
    return extra


def _changes(ticket: Ticket, fields: Iterable[str]) -> dict[str, list[Any]]:
    """[old, new] of the fields an update changed, from the timeline entries it wrote (ids for references)."""

    def plain(value: Any) -> Any:
        return value.get("id") if isinstance(value, dict) and "id" in value else value

    out: dict[str, list[Any]] = {}
    wanted = {("type" if f == "ticket_type" else f): f for f in fields}
    rows = TicketEvent.objects.filter(
        ticket=ticket, verb__in=("field_changed", "status_changed", "assigned"), field__in=list(wanted.values())
    )
    for field, old, new in rows.order_by("-pk").values_list("field", "old_value", "new_value")[:50]:
        name = "type" if field == "ticket_type" else field
        out.setdefault(name, [plain(old), plain(new)])
    return out


# A worker's compiled triggers per workspace (and the facts they read), with the stamp of the rules they came from.
_LOADED: dict[int, tuple[tuple[Any, ...], list[Rule], list[Trigger], frozenset[str]]] = {}
_LOADED_MAX = 256


def _stamp(workspace_id: int) -> tuple[Any, ...]:
    """What changes whenever the workspace's triggers do (a save bumps the version and the time, switching and
    ordering stamp the time, a delete the count and the ids): one small aggregate instead of reading the rules."""
    row = Rule.objects.filter(workspace_id=workspace_id, kind=RuleKind.TRIGGER).aggregate(
        n=Count("pk"), ids=Sum("pk"), versions=Sum("version"), at=Max("updated_at")
    )
    return (row["n"], row["ids"], row["versions"], row["at"])


def triggers_for(workspace_id: int) -> tuple[list[Rule], list[Trigger], frozenset[str]]:
    """The workspace's active triggers in order, their compiled form and the facts they read (for `facts.build`):
    compiled once per worker and reused while the rules' stamp is the same."""
    stamp = _stamp(workspace_id)
    loaded = _LOADED.get(workspace_id)
    if loaded is not None and loaded[0] == stamp:
        return loaded[1], loaded[2], loaded[3]
    rules = list(
        Rule.objects.filter(workspace_id=workspace_id, kind=RuleKind.TRIGGER, active=True).order_by("position", "pk")
    )
    triggers = [as_trigger(r) for r in rules]
    needs = frozenset(
        "changes" if name.startswith(CHANGES_PREFIX) else name for t in triggers for name in t.program.reads
    )
    if len(_LOADED) >= _LOADED_MAX:
        _LOADED.pop(next(iter(_LOADED)))
    _LOADED[workspace_id] = (stamp, rules, triggers, needs)
    return rules, triggers, needs


def run_for_event(*, actor: Actor, event: Mapping[str, Any]) -> list[RuleRun]:
    """The trigger cycle for one desk event (system: the subscriber table)."""
    authorize_system(actor)
    payload = event.get("payload") or {}
    rule_event = _event_name(event)
    if not rule_event or payload.get("actor_type") == "rule":
        return []
    ticket_id, workspace_id = payload.get("ticket_id"), event.get("workspace_id")
    if not isinstance(ticket_id, int) or not isinstance(workspace_id, int):
        return []
    ticket = (
        Ticket.objects.filter(pk=ticket_id, workspace_id=workspace_id)
        .select_related("requester__organization", "category", "workspace", "assignee")
        .first()
    )
    rules, triggers, needs = triggers_for(workspace_id) if ticket is not None else ([], [], frozenset())
    if ticket is None or not rules or ticket.merged_into_id is not None:
        return []
    event_key = f"event:{event.get('id') or ''}"[:120]
    done = set(RuleRun.objects.filter(ticket=ticket, event_key=event_key).values_list("rule_id", flat=True))
    if done:
        triggers = [t for t in triggers if t.id not in done]
        rules = [r for r in rules if r.pk not in done]
    message = None
    if payload.get("message_id"):
        message = Message.objects.filter(pk=payload["message_id"], ticket=ticket).first()
    changes = _changes(ticket, payload.get("fields") or []) if rule_event == "ticket.updated" else {}
    extra = _event_extra(event)
    snapshot = fact_builder.build(
        ticket,
        at=now(),
        event=rule_event,
        event_type=str(extra.get("event_type", "")),
        changes=changes,
        message=message,
        needs=needs,
        extra=extra,
    )
    _final, fired = run_cycle(triggers, snapshot, simulate)
    try:
        return _carry_out(
            ticket, _rules_in_order(rules, fired), event=event, rule_event=rule_event, event_key=event_key, extra=extra
        )
    except _Duplicate:
        return []  # another worker carried this event's cycle out first: everything here was rolled back


def _rules_in_order(rules: list[Rule], fired: list[Any]) -> list[Rule]:
    by_id = {r.pk: r for r in rules}
    return [by_id[f.trigger_id] for f in fired]


def _carry_out(
    ticket: Ticket,
    rules: list[Rule],
    *,
    event: Mapping[str, Any],
    rule_event: str,
    event_key: str,
    extra: dict[str, Any],
) -> list[RuleRun]:
    """The fired rules' actions in order, in one transaction with one `ticket.updated` for what they changed; then
    the run rows, the timeline entries and the counters, one statement each. A run row that exists already (the
    same event carried out by another worker at the same time) rolls the whole cycle back (`_Duplicate`)."""
    at = now()
    values = acts.LazyValues(ticket)  # read once for the cycle, when a rule's text first needs it
    current = True  # the ticket was just read
    runs: list[RuleRun] = []
    entries = []
    with transaction.atomic(), events.coalesced():
        for rule in rules:
            ctx = acts.Context(
                actor=rule_actor(rule),
                rule_id=rule.pk,
                values=values.with_({"rule.version": rule.version, "event.id": event.get("id"), **extra}),
                current=current,
            )
            results = acts.execute(ticket, list(rule.actions or []), ctx)
            current = ctx.current
            runs.append(_run_row(rule, ticket, event_key, rule_event, results))
            entries.append(_timeline_entry(rule, ticket, rule_event, results))
        try:
            with transaction.atomic():
                RuleRun.objects.bulk_create(runs)
        except IntegrityError as exc:
            raise _Duplicate from exc
        TicketEvent.objects.bulk_create(entries)
        count_fired([rule.pk for rule in rules], at)
    return runs


def _run_row(rule: Rule, ticket: Ticket, event_key: str, event: str, results: list[dict[str, Any]]) -> RuleRun:
    return RuleRun(
        workspace_id=ticket.workspace_id,
        rule=rule,
        version=rule.version,
        ticket=ticket,
        event_key=event_key,
        event=event,
        actions=list(rule.actions or []),
        results=results,
        ok=all(r.get("ok") for r in results),
    )


def _timeline_entry(rule: Rule, ticket: Ticket, event: str, results: list[dict[str, Any]]) -> TicketEvent:
    return timeline.build(
        ticket=ticket,
        actor=rule_actor(rule),
        verb=TIMELINE_VERB,
        data={"rule": rule.pk, "name": rule.name, "version": rule.version, "event": event, "results": results},
    )


class _Duplicate(Exception):
    """Another worker (or an earlier delivery) fired this rule for this event and ticket first."""


def fire(
    rule: Rule, ticket: Ticket, *, event_key: str, event: str, extra: dict[str, Any] | None = None
) -> RuleRun | None:
    """Carry out one rule on one ticket once for `event_key` (a time rule): the actions (each in its own savepoint,
    results per action), the run row with the results, the timeline entry — all in one savepoint, so when another
    worker's run row for the same key exists (the unique key), this firing rolls back whole: nothing is done
    twice."""
    at = now()
    try:
        with transaction.atomic():
            ctx = acts.Context(
                actor=rule_actor(rule),
                rule_id=rule.pk,
                values=acts.LazyValues(ticket, {"rule.version": rule.version, **(extra or {})}),
            )
            results = acts.execute(ticket, list(rule.actions or []), ctx)
            run = _run_row(rule, ticket, event_key, event, results)
            try:  # no savepoint of its own: a duplicate key leaves this block, which rolls the firing back whole
                run.save(force_insert=True)
            except IntegrityError as exc:
                raise _Duplicate from exc
            _timeline_entry(rule, ticket, event, results).save(force_insert=True)
            count_fired([rule.pk], at)
    except _Duplicate:
        return None
    return run


# --- time rules ------------------------------------------------------------------------------------------------


def _period_key(rule: Rule, ticket: Ticket) -> str:
    stamp = ticket.last_customer_message_at or ticket.created_at
    return f"time:v{rule.version}:{ticket.status}:{int(stamp.timestamp()) if stamp else 0}"


def _statuses(spec: Mapping[str, Any]) -> set[str] | None:
    """The statuses a rule requires at its top level (`all` with status is / in), for the SQL prefilter."""
    for item in spec.get("all") or []:
        if isinstance(item, dict) and item.get("field") == "status":
            if item.get("op") == "is":
                return {str(item.get("value"))}
            if item.get("op") == "in" and isinstance(item.get("value"), list):
                return {str(v) for v in item["value"]}
    return None


def sweep(*, actor: Actor, at: dt.datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """Every active time rule over the tickets it may match (system: the hourly beat). Returns how many fired.
    Safe with two sweeps at once: each firing is claimed by its run row first."""
    authorize_system(actor)
    at = at or now()
    fired = 0
    by_workspace: dict[int, list[Rule]] = {}
    for rule in Rule.objects.filter(kind=RuleKind.TIME, active=True).order_by("workspace_id", "position", "pk"):
        by_workspace.setdefault(rule.workspace_id, []).append(rule)
    for workspace_id, rules in by_workspace.items():
        fired += _sweep_workspace(workspace_id, rules, at, batch)
    return fired


def _sweep_workspace(workspace_id: int, rules: list[Rule], at: dt.datetime, batch: int) -> int:
    statuses: set[str] | None = set()
    for rule in rules:
        wanted = _statuses(rule.conditions or {})
        statuses = None if wanted is None or statuses is None else statuses | wanted
    tickets = Ticket.objects.filter(workspace_id=workspace_id, merged_into__isnull=True).exclude(status=Status.CLOSED)
    if statuses is not None:
        tickets = tickets.filter(status__in=sorted(statuses))
    needs = set().union(*(conds.fields_used(r.conditions or {}) for r in rules))
    programs = {r.pk: compile_conditions(r.conditions or {}) for r in rules}
    fired, last = 0, 0
    while True:
        page = list(
            tickets.filter(pk__gt=last)
            .select_related("requester__organization", "category", "workspace", "assignee")
            .prefetch_related("tags")
            .order_by("pk")[:batch]
        )
        if not page:
            return fired
        last = page[-1].pk
        done = set(
            RuleRun.objects.filter(rule__in=rules, ticket__in=page, event_key__startswith="time:").values_list(
                "rule_id", "ticket_id", "event_key"
            )
        )
        for ticket in page:
            snapshot = fact_builder.build(ticket, at=at, event="time", needs=needs)
            memo: dict[Any, Any] = {}
            for rule in rules:
                if (rule.pk, ticket.pk, _period_key(rule, ticket)) in done:
                    continue
                if programs[rule.pk].matches(snapshot, memo):
                    try:
                        fired += fire(rule, ticket, event_key=_period_key(rule, ticket), event="time") is not None
                    except Exception:  # one ticket's failure must not stop the sweep; the run row shows nothing
                        log.exception("automation: time rule %s on ticket %s failed", rule.pk, ticket.pk)
