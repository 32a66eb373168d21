"""The webhooks REST API: admin-only CRUD, deliveries, replay and ping, and isolation between workspaces."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pivotdesk.common.outbox import OutboxStatus
from pivotdesk.webhooks import tasks
from pivotdesk.webhooks.models import WebhookDelivery, WebhookEndpoint
from pivotdesk.webhooks.tests.factories import make_endpoint

pytestmark = pytest.mark.django_db

BASE = "/api/v1/webhooks/"


@pytest.fixture
def admin_auth(admin_agent, api_auth):
    return api_auth(admin_agent, scope="admin")


def _event(workspace):
    return {"name": "ticket.updated", "workspace_id": workspace.pk, "payload": {"fields": ["priority"]}}


def test_an_admin_registers_lists_reads_changes_and_deletes_an_endpoint(client, admin_auth, admin_agent):
    created = client.post(
        BASE,
        {"url": "https://example.com/hook", "description": "CRM", "event_types": ["ticket.created"]},
        content_type="application/json",
        **admin_auth,
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["event_types"] == ["ticket.created"]
    assert body["active"] is True
    endpoint_id = body["id"]
    assert WebhookEndpoint.objects.get(pk=endpoint_id).created_by == admin_agent

    listed = client.get(BASE, **admin_auth).json()
    assert [e["id"] for e in listed["items"]] == [endpoint_id]
    assert client.get(f"{BASE}{endpoint_id}", **admin_auth).json()["description"] == "CRM"

    patched = client.patch(
        f"{BASE}{endpoint_id}",
        {"event_types": [], "active": False},
        content_type="application/json",
        **admin_auth,
    )
    assert patched.status_code == 200
    assert (patched.json()["event_types"], patched.json()["active"]) == ([], False)
    assert patched.json()["description"] == "CRM"  # untouched fields stay

    rotated = client.post(f"{BASE}{endpoint_id}/rotate-secret", **admin_auth).json()
    assert rotated["secret"] != body["secret"]

    assert client.delete(f"{BASE}{endpoint_id}", **admin_auth).status_code == 204
    assert client.get(f"{BASE}{endpoint_id}", **admin_auth).status_code == 404


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/hook", "javascript:alert(1)", "not a url", "https://", "http://exa mple.com/", ""],
)
def test_only_http_and_https_urls_are_accepted(client, admin_auth, url):
    response = client.post(BASE, {"url": url}, content_type="application/json", **admin_auth)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"


def test_unknown_event_types_are_rejected_with_the_known_ones(client, admin_auth):
    response = client.post(
        BASE,
        {"url": "https://example.com/h", "event_types": ["ticket.exploded"]},
        content_type="application/json",
        **admin_auth,
    )
    assert response.status_code == 422
    assert "ticket.created" in response.json()["details"]["event_types"]


def test_a_patch_with_a_bad_url_changes_nothing(client, admin_auth, workspace):
    endpoint = make_endpoint(workspace=workspace)
    response = client.patch(
        f"{BASE}{endpoint.pk}", {"url": "gopher://x"}, content_type="application/json", **admin_auth
    )
    assert response.status_code == 422
    endpoint.refresh_from_db()
    assert endpoint.url == "https://example.com/hook"


def test_agents_without_the_admin_role_are_refused(client, agent, supervisor, api_auth):
    for who in (agent, supervisor):
        response = client.get(BASE, **api_auth(who, scope="admin"))
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"


def test_tokens_without_the_admin_scope_are_refused(client, admin_agent, api_auth):
    response = client.get(BASE, **api_auth(admin_agent, scope="write"))
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


def test_anonymous_callers_are_refused(client):
    assert client.get(BASE).status_code == 401


def test_an_admin_session_may_read_the_endpoints(admin_agent_client, workspace):
    make_endpoint(workspace=workspace)
    assert len(admin_agent_client.get(BASE).json()["items"]) == 1


def test_another_workspaces_endpoints_are_not_found(client, admin_auth, other_workspace):
    theirs = make_endpoint(workspace=other_workspace, url="https://b.example.com/hook")
    delivery = WebhookDelivery.objects.create(
        workspace=other_workspace, endpoint=theirs, event_name="ticket.updated", payload={}
    )

    assert client.get(BASE, **admin_auth).json()["items"] == []
    for method, path in [
        ("get", f"{BASE}{theirs.pk}"),
        ("patch", f"{BASE}{theirs.pk}"),
        ("delete", f"{BASE}{theirs.pk}"),
        ("post", f"{BASE}{theirs.pk}/rotate-secret"),
        ("post", f"{BASE}{theirs.pk}/ping"),
        ("get", f"{BASE}{theirs.pk}/deliveries"),
        ("get", f"{BASE}{theirs.pk}/deliveries/{delivery.pk}"),
        ("post", f"{BASE}{theirs.pk}/deliveries/{delivery.pk}/replay"),
    ]:
        response = getattr(client, method)(path, {}, content_type="application/json", **admin_auth)
        assert response.status_code == 404, (method, path)
        assert response.json()["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.url == "https://b.example.com/hook"


def test_a_delivery_of_another_endpoint_is_not_found_under_mine(client, admin_auth, workspace):
    mine = make_endpoint(workspace=workspace)
    other = make_endpoint(workspace=workspace, url="https://other.example.com/")
    delivery = WebhookDelivery.objects.create(workspace=workspace, endpoint=other, event_name="x", payload={})
    assert client.get(f"{BASE}{mine.pk}/deliveries/{delivery.pk}", **admin_auth).status_code == 404


def test_deliveries_are_listed_newest_first_paginated_and_filtered_by_status(
    client, admin_auth, workspace, receiver, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(workspace=workspace, url=receiver.url())
    receiver.respond(500)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            tasks.webhook_fan_out.delay(_event(workspace))

    page = client.get(f"{BASE}{endpoint.pk}/deliveries?limit=2", **admin_auth).json()
    assert page["count"] == 3
    assert len(page["items"]) == 2
    assert page["next_offset"] == 2
    ids = [d["id"] for d in page["items"]]
    assert ids == sorted(ids, reverse=True)

    queued = client.get(f"{BASE}{endpoint.pk}/deliveries?status=queued", **admin_auth).json()
    assert [d["status"] for d in queued["items"]] == ["queued"]
    assert queued["items"][0]["last_status_code"] == 500

    bad = client.get(f"{BASE}{endpoint.pk}/deliveries?status=lost", **admin_auth)
    assert bad.status_code == 422


def test_listing_deliveries_costs_the_same_queries_for_few_or_many(client, admin_auth, workspace):
    endpoint = make_endpoint(workspace=workspace)

    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"{BASE}{endpoint.pk}/deliveries?limit=5", **admin_auth).status_code == 200
        return len(ctx.captured_queries)

    WebhookDelivery.objects.create(workspace=workspace, endpoint=endpoint, event_name="x", payload={})
    few = count_queries()
    for _ in range(8):
        WebhookDelivery.objects.create(workspace=workspace, endpoint=endpoint, event_name="x", payload={})
    assert count_queries() <= few + 1  # + the COUNT once a page is full


def test_a_delivery_shows_its_payload_and_attempt_log(
    client, admin_auth, workspace, receiver, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(workspace=workspace, url=receiver.url())
    receiver.respond(500)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.webhook_fan_out.delay(_event(workspace))
    delivery = WebhookDelivery.objects.get()

    body = client.get(f"{BASE}{endpoint.pk}/deliveries/{delivery.pk}", **admin_auth).json()
    assert body["payload"]["type"] == "ticket.updated"
    assert [(a["number"], a["status_code"], a["succeeded"]) for a in body["attempt_log"]] == [(1, 500, False)]


def test_replaying_a_delivery_posts_it_again(
    client, admin_auth, workspace, receiver, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(workspace=workspace, url=receiver.url())
    with django_capture_on_commit_callbacks(execute=True):
        tasks.webhook_fan_out.delay(_event(workspace))
    delivery = WebhookDelivery.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{BASE}{endpoint.pk}/deliveries/{delivery.pk}/replay", **admin_auth)

    assert response.status_code == 202
    assert response.json()["replays"] == 1
    assert len(receiver.requests) == 2
    delivery.refresh_from_db()
    assert delivery.status == OutboxStatus.SENT


def test_a_test_ping_is_sent_to_the_endpoint(
    client, admin_auth, workspace, receiver, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(workspace=workspace, url=receiver.url())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{BASE}{endpoint.pk}/ping", **admin_auth)
    assert response.status_code == 202
    assert response.json()["event_name"] == "webhook.ping"
    [request] = receiver.requests
    assert request.headers["X-PivotDesk-Event"] == "webhook.ping"
