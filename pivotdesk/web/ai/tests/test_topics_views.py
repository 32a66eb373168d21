"""The AI insights page's emerging topics and out-of-scope setting, through the screens: who sees which controls,
one-click "make it a category", dismiss, the setting's validation, and the page in Chinese."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.ai.models import EmergingTopic, TopicStatus
from pivotdesk.ai.services import topics
from pivotdesk.ai.tests.test_topics_services import ticket_with_category_prediction
from pivotdesk.common.tests.zh_crawl import english_words, visible_texts
from pivotdesk.tickets.models import Category

pytestmark = pytest.mark.django_db

URL = "/insights/ai/"
FACE_EN = [
    ("Face scan fails after the update", "The face scan fails with liveness check failed since the update."),
    ("Liveness check failed", "The face scan asks me to blink, then says liveness check failed."),
    ("Face scan black screen", "Face scan screen is black, then liveness check failed after a timeout."),
    ("Face scan does not match", "Face scan says my face does not match; the liveness check failed too."),
]


@pytest.fixture(autouse=True)
def _no_triage_on_intake(settings):
    settings.PIVOTDESK_AI_ENABLED = False


@pytest.fixture
def topic(workspace):
    tickets = [ticket_with_category_prediction(workspace, s, b, out_of_scope=True) for s, b in FACE_EN]
    found = topics.topics_refresh(actor=Actor.system("test"), workspace=workspace).topics
    assert len(found) == 1
    found[0].numbers = [t.number for t in tickets]
    return found[0]


def test_a_supervisor_decides_topics_but_does_not_configure_the_ai(client_as, supervisor, topic):
    client = client_as(supervisor)
    html = client.get(URL).content.decode()
    assert topic.label in html and "4 tickets" in html and "face scan" in html
    assert all(f'href="/tickets/{n}/"' in html for n in topic.numbers)
    # a supervisor names new kinds of problem (CATEGORY_MANAGE) …
    assert "Make it a category" in html and f"/insights/ai/topics/{topic.pk}/dismiss/" in html
    # … but the detector's operating point is an admin's (AI_CONFIGURE): shown, not editable
    assert 'name="out_of_scope_rate"' not in html and "percent of normal traffic" in html
    response = client.post(f"/insights/ai/topics/{topic.pk}/promote/", {"name": "Face scan"})
    assert response.status_code == 302
    assert Category.objects.filter(workspace=topic.workspace, name="Face scan").exists()


def test_an_agent_sees_no_topic_controls(client_as, agent, topic):
    page = client_as(agent).get(URL)
    assert page.status_code in (200, 403)
    assert "Make it a category" not in page.content.decode()


def test_an_admin_makes_the_topic_a_category_with_an_edited_name(client_as, admin_agent, topic):
    client = client_as(admin_agent)
    html = client.get(URL).content.decode()
    assert "Make it a category" in html and 'name="out_of_scope_rate"' in html
    assert f'value="{topic.label}"' in html  # the name starts as the label
    response = client.post(f"/insights/ai/topics/{topic.pk}/promote/", {"name": "Face scan login"})
    assert response.status_code == 302 and response["Location"].endswith("/insights/ai/#ai-topics")
    category = Category.objects.get(workspace=topic.workspace, name="Face scan login")
    topic.refresh_from_db()
    assert topic.status == TopicStatus.PROMOTED and topic.category == category
    after = client.get(URL).content.decode()
    assert "Category “Face scan login” created." in after and f'id="topic-{topic.pk}"' not in after


def test_an_empty_category_name_is_refused_on_the_page(client_as, admin_agent, topic):
    response = client_as(admin_agent, "zh-hans").post(f"/insights/ai/topics/{topic.pk}/promote/", {"name": "  "})
    assert response.status_code == 422
    assert "分类需要一个名称。" in response.content.decode()
    assert EmergingTopic.objects.get(pk=topic.pk).status == TopicStatus.OPEN


def test_dismissing_needs_the_right_and_the_workspace(client_as, agent, admin_agent, topic, other_workspace):
    from pivotdesk.accounts.tests.factories import AgentFactory

    assert client_as(agent).post(f"/insights/ai/topics/{topic.pk}/dismiss/").status_code == 403
    outsider = AgentFactory(workspace=other_workspace, role="admin")
    assert client_as(outsider).post(f"/insights/ai/topics/{topic.pk}/dismiss/").status_code == 404
    assert EmergingTopic.objects.get(pk=topic.pk).status == TopicStatus.OPEN
    client = client_as(admin_agent)
    assert client.post(f"/insights/ai/topics/{topic.pk}/dismiss/").status_code == 302
    assert EmergingTopic.objects.get(pk=topic.pk).status == TopicStatus.DISMISSED
    # a second click (another tab) is told so, and nothing changes
    again = client.post(f"/insights/ai/topics/{topic.pk}/promote/", {"name": "Face scan"}, follow=True)
    assert "This topic was already made a category or dismissed." in again.content.decode()
    assert not Category.objects.filter(workspace=topic.workspace, name="Face scan").exists()


def test_the_out_of_scope_share_is_saved_and_a_bad_one_explained(client_as, admin_agent, supervisor, workspace):
    client = client_as(admin_agent, "zh-hans")
    assert client.post("/insights/ai/settings/", {"out_of_scope_rate": "7.5"}).status_code == 302
    workspace.refresh_from_db()
    assert workspace.settings["ai"]["out_of_scope_rate"] == 7.5
    refused = client.post("/insights/ai/settings/", {"out_of_scope_rate": "50"})
    html = refused.content.decode()
    assert refused.status_code == 422 and "超出范围的比例必须是 0.5 到 20 之间的百分数。" in html
    assert 'value="50"' in html  # what was typed stays in the field
    workspace.refresh_from_db()
    assert workspace.settings["ai"]["out_of_scope_rate"] == 7.5
    assert client_as(supervisor).post("/insights/ai/settings/", {"out_of_scope_rate": "3"}).status_code == 403


def test_the_chinese_page_shows_english_only_in_what_customers_wrote(client_as, admin_agent, topic, workspace):
    html = client_as(admin_agent, "zh-hans").get(URL).content.decode()
    assert "新兴主题" in html and "设为分类" in html and topic.label in html
    phrases = [workspace.name, admin_agent.user.display_name or admin_agent.user.username]
    findings = english_words(URL, visible_texts(html), phrases=phrases)
    assert not findings, [(f.word, f.line) for f in findings]
