"""What a rule (or a macro) does: validating the actions as data and carrying them out on a ticket.

An action is a dict with a "type" (`ACTION_TYPES`). Each runs through the desk's own services with the rule as the
actor (`Actor(kind="rule")`, which the gate lets do what automation may), so a rule can do nothing a service
would refuse, and every change lands on the timeline as the rule's. One action failing does not stop the others:
each result is recorded ({"type", "ok", "code", "detail"}) in the rule's run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Team
from pivotdesk.ai.services.placeholders import values_for
from pivotdesk.common.domain import placeholders
from pivotdesk.common.errors import DomainError
from pivotdesk.tickets.models import Priority, Status, Ticket, TicketType
from pivotdesk.tickets.selectors import customer_language

from ..domain.effects import SETTABLE

log = logging.getLogger(__name__)

ACTION_TYPES = (
    "set",
    "add_tags",
    "remove_tags",
    "assign",
    "follow",
    "reply",
    "note",
    "notify",
    "webhook",
    "create_linked",
    "start_approval",
    "start_chain",
    "apply_macro",
    "appease",
)
MAX_ACTIONS = 20
MAX_TEXT = 10_000
CHOICES: dict[str, frozenset[str]] = {
    "status": frozenset(Status.values),
    "priority": frozenset(Priority.values),
    "type": frozenset(TicketType.values),
}
FIELD_FOR = {"type": "ticket_type"}  # the rule's vocabulary → the ticket service's


@dataclass(frozen=True)
class ActionError:
    path: str
    message: str


@dataclass
class Context:
    """What the actions of one firing share: the actor, the placeholder values, what they created."""

    actor: Actor
    values: Mapping[str, Any] = field(default_factory=dict)
    rule_id: int | None = None
    created: list[int] = field(default_factory=list)
    #: Whether the ticket instance holds what is saved (no read needed before the next action); `execute` keeps
    #: it up to date, so a trigger cycle hands it from one firing to the next.
    current: bool = False


class LazyValues(Mapping[str, Any]):
    """`values_for(ticket)` read on first use (a rule without text reads nothing) and shared by the views `with_`
    makes (a trigger cycle's rules read the ticket's entities once), each with its own extra values on top."""

    def __init__(self, ticket: Ticket, extra: Mapping[str, Any] | None = None, *, shared: list[Any] | None = None):
        self._ticket, self._extra = ticket, dict(extra or {})
        self._shared: list[Any] = shared if shared is not None else [None]

    def with_(self, extra: Mapping[str, Any]) -> LazyValues:
        return LazyValues(self._ticket, extra, shared=self._shared)

    def _base(self) -> Mapping[str, Any]:
        if self._shared[0] is None:
            self._shared[0] = values_for(self._ticket)
        return self._shared[0]  # type: ignore[no-any-return]

    def _all(self) -> Mapping[str, Any]:
        return {**self._base(), **self._extra}

    def __getitem__(self, key: str) -> Any:  # a look-up copies nothing
        if key in self._extra:
            return self._extra[key]
        return self._base()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


# --- validation --------------------------------------------------------------------------------------------------


def _text_error(action: Mapping[str, Any], keys: Sequence[str]) -> str:
    texts = [action.get(k) for k in keys]
    if not any(isinstance(t, str) and t.strip() for t in texts):
        return gettext("Write the text.")
    if any(isinstance(t, str) and len(t) > MAX_TEXT for t in texts):
        return gettext("The text is too long (at most %(n)s characters).") % {"n": MAX_TEXT}
    return ""


def _set_error(action: Mapping[str, Any]) -> str:
    name = str(action.get("field", ""))
    if name not in SETTABLE and not name.startswith("cf."):
        return gettext("“%(field)s” cannot be set by a rule.") % {"field": name}
    choices = CHOICES.get(name)
    if choices is not None and action.get("value") not in choices:
        return gettext("“%(value)s” is not a valid value for %(field)s.") % {
            "value": action.get("value"),
            "field": name,
        }
    return ""


def _ids_error(action: Mapping[str, Any], *keys: str) -> str:
    for key in keys:
        value = action.get(key)
        values = value if isinstance(value, list) else [value]
        if value is not None and not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return gettext("%(name)s must be an id.") % {"name": key}
    return ""


CHECKS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "set": _set_error,
    "add_tags": lambda a: "" if a.get("tags") else gettext("Name at least one tag."),
    "remove_tags": lambda a: "" if a.get("tags") else gettext("Name at least one tag."),
    "assign": lambda a: (
        _ids_error(a, "agent", "team")
        or (
            "" if any(a.get(k) is not None for k in ("agent", "team", "routing")) else gettext("Choose whom to assign.")
        )
    ),
    "follow": lambda a: _ids_error(a, "agent") or ("" if a.get("agent") else gettext("Choose the follower.")),
    "reply": lambda a: _text_error(a, ("zh", "en")),
    "note": lambda a: _text_error(a, ("text",)),
    "notify": lambda a: (
        _ids_error(a, "agents", "teams")
        or ("" if a.get("agents") or a.get("teams") or a.get("shared") else gettext("Choose whom to notify."))
    ),
    "webhook": lambda a: "",
    "create_linked": lambda a: _text_error(a, ("subject",)) or _ids_error(a, "team"),
    "start_approval": lambda a: _ids_error(a, "flow") or ("" if a.get("flow") else gettext("Choose the flow.")),
    "start_chain": lambda a: _ids_error(a, "template") or ("" if a.get("template") else gettext("Choose the chain.")),
    "apply_macro": lambda a: _ids_error(a, "macro") or ("" if a.get("macro") else gettext("Choose the macro.")),
    "appease": lambda a: _ids_error(a, "pool"),
}


def validate(actions: Any) -> list[ActionError]:
    """Every problem of an action list, with its position ("2.field")."""
    if not isinstance(actions, list):
        return [ActionError("", gettext("Actions must be a list."))]
    if len(actions) > MAX_ACTIONS:
        return [ActionError("", gettext("At most %(n)s actions.") % {"n": MAX_ACTIONS})]
    errors = []
    for i, action in enumerate(actions):
        if not isinstance(action, dict) or action.get("type") not in ACTION_TYPES:
            kind = action.get("type") if isinstance(action, dict) else action
            errors.append(ActionError(f"{i}.type", gettext("Unknown action “%(type)s”.") % {"type": kind}))
            continue
        message = CHECKS[action["type"]](action)
        if message:
            errors.append(ActionError(f"{i}", message))
    return errors


# --- placeholder values ------------------------------------------------------------------------------------------


def reply_text(action: Mapping[str, Any], ticket: Ticket, values: Mapping[str, Any]) -> str:
    """The reply in the customer's language (the other language when only that one was written)."""
    zh, en = str(action.get("zh") or ""), str(action.get("en") or "")
    text = (zh or en) if customer_language(ticket) == "zh-hans" else (en or zh)
    return placeholders.render(text, values)


