"""Tenant isolation through the API: an agent of workspace A gets 404 for anything of workspace B, by id."""

from __future__ import annotations

import pytest
from django.test import Client

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Role
from pivotdesk.accounts.services import api_token_create
from pivotdesk.accounts.tests.factories import AgentFactory, TeamFactory
from pivotdesk.customers.tests.factories import ContactFactory, OrganizationFactory
from pivotdesk.tickets.services import custom_field_create, saved_view_create, ticket_link
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Factories set passwords; the default PBKDF2 work factor would dominate these tests' run time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def theirs(other_workspace):
    """Objects of workspace B, created by B's admin."""
    from pivotdesk.accounts.actors import Actor

    admin = AgentFactory.create(workspace=other_workspace, role=Role.ADMIN)
    a = make_ticket(workspace=other_workspace)
    b = make_ticket(workspace=other_workspace)
    link = ticket_link(source=a, target=b, kind="related", actor=Actor.for_agent(admin))
    token, _ = api_token_create(actor=Actor.system(), agent=admin, name="theirs")
    return {
        "agent": admin,
        "ticket": a,
        "other_ticket": b,
        "link": link,
        "contact": ContactFactory.create(workspace=other_workspace),
        "organization": OrganizationFactory.create(workspace=other_workspace),
        "team": TeamFactory.create(workspace=other_workspace),
        "field": custom_field_create(
            actor=Actor.system(), workspace=other_workspace, key="k", label="K", field_type="text"
        ),
        "view": saved_view_create(actor=Actor.system(), workspace=other_workspace, name="Shared", filters={}),
        "token": token,
        "attachment_ticket": a,
    }


@pytest.fixture
def api(workspace):
    """Workspace A's admin, with an admin-scoped token: the most privileged caller still sees nothing of B."""
    admin = AgentFactory.create(workspace=workspace, role=Role.ADMIN)
    _, secret = api_token_create(actor=Actor.system(), agent=admin, name="ours", scope="admin")
    return Client(headers={"authorization": f"Bearer {secret}"})


def _json(client, method, url, data=None):
    return getattr(client, method)(url, data or {}, content_type="application/json")


def test_reads_by_id_are_404(api, theirs):
    t = theirs["ticket"]
    urls = [
        f"/api/v1/tickets/{t.pk}",
        f"/api/v1/tickets/by-number/{t.number}",
        f"/api/v1/tickets/{t.pk}/messages",
        f"/api/v1/tickets/{t.pk}/events",
        f"/api/v1/tickets/{t.pk}/links",
        f"/api/v1/contacts/{theirs['contact'].pk}",
        f"/api/v1/organizations/{theirs['organization'].pk}",
        f"/api/v1/teams/{theirs['team'].pk}",
        f"/api/v1/agents/{theirs['agent'].pk}",
        f"/api/v1/custom-fields/{theirs['field'].pk}",
        f"/api/v1/saved-views/{theirs['view'].pk}",
    ]
    for url in urls:
        res = api.get(url)
        assert res.status_code == 404, (url, res.status_code)
        assert res.json()["code"] == "not_found"


def test_attachment_download_is_404(api, theirs):
    from pivotdesk.tickets.services import attachment_add

    attachment = attachment_add(actor=Actor.system(), ticket=theirs["ticket"], filename="secret.txt", content=b"secret")
    assert api.get(f"/api/v1/attachments/{attachment.pk}/download").status_code == 404


