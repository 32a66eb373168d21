"""The demo shows the portal: a theme, an organization manager and requests in every state; `portal_link` prints a
link that signs the demo customer in."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client

from pivotdesk.cli.demo.portal import MANAGER_EMAIL
from pivotdesk.cli.demo.seed import seed_demo
from pivotdesk.portal.models import OrganizationManager, PortalTheme
from pivotdesk.tickets.models import Message, MessageKind, Ticket

pytestmark = pytest.mark.django_db


def test_the_demo_has_portal_ready_customers_and_portal_link_signs_one_in():
    workspace = seed_demo(tickets=10, seed=3).workspace
    assert PortalTheme.objects.filter(workspace=workspace).exists()
    manager = OrganizationManager.objects.get(workspace=workspace, contact__email=MANAGER_EMAIL)
    states = set(
        Ticket.objects.filter(workspace=workspace, organization=manager.organization).values_list("status", flat=True)
    )
    assert {"new", "open", "pending", "on_hold", "solved", "closed"} <= states
    assert Message.objects.filter(ticket__requester=manager.contact, kind=MessageKind.NOTE).exists()
    out = io.StringIO()
    call_command("portal_link", MANAGER_EMAIL, stdout=out)
    path = re.search(r"(/portal/demo/m/[\w-]+/)", out.getvalue()).group(1)
    client = Client()
    response = client.post(path)
    assert response.status_code == 302
    page = client.get("/portal/demo/requests/?state=all").content.decode()
    assert "发票抬头需要修改" in page and "内部" not in page
