"""Django's `is_staff` is no role (issue 11, finding 3): workspace decisions follow only the agent's role in that
workspace, and the Django admin, which acts across every workspace, opens for the installation's superusers only."""

from __future__ import annotations

import pytest
from django.test import Client

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Role
from pivotdesk.accounts.permissions import Perm, actor_can, authorize
from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.common.errors import PermissionDenied

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple 42"


@pytest.fixture
def staff_agent(workspace):
    """An agent (role agent) of workspace A whose user has Django's `is_staff`, but is no superuser."""
    agent = AgentFactory(workspace=workspace, role=Role.AGENT)
    agent.user.is_staff = True
    agent.user.set_password(PASSWORD)
    agent.user.save()
    return agent


def test_a_staff_agent_is_no_admin_of_its_workspace(staff_agent, client_as, channel_page="/settings/channels/"):
    # the gate decides by the role in the workspace
    assert not actor_can(Actor.for_agent(staff_agent), Perm.WORKSPACE_CONFIGURE)
    with pytest.raises(PermissionDenied):
        authorize(Actor.for_agent(staff_agent), Perm.CHANNEL_CONFIGURE, workspace_id=staff_agent.workspace_id)
    # and the UI shows none of an admin's screens or links
    page = client_as(staff_agent).get("/queue/").content.decode()
    assert 'href="/admin/"' not in page and f'href="{channel_page}"' not in page
    assert client_as(staff_agent).get(channel_page).status_code in (403, 404)


def test_a_superuser_is_no_admin_of_a_workspace_where_its_role_is_agent(staff_agent, client_as):
    staff_agent.user.is_superuser = True
    staff_agent.user.save(update_fields=["is_superuser"])
    assert not actor_can(Actor.for_agent(staff_agent), Perm.WORKSPACE_CONFIGURE)
    assert 'href="/settings/channels/"' not in client_as(staff_agent).get("/queue/").content.decode()


def test_a_staff_user_who_is_no_superuser_cannot_open_the_django_admin(staff_agent):
    client = Client()
    client.force_login(staff_agent.user)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert client.get("/admin/accounts/workspace/").status_code == 302


def test_a_staff_user_who_is_no_superuser_cannot_sign_in_to_the_django_admin(staff_agent):
    client = Client()
    response = client.post(
        "/admin/login/", {"username": staff_agent.user.username, "password": PASSWORD}, REMOTE_ADDR="203.0.113.9"
    )
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert "operator account" in response.content.decode()


def test_a_superuser_opens_the_django_admin(workspace):
    operator = AgentFactory(workspace=workspace, role=Role.LIGHT_AGENT).user
    operator.is_staff = operator.is_superuser = True
    operator.set_password(PASSWORD)
    operator.save()
    client = Client()
    client.post("/admin/login/", {"username": operator.username, "password": PASSWORD}, REMOTE_ADDR="203.0.113.10")
    assert client.get("/admin/").status_code == 200