def test_writes_by_id_are_404_and_change_nothing(api, theirs):
    t = theirs["ticket"]
    calls = [
        ("patch", f"/api/v1/tickets/{t.pk}", {"priority": "urgent"}),
        ("post", f"/api/v1/tickets/{t.pk}/messages", {"body": "hi"}),
        ("post", f"/api/v1/tickets/{t.pk}/merge", {"target_id": theirs["other_ticket"].pk}),
        ("post", f"/api/v1/tickets/{t.pk}/links", {"target_id": theirs["other_ticket"].pk}),
        ("delete", f"/api/v1/tickets/{t.pk}/links/{theirs['link'].pk}", None),
        ("put", f"/api/v1/tickets/{t.pk}/parent", {"parent_id": None}),
        ("patch", f"/api/v1/contacts/{theirs['contact'].pk}", {"name": "x"}),
        ("post", f"/api/v1/contacts/{theirs['contact'].pk}/identities", {"kind": "web", "value": "x"}),
        ("patch", f"/api/v1/organizations/{theirs['organization'].pk}", {"name": "x"}),
        ("patch", f"/api/v1/teams/{theirs['team'].pk}", {"name": "x"}),
        ("patch", f"/api/v1/agents/{theirs['agent'].pk}", {"role": "agent"}),
        ("patch", f"/api/v1/custom-fields/{theirs['field'].pk}", {"label": "x"}),
        ("delete", f"/api/v1/saved-views/{theirs['view'].pk}", None),
        ("delete", f"/api/v1/tokens/{theirs['token'].pk}", None),
    ]
    for method, url, data in calls:
        res = _json(api, method, url, data)
        assert res.status_code == 404, (method, url, res.status_code, res.content)
    t.refresh_from_db()
    assert t.priority == "normal"
    assert t.message_count == 1
    theirs["token"].refresh_from_db()
    assert theirs["token"].revoked_at is None
    theirs["agent"].refresh_from_db()
    assert theirs["agent"].role == "admin"


def test_cross_workspace_merge_link_and_parent_are_refused(api, workspace, theirs):
    ours = make_ticket(workspace=workspace)
    foreign = theirs["ticket"]
    for method, url, data in [
        ("post", f"/api/v1/tickets/{ours.pk}/merge", {"target_id": foreign.pk}),
        ("post", f"/api/v1/tickets/{ours.pk}/links", {"target_id": foreign.pk, "kind": "related"}),
        ("put", f"/api/v1/tickets/{ours.pk}/parent", {"parent_id": foreign.pk}),
    ]:
        res = _json(api, method, url, data)
        assert res.status_code == 404, (url, res.content)
    ours.refresh_from_db()
    assert ours.merged_into_id is None
    assert ours.parent_id is None
    their_contact = theirs["contact"]
    our_contact = ContactFactory.create(workspace=workspace)
    res = _json(api, "post", f"/api/v1/contacts/{our_contact.pk}/merge", {"target_id": their_contact.pk})
    assert res.status_code == 404


def test_body_references_to_another_workspace_are_refused(api, workspace, theirs):
    ours = make_ticket(workspace=workspace)
    res = _json(api, "patch", f"/api/v1/tickets/{ours.pk}", {"assignee_id": theirs["agent"].pk})
    assert res.status_code == 422
    res = _json(api, "patch", f"/api/v1/tickets/{ours.pk}", {"team_id": theirs["team"].pk})
    assert res.status_code == 422
    res = _json(api, "post", "/api/v1/tickets", {"subject": "x", "requester_id": theirs["contact"].pk})
    assert res.status_code == 422
    res = _json(api, "post", "/api/v1/teams", {"name": "Mixed", "member_ids": [theirs["agent"].pk]})
    assert res.status_code == 422
    bulk = _json(
        api, "post", "/api/v1/tickets/bulk", {"ticket_ids": [theirs["ticket"].pk], "changes": {"priority": "low"}}
    )
    assert bulk.json() == {"updated": [], "failed": {str(theirs["ticket"].pk): "not found"}}


def test_lists_never_show_the_other_workspace(api, workspace, theirs):
    make_ticket(workspace=workspace)
    assert api.get("/api/v1/tickets").json()["count"] == 1
    assert theirs["contact"].pk not in {c["id"] for c in api.get("/api/v1/contacts?limit=200").json()["items"]}
    assert theirs["agent"].pk not in {a["id"] for a in api.get("/api/v1/agents").json()}
    assert api.get("/api/v1/teams").json() == []
    assert api.get("/api/v1/custom-fields").json() == []
    assert api.get("/api/v1/saved-views").json() == []
    assert api.get("/api/v1/organizations").json()["count"] == 0
    assert api.get("/api/v1/tokens").json()[0]["name"] == "ours"
