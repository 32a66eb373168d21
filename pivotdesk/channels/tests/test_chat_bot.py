"""The knowledge bot on the chat widget, end to end through the widget's API: an answer from a public article on the
first message, "1" solves, "2" or "转人工" hands over (tagged, announced), unsure stays quiet, the switch turns it
off, and the bot's rule for "asking for a person" is night duty's."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.knowledge import retrieval, services
from pivotdesk.knowledge.domain import bot as rules
from pivotdesk.knowledge.models import BotAnswer, BotOutcome
from pivotdesk.knowledge.services import bot
from pivotdesk.search.services import document_build
from pivotdesk.tickets.models import AuthorType, Message, Status, Ticket

pytestmark = pytest.mark.django_db
ORIGIN = "https://shop.example.cn"


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def chat(workspace):
    return channel_account_create(
        actor=Actor.system(), workspace=workspace, kind="chat", name="Website chat",
        config={"allowed_origins": [ORIGIN], "away_after_minutes": 5},
    )  # fmt: skip


@pytest.fixture
def desk(workspace, supervisor):
    saved = {}
    for language, visibility, title, body in [
        ("zh-hans", "public", "忘记密码怎么办", "在登录页点击“忘记密码”，按短信验证码重设。"),
        ("en", "public", "Track your parcel", "Open **My orders** and choose Track."),
        ("zh-hans", "internal", "退款审批", "内部：超额退款在后台审批。"),
    ]:
        article = services.article_save(
            actor=Actor.for_agent(supervisor), workspace=workspace, title=title, body=body, language=language,
            status="published", visibility=visibility,
        )  # fmt: skip
        document_build(kind="article", object_id=article.pk)
        saved[title] = article
    retrieval.forget_indexes()
    return saved


class Visitor:
    """A widget: a client with the visitor token header, posting from the shop's origin."""

    def __init__(self, account, language: str = "zh-hans") -> None:
        self.key = account.webhook_key
        headers = {"origin": ORIGIN, "accept-language": language}
        data = Client(headers=headers).post(reverse("channels:chat_session", args=[self.key])).json()
        self.client = Client(headers={**headers, "x-pivotdesk-visitor": data["token"]})
        self.sent = 0

    def say(self, text: str):
        self.sent += 1
        body = {"text": text, "client_id": f"c-{self.sent}"}
        return self.client.post(
            reverse("channels:chat_messages", args=[self.key]), json.dumps(body), content_type="application/json"
        )

    def conversation(self) -> list[tuple[str, str]]:
        found = self.client.get(reverse("channels:chat_messages", args=[self.key]), {"since": 0}).json()
        return [(m["from"], m["text"]) for m in found["messages"]]


def _text(language: str, msgid: str) -> str:
    with translation.override(language):
        return gettext(msgid)


def _tags(ticket: Ticket) -> set[str]:
    return set(ticket.tags.values_list("name", flat=True))


def test_the_first_message_gets_the_article_and_1_solves_the_ticket(chat, desk, workspace):
    v = Visitor(chat)
    assert v.say("忘记密码怎么办").status_code == 201

    ticket = Ticket.objects.get(workspace=workspace)
    answer = BotAnswer.objects.get(ticket=ticket)
    (who, first), (bot_side, reply) = v.conversation()
    assert (who, first, bot_side) == ("visitor", "忘记密码怎么办", "agent")
    assert reply.splitlines()[:2] == ["忘记密码怎么办", "在登录页点击“忘记密码”，按短信验证码重设。"]
    assert f"/help/{workspace.slug}/a/{desk['忘记密码怎么办'].pk}/" in reply
    assert reply.splitlines()[-1] == _text("zh-hans", "Did this solve it? Reply 1 = solved, 2 = talk to a person.")
    assert Message.objects.get(body_text=reply).author_type == AuthorType.BOT
    assert (answer.outcome, answer.article, answer.channel) == (BotOutcome.ANSWERED, desk["忘记密码怎么办"], "chat")

    assert v.say("1").status_code == 201
    answer.refresh_from_db()
    ticket.refresh_from_db()
    assert answer.outcome == BotOutcome.SOLVED and ticket.status == Status.SOLVED
    assert v.conversation()[-1] == (
        "agent", _text("zh-hans", "Glad it helped! Write again any time if you need anything else.")
    )  # fmt: skip


