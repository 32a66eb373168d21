"""Business events in: stored raw before parsing, idempotent by id, matched to a chain or a ticket by key, kept with a
reason when nothing matches, and the same through `POST /api/v1/events/`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.utils import translation

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.errors import Conflict, PermissionDenied, ValidationFailed
from pivotdesk.common.models import EventRecord
from pivotdesk.tickets.tests.factories import make_ticket

from ..models import BusinessEvent, BusinessEventStatus
from ..services import business_events, chains
from ..services.business_events import business_event_receive, business_event_retry

pytestmark = pytest.mark.django_db
RECEIVED = "automation.business_event"


def _body(**fields: Any) -> str:
    return json.dumps({"id": "evt-1", "type": "shipment.delayed", "key": "order:PD1", "data": {}} | fields)


def _fired() -> list[dict[str, Any]]:
    return [r.payload for r in EventRecord.objects.filter(name=RECEIVED).order_by("pk")]


@pytest.fixture
def api_actor(agent: Any) -> Actor:
    return Actor.for_api(agent, "erp")


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


# --- the service -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "invalid_json"),
        (b"[1, 2]", "not_an_object"),
        (b"[" * 5000 + b"]" * 5000, "invalid_json"),
        (json.dumps({"type": "a.b"}).encode(), "missing_id"),
        (json.dumps({"id": "x", "type": "Shipment Delayed"}).encode(), "bad_type"),
        (json.dumps({"id": "x", "type": "a" * 101}).encode(), "bad_type"),
        (json.dumps({"id": "x", "type": "a.b", "key": 7}).encode(), "bad_key"),
        (json.dumps({"id": "x", "type": "a.b", "data": [1]}).encode(), "bad_data"),
        (json.dumps({"id": "x", "type": "a.b", "data": {"n": "\x00"}}).encode(), "bad_data"),
        (b"\xff\xfe not utf-8 \x00", "invalid_json"),
    ],
)
def test_a_malformed_body_is_kept_as_a_failed_row_with_its_reason(workspace, api_actor, raw, reason):
    with pytest.raises(ValidationFailed) as caught:
        business_event_receive(actor=api_actor, workspace=workspace, body=raw)

    assert caught.value.status_code == 400
    assert caught.value.details["reason"] == reason
    row = BusinessEvent.objects.get(workspace=workspace)
    assert (row.status, row.reason) == (BusinessEventStatus.FAILED, reason)
    assert row.pk == caught.value.details["business_event_id"]
    assert "\x00" not in row.raw and row.raw
    assert _fired() == []


def test_the_raw_body_is_stored_before_it_is_parsed(workspace, api_actor, monkeypatch):
    # Given parsing blows up unexpectedly
    def explode(raw: str) -> None:
        assert BusinessEvent.objects.filter(workspace=workspace, raw=raw).exists()  # already stored
        raise RuntimeError("parser bug")

    monkeypatch.setattr(business_events, "parse", explode)
    with pytest.raises(RuntimeError):
        business_event_receive(actor=api_actor, workspace=workspace, body=_body())
    assert BusinessEvent.objects.filter(workspace=workspace, raw=_body()).exists()


def test_a_repeated_delivery_returns_the_first_row_and_fires_once(workspace, api_actor, chain):
    first, created = business_event_receive(actor=api_actor, workspace=workspace, body=_body())
    again, created_again = business_event_receive(actor=api_actor, workspace=workspace, body=_body(key="other"))

    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert BusinessEvent.objects.filter(workspace=workspace).count() == 1
    assert len(_fired()) == 1


def test_a_delivery_racing_another_with_the_same_id_returns_the_winner(workspace, api_actor, chain, monkeypatch):
    winner, _ = business_event_receive(actor=api_actor, workspace=workspace, body=_body())
    # Given this delivery looked for the id before the other one stored it
    real_filter = BusinessEvent.objects.filter
    calls: list[object] = []

    def blind_once(*args: Any, **kwargs: Any) -> Any:
        if "event_id" in kwargs and not calls:
            calls.append(kwargs)
            return BusinessEvent.objects.none()
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(BusinessEvent.objects, "filter", blind_once)
    row, created = business_event_receive(actor=api_actor, workspace=workspace, body=_body())
    monkeypatch.undo()

    assert calls and not created and row.pk == winner.pk
    assert BusinessEvent.objects.filter(workspace=workspace).count() == 1
    assert len(_fired()) == 1


def test_an_event_is_matched_to_the_chain_and_its_parent_ticket(workspace, api_actor, chain):
    event, _ = business_event_receive(
        actor=api_actor, workspace=workspace, body={"id": "e", "type": "shipment.delayed", "key": "order:PD1"}
    )
    assert (event.status, event.chain_id, event.ticket_id) == ("processed", chain.pk, chain.parent_id)
    assert _fired() == [
        {
            "business_event_id": event.pk,
            "type": "shipment.delayed",
            "key": "order:PD1",
            "ticket_id": chain.parent_id,
            "chain_id": chain.pk,
        }
    ]


def test_an_event_is_matched_to_a_ticket_by_external_id_or_number(workspace, api_actor, contact):
    by_external = make_ticket(workspace=workspace, requester=contact, external_id="crm-42")
    by_number = make_ticket(workspace=workspace, requester=contact)
    first, _ = business_event_receive(actor=api_actor, workspace=workspace, body=_body(id="a", key="crm-42"))
    second, _ = business_event_receive(
        actor=api_actor, workspace=workspace, body=_body(id="b", key=f"ticket:{by_number.number}")
    )
    assert (first.ticket_id, first.chain_id) == (by_external.pk, None)
    assert second.ticket_id == by_number.pk
    assert [p["ticket_id"] for p in _fired()] == [by_external.pk, by_number.pk]


def test_an_unknown_key_is_kept_with_its_reason_and_can_be_matched_later(
    workspace, api_actor, supervisor, actor, contact
):
    event, created = business_event_receive(actor=api_actor, workspace=workspace, body=_body(key="order:later"))
    no_key, _ = business_event_receive(actor=api_actor, workspace=workspace, body=_body(id="2", key=None))
    assert created and (event.status, event.reason) == ("unknown_key", "no_match")
    assert (no_key.status, no_key.reason) == ("unknown_key", "no_key")
    assert _fired() == []

    ticket = make_ticket(workspace=workspace, requester=contact, external_id="order:later")
    manager = Actor.for_agent(supervisor)
    matched = business_event_retry(actor=manager, event=event)
    assert (matched.status, matched.ticket_id, matched.reason) == ("processed", ticket.pk, "")
    assert len(_fired()) == 1
    with pytest.raises(Conflict):
        business_event_retry(actor=manager, event=matched)
    with pytest.raises(PermissionDenied):
        business_event_retry(actor=actor, event=no_key)


def test_keys_of_another_workspace_never_match(workspace, other_workspace, api_actor):
    from pivotdesk.customers.tests.factories import ContactFactory

    make_ticket(workspace=other_workspace, requester=ContactFactory(workspace=other_workspace), external_id="k")
    event, _ = business_event_receive(actor=api_actor, workspace=workspace, body=_body(key="k"))
    assert event.status == "unknown_key"


def test_who_may_send_events(workspace, light_agent, other_workspace):
    from pivotdesk.accounts.tests.factories import AgentFactory

    with pytest.raises(PermissionDenied):
        business_event_receive(actor=Actor.for_api(light_agent), workspace=workspace, body=_body())
    stranger = AgentFactory(workspace=other_workspace)
    with pytest.raises(PermissionDenied):
        business_event_receive(actor=Actor.for_api(stranger), workspace=workspace, body=_body())
    event, _ = business_event_receive(actor=Actor.system(), workspace=workspace, body=_body())
    assert event.status == "unknown_key"
    assert BusinessEvent.objects.count() == 1


# --- the API -----------------------------------------------------------------------------------------------------


@pytest.fixture
def api(api_client_for: Any, agent: Any) -> Any:
    return api_client_for(agent)


def test_the_api_answers_202_then_200_for_a_repeat(api, workspace, chain):
    first = api.post("/api/v1/events/", _body(), content_type="application/json")
    again = api.post("/api/v1/events/", _body(), content_type="application/json")
    assert first.status_code == 202, first.content
    assert first.json() | {"id": 0} == {"id": 0, "status": "processed", "reason": "", "message": "", "created": True}
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["id"] == first.json()["id"]
    assert len(_fired()) == 1


def test_the_api_accepts_an_unknown_key_with_its_reason(api, workspace):
    response = api.post("/api/v1/events/", _body(key="nobody"), content_type="application/json")
    assert response.status_code == 202
    assert (response.json()["status"], response.json()["reason"]) == ("unknown_key", "no_match")


@pytest.mark.parametrize(
    "raw",
    [b"{", b"", b'{"id": "x"}', b'"text"', b'{"id": "x", "type": "a\\u0000"}', b'{"id": "' + b"x" * 300 + b'"}'],
)
def test_the_api_refuses_a_malformed_event_with_a_translated_400_and_keeps_it(api_auth, agent, raw):
    from django.test import Client

    client = Client(headers={"accept-language": "zh-hans"})
    response = client.post("/api/v1/events/", raw, content_type="application/json", **api_auth(agent))
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "malformed_event"
    with translation.override("en"):
        english = business_events.reason_text(body["details"]["reason"])
    assert body["message"] != english  # in the reader's language
    assert BusinessEvent.objects.get(pk=body["details"]["business_event_id"]).status == "failed"


def test_a_read_only_token_may_not_send_events(api_client_for, agent):
    response = api_client_for(agent, scope="read").post("/api/v1/events/", _body(), content_type="application/json")
    assert response.status_code == 403
    assert not BusinessEvent.objects.exists()


def test_the_event_list_is_for_managers_and_filters_by_status(
    api, api_client_for, supervisor, workspace, other_workspace
):
    api.post("/api/v1/events/", _body(key="nobody"), content_type="application/json")
    api.post("/api/v1/events/", b"{", content_type="application/json")
    business_event_receive(actor=Actor.system(), workspace=other_workspace, body=_body(id="theirs"))
    assert api.get("/api/v1/events/").status_code == 403
    manager = api_client_for(supervisor)
    listed = manager.get("/api/v1/events/").json()
    assert [e["status"] for e in listed["items"]] == ["failed", "unknown_key"]
    only = manager.get("/api/v1/events/?status=failed").json()
    assert [e["reason"] for e in only["items"]] == ["invalid_json"]
    assert manager.get("/api/v1/events/?status=bogus").status_code == 422


def test_retrying_through_the_api_and_another_workspaces_event_is_not_found(
    api_client_for, supervisor, workspace, other_workspace
):
    manager = api_client_for(supervisor)
    mine = manager.post("/api/v1/events/", _body(key="nobody"), content_type="application/json").json()
    theirs, _ = business_event_receive(actor=Actor.system(), workspace=other_workspace, body=_body(id="t", key="x"))
    assert manager.post(f"/api/v1/events/{theirs.pk}/retry/").status_code == 404
    response = manager.post(f"/api/v1/events/{mine['id']}/retry/")
    assert response.status_code == 200 and response.json()["status"] == "unknown_key"
