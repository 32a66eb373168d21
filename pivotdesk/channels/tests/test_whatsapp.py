"""WhatsApp Cloud API: hub verification, X-Hub-Signature-256, batches (text, image, voice, several messages),
statuses, the same person as on SMS, duplicates, /messages through a local Graph peer, fuzzing."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.domain.whatsapp_crypto import hub_signature
from pivotdesk.channels.models import InboundPayload, OutboundMessage
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.channels.services.inbound import inbound_process, inbound_store
from pivotdesk.channels.tests.peers import Peer, whatsapp_api
from pivotdesk.common.delivery_errors import describe
from pivotdesk.customers import services as customer_services
from pivotdesk.customers.models import ChannelIdentity, Contact
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Message, Ticket

APP_SECRET = "meta-app-secret"
ACCESS = "EAAG-test-token"
PHONE_ID = "106540352242922"
WA_ID = "8613800138000"


@pytest.fixture
def peer():
    p = whatsapp_api(Peer(), access_token=ACCESS).start()
    yield p
    p.stop()


@pytest.fixture
def account(workspace, peer):
    return channel_account_create(
        actor=Actor.system(),
        workspace=workspace,
        kind="whatsapp",
        name="WhatsApp",
        config={"phone_number_id": PHONE_ID, "graph_base": peer.url, "api_version": "v21.0"},
        secrets={"access_token": ACCESS, "app_secret": APP_SECRET, "verify_token": "verify-me"},
    )


def notification(*messages, statuses=(), name="Li Lei", wa_id=WA_ID) -> dict[str, object]:
    value: dict[str, object] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": PHONE_ID},
    }
    if messages:
        value["contacts"] = [{"profile": {"name": name}, "wa_id": wa_id}]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA_ID", "changes": [{"value": value, "field": "messages"}]}],
    }


def text(
    body="Hello, my parcel is late", wamid="wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=", **extra
):
    return {"from": WA_ID, "id": wamid, "timestamp": "1700000000", "type": "text", "text": {"body": body}, **extra}


def post(client, account, body, signature: str | None = "valid"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {}
    if signature == "valid":
        headers["HTTP_X_HUB_SIGNATURE_256"] = hub_signature(APP_SECRET, raw)
    elif signature is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    return client.post(
        f"/channels/in/whatsapp/{account.webhook_key}/", data=raw, content_type="application/json", **headers
    )


def test_hub_verification(client, account):
    url = f"/channels/in/whatsapp/{account.webhook_key}/"
    ok = client.get(url, {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.content == b"1158201444"
    bad = client.get(url, {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"})
    assert bad.status_code == 403


def test_text_opens_ticket_for_the_wa_id_and_phone(client, account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        resp = post(client, account, notification(text()))
    assert resp.status_code == 200
    payload = InboundPayload.objects.get()
    assert payload.status == "processed" and payload.dedupe_key.startswith("whatsapp:wamid.")
    ticket = Ticket.objects.get(pk=payload.ticket_id)
    contact = ticket.requester
    assert contact.name == "Li Lei" and contact.phone == "+8613800138000"
    kinds = dict(ChannelIdentity.objects.filter(contact=contact).values_list("kind", "value"))
    assert kinds == {"phone": "+8613800138000", "whatsapp": WA_ID}
    assert ticket.messages.get().body_text == "Hello, my parcel is late"


def test_same_person_as_on_sms_is_the_same_contact(client, account, workspace, django_capture_on_commit_callbacks):
    sms_contact = customer_services.contact_resolve(
        actor=Actor.system(), workspace=workspace, kind="phone", value="+86 138 0013 8000"
    )
    with django_capture_on_commit_callbacks(execute=True):
        post(client, account, notification(text()))
    assert Ticket.objects.get().requester_id == sms_contact.pk
    assert Contact.objects.filter(workspace=workspace).count() == 1


@pytest.mark.parametrize("signature", [None, "sha256=00", "sha256=" + "a" * 64])
def test_missing_or_bad_signature_is_refused(client, account, signature, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        resp = post(client, account, notification(text()), signature=signature)
    assert resp.status_code == 401
    payload = InboundPayload.objects.get()
    assert payload.status == "failed" and "bad signature" in payload.reason and not Ticket.objects.exists()


def test_image_and_voice_are_downloaded(client, account, peer, django_capture_on_commit_callbacks):
    peer.media["IMG1"] = (b"\x89PNG img", "image/png")
    peer.media["VOICE1"] = (b"OggS voice", "audio/ogg")
    image = {
        "from": WA_ID,
        "id": "wamid.IMG",
        "timestamp": "1700000001",
        "type": "image",
        "image": {"caption": "broken screen", "mime_type": "image/png", "sha256": "x", "id": "IMG1"},
    }
    voice = {"from": WA_ID, "id": "wamid.VOICE", "timestamp": "1700000002", "type": "audio",
             "audio": {"mime_type": "audio/ogg; codecs=opus", "sha256": "y", "id": "VOICE1", "voice": True}}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        post(client, account, notification(image, voice))  # one batch, two messages
    payload = InboundPayload.objects.get()
    assert payload.status == "processed" and payload.dedupe_key == ""
    img_msg, voice_msg = Message.objects.order_by("pk")
    assert img_msg.ticket_id == voice_msg.ticket_id
    assert img_msg.body_text == "broken screen" and img_msg.attachments.get().file.read() == b"\x89PNG img"
    assert voice_msg.attachments.get().content_type == "audio/ogg"
    assert voice_msg.metadata["transcription"] == "queued" and "transcription" not in img_msg.metadata
    assert all(c.headers["authorization"] == f"Bearer {ACCESS}" for c in peer.calls(r"/(v21\.0|download)/"))


def test_media_failure_keeps_the_caption(client, account, django_capture_on_commit_callbacks):
    image = {"from": WA_ID, "id": "wamid.X", "timestamp": "1", "type": "image", "image": {"caption": "c", "id": "NOPE"}}
    with django_capture_on_commit_callbacks(execute=True):
        post(client, account, notification(image))
    msg = Message.objects.get()
    assert msg.body_text == "c" and "NOPE" in msg.metadata["media_errors"][0]


def test_duplicate_delivery_gives_one_message(client, account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, account, notification(text()))
        post(client, account, notification(text()))
    assert Message.objects.count() == 1
    assert sorted(InboundPayload.objects.values_list("status", flat=True)) == ["duplicate", "processed"]


# --- outbound ---------------------------------------------------------------------------------------------------


def _reply(client, account, agent, capture, body="Your parcel ships today") -> Message:
    with capture(execute=True):
        post(client, account, notification(text()))
    ticket = Ticket.objects.get()
    with capture(execute=True):
        msg = ticket_services.message_create(ticket=ticket, actor=Actor.for_agent(agent), body=body)
    msg.refresh_from_db()
    return msg


def test_agent_reply_is_sent_and_statuses_apply(client, account, agent, peer, django_capture_on_commit_callbacks):
    msg = _reply(client, account, agent, django_capture_on_commit_callbacks)
    assert msg.delivery_status == "sent"
    assert peer.state["sent"] == [
        {"messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_ID, "type": "text",
         "text": {"preview_url": False, "body": "Your parcel ships today"}}
    ]  # fmt: skip
    assert OutboundMessage.objects.get(message=msg).provider_id == "wamid.OUT1"
    failed = {"id": "wamid.OUT1", "status": "failed", "timestamp": "1700000100", "recipient_id": WA_ID,
              "errors": [{"code": 131047, "title": "Re-engagement message"}]}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        post(client, account, notification(statuses=[failed]))
    msg.refresh_from_db()
    assert msg.delivery_status == "failed" and "131047" in describe(msg.delivery_error)
    assert InboundPayload.objects.order_by("pk").last().status == "ignored"
    assert Message.objects.count() == 2


def test_server_error_queues_and_window_closed_fails(client, account, agent, peer, django_capture_on_commit_callbacks):
    peer.fail(r"/messages", 500)
    msg = _reply(client, account, agent, django_capture_on_commit_callbacks)
    assert msg.delivery_status == "queued" and "Retrying" in describe(msg.delivery_error)
    error = {"error": {"message": "Re-engagement message", "type": "OAuthException", "code": 131047}}
    peer.fail(r"/messages", 400, body=error)
    with django_capture_on_commit_callbacks(execute=True):
        second = ticket_services.message_create(ticket=msg.ticket, actor=Actor.for_agent(agent), body="again")
    second.refresh_from_db()
    assert second.delivery_status == "failed" and "131047" in describe(second.delivery_error)


# --- fuzzing ----------------------------------------------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=15,
)
_message = st.fixed_dictionaries(
    {"from": st.one_of(st.just(WA_ID), _json), "id": st.one_of(st.text(max_size=30), _json)},
    optional={"type": st.sampled_from(["text", "image", "audio", "video", "document", "location", "reaction", "x"]) | _json,
              "text": _json, "image": _json, "audio": _json, "location": _json, "timestamp": _json, "context": _json},
)  # fmt: skip


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    raw=st.one_of(
        st.binary(max_size=200),
        _json.map(json.dumps).map(str.encode),
        st.lists(_message, max_size=3).map(lambda ms: json.dumps(notification(*ms)).encode()),
    )
)
def test_parser_never_crashes(account, raw):
    payload = inbound_store(
        actor=Actor.system(), workspace=account.workspace, channel="whatsapp", raw=raw, account=account
    )
    result = inbound_process(actor=Actor.system(), payload=payload)
    assert result.status in ("processed", "ignored", "duplicate", "failed")
    if result.status == "failed":
        assert result.reason and not result.reason.startswith("Parser error")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200), signed=st.booleans())
def test_webhook_never_answers_500(client, account, raw, signed):
    assert post(client, account, raw, signature="valid" if signed else "sha256=0").status_code in (200, 401)