# --- carrying them out -------------------------------------------------------------------------------------------


def _set(ticket: Ticket, action: Mapping[str, Any], ctx: Context) -> str:
    from pivotdesk.tickets.services import ticket_update

    name = str(action["field"])
    if name.startswith("cf."):
        changes: dict[str, Any] = {"custom_fields": {name[3:]: action.get("value")}}
    else:
        changes = {FIELD_FOR.get(name, name): action.get("value")}
    _adopt(ticket, ticket_update(ticket=ticket, actor=ctx.actor, changes=changes))
    return ""


def _adopt(ticket: Ticket, fresh: Ticket) -> None:
    """Take the saved ticket's state into the instance the actions share (what `refresh_from_db` would read,
    without reading it): the next action needs no read of its own."""
    for f in Ticket._meta.concrete_fields:
        setattr(ticket, f.attname, getattr(fresh, f.attname))
    ticket.__dict__.pop("_prefetched_objects_cache", None)


def _tags(ticket: Ticket, action: Mapping[str, Any], ctx: Context) -> str:
    from pivotdesk.tickets.services import ticket_update

    _adopt(
        ticket, ticket_update(ticket=ticket, actor=ctx.actor, changes={action["type"]: list(action.get("tags") or [])})
    )
    return ""


def _assign(ticket: Ticket, action: Mapping[str, Any], ctx: Context) -> str:
    from pivotdesk.tickets.services import ticket_update

    if action.get("routing"):
        from pivotdesk.routing.models import Trigger
        from pivotdesk.routing.services import route_ticket

        route_ticket(actor=Actor.system("automation"), ticket=ticket, trigger=Trigger.NEW)
        return ""
    changes: dict[str, Any] = {}
    if action.get("agent") is not None:
        changes["assignee"] = action["agent"]
    if action.get("team") is not None:
        changes["team"] = action["team"]
    _adopt(ticket, ticket_update(ticket=ticket, actor=ctx.actor, changes=changes))
    return ""


def _follow(ticket: Ticket, action: Mapping[str, Any], ctx: Context) -> str:
    from pivotdesk.tickets.services import ticket_update

    current = list(ticket.followers.values_list("pk", flat=True))
    if action["agent"] not in current:
        ticket_update(ticket=ticket, actor=ctx.actor, changes={"followers": [*current, action["agent"]]})
    return ""


def _reply(ticket: Ticket, action: Mapping[str, Any], ctx: Context) -> str:
    from pivotdesk.tickets.services import message_create

    message_create(ticket=ticket, actor=ctx.actor, body=reply_text(action, ticket, ctx.values), kind="public")
    return ""


def _note(ticket: Ticket, action: Mapping[str, Any], ctx: Context) -> str:
    from pivotdesk.tickets.services import message_create

    body = placeholders.render(str(action.get("text") or ""), ctx.values)
    message_create(ticket=ticket, actor=ctx.actor, body=body, kind="note")
    return ""


