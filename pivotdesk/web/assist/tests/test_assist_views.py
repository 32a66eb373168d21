"""Agent assist on the ticket page: the panel lists the matching articles (with highlighted snippets and a filled
template), similar resolved tickets with what solved them, and the suggested reply; the feedback buttons record
"used / useful / not useful" once per agent; the resolution form records the root cause and solves; the grouped
search finds tickets, articles and customers; another workspace's tickets and ids are refused; the panel reads in
Chinese."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.tests.zh_crawl import english_words, visible_texts
from pivotdesk.knowledge import services
from pivotdesk.knowledge.models import AssistFeedback, Resolution, RootCause
from pivotdesk.search.services import document_build
from pivotdesk.tickets.services.messages import message_create
from pivotdesk.tickets.services.tickets import ticket_update
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def desk(workspace, supervisor, agent, contact):
    boss = Actor.for_agent(supervisor)
    article = services.article_save(
        actor=boss, workspace=workspace, title="软件授权失效怎么办", language="zh-hans", status="published",
        body="{{ requester.name }}您好：\n\n1. 打开设置 → 授权，点击重新激活。\n2. macOS 还要在防火墙里允许本软件。",
    )  # fmt: skip
    document_build(kind="article", object_id=article.pk)
    old = make_ticket(workspace=workspace, requester=contact, subject="软件授权失效", body="授权失效了，重新激活没用")
    message_create(ticket=old, actor=Actor.for_agent(agent), body="在 macOS 上要在防火墙里允许本软件，然后重新激活。")
    ticket_update(ticket=old, actor=Actor.for_agent(agent), changes={"status": "solved"})
    document_build(kind="ticket", object_id=old.pk)
    ticket = make_ticket(workspace=workspace, requester=contact, subject="软件授权失效", body="昨天开始提示授权失效")
    document_build(kind="ticket", object_id=ticket.pk)
    return {"article": article, "old": old, "ticket": ticket}


def test_the_panel_shows_articles_similar_tickets_and_a_filled_reply(client_as, agent, desk, contact):
    response = client_as(agent).get(reverse("web:ticket_assist", args=[desk["ticket"].number]), **HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-article="{desk["article"].pk}"' in html
    assert "<mark>授权</mark>" in html or "<mark>失效</mark>" in html
    assert f'data-similar-ticket="{desk["old"].pk}"' in html and "防火墙里允许本软件" in html
    assert f"{contact.display_name}您好" in html  # the template's placeholder filled from the ticket
    page = client_as(agent).get(reverse("web:ticket", args=[desk["ticket"].number])).content.decode()
    assert reverse("web:ticket_assist", args=[desk["ticket"].number]) in page


def test_feedback_is_recorded_once_per_agent_and_suggestion(client_as, agent, desk):
    url = reverse("web:ticket_assist_feedback", args=[desk["ticket"].number])
    client = client_as(agent)
    for body in ({"used": "1"}, {"useful": "1"}, {"useful": "0"}):
        response = client.post(url, {"kind": "article", "object_id": desk["article"].pk, **body}, **HX)
        assert response.status_code == 200
    row = AssistFeedback.objects.get()
    assert (row.used, row.useful, row.agent_id, row.object_id) == (True, False, agent.pk, desk["article"].pk)
    assert client.post(url, {"kind": "nonsense", "object_id": 1}, **HX).status_code == 404


def test_the_resolution_form_records_the_cause_and_solves(client_as, agent, desk, workspace):
    cause = RootCause.objects.create(workspace=workspace, code="licence", name_zh="授权失效", name_en="Licence expired")
    url = reverse("web:ticket_resolution", args=[desk["ticket"].number])
    response = client_as(agent).post(
        url, {"root_cause": cause.pk, "solution": "防火墙放行后重新激活", "solve": "1"}, **HX
    )
    assert response.status_code == 200
    resolution = Resolution.objects.get(ticket=desk["ticket"])
    assert resolution.root_cause == cause and resolution.solution == "防火墙放行后重新激活"
    desk["ticket"].refresh_from_db()
    assert desk["ticket"].status == "solved"


def test_another_workspace_is_refused(client_as, agent, other_workspace, desk):
    foreign = make_ticket(workspace=other_workspace)
    client = client_as(agent)
    assert client.get(reverse("web:ticket_assist", args=[foreign.number + 1000]), **HX).status_code == 404
    foreign_cause = RootCause.objects.create(workspace=other_workspace, code="x", name_zh="外部")
    url = reverse("web:ticket_resolution", args=[desk["ticket"].number])
    assert client.post(url, {"root_cause": foreign_cause.pk}, **HX).status_code == 404
    assert not Resolution.objects.exists()


def test_the_grouped_search_finds_tickets_articles_and_customers(client_as, agent, desk, contact):
    client = client_as(agent)
    html = client.get(reverse("web:search_suggest"), {"q": "授权"}, **HX).content.decode()
    assert f"#{desk['ticket'].number}" in html and "软件授权失效怎么办" in html
    page = client.get(reverse("web:search"), {"q": contact.display_name[:6]}).content.decode()
    assert contact.display_name in page
    assert client.get(reverse("web:search"), {"q": "x"}).status_code == 200


def test_the_panel_reads_in_chinese(client_as, agent, desk):
    html = client_as(agent, "zh-hans").get(reverse("web:ticket_assist", args=[desk["ticket"].number]), **HX)
    assert english_words("assist", visible_texts(html.content.decode())) == []
