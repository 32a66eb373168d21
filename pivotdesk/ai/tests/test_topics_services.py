"""Emerging topics through the services: refresh from out-of-scope tickets (idempotent, decisions kept), promote to a
category (tickets filed, on their timelines), dismiss, and the out-of-scope setting."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from pivotdesk.accounts.actors import Actor
from pivotdesk.ai.domain.scope import DEFAULT_FLAG_RATE
from pivotdesk.ai.domain.steps import FieldPrediction
from pivotdesk.ai.models import EmergingTopic, TopicStatus
from pivotdesk.ai.selectors import ai_settings
from pivotdesk.ai.services import apply, topics
from pivotdesk.ai.services.settings import OUT_OF_SCOPE_RATE_DEFAULT, ai_settings_update, out_of_scope_rate
from pivotdesk.ai.tasks import refresh_topics
from pivotdesk.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Category, Ticket, TicketEvent
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")
FACE = [
    ("新版App刷脸一直失败", "升级以后刷脸总是提示人脸识别失败，活体检测不通过。"),
    ("人脸识别过不了活体检测", "新版本人脸识别让我眨眼，最后提示活体检测未通过。"),
    ("人脸识别页面黑屏", "新版App人脸识别页面黑屏，活体检测超时。"),
    ("刷脸提示人脸与照片不一致", "人脸识别失败，提示人脸与注册照片不一致，活体检测也失败。"),
]
EVERYDAY = [
    ("申请退款", "订单的退款还没到账，请尽快退回银行卡。"),
    ("快递一直没到", "物流信息三天没更新，包裹还没收到。"),
    ("发票抬头写错了", "请帮忙重开增值税发票，税号写错了。"),
    ("忘记密码", "收不到验证码，无法重置密码。"),
]


def ticket_with_category_prediction(workspace, subject: str, body: str, *, out_of_scope: bool) -> Ticket:
    """A customer's ticket, triaged: its category prediction stored by the apply service (out of scope, or not)."""
    ticket = make_ticket(workspace=workspace, subject=subject, body=body)
    prediction = FieldPrediction("category", None, 0.3, "test-model", "1", out_of_scope=out_of_scope)
    apply.predictions_apply(
        actor=SYSTEM, ticket=ticket, predictions=[prediction], config=ai_settings(workspace=workspace)
    )
    return ticket


@pytest.fixture(autouse=True)
def _no_triage_on_intake(settings):
    settings.PIVOTDESK_AI_ENABLED = False  # the predictions are stored by hand; intake need not triage too


@pytest.fixture
def face_tickets(workspace):
    for subject, body in EVERYDAY * 2:
        ticket_with_category_prediction(workspace, subject, body, out_of_scope=False)
    return [ticket_with_category_prediction(workspace, s, b, out_of_scope=True) for s, b in FACE]


def test_refresh_groups_the_out_of_scope_tickets_into_a_topic(workspace, face_tickets):
    # given four out-of-scope tickets about face recognition, and in-scope everyday tickets
    # when the topics are refreshed
    result = topics.topics_refresh(actor=SYSTEM, workspace=workspace)
    # then one open topic holds exactly the four, named by their words, with examples and when it was seen
    assert len(result.topics) == 1 and result.created == 1
    topic = EmergingTopic.objects.get(workspace=workspace)
    assert topic.status == TopicStatus.OPEN and topic.size == 4
    assert set(topic.tickets.values_list("pk", flat=True)) == {t.pk for t in face_tickets}
    assert "人脸识别" in topic.terms[:3] and "人脸识别" in topic.label
    assert {e["number"] for e in topic.examples} == {t.number for t in face_tickets}
    created = [t.created_at for t in face_tickets]
    assert topic.first_seen_at == min(created) and topic.last_seen_at == max(created)