def _notify(ticket: Ticket, action: Mapping[str, Any], ctx: Context) -> str:
    from pivotdesk.notifications.services import notify, notify_workspace

    system = Actor.system("automation")
    people = {
        a.pk: a
        for a in AgentProfile.objects.filter(
            workspace_id=ticket.workspace_id, is_active=True, pk__in=action.get("agents") or []
        )
    }
    for team in Team.objects.filter(workspace_id=ticket.workspace_id, pk__in=action.get("teams") or []):
        people.update({a.pk: a for a in team.members.filter(is_active=True)})
    title = placeholders.render(str(action.get("title") or ""), ctx.values) or f"#{ticket.number} {ticket.subject}"
    body = placeholders.render(str(action.get("text") or ""), ctx.values)
    key = f"automation:{ctx.rule_id}:{ticket.pk}:{ctx.values.get('event.id', '')}"
    for agent in people.values():
        notify(
            workspace=ticket.workspace,
            actor=system,
            recipient=agent,
            kind="automation.notify",
            title=title,
            body=body,
            ticket=ticket,
            dedupe_key=key,
        )
    if action.get("shared"):
        notify_workspace(
            workspace=ticket.workspace,
            actor=system,
            kind="automation.notify",
            title=title,
            body=body,
            ticket=ticket,
            dedupe_key=key,
        )
    return ""


def _webhook(ticket: Ticket, action: Mapping[str, Any], ctx: Context) -> str:
    from pivotdesk.common.events import publish

    from ..events import RuleFired

    publish(
        RuleFired(
            workspace_id=ticket.workspace_id,
            rule_id=ctx.rule_id or 0,
            rule_version=int(ctx.values.get("rule.version", 0) or 0),
            ticket_id=ticket.pk,
            actions=["webhook"],
            data={"label": str(action.get("label") or "")},
        )
    )
    return ""


def _create_linked(ticket: Ticket, action: Mapping[str, Any], ctx: Context) -> str:
    from pivotdesk.tickets.services import ticket_create, ticket_link, ticket_set_parent

    team = (
        Team.objects.filter(workspace_id=ticket.workspace_id, pk=int(action["team"])).first()
        if action.get("team")
        else None
    )
    priority = action.get("priority") if action.get("priority") in Priority.values else ticket.priority
    child = ticket_create(
        workspace=ticket.workspace,
        requester=ticket.requester,
        subject=placeholders.render(str(action["subject"]), ctx.values)[:255],
        body=placeholders.render(str(action.get("body") or ""), ctx.values) or ticket.subject,
        actor=ctx.actor,
        channel="api",
        priority=str(priority),
        team=team,
        tags=list(action.get("tags") or []),
        language=ticket.language,
    )
    if action.get("link") == "child":
        ticket_set_parent(child=child, parent=ticket, actor=ctx.actor)
    else:
        ticket_link(source=ticket, target=child, kind="related", actor=ctx.actor)
    ctx.created.append(child.pk)
    return f"#{child.number}"


def _later(kind: str) -> Callable[[Ticket, Mapping[str, Any], Context], str]:
    def run(ticket: Ticket, action: Mapping[str, Any], ctx: Context) -> str:
        from . import orchestration

        return orchestration.run_action(kind, ticket, action, ctx)

    return run


RUNNERS: dict[str, Callable[[Ticket, Mapping[str, Any], Context], str]] = {
    "set": _set,
    "add_tags": _tags,
    "remove_tags": _tags,
    "assign": _assign,
    "follow": _follow,
    "reply": _reply,
    "note": _note,
    "notify": _notify,
    "webhook": _webhook,
    "create_linked": _create_linked,
    "start_approval": _later("start_approval"),
    "start_chain": _later("start_chain"),
    "apply_macro": _later("apply_macro"),
    "appease": _later("appease"),
}


# The actions that leave the shared instance as saved (`_adopt`); after any other the next one reads it again.
ADOPTING = frozenset({"set", "add_tags", "remove_tags", "assign"})


def execute(ticket: Ticket, actions: Sequence[Mapping[str, Any]], ctx: Context) -> list[dict[str, Any]]:
    """Carry out the actions in order; each result says whether it worked and why not."""
    results: list[dict[str, Any]] = []
    with translation.override(customer_language(ticket)):
        for action in actions:
            kind = str(action.get("type"))
            try:
                if not ctx.current:
                    ticket.refresh_from_db()
                ctx.current = False
                with transaction.atomic():  # a savepoint: a failed action leaves no half-change behind
                    detail = RUNNERS[kind](ticket, action, ctx)
                ctx.current = kind in ADOPTING and not (kind == "assign" and action.get("routing"))
                results.append({"type": kind, "ok": True, "detail": detail})
            except DomainError as exc:
                results.append({"type": kind, "ok": False, "code": str(exc.code or "invalid"), "detail": exc.message})
            except KeyError:
                results.append({"type": kind, "ok": False, "code": "unknown_action", "detail": kind})
    return results
