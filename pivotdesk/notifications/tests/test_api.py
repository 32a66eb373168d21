"""The notifications REST API: my notifications only, read state, scopes, isolation."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.notifications import services
from pivotdesk.notifications.models import Notification

pytestmark = pytest.mark.django_db

BASE = "/api/v1/notifications/"


def _n(agent, **kw):
    return services.notify(
        actor=Actor.system(), workspace=agent.workspace, recipient=agent, kind="routing.assigned", title="t", **kw
    )


def test_list_mine_with_unread_filter_and_ticket_number(client, agent, supervisor, ticket, api_auth):
    first = _n(agent, ticket=ticket)
    _n(agent)
    _n(supervisor)
    services.notification_mark_read(actor=Actor.for_agent(agent), agent=agent, notification_id=first.pk)
    auth = api_auth(agent)
    body = client.get(BASE, **auth).json()
    assert body["count"] == 2 and body["unread"] == 1
    assert {i["ticket_number"] for i in body["items"]} == {ticket.number, None}
    unread = client.get(BASE + "?unread=true", **auth).json()
    assert [i["id"] for i in unread["items"]] != [first.pk] and unread["count"] == 1


def test_mark_read_and_read_all(client, agent, api_auth):
    a, _b = _n(agent), _n(agent)
    auth = api_auth(agent)
    r = client.post(f"{BASE}{a.pk}/read", **auth)
    assert r.status_code == 200 and r.json()["read_at"] is not None
    r = client.post(f"{BASE}read-all", **auth)
    assert r.status_code == 200 and r.json() == {"marked": 1}
    assert not Notification.objects.filter(recipient=agent, read_at__isnull=True).exists()


def test_read_token_may_list_but_not_mark(client, agent, api_auth):
    n = _n(agent)
    auth = api_auth(agent, scope="read")
    assert client.get(BASE, **auth).status_code == 200
    r = client.post(f"{BASE}{n.pk}/read", **auth)
    assert r.status_code == 403
    assert Notification.objects.get(pk=n.pk).read_at is None


def test_someone_elses_or_other_workspace_is_404(client, agent, supervisor, other_workspace, api_auth):
    theirs = _n(supervisor)
    stranger = AgentFactory(workspace=other_workspace)
    far = _n(stranger)
    auth = api_auth(agent)
    assert client.post(f"{BASE}{theirs.pk}/read", **auth).status_code == 404
    assert client.post(f"{BASE}{far.pk}/read", **auth).status_code == 404
    assert client.get(BASE, **auth).json()["count"] == 0


def test_anonymous_is_refused(client):
    assert client.get(BASE).status_code in (401, 403)
