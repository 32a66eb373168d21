"""Appeasement (情绪安抚): the `appease` action of a rule, and the outcome it leads to.

The rule decides when (its conditions: negative sentiment above a confidence, escalation phrases such as "投诉",
"曝光", "12315", "complaint", "lawyer", a repeat contact within N days — configurable like any rule). The action
records why it fired, offers the agent an empathetic opening in the customer's language (inserted with one click
on the ticket page), raises the priority one step, and — at level 2 (a second, higher sentiment confidence, a
severe phrase, or a VIP customer) — moves the ticket to the senior advisors' team and lets routing pick one of
them. The outcome (calmed down, complained further, left) is recorded as the ticket goes on, for the insights work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Team
from pivotdesk.accounts.permissions import authorize_system
from pivotdesk.ai.services.placeholders import values_for
from pivotdesk.common.domain import placeholders
from pivotdesk.common.time import now
from pivotdesk.tickets.models import PRIORITY_RANK, Priority, Ticket
from pivotdesk.tickets.selectors import customer_language

from ..domain.conditions import has_word
from ..models import Appeasement, AppeasementOutcome, AppeasementReason
from .actions import Context

PHRASES = ("投诉", "曝光", "12315", "消协", "媒体", "律师", "起诉", "complaint", "lawyer", "sue", "regulator")
SEVERE = ("12315", "曝光", "媒体", "律师", "起诉", "lawyer", "sue", "regulator")
REPEAT_DAYS = 7
SENIOR_CONFIDENCE = 0.85
STEP_UP = {Priority.LOW: Priority.NORMAL, Priority.NORMAL: Priority.HIGH, Priority.HIGH: Priority.URGENT}


def default_opening(language: str) -> str:
    """The empathetic opening when the rule did not write its own (the agent edits it before sending)."""
    with translation.override(language):
        return gettext(
            "{{ requester.name }}, I am truly sorry for the trouble this has caused you, and I understand how "
            "frustrating it is. I have taken over your request #{{ ticket.number }} personally and will stay with "
            "it until it is resolved."
        )


def _found(text: str, words: tuple[str, ...] | list[str]) -> list[str]:
    return [w for w in words if has_word(text, w)]


def reasons_for(ticket: Ticket, facts: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Why the ticket needs appeasing (reason codes) and the escalation phrases found."""
    text = f"{facts.get('subject', '')}\n{facts.get('body', '')}"
    phrases = _found(text, PHRASES)
    reasons = []
    if facts.get("sentiment") == "negative":
        reasons.append(AppeasementReason.SENTIMENT)
    if phrases:
        reasons.append(AppeasementReason.PHRASE)
    if (facts.get("requester_recent_tickets") or 0) >= 1:
        reasons.append(AppeasementReason.REPEAT)
    return [str(r) for r in reasons], phrases


def level_for(facts: Mapping[str, Any], phrases: list[str], action: Mapping[str, Any]) -> int:
    senior = float(action.get("senior_confidence") or SENIOR_CONFIDENCE)
    confident = facts.get("sentiment") == "negative" and (facts.get("sentiment_confidence") or 0) >= senior
    return 2 if confident or bool(facts.get("vip")) or bool(set(phrases) & set(SEVERE)) else 1


def run(ticket: Ticket, action: Mapping[str, Any], ctx: Context) -> str:
    """The `appease` action: once per ticket (a second firing leaves the first record)."""
    from pivotdesk.tickets.services import ticket_update

    from . import facts as fact_builder

    snapshot = fact_builder.build(ticket, at=now(), needs=fact_builder.all_fields())
    reasons, phrases = reasons_for(ticket, snapshot)
    level = max(1, min(2, int(action.get("level") or level_for(snapshot, phrases, action))))
    language = customer_language(ticket)
    own = str(action.get("opening_zh" if language == "zh-hans" else "opening_en") or "")
    opening = placeholders.render(own or default_opening(language), values_for(ticket)).lstrip(", ，")
    try:
        with transaction.atomic():
            Appeasement.objects.create(
                workspace_id=ticket.workspace_id, ticket=ticket, reasons=reasons, level=level, opening=opening
            )
    except IntegrityError:
        return gettext("already appeased")
    changes: dict[str, Any] = {}
    raised = STEP_UP.get(Priority(ticket.priority)) if ticket.priority in STEP_UP else None
    if raised and PRIORITY_RANK[raised] > PRIORITY_RANK[Priority(ticket.priority)]:
        changes["priority"] = raised
    pool = (
        Team.objects.filter(workspace_id=ticket.workspace_id, pk=int(action["pool"])).first()
        if action.get("pool")
        else None
    )
    if level == 2 and pool is not None:
        changes |= {"team": pool, "assignee": None}
    if changes:
        ticket_update(ticket=ticket, actor=ctx.actor, changes=changes)
    if level == 2 and pool is not None:
        from pivotdesk.routing.models import Trigger
        from pivotdesk.routing.services import route_ticket

        ticket.refresh_from_db()
        route_ticket(actor=Actor.system("automation"), ticket=ticket, trigger=Trigger.NEW)
    return gettext("level %(level)s") % {"level": level}


def outcome_on_event(
    *, actor: Actor, ticket: Ticket, customer_text: str = "", solved: bool = False, at: dt.datetime | None = None
) -> Appeasement | None:
    """What happened after appeasing (system: the ticket's events): a customer message with an escalation
    phrase → complained further; solved without one → calmed down. Set once; a person may correct it."""
    authorize_system(actor)
    row = Appeasement.objects.filter(ticket=ticket, outcome=AppeasementOutcome.OPEN).first()
    if row is None:
        return None
    outcome = None
    if customer_text and _found(customer_text, PHRASES):
        outcome = AppeasementOutcome.COMPLAINED
    elif solved:
        outcome = AppeasementOutcome.CALMED
    if outcome is None:
        return row
    Appeasement.objects.filter(pk=row.pk, outcome=AppeasementOutcome.OPEN).update(
        outcome=outcome, outcome_at=at or now()
    )
    row.refresh_from_db()
    return row
