"""The satisfaction REST API through HTTP: ratings (filters, pagination, constant queries), the summary (the web
report's figures), bad dates, the permission gate and workspace isolation."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.tests.factories import AgentFactory, TeamFactory
from pivotdesk.common.time import now
from pivotdesk.customers.tests.factories import ContactFactory, OrganizationFactory
from pivotdesk.surveys import selectors, services
from pivotdesk.surveys.models import Survey
from pivotdesk.surveys.tests.helpers import contact_actor, csat

pytestmark = pytest.mark.django_db

RATINGS = "/api/v1/satisfaction/ratings"
SUMMARY = "/api/v1/satisfaction/summary"


def _answer(survey: Survey, score: int, *, comment: str = "", solved: bool = True, minutes_ago: int = 0) -> Survey:
    services.csat_answer(survey=survey, actor=contact_actor(survey), score=score, comment=comment, solved=solved)
    Survey.objects.filter(pk=survey.pk).update(answered_at=now() - dt.timedelta(minutes=minutes_ago))
    survey.refresh_from_db()
    return survey


def _nps(workspace, supervisor, answers: list[int | None]) -> list[Survey]:
    org = OrganizationFactory(workspace=workspace)
    for _ in answers:
        ContactFactory(workspace=workspace, organization=org)
    campaign = services.nps_campaign_save(
        workspace=workspace, actor=Actor.for_agent(supervisor), name="all", cadence_days=90
    )
    services.nps_campaign_run(campaign=campaign, actor=Actor.system())
    surveys = list(Survey.objects.filter(workspace=workspace, kind="nps").order_by("pk"))
    for survey, answer in zip(surveys, answers, strict=True):
        if answer is not None:
            services.nps_answer(survey=survey, actor=contact_actor(survey), score=answer, comment=f"nps {answer}")
    return surveys


@pytest.fixture
def reader(supervisor, api_client_for):
    """A client of an agent holding reports.view (a supervisor), with a read token."""
    return api_client_for(supervisor, scope="read")


@pytest.fixture
def answers(workspace, agent):
    """Four CSAT surveys of `agent`: 5 (oldest answer), 2 not solved, 4 (newest answer), and one unanswered."""
    five = _answer(csat(workspace, agent=agent), 5, comment="great", minutes_ago=30)
    two = _answer(csat(workspace, agent=agent), 2, comment="still broken", solved=False, minutes_ago=20)
    four = _answer(csat(workspace, agent=agent), 4, minutes_ago=10)
    csat(workspace, agent=agent)
    return five, two, four


def test_ratings_list_answered_csat_newest_answer_first(reader, answers, agent):
    five, two, four = answers
    response = reader.get(RATINGS)
    assert response.status_code == 200, response.content
    body = response.json()
    assert [item["id"] for item in body["items"]] == [four.pk, two.pk, five.pk]
    assert (body["count"], body["limit"], body["offset"], body["next_offset"]) == (3, 50, 0, None)
    item = body["items"][1]
    assert item["kind"] == "csat"
    assert (item["score"], item["comment"], item["not_solved"]) == (2, "still broken", True)
    assert item["ticket_id"] == two.ticket_id
    assert item["ticket_number"] == two.ticket.number
    assert (item["contact_id"], item["agent_id"]) == (two.contact_id, agent.pk)
    assert item["answered_at"] is not None and item["invited_at"] is not None
    assert set(item) == {
        "id",
        "kind",
        "score",
        "comment",
        "not_solved",
        "answered_at",
        "invited_at",
        "ticket_id",
        "ticket_number",
        "contact_id",
        "organization_id",
        "agent_id",
        "team_id",
        "category_id",
        "campaign_id",
    }


def test_ratings_filter_by_score_not_solved_and_agent(reader, answers, workspace):
    five, two, four = answers

    def ids(query: dict[str, object]) -> list[int]:
        return [i["id"] for i in reader.get(RATINGS, query).json()["items"]]

    assert ids({"score": 5}) == [five.pk]
    assert ids({"not_solved": "true"}) == [two.pk]
    assert ids({"not_solved": "false"}) == [four.pk, five.pk]
    other = AgentFactory(workspace=workspace)
    assert ids({"agent_id": other.pk}) == []
    mine = _answer(csat(workspace, agent=other), 3)
    assert ids({"agent_id": other.pk}) == [mine.pk]


def test_ratings_filter_by_kind_and_campaign(reader, answers, workspace, supervisor):
    surveys = _nps(workspace, supervisor, [10, 6, None])
    body = reader.get(RATINGS, {"kind": "nps"}).json()
    assert sorted(i["id"] for i in body["items"]) == sorted(s.pk for s in surveys[:2])
    assert {i["kind"] for i in body["items"]} == {"nps"}
    assert {i["ticket_number"] for i in body["items"]} == {None}
    assert {i["campaign_id"] for i in body["items"]} == {surveys[0].campaign_id}
    assert reader.get(RATINGS, {"kind": "nps", "campaign_id": surveys[0].campaign_id}).json()["count"] == 2
    assert reader.get(RATINGS, {"kind": "nps", "score": 6}).json()["count"] == 1
    assert reader.get(RATINGS).json()["count"] == 3  # csat by default


def test_ratings_filter_by_dates_of_the_invitation(reader, answers, workspace):
    five, _, _ = answers
    zone = ZoneInfo(workspace.time_zone)
    today = now().astimezone(zone).date()
    noon = dt.datetime.combine(today - dt.timedelta(days=40), dt.time(12), tzinfo=zone)
    Survey.objects.filter(pk=five.pk).update(invited_at=noon)
    old = (today - dt.timedelta(days=40)).isoformat()
    body = reader.get(RATINGS, {"start": old, "end": old}).json()
    assert [i["id"] for i in body["items"]] == [five.pk]
    recent = reader.get(RATINGS, {"start": (today - dt.timedelta(days=7)).isoformat()}).json()
    assert five.pk not in [i["id"] for i in recent["items"]] and recent["count"] == 2


def test_ratings_are_paginated(reader, answers):
    first = reader.get(RATINGS, {"limit": 2}).json()
    assert (len(first["items"]), first["count"], first["next_offset"]) == (2, 3, 2)
    second = reader.get(RATINGS, {"limit": 2, "offset": 2}).json()
    assert (len(second["items"]), second["next_offset"]) == (1, None)
    assert {i["id"] for i in first["items"] + second["items"]} == {s.pk for s in answers}


def test_a_page_of_ratings_takes_a_constant_number_of_queries(reader, workspace, agent, django_assert_max_num_queries):
    team = TeamFactory(workspace=workspace)
    for score in (5, 4):
        _answer(csat(workspace, agent=agent, team=team), score)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert reader.get(RATINGS, {"limit": 2}).status_code == 200
    for score in (1, 2, 3, 4, 5, 3, 2, 1):
        _answer(csat(workspace, agent=AgentFactory(workspace=workspace)), score)
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = reader.get(RATINGS, {"limit": 10}).json()
    assert len(body["items"]) == 10 and all(i["ticket_number"] for i in body["items"])


def test_summary_matches_the_web_reports_selectors(reader, answers, workspace, agent):
    body = reader.get(SUMMARY).json()
    flt = selectors.ReportFilter.parse(workspace=workspace)
    expected = selectors.csat_summary(workspace, flt)
    assert body["kind"] == "csat"
    assert (body["invited"], body["answered"], body["satisfied"], body["not_solved"]) == (4, 3, 2, 1)
    assert (body["csat"], body["response_rate"]) == (expected.percent, expected.response_rate) == (66.7, 75.0)
    assert body["nps"] is None and body["promoters"] is None
    assert [(d["score"], d["count"]) for d in body["distribution"]] == selectors.score_distribution(
        workspace, flt, "csat"
    )
    assert [d["count"] for d in body["distribution"]] == [0, 1, 0, 1, 1]
    assert (body["start"], body["end"]) == (flt.period.start.isoformat(), flt.period.end.isoformat())
    narrowed = reader.get(SUMMARY, {"agent_id": AgentFactory(workspace=workspace).pk}).json()
    assert (narrowed["invited"], narrowed["csat"], narrowed["response_rate"]) == (0, None, None)


def test_nps_summary_matches_the_web_reports_selectors(reader, workspace, supervisor):
    _nps(workspace, supervisor, [10, 9, 8, 6, 0, None])
    body = reader.get(SUMMARY, {"kind": "nps"}).json()
    expected = selectors.nps_summary(workspace, selectors.ReportFilter.parse(workspace=workspace))
    assert (body["invited"], body["answered"]) == (6, 5)
    assert (body["promoters"], body["passives"], body["detractors"]) == (2, 1, 2)
    assert (body["nps"], body["response_rate"]) == (expected.score, expected.response_rate) == (0.0, 83.3)
    assert body["csat"] is None and body["satisfied"] is None
    assert [d["score"] for d in body["distribution"]] == list(range(11))
    assert sum(d["count"] for d in body["distribution"]) == 5


BAD_FILTERS = [
    {"start": "2026-13-01"},
    {"end": "yesterday"},
    {"start": "2026-11-02", "end": "2026-11-01"},  # starts after it ends
    {"start": "2020-01-01", "end": "2026-01-01"},  # longer than a report may cover
    {"start": "0001-01-01"},
    {"kind": "ces"},
    {"agent_id": 0},
]


@pytest.mark.parametrize(
    ("url", "query"),
    [(url, query) for url in (RATINGS, SUMMARY) for query in BAD_FILTERS] + [(RATINGS, {"score": 11})],
)
def test_bad_filters_are_a_422_json_error(reader, url, query):
    response = reader.get(url, query)
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "validation_failed" and body["message"]


@pytest.mark.parametrize("url", [RATINGS, SUMMARY])
def test_an_agent_without_reports_view_is_refused(url, answers, agent, api_client_for):
    response = api_client_for(agent, scope="read").get(url)
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "permission_denied"
    assert body["details"] == {"permission": "reports.view"}


def test_errors_are_in_the_callers_language(agent, reader, api_client_for):
    zh = {"accept-language": "zh-hans"}
    refused = api_client_for(agent, scope="read").get(RATINGS, headers=zh)
    assert refused.status_code == 403
    assert refused.json()["message"] == "你的角色无权执行此操作。"
    backwards = reader.get(SUMMARY, {"start": "2026-11-02", "end": "2026-11-01"}, headers=zh)
    assert backwards.status_code == 422
    assert backwards.json()["code"] == "validation_failed"
    assert backwards.json()["message"] == "开始日期晚于结束日期。"


def test_another_workspaces_surveys_never_appear(reader, answers, other_workspace, api_client_for):
    foreign = _answer(csat(other_workspace), 5)
    foreign_nps = _nps(other_workspace, AgentFactory(workspace=other_workspace, role="supervisor"), [10])
    mine = {s.pk for s in answers}
    for query in (
        {},
        {"agent_id": foreign.agent_id or 1},
        {"kind": "nps"},
        {"campaign_id": foreign_nps[0].campaign_id},
    ):
        items = reader.get(RATINGS, {"limit": 200, **query}).json()["items"]
        assert {i["id"] for i in items} <= mine
    assert reader.get(SUMMARY).json()["invited"] == 4
    assert reader.get(SUMMARY, {"kind": "nps"}).json()["invited"] == 0
    outsider = AgentFactory(workspace=other_workspace, role="supervisor")
    theirs = api_client_for(outsider, scope="read").get(RATINGS).json()
    assert [i["id"] for i in theirs["items"]] == [foreign.pk]
