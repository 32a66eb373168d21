"""Business events through the generic channel webhook: channels and automation do not import each other; the
composition root (`config.subscribers.install`) hands the webhook's events to automation. Signed with the channel's
HMAC secret, stored and matched once per id, a malformed one refused with its reason and kept."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.utils import translation

from pivotdesk.accounts.actors import Actor
from pivotdesk.automation.models import BusinessEvent, BusinessEventStatus
from pivotdesk.automation.services import chains
from pivotdesk.common.models import EventRecord

pytestmark = pytest.mark.django_db


def _body(**fields: Any) -> str:
    return json.dumps({"id": "evt-1", "type": "shipment.delayed", "key": "order:PD1", "data": {}} | fields)


def _fired() -> list[dict[str, Any]]:
    return [r.payload for r in EventRecord.objects.filter(name="automation.business_event").order_by("pk")]


@pytest.fixture
def chain(workspace: Any, supervisor: Any, actor: Actor, contact: Any) -> Any:
    template = chains.template_save(
        actor=Actor.for_agent(supervisor),
        workspace=workspace,
        name="订单",
        mode="sequence",
        stages=[{"key": "ship", "name": "运输配送", "expected_minutes": 60}],
    )
    return chains.chain_start(actor=actor, template=template, key="order:PD1", requester=contact)


def test_the_generic_channel_webhook_takes_signed_business_events(
    client: Any, workspace: Any, chain: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """A body with a type and a key (no "from") posted to a generic channel is a business event: refused without
    the channel's HMAC signature, stored and matched with it, once per id; a malformed one is a 400 with the reason
    and a failed row."""
    from pivotdesk.channels.domain.signatures import sha256_header
    from pivotdesk.channels.models import InboundPayload
    from pivotdesk.channels.tests.support_b import Hook, make_account

    secret = "events-secret"
    hook = Hook(client, make_account(workspace, "generic", config={}, secrets={"signing_secret": secret}),
                django_capture_on_commit_callbacks)  # fmt: skip
    body = _body(id="evt-hook-1", data={"carrier": "SF"}).encode()
    assert hook.post(body, HTTP_X_PIVOTDESK_SIGNATURE="sha256=" + "0" * 64).status_code == 403
    assert not BusinessEvent.objects.filter(event_id="evt-hook-1").exists()
    rejected = InboundPayload.objects.count()  # the refused request is kept as a rejected payload
    first = hook.post(body, HTTP_X_PIVOTDESK_SIGNATURE=sha256_header(secret, body))
    assert first.status_code == 202, first.content
    answer = first.json()
    assert answer["event_id"] == "evt-hook-1" and answer["event_status"] == "processed" and not answer["duplicate"]
    row = BusinessEvent.objects.get(event_id="evt-hook-1")
    assert row.chain_id == chain.pk and row.data == {"carrier": "SF"}
    again = hook.post(body, HTTP_X_PIVOTDESK_SIGNATURE=sha256_header(secret, body))
    assert again.status_code == 202 and again.json()["duplicate"]
    assert BusinessEvent.objects.filter(event_id="evt-hook-1").count() == 1
    assert len([p for p in _fired() if p.get("business_event_id") == row.pk]) == 1
    bad = json.dumps({"id": "evt-hook-2", "type": "Not A Type", "key": "order:PD1"}).encode()
    with translation.override("zh-hans"):
        refused = hook.post(bad, HTTP_X_PIVOTDESK_SIGNATURE=sha256_header(secret, bad), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert refused.status_code == 400 and refused.json()["message"]
    assert BusinessEvent.objects.filter(status=BusinessEventStatus.FAILED, reason="bad_type").count() == 1
    assert InboundPayload.objects.count() == rejected  # events are not messages: no payload rows to parse
