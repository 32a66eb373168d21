"""Webhook delivery errors are facts (a code, its parameters, the raw detail) shown in the reader's language
(issue 12): the API answers in the request's language, the stored row keeps no English sentence."""

from __future__ import annotations

import json

import pytest

from pivotdesk.webhooks import tasks
from pivotdesk.webhooks.models import WebhookDelivery
from pivotdesk.webhooks.tests.factories import make_endpoint

pytestmark = pytest.mark.django_db

BASE = "/api/v1/webhooks/"


def test_a_failed_delivery_reads_in_the_requests_language(
    workspace, admin_agent, api_client_for, receiver, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(workspace=workspace, url=receiver.url())
    receiver.respond(500, body=b"database down")
    with django_capture_on_commit_callbacks(execute=True):
        tasks.webhook_fan_out.delay({"name": "ticket.updated", "workspace_id": workspace.pk, "payload": {}})
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert json.loads(delivery.last_error) == {"code": "http_status", "params": {"status": 500}}

    client = api_client_for(admin_agent, scope="admin")
    url = f"{BASE}{endpoint.pk}/deliveries/{delivery.pk}"
    zh = client.get(url, headers={"accept-language": "zh-hans"}).json()
    en = client.get(url, headers={"accept-language": "en"}).json()
    assert zh["last_error"] == "接收方服务器返回 HTTP 500"
    assert zh["attempt_log"][0]["error"] == "接收方服务器返回 HTTP 500"
    assert en["last_error"] == "The receiving server answered HTTP 500"
    assert zh["response_body_excerpt"] == "database down"  # the receiver's own words, as they came
