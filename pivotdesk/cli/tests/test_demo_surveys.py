"""The demo shows satisfaction data (issue 18): CSAT answers with comments, one "not solved", NPS results."""

from __future__ import annotations

import pytest

from pivotdesk.cli.demo.seed import seed_demo
from pivotdesk.surveys.models import NpsCampaign, Survey
from pivotdesk.tickets.models import TicketEvent

pytestmark = pytest.mark.django_db


def test_the_demo_has_csat_answers_a_not_solved_and_nps_results():
    workspace = seed_demo(tickets=40, seed=7).workspace
    csat_rows = Survey.objects.filter(workspace=workspace, kind="csat")
    assert csat_rows.filter(status="answered").count() >= 5
    assert csat_rows.filter(not_solved=True).count() == 1
    assert csat_rows.exclude(comment="").exists()
    assert Survey.objects.filter(workspace=workspace, kind="nps", status="answered").exists()
    assert NpsCampaign.objects.filter(workspace=workspace).count() >= 1
    reopened = Survey.objects.get(workspace=workspace, not_solved=True)
    assert reopened.ticket.status == "open"
    assert TicketEvent.objects.filter(ticket=reopened.ticket, verb="survey_answered").exists()