def test_refresh_is_idempotent_and_updates_the_same_topic(workspace, face_tickets):
    first = topics.topics_refresh(actor=SYSTEM, workspace=workspace).topics[0]
    # a new ticket about the same problem arrives
    late = ticket_with_category_prediction(
        workspace, "刷脸失败", "人脸识别失败，活体检测不通过，新版App。", out_of_scope=True
    )
    again = topics.topics_refresh(actor=SYSTEM, workspace=workspace)
    assert again.created == 0 and again.updated == 1 and again.removed == 0
    topic = EmergingTopic.objects.get(workspace=workspace)
    assert topic.pk == first.pk and topic.size == 5 and topic.last_seen_at == late.created_at
    assert topics.topics_refresh(actor=SYSTEM, workspace=workspace).created == 0
    assert EmergingTopic.objects.filter(workspace=workspace).count() == 1


def test_a_ticket_someone_filed_under_a_category_is_covered_and_not_grouped(workspace, face_tickets, admin_agent):
    # given the four face-recognition tickets, one of which an agent files under an existing category
    category = Category.objects.create(workspace=workspace, name="Login")
    ticket_services.ticket_update(
        ticket=face_tickets[0], actor=Actor.for_agent(admin_agent), changes={"category": category}
    )
    # when the topics are refreshed, then the filed one is left out (three remain: still a topic)
    topic = topics.topics_refresh(actor=SYSTEM, workspace=workspace).topics[0]
    assert set(topic.tickets.values_list("pk", flat=True)) == {t.pk for t in face_tickets[1:]}


def test_a_ticket_later_filed_in_scope_leaves_the_topic_and_an_old_topic_goes(workspace, face_tickets):
    topics.topics_refresh(actor=SYSTEM, workspace=workspace)
    # when one ticket's newest category prediction is in scope, and then all of them are older than the window
    apply.predictions_apply(
        actor=SYSTEM,
        ticket=face_tickets[0],
        predictions=[FieldPrediction("category", None, 0.9, "test-model", "2")],
        config=ai_settings(workspace=workspace),
    )
    topics.topics_refresh(actor=SYSTEM, workspace=workspace)
    assert EmergingTopic.objects.get(workspace=workspace).size == 3
    Ticket.objects.filter(workspace=workspace).update(created_at=face_tickets[0].created_at - dt.timedelta(days=40))
    result = topics.topics_refresh(actor=SYSTEM, workspace=workspace)
    # then the open topic is gone
    assert result.removed == 1 and not EmergingTopic.objects.filter(workspace=workspace).exists()


def test_a_dismissed_topic_stays_dismissed_and_is_not_found_again(workspace, face_tickets, admin_agent):
    topic = topics.topics_refresh(actor=SYSTEM, workspace=workspace).topics[0]
    topics.topic_dismiss(actor=Actor.for_agent(admin_agent), workspace=workspace, topic_id=topic.pk)
    result = topics.topics_refresh(actor=SYSTEM, workspace=workspace)
    assert result.topics == [] and result.created == 0
    assert list(EmergingTopic.objects.filter(workspace=workspace).values_list("status", flat=True)) == ["dismissed"]
    with pytest.raises(Conflict):
        topics.topic_dismiss(actor=Actor.for_agent(admin_agent), workspace=workspace, topic_id=topic.pk)


def test_promoting_a_topic_creates_the_category_and_files_its_tickets(workspace, face_tickets, admin_agent):
    topic = topics.topics_refresh(actor=SYSTEM, workspace=workspace).topics[0]
    actor = Actor.for_agent(admin_agent)
    # when an admin makes it a category, with an edited name
    promoted, category = topics.topic_promote(actor=actor, workspace=workspace, topic_id=topic.pk, name="  刷脸 登录 ")
    # then the category exists (Chinese name in both columns), the topic points at it
    assert category.name == "刷脸 登录" and category.name_zh == "刷脸 登录" and category.workspace == workspace
    promoted.refresh_from_db()
    assert promoted.status == TopicStatus.PROMOTED and promoted.category == category
    # and its tickets are filed under it, on each timeline as the admin
    assert set(Ticket.objects.filter(category=category).values_list("pk", flat=True)) == {t.pk for t in face_tickets}
    events = TicketEvent.objects.filter(ticket__in=face_tickets, field="category", actor_type="agent")
    assert events.count() == len(face_tickets)
    # a second click is refused, and a refresh keeps the decision
    with pytest.raises(Conflict):
        topics.topic_promote(actor=actor, workspace=workspace, topic_id=topic.pk)
    assert topics.topics_refresh(actor=SYSTEM, workspace=workspace).topics == []


