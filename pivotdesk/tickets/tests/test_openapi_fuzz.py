"""Property test of the whole REST API: Schemathesis generates requests from the OpenAPI schema (valid and
invalid), sends them in-process to the WSGI app with an admin token of a seeded workspace, and checks that no
response is a 5xx. Bounded (few examples per operation, no deadline) so it runs in `make test`.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Role
from pivotdesk.accounts.services import api_token_create, team_create
from pivotdesk.accounts.tests.factories import AgentFactory, WorkspaceFactory
from pivotdesk.customers.tests.factories import ContactFactory, OrganizationFactory
from pivotdesk.tickets.services import (
    attachment_add,
    custom_field_create,
    message_create,
    saved_view_create,
    ticket_link,
)
from pivotdesk.tickets.tests.factories import make_ticket

# The coverage phase (boundary values of every field) is left out to keep the run short; the fuzzing phase
# generates both valid and invalid requests.
CONFIG = schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": False}}})
# The WSGI app comes from Django, not from `config`, which this app may not import (see the layers contract).
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application(), config=CONFIG)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Factories set passwords; the default PBKDF2 work factor would dominate these tests' run time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Requests go straight to the WSGI app, so request_started/finished fire close_old_connections, which would
    close the connection holding the test's transaction (PostgreSQL). Django's test client detaches it the same
    way."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(db):
    """A workspace with one of everything, and an admin-scoped token without a practical rate limit."""
    workspace = WorkspaceFactory.create()
    admin = AgentFactory.create(workspace=workspace, role=Role.ADMIN)
    agent = AgentFactory.create(workspace=workspace, role=Role.AGENT)
    org = OrganizationFactory.create(workspace=workspace, domains=["acme.cn"])
    contact = ContactFactory.create(workspace=workspace, organization=org)
    team = team_create(actor=Actor.system(), workspace=workspace, name="Tier 1", members=[admin, agent])
    a = make_ticket(workspace=workspace, requester=contact, tags=["vip"])
    b = make_ticket(workspace=workspace, requester=contact)
    actor = Actor.for_agent(admin)
    link = ticket_link(source=a, target=b, kind="related", actor=actor)
    message = message_create(ticket=a, actor=actor, body="note", kind="note")
    attachment = attachment_add(actor=Actor.system(), ticket=a, message=message, filename="a.txt", content=b"hello")
    field = custom_field_create(
        actor=Actor.system(), workspace=workspace, key="plan", label="Plan", field_type="select", options=["a", "b"]
    )
    view = saved_view_create(
        actor=Actor.system(), workspace=workspace, name="Mine", filters={"assignee": "me"}, owner=admin
    )
    _token, secret = api_token_create(
        actor=Actor.system(), agent=admin, name="fuzz", scope="admin", rate_limit_per_minute=100_000
    )
    ids = {
        "ticket_id": a.pk,
        "number": a.number,
        "link_id": link.pk,
        "attachment_id": attachment.pk,
        "contact_id": contact.pk,
        "organization_id": org.pk,
        "team_id": team.pk,
        "agent_id": agent.pk,
        "field_id": field.pk,
        "view_id": view.pk,
    }
    return {"headers": {"Authorization": f"Bearer {secret}"}, "ids": ids}


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_never_answers_5xx(case, seeded):
    # Half of the generated ids point at real objects, so the handlers run past their lookups too.
    for name, value in list((case.path_parameters or {}).items()):
        if name in seeded["ids"] and isinstance(value, int) and value % 2 == 0:
            case.path_parameters[name] = seeded["ids"][name]
    response = case.call(headers=seeded["headers"])
    case.validate_response(response, checks=[not_a_server_error])
