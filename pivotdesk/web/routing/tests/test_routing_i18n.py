"""Routing in the reader's language (issue 12): decisions keep facts (codes and numbers) and every page renders them
as a Chinese or an English sentence at display time; strategies, factors, relax steps, channel types and policy
conditions are named, not shown as codes."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.tests.zh_crawl import english_words, visible_texts
from pivotdesk.routing import services
from pivotdesk.routing.models import QueuedTicket, RoutingDecision, Trigger
from pivotdesk.routing.services.pool import clear_pool_cache
from pivotdesk.routing.tests.factories import policy
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.tests.factories import make_ticket
from pivotdesk.web.routing import explain

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _routing(settings):
    settings.ROUTING_POOL_CACHE_SECONDS = 0
    settings.ROUTING_LOAD_CACHE_SECONDS = 0
    settings.PIVOTDESK_AI_ENABLED = False
    clear_pool_cache()


def _english(html: str, page: str, names: list[str]) -> list[str]:
    return [f.word for f in english_words(page, visible_texts(html), phrases=names)]


def test_a_decision_stores_facts_and_is_read_in_either_language(workspace, agent, supervisor, client_as):
    # given a ticket routed to the only agent online
    supervisor.status = "offline"
    supervisor.save()
    policy(workspace)
    ticket = make_ticket(workspace=workspace, subject="打印机卡纸")
    services.route_ticket(actor=Actor.system(), ticket=ticket, trigger=Trigger.NEW)
    row = RoutingDecision.objects.get(ticket=ticket)
    # then the decision keeps codes and numbers, not only a sentence
    assert row.reason_data["outcome"] == "assigned" and row.reason_data["strategy"] == "weighted"
    assert {f["key"] for f in row.reason_data["agent"]["facts"]} >= {"load", "recent_assignments"}
    assert row.reason_data["excluded"] == {"offline": 1}
    # when a Chinese supervisor reads the dispatch page and the ticket's timeline
    dispatch = client_as(supervisor, "zh-hans").get("/dispatch/").content.decode()
    timeline = client_as(supervisor, "zh-hans").get(f"/tickets/{ticket.number}/").content.decode()
    # then the reason is a Chinese sentence, with the agent's name as it is
    assert f"选中：{agent.name}（加权得分" in dispatch and "不符合条件：1 位离线。" in dispatch
    assert "Chosen" not in dispatch and "weighted score" not in dispatch
    assert f"选中：{agent.name}（加权得分" in timeline and "Chosen:" not in timeline
    # and in English it reads as the sentence stored beside the data
    english = client_as(supervisor).get("/dispatch/").content.decode()
    assert f"Chosen: {agent.name} (weighted score, score " in english and "Not eligible: 1 offline." in english


def test_the_waiting_queue_says_why_in_chinese(workspace, supervisor, client_as):
    # given nobody online: the ticket waits, its reason stored as data on the queue row
    supervisor.status = "offline"
    supervisor.save()
    policy(workspace)
    ticket = make_ticket(workspace=workspace, subject="没人在线")
    services.route_ticket(actor=Actor.system(), ticket=ticket, trigger=Trigger.NEW)
    queued = QueuedTicket.objects.get(ticket=ticket)
    assert queued.last_reason_data["outcome"] == "waiting" and queued.last_reason_data["excluded"] == {"offline": 1}
    # when the queue is read in Chinese
    html = client_as(supervisor, "zh-hans").get("/dispatch/queue/").content.decode()
    # then the reason is Chinese
    assert "现在没有客服能接这个工单（1 位离线）。它在等待队列中，放宽级别 0/" in html
    assert "No agent can take" not in html


def test_a_failed_attempt_is_explained_from_its_data():
    text = explain.reason_text({"failed": True, "error": "RuntimeError: boom"}, "Routing failed: boom")
    assert "RuntimeError: boom" in text


def test_decisions_recorded_before_the_data_had_an_outcome_show_their_stored_sentence():
    assert explain.reason_text({"override": False}, "Chosen: Wang (weighted score, score 0.50)") == (
        "Chosen: Wang (weighted score, score 0.50)"
    )


def test_policy_pages_name_factors_steps_and_conditions(workspace, supervisor, client_as):
    # given a policy with conditions on tiers, channels and a category with a Chinese name
    refunds = ticket_services.category_create(actor=Actor.system(), workspace=workspace, name="Refunds", name_zh="退款")
    routing_policy = policy(
        workspace,
        name="退款 VIP",
        conditions={"tiers": ["vip"], "channels": ["email"], "categories": [refunds.pk], "languages": ["zh"]},
    )
    client = client_as(supervisor, "zh-hans")
    # when the list, the edit form and the preview are read in Chinese
    listing = client.get("/dispatch/policies/").content.decode()
    form = client.get(f"/dispatch/policies/{routing_policy.pk}/").content.decode()
    preview = client.get(f"/dispatch/policies/{routing_policy.pk}/preview/").content.decode()
    # then conditions, factors and the relaxation ladder are named in Chinese
    assert "客户等级: VIP" in listing and "分类: 退款" in listing and "语言: 中文" in listing
    assert "tiers:" not in listing and "categories:" not in listing
    assert "客户价值" in form and "公平性" in form and "1. 技能等级" in form and "6. 团队（溢出到任意团队）" in form
    for page, html in (("/dispatch/policies/", listing), ("/dispatch/policies/1/", form), ("/preview/", preview)):
        assert _english(html, page, [workspace.name, supervisor.name]) == [], page


def test_the_board_names_channel_types(workspace, supervisor, client_as):
    html = client_as(supervisor, "zh-hans").get("/dispatch/board/").content.decode()
    assert '<span class="rt-kind">邮件</span>' in html and '<span class="rt-kind">email</span>' not in html
