"""The knowledge bot on the chat widget: the first message of a conversation gets the bot's answer (a public
article, with "did this solve it?") or, when the customer asked for a person or is upset, "connecting you to a
person…"; a reply "1" / "2" (or "转人工") to an answer is recorded as solved / not solved, and "not solved" hands
over. Handing over tags the ticket `转人工` and leaves it for the agents, who see the whole conversation on it.
When the bot is unsure it says nothing: the question waits for an agent as it would without the bot (the decision is
recorded all the same).

On by default; `Workspace.settings["knowledge"]["bot"] = False` turns it off. The bot's messages are public
messages authored by the bot (`AuthorType.BOT`), delivered to the widget like an agent's reply.
"""

from __future__ import annotations

import logging

from django.utils import translation

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.permissions import authorize_system
from pivotdesk.channels.models import InboundPayload, InboundStatus
from pivotdesk.common.domain.handover import asked_for_person
from pivotdesk.common.errors import DomainError
from pivotdesk.knowledge.domain import bot as rules
from pivotdesk.knowledge.models import BotAnswer, BotOutcome
from pivotdesk.knowledge.services import bot as knowledge_bot
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import AuthorType, Message, MessageKind, Status, Ticket

log = logging.getLogger(__name__)
CHANNEL = "chat"


def chat_bot_respond(*, actor: Actor, payload: InboundPayload) -> Message | None:
    """Let the bot answer a visitor's message that was just delivered (`chat_post`); the bot's message, or None
    when it stays quiet. A failure of the bot is logged and never fails the visitor's message. System only."""
    authorize_system(actor)
    try:
        return _respond(actor, payload)
    except Exception:
        log.exception("chat bot: no answer to payload %s", payload.pk)
        return None


def _respond(actor: Actor, payload: InboundPayload) -> Message | None:
    message = _delivered(payload)
    if message is None:
        return None
    ticket = message.ticket
    if ticket.status == Status.CLOSED or ticket.merged_into_id is not None:
        return None
    if not knowledge_bot.bot_settings(ticket.workspace).enabled:
        return None
    previous = knowledge_bot.latest_answer(ticket=ticket)
    if previous is None:
        return _first_answer(actor, ticket, message) if _is_first(ticket, message) else None
    if previous.outcome == BotOutcome.ANSWERED:
        return _follow_up(actor, ticket, message, previous)
    return None


def _delivered(payload: InboundPayload) -> Message | None:
    """The customer's chat message a freshly processed payload added (not a duplicate delivered again)."""
    if payload.status != InboundStatus.PROCESSED or payload.message_id is None:
        return None
    return (
        Message.objects.select_related("ticket__workspace")
        .filter(
            workspace_id=payload.workspace_id,
            pk=payload.message_id,
            author_type=AuthorType.CONTACT,
            kind=MessageKind.PUBLIC,
            channel=CHANNEL,
        )
        .first()
    )


def _is_first(ticket: Ticket, message: Message) -> bool:
    return not Message.objects.filter(ticket=ticket, author_type=AuthorType.CONTACT, pk__lt=message.pk).exists()


def _language(ticket: Ticket, text: str) -> str:
    """The customer's language: the message's script, else the widget's language, else the ticket's."""
    fallback = translation.get_language() or ticket.language or ticket.workspace.default_language
    return rules.guess_language(text, fallback)


def _first_answer(actor: Actor, ticket: Ticket, message: Message) -> Message | None:
    decision = knowledge_bot.decide(
        workspace_id=ticket.workspace_id,
        question=message.body_text,
        language=_language(ticket, message.body_text),
        channel=CHANNEL,
        ticket=ticket,
    )
    answer = knowledge_bot.record(actor=actor, decision=decision, ticket=ticket)
    if decision.answered:
        return _say(ticket, decision.reply_text, answer)
    if decision.announced:
        return _hand_over(ticket, decision.language, answer)
    return None


def _follow_up(actor: Actor, ticket: Ticket, message: Message, previous: BotAnswer) -> Message | None:
    """The customer's reply to an answer: 1 / 2 / "转人工"; anything else is left to the agents."""
    text = message.body_text
    solved = rules.feedback_choice(text)
    if solved is None and asked_for_person(text):
        solved = False
    if solved is None:
        return None
    language = previous.language or _language(ticket, text)
    if knowledge_bot.feedback(actor=actor, bot_answer=previous, solved=solved) == knowledge_bot.NEXT_HAND_OVER:
        return _hand_over(ticket, language, previous)
    reply = _say(ticket, knowledge_bot.thanks_text(language), previous)
    _solve(ticket)
    return reply


def _say(ticket: Ticket, text: str, answer: BotAnswer) -> Message:
    return ticket_services.message_create(
        ticket=ticket,
        actor=knowledge_bot.BOT,
        body=text,
        kind=MessageKind.PUBLIC,
        metadata={"knowledge_bot": {"answer": answer.pk}},
    )


def _hand_over(ticket: Ticket, language: str, answer: BotAnswer) -> Message:
    """Tell the customer a person takes over and tag the ticket for the agents."""
    reply = _say(ticket, knowledge_bot.handover_text(language), answer)
    ticket_services.ticket_update(
        ticket=ticket, actor=knowledge_bot.BOT, changes={"add_tags": [knowledge_bot.HANDOVER_TAG]}
    )
    return reply


def _solve(ticket: Ticket) -> None:
    """The answer solved it: the ticket is solved (a deflection). A ticket that cannot be solved yet (required
    fields, open children) stays for an agent."""
    try:
        ticket_services.ticket_update(ticket=ticket, actor=knowledge_bot.BOT, changes={"status": Status.SOLVED})
    except DomainError as exc:
        log.info("chat bot: ticket %s stays open: %s", ticket.pk, exc)
