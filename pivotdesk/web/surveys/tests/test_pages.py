"""The agent's satisfaction screens: the report in zh-Hans and English, campaigns (create, edit, run now), the CSAT
settings, the ticket page's CSAT panel, the permission gate and another workspace's campaign."""

from __future__ import annotations

import re

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile
from pivotdesk.common.tests.zh_crawl import english_words, visible_texts
from pivotdesk.customers.models import Contact
from pivotdesk.customers.tests.factories import ContactFactory, OrganizationFactory
from pivotdesk.surveys import services
from pivotdesk.surveys.models import NpsCampaign, Survey, SurveySettings
from pivotdesk.surveys.tests.helpers import contact_actor, csat

pytestmark = pytest.mark.django_db


def test_the_report_shows_the_selectors_numbers_in_english_and_chinese(workspace, supervisor, client_as):
    for score in (5, 4, 1):
        survey = csat(workspace)
        services.csat_answer(survey=survey, actor=contact_actor(survey), score=score, comment=f"comment {score}")
    csat(workspace)  # sent, not answered
    en = client_as(supervisor, "en").get("/satisfaction/")
    assert en.status_code == 200
    html = en.content.decode()
    assert re.search(r'id="csat-score"><div class="v">66.7%', html)
    assert re.search(r'id="csat-rate"><div class="v">75.0%', html)
    assert "comment 1" in html and "Customer satisfaction" in html
    zh = client_as(supervisor, "zh-hans").get("/satisfaction/")
    assert zh.status_code == 200
    assert "客户满意度" in zh.content.decode()
    names = [workspace.name, *(a.name for a in AgentProfile.objects.filter(workspace=workspace))]
    names += [c.name for c in Contact.objects.filter(workspace=workspace)]
    assert english_words("/satisfaction/", visible_texts(zh.content.decode()), phrases=names) == []


def test_bad_dates_are_a_readable_4xx(supervisor, client_as):
    response = client_as(supervisor, "en").get("/satisfaction/?start=yesterday")
    assert response.status_code == 422
    assert "2026-11-01" in response.content.decode()


def test_agents_see_neither_the_report_nor_the_campaigns(agent, client_as):
    client = client_as(agent)
    assert client.get("/satisfaction/").status_code == 403
    assert client.get("/satisfaction/campaigns/").status_code == 403
    assert client.post("/satisfaction/campaigns/new/", {"name": "x", "cadence_days": "90"}).status_code == 403
    assert not NpsCampaign.objects.exists()


def test_a_supervisor_creates_edits_and_runs_a_campaign(workspace, supervisor, client_as):
    org = OrganizationFactory(workspace=workspace)
    ContactFactory(workspace=workspace, organization=org)
    client = client_as(supervisor, "zh-hans")
    assert client.get("/satisfaction/campaigns/new/").status_code == 200
    bad = client.post("/satisfaction/campaigns/new/", {"name": "", "cadence_days": "90"})
    assert bad.status_code == 422 and "名称" in bad.content.decode()
    response = client.post(
        "/satisfaction/campaigns/new/",
        {
            "name": "季度 NPS",
            "organization": str(org.pk),
            "cadence_days": "90",
            "question_zh": "推荐吗？",
            "active": "1",
        },
    )
    assert response.status_code == 302
    campaign = NpsCampaign.objects.get()
    assert (campaign.organization, campaign.question) == (org, {"zh-hans": "推荐吗？"})
    edit = client.post(f"/satisfaction/campaigns/{campaign.pk}/", {"name": "Q NPS", "cadence_days": "30"})
    assert edit.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.cadence_days, campaign.organization, campaign.active) == ("Q NPS", 30, None, False)
    client.post(
        f"/satisfaction/campaigns/{campaign.pk}/",
        {"name": "Q NPS", "organization": str(org.pk), "cadence_days": "30", "active": "1"},
    )
    assert client.post(f"/satisfaction/campaigns/{campaign.pk}/run/").status_code == 302
    assert Survey.objects.filter(kind="nps", campaign=campaign).count() == 1
    page = client.get("/satisfaction/campaigns/")
    table = page.content.decode().split('id="nps-campaigns"', 1)[1].split("</table>", 1)[0]
    assert "季度" not in table and "Q NPS" in table


def test_csat_settings_are_saved_from_the_campaigns_page(workspace, admin_agent, client_as):
    client = client_as(admin_agent)
    response = client.post(
        "/satisfaction/settings/",
        {"csat_delay_hours": "24", "csat_expiry_days": "7", "csat_scale": "two", "nps_expiry_days": "30"},
    )
    assert response.status_code == 302
    row = SurveySettings.objects.get(workspace=workspace)
    assert (row.csat_enabled, row.csat_delay_hours, row.csat_scale) == (False, 24, "two")
    bad = client.post(
        "/satisfaction/settings/",
        {"csat_delay_hours": "999", "csat_expiry_days": "7", "csat_scale": "five", "nps_expiry_days": "30"},
    )
    assert bad.status_code == 422


def test_another_workspaces_campaign_is_not_found(workspace, other_workspace, supervisor, client_as):
    theirs = services.nps_campaign_save(
        workspace=other_workspace, actor=Actor.system(), name="SECRET campaign", cadence_days=90
    )
    client = client_as(supervisor)
    assert client.get(f"/satisfaction/campaigns/{theirs.pk}/").status_code == 404
    assert client.post(f"/satisfaction/campaigns/{theirs.pk}/run/").status_code == 404
    assert "SECRET" not in client.get(f"/satisfaction/?campaign={theirs.pk}").content.decode()


def test_the_ticket_panel_shows_the_score_comment_and_not_solved(workspace, agent, client_as):
    survey = csat(workspace)
    services.csat_answer(survey=survey, actor=contact_actor(survey), score=2, comment="还是坏的", solved=False)
    client = client_as(agent, "zh-hans")
    html = client.get(f"/tickets/{survey.ticket.number}/csat/").content.decode()
    assert "2/5" in html and "还是坏的" in html and "未解决" in html
    page = client.get(f"/tickets/{survey.ticket.number}/").content.decode()
    assert f"/tickets/{survey.ticket.number}/csat/" in page
    assert "并表示问题未解决：工单已重新打开" in page  # the timeline, in Chinese