def test_promote_defaults_to_the_label_and_refuses_bad_names(workspace, face_tickets, admin_agent):
    topic = topics.topics_refresh(actor=SYSTEM, workspace=workspace).topics[0]
    actor = Actor.for_agent(admin_agent)
    for bad in ("   ", "x" * 121):
        with pytest.raises(ValidationFailed):
            topics.topic_promote(actor=actor, workspace=workspace, topic_id=topic.pk, name=bad)
    assert EmergingTopic.objects.get(pk=topic.pk).status == TopicStatus.OPEN
    _topic, category = topics.topic_promote(actor=actor, workspace=workspace, topic_id=topic.pk)
    assert category.name == topic.label


def test_topics_of_another_workspace_are_not_found_and_an_agent_may_not_decide(
    workspace, other_workspace, face_tickets, agent
):
    topic = topics.topics_refresh(actor=SYSTEM, workspace=workspace).topics[0]
    with pytest.raises(NotFound):
        topics.topic_dismiss(actor=SYSTEM, workspace=other_workspace, topic_id=topic.pk)
    with pytest.raises(PermissionDenied):  # naming a new kind of problem is a supervisor's (CATEGORY_MANAGE)
        topics.topic_promote(actor=Actor.for_agent(agent), workspace=workspace, topic_id=topic.pk)
    assert not Category.objects.filter(workspace=workspace, name=topic.label).exists()


def test_the_hourly_task_refreshes_every_workspace_with_out_of_scope_tickets(
    workspace, other_workspace, face_tickets, admin_agent
):
    refresh_topics()
    assert EmergingTopic.objects.filter(workspace=workspace, status=TopicStatus.OPEN).count() == 1
    assert not EmergingTopic.objects.filter(workspace=other_workspace).exists()
    with pytest.raises(PermissionDenied):  # it crosses workspaces: the system's job only
        topics.topics_refresh_all(actor=Actor.for_agent(admin_agent))


# --- the out-of-scope setting ---------------------------------------------------------------------------------------
def test_the_out_of_scope_rate_is_stored_in_the_ai_settings(workspace, admin_agent):
    workspace.settings = {"ai": {"thresholds": {"category": 0.7}}}
    workspace.save()
    assert out_of_scope_rate(workspace) == OUT_OF_SCOPE_RATE_DEFAULT == DEFAULT_FLAG_RATE * 100  # the detector's
    ai_settings_update(actor=Actor.for_agent(admin_agent), workspace=workspace, out_of_scope_rate="2,5 %")
    workspace.refresh_from_db()
    assert workspace.settings["ai"] == {"thresholds": {"category": 0.7}, "out_of_scope_rate": 2.5}
    assert out_of_scope_rate(workspace) == 2.5


@pytest.mark.parametrize("bad", ["0.4", "20.5", "abc", "", "nan", "inf", True, None])
def test_an_out_of_scope_rate_outside_half_a_percent_to_twenty_is_refused_in_the_readers_language(
    workspace, admin_agent, bad
):
    with translation.override("zh-hans"), pytest.raises(ValidationFailed) as caught:
        ai_settings_update(actor=Actor.for_agent(admin_agent), workspace=workspace, out_of_scope_rate=bad)
    assert "0.5" in caught.value.message and "20" in caught.value.message
    assert any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.message)
    workspace.refresh_from_db()
    assert "out_of_scope_rate" not in (workspace.settings.get("ai") or {})
