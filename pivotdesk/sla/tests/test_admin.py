"""The sla admin pages render, and a policy saved there asks the scanner to recheck open tickets."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pivotdesk.sla.tests.factories import PolicyFactory
from pivotdesk.tickets.tests.factories import make_ticket


@pytest.mark.parametrize(
    "model",
    ["businesscalendar", "teamcalendar", "slapolicy", "ticketsla", "slaoutcome", "slafiring", "slacheckfailure"],
)
def test_changelists_render(admin_client, workspace, model):
    PolicyFactory(workspace=workspace)
    assert admin_client.get(reverse(f"admin:sla_{model}_changelist")).status_code == 200


def test_policy_change_page_renders_and_save_rechecks(clock, admin_client, workspace):
    policy = PolicyFactory(workspace=workspace, name="Standard")
    ticket = make_ticket(workspace=workspace)
    url = reverse("admin:sla_slapolicy_change", args=[policy.pk])
    assert admin_client.get(url).status_code == 200
    data = {
        "workspace": workspace.pk,
        "name": "Standard",
        "description": "",
        "position": 0,
        "active": "on",
        "conditions": '{"priorities": ["asap"]}',
        "paused_statuses": '["pending"]',
        "targets-TOTAL_FORMS": 0,
        "targets-INITIAL_FORMS": 0,
        "escalations-TOTAL_FORMS": 0,
        "escalations-INITIAL_FORMS": 0,
    }
    bad = admin_client.post(url, data)
    assert bad.status_code == 200 and "asap" in bad.content.decode()  # the form shows the validation error
    data["conditions"] = '{"priorities": ["urgent"]}'
    assert admin_client.post(url, data).status_code == 302
    ticket.refresh_from_db()
    assert ticket.sla_next_check_at == clock()


def test_a_failing_check_is_listed_with_its_reason(clock, admin_client, workspace):
    from pivotdesk.sla.models import SLACheckFailure

    ticket = make_ticket(workspace=workspace)
    at = clock()
    SLACheckFailure.objects.create(
        workspace=workspace,
        ticket=ticket,
        attempts=2,
        error="KeyError: 'weekly_hours'",
        first_failed_at=at,
        last_failed_at=at,
        retry_at=at,
    )
    html = admin_client.get(reverse("admin:sla_slacheckfailure_changelist")).content.decode()
    assert "KeyError: &#x27;weekly_hours&#x27;" in html
