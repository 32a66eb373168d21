"""The on-call panel of the ticket page: the ticket's latest page (status, policy, level, who was paged, the next
escalation, who acknowledged), acknowledge and resolve from it back to the ticket page, and a supervisor paging
on-call by hand (refused for an agent, said out loud when no policy matches)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.common.tests.zh_crawl import english_words, visible_texts
from pivotdesk.common.time import now
from pivotdesk.oncall.models import EscalationPolicy, Page, PageStatus, Partner
from pivotdesk.oncall.services import paging, policies, schedules
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def colleague(workspace):
    return AgentFactory(workspace=workspace)


@pytest.fixture
def night(workspace, supervisor, agent, colleague):
    """As in test_oncall_pages: a schedule rotating daily between me (today) and a colleague, a policy paging it at
    level 1 and a partner provider at level 2, and an open page on an urgent 停机 ticket."""
    boss = Actor.for_agent(supervisor)
    schedule = schedules.schedule_save(actor=boss, workspace=workspace, name="夜班值守")
    midnight = dt.datetime.combine(now().astimezone(SHANGHAI).date(), dt.time())
    schedules.layer_save(
        actor=boss, schedule=schedule, participants=[agent.pk, colleague.pk], start=midnight, turn_kind="daily"
    )
    partner = Partner.objects.create(workspace=workspace, name="夜间维修服务商", emails=["night@example.com"])
    policy = policies.policy_save(
        actor=boss, workspace=workspace, name="设备停机", conditions={"priorities": ["urgent"], "keywords": ["停机"]}
    )
    policies.policy_steps_set(
        actor=boss,
        policy=policy,
        steps=[
            {"level": 0, "timeout_minutes": 10, "schedule": schedule.pk},
            {"level": 1, "timeout_minutes": 10, "partner": partner.pk},
        ],
    )
    ticket = make_ticket(workspace=workspace, subject="3号产线停机", body="停机了", priority="urgent")
    page = paging.page_ticket(actor=paging.SYSTEM, ticket=ticket)
    assert page is not None
    return {"ticket": ticket, "page": page, "partner": partner, "policy": policy}


def _url(ticket: Ticket) -> str:
    return reverse("web:ticket", args=[ticket.number])


def _panel(html: str) -> str:
    assert 'id="oncall"' in html, "the ticket page shows the on-call panel"
    return html.split('id="oncall"', 1)[1].split("</section>", 1)[0]


def _flash(html: str) -> str:
    return html.split('class="flash"', 1)[1].split("</div></div>", 1)[0] if 'class="flash"' in html else ""


def test_the_panel_shows_the_level_and_who_was_paged_in_chinese_and_english(client_as, agent, colleague, night):
    ticket, page = night["ticket"], night["page"]
    zh = _panel(client_as(colleague, "zh-hans").get(_url(ticket)).content.decode())
    assert "值班呼叫" in zh and "呼叫中" in zh and "设备停机" in zh
    assert "第 1 级（共 2 级）" in zh and agent.name in zh
    assert reverse("web:oncall_page_acknowledge", args=[page.pk]) in zh and "确认接单" in zh
    assert reverse("web:oncall_page_resolve", args=[page.pk]) in zh
    assert f'name="next" value="{_url(ticket)}"' in zh
    local = page.next_escalation_at.astimezone(SHANGHAI)
    assert f"{local:%H:%M}" in zh and "以后" in zh  # the local time, and how long until then
    assert not english_words("panel", visible_texts(zh), phrases=[agent.name])
    en = _panel(client_as(colleague, "en").get(_url(ticket)).content.decode())
    assert "On-call page" in en and "Paging" in en and "Level 1 of 2" in en and agent.name in en
    assert "Next escalation" in en and "from now" in en
    assert "Page on-call" not in en  # an agent pages no one by hand


def test_the_next_level_names_the_partner_provider_and_the_round(client_as, agent, night):
    page = night["page"]
    assert paging.escalate_page(page, page.next_escalation_at + dt.timedelta(seconds=1))
    html = _panel(client_as(agent, "zh-hans").get(_url(night["ticket"])).content.decode())
    assert "第 2 级（共 2 级）" in html and "合作服务商：" in html and "夜间维修服务商" in html
    assert agent.name not in html  # who was paged at the current level only
    EscalationPolicy.objects.filter(pk=night["policy"].pk).update(repeat=2)
    Page.objects.filter(pk=page.pk).update(level=0, cycle=1)
    html = _panel(client_as(agent, "en").get(_url(night["ticket"])).content.decode())
    assert "Level 1 of 2" in html and "round 2 of 3" in html


def test_acknowledge_from_the_ticket_page_takes_the_ticket_and_comes_back(client_as, supervisor, night):
    ticket, page = night["ticket"], night["page"]
    boss = client_as(supervisor)
    response = boss.post(reverse("web:oncall_page_acknowledge", args=[page.pk]), {"next": _url(ticket)})
    assert response.status_code == 302 and response["Location"] == _url(ticket)  # not the pages list
    page.refresh_from_db()
    ticket.refresh_from_db()
    assert page.status == PageStatus.ACKNOWLEDGED and page.acknowledged_by_id == supervisor.pk
    assert ticket.assignee_id == supervisor.pk
    html = boss.get(_url(ticket)).content.decode()
    assert "Acknowledged: the ticket is yours." in _flash(html)
    panel = _panel(html)
    assert "Acknowledged by" in panel and supervisor.name in panel
    assert reverse("web:oncall_page_acknowledge", args=[page.pk]) not in panel
    assert reverse("web:oncall_page_resolve", args=[page.pk]) in panel
    assert "Next escalation" not in panel
    assert "Page on-call" in panel  # no open page any more: a supervisor may page again
    # acknowledged twice: the service's refusal, as a message on the ticket page
    again = boss.post(reverse("web:oncall_page_acknowledge", args=[page.pk]), {"next": _url(ticket)})
    assert again.status_code == 302 and again["Location"] == _url(ticket)
    assert "This page is no longer waiting." in _flash(boss.get(_url(ticket)).content.decode())


def test_resolve_from_the_ticket_page(client_as, agent, night):
    ticket, page = night["ticket"], night["page"]
    me = client_as(agent, "zh-hans")
    response = me.post(reverse("web:oncall_page_resolve", args=[page.pk]), {"next": _url(ticket)})
    assert response.status_code == 302 and response["Location"] == _url(ticket)
    page.refresh_from_db()
    ticket.refresh_from_db()
    assert page.status == PageStatus.RESOLVED and ticket.status != "solved"  # the ticket keeps its status
    panel = _panel(me.get(_url(ticket)).content.decode())
    assert "已解决" in panel
    assert reverse("web:oncall_page_resolve", args=[page.pk]) not in panel
    assert reverse("web:oncall_page_acknowledge", args=[page.pk]) not in panel


def test_a_next_elsewhere_is_ignored_and_the_pages_list_keeps_its_way(client_as, supervisor, night):
    page = night["page"]
    boss = client_as(supervisor)
    url = reverse("web:oncall_page_acknowledge", args=[page.pk])
    assert boss.post(url, {"next": "https://evil.example/"})["Location"] == reverse("web:oncall_pages")
    assert boss.post(url).status_code == 422  # from the list: re-rendered with the refusal, as before


def test_a_light_agent_sees_no_buttons_and_is_refused(client_as, light_agent, night):
    ticket, page = night["ticket"], night["page"]
    them = client_as(light_agent, "zh-hans")
    panel = _panel(them.get(_url(ticket)).content.decode())
    assert "第 1 级（共 2 级）" in panel and "<form" not in panel
    response = them.post(reverse("web:oncall_page_acknowledge", args=[page.pk]), {"next": _url(ticket)})
    assert response.status_code == 403 and "你的角色无权执行此操作" in response.content.decode()
    page.refresh_from_db()
    assert page.status == PageStatus.TRIGGERED


def test_a_supervisor_pages_on_call_by_hand(client_as, supervisor, agent, night):
    ticket, page = night["ticket"], night["page"]
    boss = client_as(supervisor)
    assert "Page on-call" not in _panel(boss.get(_url(ticket)).content.decode())  # a page is open
    paging.page_resolve(actor=Actor.for_agent(supervisor), page=page)
    assert "Page on-call" in _panel(boss.get(_url(ticket)).content.decode())
    response = boss.post(reverse("web:oncall_page_ticket", args=[ticket.number]))
    assert response.status_code == 302 and response["Location"] == _url(ticket)
    new = Page.objects.get(ticket=ticket, status=PageStatus.TRIGGERED)
    assert new.pk != page.pk and new.policy_id == night["policy"].pk
    html = boss.get(_url(ticket)).content.decode()
    assert "On call is paged" in _flash(html)
    panel = _panel(html)
    assert "Paging" in panel and agent.name in panel and "Page on-call" not in panel
    # pressed again while the page is open: said, not silent, and no second page
    boss.post(reverse("web:oncall_page_ticket", args=[ticket.number]))
    assert "This ticket already has an open page." in _flash(boss.get(_url(ticket)).content.decode())
    assert Page.objects.filter(ticket=ticket).count() == 2


def test_an_agent_may_not_page_by_hand(client_as, agent, night):
    ticket = night["ticket"]
    Page.objects.filter(pk=night["page"].pk).update(status=PageStatus.RESOLVED)
    me = client_as(agent, "zh-hans")
    assert reverse("web:oncall_page_ticket", args=[ticket.number]) not in me.get(_url(ticket)).content.decode()
    response = me.post(reverse("web:oncall_page_ticket", args=[ticket.number]))
    assert response.status_code == 403 and "你的角色无权执行此操作" in response.content.decode()
    assert not Page.objects.filter(ticket=ticket, status=PageStatus.TRIGGERED).exists()


@pytest.mark.parametrize(
    ("language", "message"),
    [("en", "No escalation policy matches this ticket."), ("zh-hans", "没有与此工单匹配的升级策略。")],
)
def test_no_policy_matches_is_said(client_as, supervisor, night, language, message):
    quiet = make_ticket(workspace=supervisor.workspace, subject="发票抬头", body="请改一下", priority="low")
    boss = client_as(supervisor, language)
    assert 'id="oncall"' in boss.get(_url(quiet)).content.decode()  # only the button: no page yet
    response = boss.post(reverse("web:oncall_page_ticket", args=[quiet.number]))
    assert response.status_code == 302 and response["Location"] == _url(quiet)
    assert message in _flash(boss.get(_url(quiet)).content.decode())
    assert not Page.objects.filter(ticket=quiet).exists()


def test_another_workspace_cannot_page_this_ticket(client_as, other_workspace, night):
    outsider = client_as(AgentFactory(workspace=other_workspace, role="supervisor"))
    ticket = night["ticket"]
    Page.objects.filter(pk=night["page"].pk).update(status=PageStatus.RESOLVED)
    assert outsider.post(reverse("web:oncall_page_ticket", args=[ticket.number])).status_code == 404
    assert not Page.objects.filter(ticket=ticket, status=PageStatus.TRIGGERED).exists()


def test_the_panel_costs_two_queries(client_as, agent, night):
    with CaptureQueriesContext(connection) as queries:
        assert client_as(agent).get(_url(night["ticket"])).status_code == 200
    oncall = [q["sql"] for q in queries.captured_queries if '"oncall_' in q["sql"]]
    assert len(oncall) <= 2, oncall