def test_2_records_not_solved_and_hands_over_with_a_tag(chat, desk, workspace):
    v = Visitor(chat, language="en")
    v.say("Track your parcel")
    v.say("2")

    ticket = Ticket.objects.get(workspace=workspace)
    assert BotAnswer.objects.get(ticket=ticket).outcome == BotOutcome.NOT_SOLVED
    assert v.conversation()[-1] == ("agent", _text("en", "Connecting you to a person…"))
    assert bot.HANDOVER_TAG in _tags(ticket) and ticket.status != Status.SOLVED
    v.say("2")  # the bot has handed over: it stays quiet now
    assert len(v.conversation()) == 5


def test_asking_for_a_person_after_an_answer_is_not_solved(chat, desk, workspace):
    v = Visitor(chat)
    v.say("忘记密码怎么办")
    v.say("还是不行，转人工")
    assert BotAnswer.objects.get().outcome == BotOutcome.NOT_SOLVED
    assert bot.HANDOVER_TAG in _tags(Ticket.objects.get(workspace=workspace))


def test_asking_for_a_person_first_hands_over_at_once(chat, desk, workspace):
    v = Visitor(chat)
    v.say("转人工")
    ticket = Ticket.objects.get(workspace=workspace)
    answer = BotAnswer.objects.get(ticket=ticket)
    assert (answer.outcome, rules.reason_code(answer.reason)) == (BotOutcome.HANDED_OVER, rules.ASKED)
    assert v.conversation() == [("visitor", "转人工"), ("agent", _text("zh-hans", "Connecting you to a person…"))]
    assert bot.HANDOVER_TAG in _tags(ticket)


def test_an_upset_customer_is_handed_over(chat, desk, workspace):
    v = Visitor(chat)
    v.say("忘记密码怎么办？你们的系统太垃圾了，我要投诉")
    answer = BotAnswer.objects.get()
    assert rules.reason_code(answer.reason) == rules.UPSET and answer.article is None
    assert v.conversation()[-1] == ("agent", _text("zh-hans", "Connecting you to a person…"))


def test_when_unsure_the_bot_stays_quiet_and_records_the_hand_over(chat, desk, workspace):
    v = Visitor(chat)
    v.say("你好，我的订单还没发货")
    v.say("订单号 88231")
    assert [who for who, _ in v.conversation()] == ["visitor", "visitor"]
    answer = BotAnswer.objects.get()
    assert answer.outcome == BotOutcome.HANDED_OVER and answer.ticket == Ticket.objects.get(workspace=workspace)
    assert not _tags(answer.ticket)


def test_internal_articles_are_never_sent_to_the_widget(chat, desk, workspace):
    v = Visitor(chat)
    v.say("退款审批")
    assert [who for who, _ in v.conversation()] == ["visitor"]
    assert BotAnswer.objects.get().article is None


def test_a_repeated_post_gets_no_second_answer(chat, desk, workspace):
    v = Visitor(chat)
    v.say("忘记密码怎么办")
    v.sent -= 1
    assert v.say("忘记密码怎么办").status_code == 201  # the same client id: a duplicate
    assert BotAnswer.objects.count() == 1 and len(v.conversation()) == 2


def test_the_workspace_setting_turns_the_bot_off(chat, desk, workspace):
    workspace.settings = {"knowledge": {"bot": False}}
    workspace.save()
    v = Visitor(chat)
    v.say("忘记密码怎么办")
    v.say("转人工")
    assert [who for who, _ in v.conversation()] == ["visitor", "visitor"]
    assert not BotAnswer.objects.exists()


def test_a_failing_bot_never_fails_the_visitor_s_message(chat, desk, workspace, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("index unavailable")

    monkeypatch.setattr(bot.retrieval, "search_articles", broken)
    v = Visitor(chat)
    assert v.say("忘记密码怎么办").status_code == 201
    assert v.conversation() == [("visitor", "忘记密码怎么办")]
