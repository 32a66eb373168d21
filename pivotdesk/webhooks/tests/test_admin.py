"""The Django admin: endpoints with deliveries inline and a read-only secret; test-event and replay actions."""

from __future__ import annotations

import pytest

from pivotdesk.webhooks import tasks
from pivotdesk.webhooks.models import WebhookDelivery, WebhookEndpoint
from pivotdesk.webhooks.tests.factories import make_endpoint

pytestmark = pytest.mark.django_db


def test_the_endpoint_page_shows_only_the_secret_hint_and_recent_deliveries(
    admin_client, workspace, receiver, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(workspace=workspace, url=receiver.url())
    with django_capture_on_commit_callbacks(execute=True):
        tasks.webhook_fan_out.delay({"name": "ticket.updated", "workspace_id": workspace.pk, "payload": {}})

    page = admin_client.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/")

    assert page.status_code == 200
    html = page.content.decode()
    assert endpoint.signing_secret not in html and endpoint.secret_hint in html
    assert "secret_config" not in html  # neither shown nor editable
    assert "ticket.updated" in html  # the deliveries inline


def test_send_test_event_action_pings_the_selected_endpoints(
    admin_client, workspace, receiver, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(workspace=workspace, url=receiver.url())
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/webhooks/webhookendpoint/",
            {"action": "send_test_event", "_selected_action": [endpoint.pk]},
        )
    assert response.status_code == 302
    assert [r.headers["X-PivotDesk-Event"] for r in receiver.requests] == ["webhook.ping"]


def test_replay_action_sends_the_selected_deliveries_again(
    admin_client, workspace, receiver, django_capture_on_commit_callbacks
):
    make_endpoint(workspace=workspace, url=receiver.url())
    with django_capture_on_commit_callbacks(execute=True):
        tasks.webhook_fan_out.delay({"name": "ticket.updated", "workspace_id": workspace.pk, "payload": {}})
    delivery = WebhookDelivery.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/webhooks/webhookdelivery/", {"action": "replay", "_selected_action": [delivery.pk]}
        )

    assert response.status_code == 302
    assert len(receiver.requests) == 2
    delivery.refresh_from_db()
    assert delivery.replays == 1


def test_an_endpoint_added_in_the_admin_gets_a_generated_secret(admin_client, workspace):
    response = admin_client.post(
        "/admin/webhooks/webhookendpoint/add/",
        {
            "workspace": workspace.pk,
            "url": "https://example.com/from-admin",
            "description": "",
            "event_types": "[]",
            "active": "on",
            "deliveries-TOTAL_FORMS": "0",
            "deliveries-INITIAL_FORMS": "0",
            "deliveries-MIN_NUM_FORMS": "0",
            "deliveries-MAX_NUM_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    [endpoint] = WebhookEndpoint.objects.all()
    assert endpoint.signing_secret.startswith("whsec_") and endpoint.secret_hint.startswith("whsec_…")


def test_the_admin_form_refuses_a_non_http_url(admin_client, workspace):
    response = admin_client.post(
        "/admin/webhooks/webhookendpoint/add/",
        {
            "workspace": workspace.pk,
            "url": "ftp://example.com/",
            "event_types": "[]",
            "deliveries-TOTAL_FORMS": "0",
            "deliveries-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "Only http and https URLs are allowed." in response.content.decode()
    assert not WebhookEndpoint.objects.exists()
