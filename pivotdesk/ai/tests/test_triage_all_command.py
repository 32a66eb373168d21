"""`manage.py ai_triage_all --pause`: triaging next to a running desk leaves the database to other writers between
tickets (issue 12: `make run` triages the demo in the background once the web server answers)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from pivotdesk.ai.models import TriageRun
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def test_a_negative_pause_is_refused(workspace):
    with pytest.raises(CommandError, match="--pause"):
        call_command("ai_triage_all", "--pause", "-1", stdout=StringIO())


def test_triage_with_a_pause_triages_every_ticket(workspace, settings, monkeypatch):
    settings.PIVOTDESK_AI_ENABLED = True
    first, second = make_ticket(workspace=workspace), make_ticket(workspace=workspace)
    TriageRun.objects.all().delete()
    pauses: list[float] = []
    monkeypatch.setattr("pivotdesk.ai.management.commands.ai_triage_all.time.sleep", pauses.append)
    out = StringIO()
    call_command("ai_triage_all", "--workspace", workspace.slug, "--pause", "0.05", stdout=out)
    assert "Triaged 2 tickets" in out.getvalue()
    assert set(TriageRun.objects.values_list("ticket_id", flat=True)) == {first.pk, second.pk}
    assert pauses == [0.05, 0.05]
