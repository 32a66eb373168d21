"""Report selectors: CSAT % and response rate per agent / team / category / week, NPS per organization and campaign,
counted by the database and checked against the pure tally of the same scores."""

from __future__ import annotations

import datetime as dt

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.tests.factories import AgentFactory, TeamFactory
from pivotdesk.common.time import now
from pivotdesk.customers.tests.factories import ContactFactory, OrganizationFactory
from pivotdesk.surveys import selectors, services
from pivotdesk.surveys.domain import scores
from pivotdesk.surveys.models import Survey
from pivotdesk.surveys.tests.helpers import contact_actor, csat
from pivotdesk.tickets.services import ticket_set_status

pytestmark = pytest.mark.django_db


def _flt(workspace, **ids):
    return selectors.ReportFilter.parse(workspace=workspace, **ids)


def test_csat_per_agent_and_team_counts_like_the_tally(workspace):
    team = TeamFactory(workspace=workspace)
    alice, bob = AgentFactory(workspace=workspace), AgentFactory(workspace=workspace)
    plan = {alice: [5, 4, 2, None], bob: [3, None, None]}
    for agent, answers in plan.items():
        for answer in answers:
            survey = csat(workspace, agent=agent, team=team)
            if answer is not None:
                services.csat_answer(survey=survey, actor=contact_actor(survey), score=answer)
    flt = _flt(workspace)
    summary = selectors.csat_summary(workspace, flt)
    assert summary == scores.tally_csat([5, 4, 2, None, 3, None, None])
    assert (summary.percent, summary.response_rate) == (50.0, 57.1)
    by_agent = {row.key: row.value for row in selectors.csat_breakdown(workspace, flt, "agent")}
    assert by_agent[alice.pk] == scores.tally_csat(plan[alice])
    assert by_agent[bob.pk].percent == 0.0
    (team_row,) = selectors.csat_breakdown(workspace, flt, "team")
    assert (team_row.key, team_row.label, team_row.value.invited) == (team.pk, team.name, 7)
    weeks = selectors.csat_breakdown(workspace, flt, "week")
    assert sum(w.value.invited for w in weeks) == 7
    # a filter narrows every number
    only_bob = selectors.csat_summary(workspace, _flt(workspace, agent_id=bob.pk))
    assert (only_bob.invited, only_bob.answered) == (3, 1)
    assert selectors.score_distribution(workspace, flt, "csat") == [(1, 0), (2, 1), (3, 1), (4, 1), (5, 1)]


def test_the_facts_stay_those_of_the_invitation(workspace):
    first, second = AgentFactory(workspace=workspace), AgentFactory(workspace=workspace)
    survey = csat(workspace, agent=first)
    ticket_set_status(ticket=survey.ticket, status="open", actor=Actor.system())
    from pivotdesk.tickets.services import ticket_update

    ticket_update(ticket=survey.ticket, actor=Actor.system(), changes={"assignee": second})
    survey.refresh_from_db()
    assert survey.agent_id == first.pk


def test_nps_per_organization_and_campaign(workspace, supervisor):
    acme, globex = OrganizationFactory(workspace=workspace), OrganizationFactory(workspace=workspace)
    people = {acme: [10, 9, 6, None], globex: [8, 0]}
    for org, answers in people.items():
        for _ in answers:
            ContactFactory(workspace=workspace, organization=org)
    campaign = services.nps_campaign_save(
        workspace=workspace, actor=Actor.for_agent(supervisor), name="all", cadence_days=90
    )
    services.nps_campaign_run(campaign=campaign, actor=Actor.system())
    for org, answers in people.items():
        surveys = Survey.objects.filter(kind="nps", organization=org).order_by("pk")
        for survey, answer in zip(surveys, answers, strict=True):
            if answer is not None:
                services.nps_answer(survey=survey, actor=contact_actor(survey), score=answer)
    flt = _flt(workspace)
    total = selectors.nps_summary(workspace, flt)
    assert total == scores.tally_nps([10, 9, 6, None, 8, 0])
    assert total.score == 0.0  # 2 promoters, 2 detractors of 5 answers
    by_org = {row.key: row.value for row in selectors.nps_breakdown(workspace, flt, "organization")}
    assert by_org[acme.pk].score == pytest.approx(33.3)
    assert by_org[globex.pk].score == -50.0
    (by_campaign,) = selectors.nps_breakdown(workspace, flt, "campaign")
    assert (by_campaign.label, by_campaign.value.answered) == ("all", 5)


def test_the_period_counts_surveys_sent_in_it(workspace):
    survey = csat(workspace)
    Survey.objects.filter(pk=survey.pk).update(invited_at=survey.invited_at - dt.timedelta(days=200))
    assert selectors.csat_summary(workspace, _flt(workspace)).invited == 0
    assert (
        selectors.csat_summary(
            workspace, _flt(workspace, start=(now().date() - dt.timedelta(days=300)).isoformat())
        ).invited
        == 1
    )


def test_csat_for_ticket_is_the_latest_and_answer_path_carries_the_token(workspace, other_workspace):
    survey = csat(workspace)
    assert selectors.csat_for_ticket(survey.ticket) == survey
    path = selectors.answer_path(survey)
    assert path.startswith("/survey/") and path.endswith("/")
    assert selectors.answer_path(survey, score=4) == f"{path}?score=4"
    token = path.removeprefix("/survey/").strip("/")
    assert selectors.survey_by_token(token) == survey
    # an edited token (another survey's id, or a changed signature) finds nothing
    other = csat(other_workspace)
    forged = f"{other.pk}.{token.split('.', 1)[1]}"
    from pivotdesk.common.errors import NotFound

    for bad in (forged, token[:-2] + "xx", "abc", ""):
        with pytest.raises(NotFound):
            selectors.survey_by_token(bad)
