"""The composer's @mention list: colleagues of this workspace by username or name, escaped, never the author."""

from __future__ import annotations

import pytest

from pivotdesk.tickets.tests.factories import make_ticket
from pivotdesk.web.tests.helpers import new_agent, new_user

pytestmark = pytest.mark.django_db


def test_colleagues_by_username_or_name_and_never_oneself(agent, workspace, other_workspace, ticket, client_as):
    new_agent(workspace=workspace, user=new_user(username="li.na", display_name="李娜<script>"))
    new_agent(workspace=workspace, user=new_user(username="wang", display_name="王伟"), is_active=False)
    new_agent(workspace=other_workspace, user=new_user(username="lisa", display_name="Lisa"))
    client = client_as(agent)
    html = client.get(f"/tickets/{ticket.number}/mentionable/", {"q": "li"}).content.decode()
    assert 'data-handle="li.na"' in html and "李娜&lt;script&gt;" in html
    assert "lisa" not in html  # another workspace
    assert client.get(f"/tickets/{ticket.number}/mentionable/", {"q": "李"}).content.decode().count("data-handle") == 1
    assert "data-handle" not in client.get(f"/tickets/{ticket.number}/mentionable/", {"q": "wang"}).content.decode()
    own = client.get(f"/tickets/{ticket.number}/mentionable/", {"q": agent.user.username}).content.decode()
    assert f'data-handle="{agent.user.username}"' not in own
    assert (
        "No colleague by that name"
        in client.get(f"/tickets/{ticket.number}/mentionable/", {"q": "zz"}).content.decode()
    )


def test_another_workspace_s_ticket_is_not_found(agent, other_workspace, client_as):
    foreign = make_ticket(workspace=other_workspace)
    assert client_as(agent).get(f"/tickets/{foreign.number}/mentionable/", {"q": "a"}).status_code == 404
