"""After hours, for the customer: a new ticket that arrives when the desk is closed (the business hours of the
workspace's default calendar) gets one auto-reply in the customer's language saying when a person will answer,
that the on-call engineer has been paged (when a page was triggered), and the answers to the standard questions it
matches. The customer can always ask for a person: the reply says how, and such a reply is tagged for the morning.

Answers come from registered sources: the configurable `AfterHoursAnswer`s now; the knowledge base registers a
source later (`register_answer_source`). The SLA clock keeps its own business-hours rules; this changes nothing
there.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable

from django.utils import translation
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.permissions import authorize_system
from pivotdesk.common.domain.handover import asked_for_person
from pivotdesk.oncall.models import AfterHoursAnswer, Page
from pivotdesk.tickets.models import Message, Ticket
from pivotdesk.tickets.selectors import customer_language

BOT = Actor.system("after-hours bot")
MARK = "after_hours_reply"
PERSON_MARK = "after_hours_person"
PERSON_TAG = "转人工"
# What asking for a person looks like: the Chinese words anywhere, the English ones as whole words (so "personal"
# or "reagent" do not count), in a short message (a long one is a question, which the morning shift reads anyway).

AnswerSource = Callable[[Ticket, str], list[str]]
_SOURCES: list[AnswerSource] = []


def register_answer_source(source: AnswerSource) -> None:
    """Another app (the knowledge base) adds answers: (ticket, language) → answer texts."""
    if source not in _SOURCES:
        _SOURCES.append(source)


def _configured(ticket: Ticket, language: str) -> list[str]:
    text = f"{ticket.subject}\n{_first_message(ticket)}".lower()
    out = []
    for answer in AfterHoursAnswer.objects.filter(workspace_id=ticket.workspace_id, is_active=True):
        if any(str(k).strip() and str(k).lower() in text for k in answer.keywords or []):
            out.append(answer.answer_zh if language.startswith("zh") else answer.answer_en)
    return out[:3]


register_answer_source(_configured)


def _first_message(ticket: Ticket) -> str:
    return ticket.messages.order_by("created_at", "pk").values_list("body_text", flat=True).first() or ""


def _next_open(ticket: Ticket, at: dt.datetime) -> dt.datetime | None:
    from pivotdesk.common.calendars.calendar import is_open, next_open
    from pivotdesk.sla.calendars import domain_calendar
    from pivotdesk.sla.models import BusinessCalendar

    row = BusinessCalendar.objects.filter(workspace_id=ticket.workspace_id, is_default=True).first()
    if row is None:
        return None
    calendar = domain_calendar(row)
    if is_open(calendar, at):
        return None
    return next_open(calendar, at)


def _zone(ticket: Ticket) -> zoneinfo.ZoneInfo:
    """The time zone the customer is told opening times in: the default business calendar's, else the workspace's."""
    from pivotdesk.sla.models import BusinessCalendar

    name = (
        BusinessCalendar.objects.filter(workspace_id=ticket.workspace_id, is_default=True)
        .values_list("time_zone", flat=True)
        .first()
        or ticket.workspace.time_zone
    )
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("Asia/Shanghai")


def compose(ticket: Ticket, *, opens_at: dt.datetime, paged: bool, language: str, tz_name: str) -> str:
    """The reply's text in `language`."""
    local = opens_at.astimezone(zoneinfo.ZoneInfo(tz_name))
    with translation.override(language):
        when = local.strftime("%Y-%m-%d %H:%M")
        lines = [
            gettext("We have received your request #%(number)s. Our team is away now and will answer from %(when)s.")
            % {"number": ticket.number, "when": when}
        ]
        if paged:
            lines.append(gettext("Your request is urgent: the on-call engineer has been paged and will contact you."))
        answers = [a for source in _SOURCES for a in source(ticket, language)]
        if answers:
            lines.append(gettext("Meanwhile, this may help:"))
            lines.extend(f"- {a}" for a in answers)
        lines.append(gettext("To talk to a person, reply “人工” (or “human”); a colleague will take it first thing."))
    return "\n".join(lines)


def after_hours_reply(*, actor: Actor, ticket: Ticket, at: dt.datetime) -> Message | None:
    """Send the auto-reply once per ticket when it arrives outside business hours (system: the ticket's event)."""
    authorize_system(actor)
    from pivotdesk.tickets.services import message_create
    from pivotdesk.tickets.services.timeline import record

    if ticket.channel in ("agent", "api", "import") or ticket.events.filter(verb=MARK).exists():
        return None
    opens_at = _next_open(ticket, at)
    if opens_at is None:
        return None
    paged = Page.objects.filter(ticket=ticket).exists()
    language = customer_language(ticket)
    body = compose(ticket, opens_at=opens_at, paged=paged, language=language, tz_name=_zone(ticket).key)
    message = message_create(ticket=ticket, actor=BOT, body=body, kind="public")
    record(ticket=ticket, actor=BOT, verb=MARK, data={"language": language, "paged": paged})
    return message


def person_requested(*, actor: Actor, ticket: Ticket, message: Message, at: dt.datetime) -> Message | None:
    """The customer answered the after-hours bot asking for a person (system: the message's event): the ticket is
    tagged for the first person in (`转人工`), the timeline says so, and the customer is told, in their language, when
    a person answers — at once if the desk has opened meanwhile. Once per ticket; anything else is left alone."""
    authorize_system(actor)
    from pivotdesk.tickets.services import message_create, ticket_update
    from pivotdesk.tickets.services.timeline import record

    if (
        message.ticket_id != ticket.pk
        or message.author_contact_id is None
        or message.kind != "public"
        or not asked_for_person(message.body_text)
        or not ticket.events.filter(verb=MARK).exists()
        or ticket.events.filter(verb=PERSON_MARK).exists()
    ):
        return None
    language = customer_language(ticket)
    opens_at = _next_open(ticket, at)
    ticket_update(ticket=ticket, actor=BOT, changes={"add_tags": [PERSON_TAG]})
    with translation.override(language):
        if opens_at is None:
            body = gettext("Understood: a colleague will take over your request #%(number)s shortly.") % {
                "number": ticket.number
            }
        else:
            local = opens_at.astimezone(_zone(ticket))
            body = gettext(
                "Understood: your request #%(number)s is marked for a person, who will answer first thing from "
                "%(when)s."
            ) % {"number": ticket.number, "when": local.strftime("%Y-%m-%d %H:%M")}
    reply = message_create(ticket=ticket, actor=BOT, body=body, kind="public")
    record(
        ticket=ticket,
        actor=BOT,
        verb=PERSON_MARK,
        data={"language": language, "message": message.pk, "open": opens_at is None},
    )
    return reply
