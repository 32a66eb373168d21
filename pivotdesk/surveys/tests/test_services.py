"""CSAT and NPS services: invitations once per solve, answers, expiry, "not solved", campaigns and the gate."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.errors import PermissionDenied, ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.customers.models import ChannelIdentity, Contact
from pivotdesk.customers.tests.factories import ContactFactory, OrganizationFactory
from pivotdesk.surveys import services
from pivotdesk.surveys.errors import SurveyClosed
from pivotdesk.surveys.models import NpsCampaign, Survey, SurveyKind, SurveyStatus
from pivotdesk.surveys.tests.helpers import SYSTEM, contact_actor, csat, solve, solved_ticket
from pivotdesk.tickets.models import Status, TicketEvent
from pivotdesk.tickets.services import message_create
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def _events(captured: list, name: str) -> list:
    return [e for e in captured if getattr(e, "name", "") == name]


def test_solving_a_ticket_invites_once_per_solve_cycle(workspace, agent, django_capture_on_commit_callbacks):
    # given a ticket assigned to an agent and solved, with the subscribers running
    with django_capture_on_commit_callbacks(execute=True):
        ticket = solved_ticket(workspace, agent=agent)
    # then one CSAT survey exists, with the facts of the moment
    surveys = list(Survey.objects.filter(ticket=ticket))
    assert len(surveys) == 1
    first = surveys[0]
    assert (first.kind, first.status, first.agent_id, first.contact_id) == (
        "csat",
        "invited",
        agent.pk,
        ticket.requester_id,
    )
    assert first.solve_cycle_at == ticket.solved_at and first.invited_at is not None
    # when the same solve is invited again (a redelivered event): the same survey comes back
    assert services.csat_invite(ticket=ticket, actor=SYSTEM) == first
    # when the customer replies (reopen) and the ticket is solved again
    with django_capture_on_commit_callbacks(execute=True):
        message_create(
            ticket=ticket, actor=Actor.for_contact(ticket.requester_id), body="still broken", as_customer=True
        )
        ticket.refresh_from_db()
        assert ticket.status == Status.OPEN
        solve(ticket)
    # then the new solve has a survey of its own
    assert Survey.objects.filter(ticket=ticket, kind="csat").count() == 2
    assert TicketEvent.objects.filter(ticket=ticket, verb="survey_invited").count() == 2


def test_the_database_refuses_two_csat_surveys_for_one_solve(workspace):
    survey = csat(workspace)
    with pytest.raises(IntegrityError), transaction.atomic():
        Survey.objects.create(
            workspace=workspace,
            kind="csat",
            ticket=survey.ticket,
            contact=survey.contact,
            solve_cycle_at=survey.solve_cycle_at,
            nonce="x",
            expires_at=now(),
        )


def test_invitation_publishes_survey_invited(workspace, monkeypatch):
    published = []
    monkeypatch.setattr(services, "publish", published.append)
    survey = csat(workspace)
    (event,) = _events(published, "survey.invited")
    assert (event.survey_id, event.kind, event.ticket_id, event.contact_id) == (
        survey.pk,
        "csat",
        survey.ticket_id,
        survey.contact_id,
    )
    assert event.workspace_id == workspace.pk


def test_no_invitation_when_csat_is_off_or_the_contact_unreachable(workspace, admin_agent):
    services.survey_settings_save(workspace=workspace, actor=Actor.for_agent(admin_agent), csat_enabled=False)
    assert services.csat_invite(ticket=solved_ticket(workspace), actor=SYSTEM) is None
    services.survey_settings_save(workspace=workspace, actor=Actor.for_agent(admin_agent), csat_enabled=True)
    nobody = Contact.objects.create(workspace=workspace, name="No address")
    assert services.csat_invite(ticket=solved_ticket(workspace, requester=nobody), actor=SYSTEM) is None
    assert services.csat_invite(ticket=make_ticket(workspace=workspace), actor=SYSTEM) is None  # not solved
    assert not Survey.objects.exists()


def test_a_delay_schedules_the_invitation_and_a_reopen_withdraws_it(workspace, admin_agent):
    services.survey_settings_save(
        workspace=workspace, actor=Actor.for_agent(admin_agent), csat_enabled=True, csat_delay_hours=24
    )
    kept, reopened = csat(workspace), csat(workspace)
    assert kept.status == reopened.status == SurveyStatus.SCHEDULED
    message_create(ticket=reopened.ticket, actor=SYSTEM, body="again", as_customer=True)
    # before the delay nothing is sent
    assert services.surveys_send_due(actor=SYSTEM) == {"sent": 0, "cancelled": 0, "expired": 0}
    result = services.surveys_send_due(actor=SYSTEM, at=now() + dt.timedelta(hours=25))
    assert result == {"sent": 1, "cancelled": 1, "expired": 0}
    kept.refresh_from_db()
    reopened.refresh_from_db()
    assert (kept.status, reopened.status) == ("invited", "cancelled")


def test_answer_and_change_the_answer_until_it_expires(workspace):
    survey = csat(workspace)
    services.csat_answer(survey=survey, actor=contact_actor(survey), score=2, comment="  slow  ")
    survey.refresh_from_db()
    assert (survey.status, survey.score, survey.comment, survey.not_solved) == ("answered", 2, "slow", False)
    services.csat_answer(survey=survey, actor=contact_actor(survey), score=5, comment="sorted after all")
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (5, "sorted after all")
    verbs = list(
        TicketEvent.objects.filter(ticket=survey.ticket, verb="survey_answered").values_list("data", flat=True)
    )
    assert [d["changed"] for d in verbs] == [False, True]
    # after the expiry the answer is closed, and the sweep marks unanswered ones expired
    Survey.objects.filter(pk=survey.pk).update(expires_at=now() - dt.timedelta(seconds=1))
    survey.refresh_from_db()
    with pytest.raises(SurveyClosed):
        services.csat_answer(survey=survey, actor=contact_actor(survey), score=1)
    other = csat(workspace)
    Survey.objects.filter(pk=other.pk).update(expires_at=now() - dt.timedelta(seconds=1))
    assert services.surveys_send_due(actor=SYSTEM)["expired"] == 1
    other.refresh_from_db()
    assert other.status == "expired"


@pytest.mark.parametrize("score", [0, 6, -1, "x", None])
def test_a_score_outside_1_to_5_is_refused(workspace, score):
    survey = csat(workspace)
    with pytest.raises(ValidationFailed):
        services.csat_answer(survey=survey, actor=contact_actor(survey), score=score)
    survey.refresh_from_db()
    assert survey.status == "invited"


def test_not_solved_reopens_the_ticket_and_says_so_on_the_timeline(workspace, django_capture_on_commit_callbacks):
    survey = csat(workspace)
    with django_capture_on_commit_callbacks(execute=True):
        services.csat_answer(survey=survey, actor=contact_actor(survey), score=1, comment="没解决", solved=False)
    ticket = survey.ticket
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    answered = TicketEvent.objects.get(ticket=ticket, verb="survey_answered")
    assert answered.data["not_solved"] and answered.data["reopened"]
    assert answered.actor_type == "contact"
    status_change = TicketEvent.objects.filter(ticket=ticket, verb="status_changed").last()
    assert (status_change.old_value, status_change.new_value, status_change.actor_type) == ("solved", "open", "contact")
    # answering "not solved" again does not reopen twice, and the solve after it asks again
    services.csat_answer(survey=survey, actor=contact_actor(survey), score=2, solved=False)
    assert TicketEvent.objects.filter(ticket=ticket, verb="status_changed", new_value="open").count() == 1


def test_a_contact_answers_only_its_own_survey_and_agents_cannot(workspace, agent):
    survey = csat(workspace)
    stranger = ContactFactory(workspace=workspace)
    with pytest.raises(PermissionDenied):
        services.csat_answer(survey=survey, actor=Actor.for_contact(stranger.pk), score=5)
    with pytest.raises(PermissionDenied):
        services.csat_answer(survey=survey, actor=Actor.for_agent(agent), score=5)
    survey.refresh_from_db()
    assert survey.status == "invited"


def test_the_two_face_scale_takes_good_or_bad_only(workspace, admin_agent):
    services.survey_settings_save(
        workspace=workspace, actor=Actor.for_agent(admin_agent), csat_enabled=True, csat_scale="two"
    )
    survey = csat(workspace)
    with pytest.raises(ValidationFailed):
        services.csat_answer(survey=survey, actor=contact_actor(survey), score=3)
    services.csat_answer(survey=survey, actor=contact_actor(survey), score=5)


# ---- NPS ------------------------------------------------------------------------------------------------------


def _org_with_contacts(workspace, n: int):
    org = OrganizationFactory(workspace=workspace)
    contacts = [ContactFactory(workspace=workspace, organization=org) for _ in range(n)]
    return org, contacts


def test_a_campaign_surveys_its_organization_once_per_cadence(workspace, supervisor):
    org, contacts = _org_with_contacts(workspace, 3)
    _other_org, outsiders = _org_with_contacts(workspace, 2)
    unreachable = Contact.objects.create(workspace=workspace, organization=org, name="no address")
    start = now()
    campaign = services.nps_campaign_save(
        workspace=workspace,
        actor=Actor.for_agent(supervisor),
        name="Q4 NPS",
        organization=org,
        cadence_days=90,
        next_run_at=start,
    )
    assert services.nps_campaigns_run_due(actor=SYSTEM, at=start) == 3
    asked = set(Survey.objects.filter(kind="nps", campaign=campaign).values_list("contact_id", flat=True))
    assert asked == {c.pk for c in contacts}
    assert unreachable.pk not in asked and not asked & {c.pk for c in outsiders}
    campaign.refresh_from_db()
    assert campaign.next_run_at == start + dt.timedelta(days=90) and campaign.last_run_count == 3
    # not due again the next day; run now within the cadence asks nobody already asked
    assert services.nps_campaigns_run_due(actor=SYSTEM, at=start + dt.timedelta(days=1)) == 0
    newcomer = ContactFactory(workspace=workspace, organization=org)
    assert services.nps_campaign_run(campaign=campaign, actor=Actor.for_agent(supervisor)) == 1
    assert Survey.objects.get(kind="nps", contact=newcomer).campaign == campaign
    # after the cadence everyone is due again
    assert services.nps_campaigns_run_due(actor=SYSTEM, at=start + dt.timedelta(days=181)) == 4


def test_the_minimum_interval_holds_across_campaigns(workspace, supervisor):
    org, _contacts = _org_with_contacts(workspace, 2)
    actor = Actor.for_agent(supervisor)
    services.nps_campaign_save(workspace=workspace, actor=actor, name="org", organization=org, cadence_days=30)
    everyone = services.nps_campaign_save(workspace=workspace, actor=actor, name="all", cadence_days=30)
    assert services.nps_campaigns_run_due(actor=SYSTEM, at=now() + dt.timedelta(minutes=1)) == 2
    assert Survey.objects.filter(kind="nps", campaign=everyone).count() == 0


def test_nps_answer_takes_0_to_10(workspace, supervisor):
    _org, (person,) = _org_with_contacts(workspace, 1)
    campaign = services.nps_campaign_save(
        workspace=workspace, actor=Actor.for_agent(supervisor), name="all", cadence_days=60
    )
    services.nps_campaign_run(campaign=campaign, actor=SYSTEM)
    survey = Survey.objects.get(kind=SurveyKind.NPS)
    for bad in (-1, 11):
        with pytest.raises(ValidationFailed):
            services.nps_answer(survey=survey, actor=Actor.for_contact(person.pk), score=bad)
    services.nps_answer(survey=survey, actor=Actor.for_contact(person.pk), score=0, comment="too pricey")
    survey.refresh_from_db()
    assert (survey.score, survey.status) == (0, "answered")
    with pytest.raises(ValidationFailed):  # a CSAT answer to an NPS survey
        services.csat_answer(survey=survey, actor=Actor.for_contact(person.pk), score=5)


def test_campaigns_need_surveys_manage_and_valid_input(workspace, agent, supervisor, other_workspace):
    with pytest.raises(PermissionDenied):
        services.nps_campaign_save(workspace=workspace, actor=Actor.for_agent(agent), name="x", cadence_days=90)
    actor = Actor.for_agent(supervisor)
    for bad in ({"name": "", "cadence_days": 90}, {"name": "x", "cadence_days": 3}, {"name": "x", "cadence_days": "y"}):
        with pytest.raises(ValidationFailed):
            services.nps_campaign_save(workspace=workspace, actor=actor, **bad)
    foreign = OrganizationFactory(workspace=other_workspace)
    with pytest.raises(ValidationFailed):
        services.nps_campaign_save(workspace=workspace, actor=actor, name="x", cadence_days=90, organization=foreign)
    assert not NpsCampaign.objects.exists()
    with pytest.raises(PermissionDenied):
        services.nps_campaigns_run_due(actor=actor)


def test_an_identity_alone_makes_a_contact_reachable(workspace):
    person = Contact.objects.create(workspace=workspace, name="微信用户")
    ChannelIdentity.objects.create(workspace=workspace, contact=person, kind="wechat", value="wx-123")
    assert services.csat_invite(ticket=solved_ticket(workspace, requester=person), actor=SYSTEM) is not None
