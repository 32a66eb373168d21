"""After hours: a ticket that arrives when the desk is closed gets one auto-reply in the customer's language, with
the standard answers it matches and, when it paged, word that the on-call engineer is on it."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.oncall.services import afterhours, policies
from pivotdesk.sla.services.configuration import calendar_create
from pivotdesk.tickets.models import Message
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NIGHT = dt.datetime(2026, 12, 8, 2, 0, tzinfo=SHANGHAI)  # a Tuesday, 02:00
NOON = dt.datetime(2026, 12, 8, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def calendar(workspace):
    return calendar_create(
        workspace=workspace,
        actor=Actor.system(),
        name="Business hours",
        time_zone="Asia/Shanghai",
        weekly_hours={str(d): [["09:00", "18:00"]] for d in range(5)},
        country="CN",
        is_default=True,
    )


def _bot_replies(ticket):
    return list(
        Message.objects.filter(ticket=ticket, kind="public", author_agent__isnull=True, author_contact__isnull=True)
    )


@pytest.mark.parametrize(
    ("language", "expected"), [("zh-hans", "我们已收到您的请求"), ("en", "We have received your request")]
)
def test_the_auto_reply_speaks_the_customers_language(workspace, supervisor, calendar, language, expected):
    policies.answer_save(
        actor=Actor.for_agent(supervisor),
        workspace=workspace,
        name="Opening hours",
        keywords=["营业时间", "opening hours"],
        answer_zh="我们的营业时间是工作日 9:00–18:00。",
        answer_en="We are open on working days, 9:00–18:00.",
    )
    ticket = make_ticket(workspace=workspace, subject="营业时间 opening hours?", language=language)
    message = afterhours.after_hours_reply(actor=afterhours.BOT, ticket=ticket, at=NIGHT)
    assert message is not None
    assert expected in message.body_text
    assert ("9:00–18:00" in message.body_text) and "2026-12-08 09:00" in message.body_text
    # once per ticket
    assert afterhours.after_hours_reply(actor=afterhours.BOT, ticket=ticket, at=NIGHT) is None


def test_no_reply_during_business_hours(workspace, calendar):
    ticket = make_ticket(workspace=workspace, subject="hello", language="en")
    assert afterhours.after_hours_reply(actor=afterhours.BOT, ticket=ticket, at=NOON) is None


def test_the_reply_says_the_engineer_was_paged(workspace, calendar, supervisor):
    from pivotdesk.oncall.services import paging

    boss = Actor.for_agent(supervisor)
    policy = policies.policy_save(actor=boss, workspace=workspace, name="Urgent", conditions={"priorities": ["urgent"]})
    policies.policy_steps_set(actor=boss, policy=policy, steps=[{"level": 0, "agent": supervisor.pk}])
    ticket = make_ticket(workspace=workspace, subject="machine down", priority="urgent", language="en")
    assert paging.page_ticket(actor=paging.SYSTEM, ticket=ticket, at=NIGHT) is not None
    message = afterhours.after_hours_reply(actor=afterhours.BOT, ticket=ticket, at=NIGHT)
    assert message is not None and "on-call engineer has been paged" in message.body_text
    assert afterhours.asked_for_person("我要人工") and afterhours.asked_for_person("HUMAN please")


# --- the customer can always ask for a person ---------------------------------------------------------------------


def _customer_says(ticket, text):
    from pivotdesk.tickets.services import message_create

    return message_create(
        ticket=ticket, actor=Actor.for_contact(ticket.requester_id, "customer"), body=text, as_customer=True
    )


@pytest.mark.parametrize(
    ("language", "words", "expected"),
    [("zh-hans", "人工", "会有同事"), ("en", "Can I talk to a human please?", "marked for a person")],
)
def test_asking_the_bot_for_a_person_hands_the_ticket_over(workspace, calendar, language, words, expected):
    ticket = make_ticket(workspace=workspace, subject="打印机卡纸 paper jam", language=language)
    assert afterhours.after_hours_reply(actor=afterhours.BOT, ticket=ticket, at=NIGHT) is not None
    asked = _customer_says(ticket, words)
    reply = afterhours.person_requested(actor=afterhours.BOT, ticket=ticket, message=asked, at=NIGHT)
    assert reply is not None and expected in reply.body_text and "2026-12-08 09:00" in reply.body_text
    ticket.refresh_from_db()
    assert afterhours.PERSON_TAG in {t.name for t in ticket.tags.all()}
    assert ticket.events.filter(verb=afterhours.PERSON_MARK).count() == 1
    # once per ticket: asking again does not send another reply
    again = _customer_says(ticket, words)
    assert afterhours.person_requested(actor=afterhours.BOT, ticket=ticket, message=again, at=NIGHT) is None


def test_asking_for_a_person_after_opening_says_shortly(workspace, calendar):
    ticket = make_ticket(workspace=workspace, subject="invoice", language="en")
    afterhours.after_hours_reply(actor=afterhours.BOT, ticket=ticket, at=NIGHT)
    asked = _customer_says(ticket, "agent")
    reply = afterhours.person_requested(actor=afterhours.BOT, ticket=ticket, message=asked, at=NOON)
    assert reply is not None and "shortly" in reply.body_text


def test_only_a_short_request_for_a_person_after_the_bot_counts(workspace, calendar):
    ticket = make_ticket(workspace=workspace, subject="账户", language="en")
    # no after-hours reply on this ticket: the bot is not in the conversation
    assert (
        afterhours.person_requested(
            actor=afterhours.BOT, ticket=ticket, message=_customer_says(ticket, "人工"), at=NIGHT
        )
        is None
    )
    afterhours.after_hours_reply(actor=afterhours.BOT, ticket=ticket, at=NIGHT)
    for text in ("my personal account is locked", "the reagent spilled", "人工" + "很长的问题描述" * 40):
        message = _customer_says(ticket, text)
        assert afterhours.person_requested(actor=afterhours.BOT, ticket=ticket, message=message, at=NIGHT) is None
    assert not ticket.events.filter(verb=afterhours.PERSON_MARK).exists()


def test_the_customers_message_event_reaches_the_hand_over(workspace, calendar, django_capture_on_commit_callbacks):
    from pivotdesk.oncall.selectors import event_may_ask_for_person

    ticket = make_ticket(workspace=workspace, subject="设备问题", language="zh-hans")
    afterhours.after_hours_reply(actor=afterhours.BOT, ticket=ticket, at=NIGHT)
    asked = _customer_says(ticket, "转人工")
    event = {
        "name": "message.created",
        "workspace_id": workspace.pk,
        "payload": {"ticket_id": ticket.pk, "message_id": asked.pk, "kind": "public", "author_type": "contact"},
    }
    assert event_may_ask_for_person(event)
    assert not event_may_ask_for_person({**event, "payload": {**event["payload"], "author_type": "agent"}})
    from pivotdesk.oncall.tasks import person_asked_on_event

    person_asked_on_event(event)
    assert ticket.events.filter(verb=afterhours.PERSON_MARK).count() == 1
