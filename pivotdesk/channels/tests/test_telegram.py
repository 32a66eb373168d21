"""Telegram Bot API: secret-token webhook, Updates (text, photo, voice, document, edits), duplicates, sendMessage
through a local peer (chat id, 429 retry_after, failures), fuzzing."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.models import InboundPayload, OutboundMessage
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.channels.services.inbound import inbound_process, inbound_store
from pivotdesk.channels.tests.peers import Peer, telegram_api
from pivotdesk.common.delivery_errors import describe
from pivotdesk.common.time import now
from pivotdesk.customers.models import ChannelIdentity
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Message, Ticket

BOT = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
SECRET = "s3cr3t-token_A"
USER = {"id": 987654321, "is_bot": False, "first_name": "Ivan", "last_name": "Petrov", "username": "ivanp"}
CHAT = {"id": 987654321, "type": "private", "first_name": "Ivan"}


@pytest.fixture
def peer():
    p = telegram_api(Peer(), BOT).start()
    yield p
    p.stop()


@pytest.fixture
def account(workspace, peer):
    return channel_account_create(
        actor=Actor.system(),
        workspace=workspace,
        kind="telegram",
        name="bot",
        config={"api_base": peer.url},
        secrets={"bot_token": BOT, "secret_token": SECRET},
    )


def update(update_id=10000, message_id=1365, key="message", chat=CHAT, **fields) -> dict[str, object]:
    msg = {"message_id": message_id, "from": USER, "chat": chat, "date": 1700000000, **fields}
    return {"update_id": update_id, key: msg}


def post(client, account, body, secret=SECRET):
    headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": secret} if secret is not None else {}
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(
        f"/channels/in/telegram/{account.webhook_key}/", data=data, content_type="application/json", **headers
    )


def test_text_update_opens_ticket_for_the_user(client, account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        resp = post(client, account, update(text="My order #123 has not arrived"))
    assert resp.status_code == 200 and resp.json() == {"ok": True}
    payload = InboundPayload.objects.get()
    assert payload.status == "processed" and payload.dedupe_key == "telegram:987654321:1365"
    ticket = Ticket.objects.get(pk=payload.ticket_id)
    assert ticket.requester.name == "Ivan Petrov"
    assert ChannelIdentity.objects.get(contact=ticket.requester, kind="telegram").value == "987654321"
    msg = ticket.messages.get()
    assert msg.body_text == "My order #123 has not arrived" and msg.external_id == "987654321:1365"
    assert msg.metadata["conversation_key"] == "987654321" and msg.metadata["telegram_username"] == "ivanp"


@pytest.mark.parametrize("secret", [None, "wrong"])
def test_missing_or_wrong_secret_token_is_refused(client, account, secret, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        resp = post(client, account, update(text="forged"), secret=secret)
    assert resp.status_code == 401
    payload = InboundPayload.objects.get()
    assert payload.status == "failed" and "bad secret token" in payload.reason
    assert not Ticket.objects.exists()


def test_photo_takes_the_largest_size_and_caption(client, account, peer, django_capture_on_commit_callbacks):
    peer.media["BIG"] = (b"\xff\xd8big", "image/jpeg")
    peer.media["SMALL"] = (b"\xff\xd8s", "image/jpeg")
    photo = [
        {"file_id": "SMALL", "file_unique_id": "a", "width": 90, "height": 90, "file_size": 1000},
        {"file_id": "BIG", "file_unique_id": "b", "width": 1280, "height": 960, "file_size": 90000},
    ]
    with django_capture_on_commit_callbacks(execute=True):
        post(client, account, update(photo=photo, caption="screen is cracked"))
    msg = Message.objects.get()
    assert msg.body_text == "screen is cracked" and msg.attachments.get().file.read() == b"\xff\xd8big"
    assert peer.calls(r"/getFile")[0].query == {"file_id": "BIG"}


def test_voice_is_stored_and_queued_for_transcription(client, account, peer, django_capture_on_commit_callbacks):
    peer.media["VOICE1"] = (b"OggSvoice", "application/octet-stream")
    voice = {"file_id": "VOICE1", "file_unique_id": "v", "duration": 3, "mime_type": "audio/ogg", "file_size": 9}
    with django_capture_on_commit_callbacks(execute=True):
        post(client, account, update(voice=voice))
    msg = Message.objects.get()
    att = msg.attachments.get()
    assert att.content_type == "audio/ogg" and att.file.read() == b"OggSvoice"
    assert msg.metadata["transcription"] == "queued" and msg.body_text == "[voice message]"


def test_document_keeps_its_name_and_a_failed_download_keeps_the_text(
    client, account, peer, django_capture_on_commit_callbacks
):
    peer.media["DOC"] = (b"%PDF-1.4", "application/pdf")
    doc = {"file_id": "DOC", "file_unique_id": "d", "file_name": "invoice.pdf", "mime_type": "application/pdf"}
    gone = {"file_id": "GONE", "file_unique_id": "g", "file_name": "x.pdf"}
    with django_capture_on_commit_callbacks(execute=True):
        post(client, account, update(document=doc))
        post(client, account, update(update_id=2, message_id=2, document=gone, caption="see attached"))
    first, second = Message.objects.order_by("pk")
    assert first.attachments.get().filename == "invoice.pdf" and first.body_text == "[file: invoice.pdf]"
    assert second.body_text == "see attached" and not second.attachments.exists()
    assert "getFile" in second.metadata["media_errors"][0]


def test_duplicate_delivery_and_edits(client, account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, account, update(text="hello"))
        post(client, account, update(text="hello"))
        post(client, account, update(update_id=10001, key="edited_message", text="hello!", edit_date=1700000100))
    assert Message.objects.count() == 2
    assert sorted(InboundPayload.objects.values_list("status", flat=True)) == ["duplicate", "processed", "processed"]
    edited = Message.objects.order_by("pk").last()
    assert edited.metadata["edited"] is True and edited.external_id == "987654321:1365:edited:1700000100"


def test_updates_without_a_message_are_ignored(client, account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, account, {"update_id": 5, "callback_query": {"id": "1", "from": USER, "data": "x"}})
    assert InboundPayload.objects.get().status == "ignored"


# --- outbound ---------------------------------------------------------------------------------------------------


def _ticket(client, account, capture, chat=CHAT) -> Ticket:
    with capture(execute=True):
        post(client, account, update(text="help", chat=chat))
    return Ticket.objects.get()


def _reply(ticket, agent, capture, body="We are on it") -> Message:
    with capture(execute=True):
        msg = ticket_services.message_create(ticket=ticket, actor=Actor.for_agent(agent), body=body)
    msg.refresh_from_db()
    return msg


def test_agent_reply_goes_to_the_chat(client, account, agent, peer, django_capture_on_commit_callbacks):
    group = {"id": -1001234567890, "type": "supergroup", "title": "Customers"}
    ticket = _ticket(client, account, django_capture_on_commit_callbacks, chat=group)
    msg = _reply(ticket, agent, django_capture_on_commit_callbacks)
    assert msg.delivery_status == "sent"
    assert peer.state["sent"] == [{"chat_id": "-1001234567890", "text": "We are on it"}]
    assert OutboundMessage.objects.get(message=msg).provider_id == "1001"


def test_short_429_is_waited_out_inline(client, account, agent, peer, django_capture_on_commit_callbacks):
    ticket = _ticket(client, account, django_capture_on_commit_callbacks)
    too_many = {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    peer.fail(r"/sendMessage", 429, body=too_many)
    msg = _reply(ticket, agent, django_capture_on_commit_callbacks)
    assert msg.delivery_status == "sent" and len(peer.calls(r"/sendMessage")) == 2


def test_long_429_goes_back_to_the_outbox_after_retry_after(
    client, account, agent, peer, django_capture_on_commit_callbacks
):
    ticket = _ticket(client, account, django_capture_on_commit_callbacks)
    too_many = {"ok": False, "error_code": 429, "description": "Too Many Requests", "parameters": {"retry_after": 600}}
    peer.fail(r"/sendMessage", 429, body=too_many)
    msg = _reply(ticket, agent, django_capture_on_commit_callbacks)
    outbound = OutboundMessage.objects.get(message=msg)
    assert msg.delivery_status == "queued" and "retry after 600" in describe(msg.delivery_error)
    assert outbound.status == "queued" and outbound.next_attempt_at >= now() + dt.timedelta(seconds=590)


def test_server_error_queues_and_blocked_bot_fails(client, account, agent, peer, django_capture_on_commit_callbacks):
    ticket = _ticket(client, account, django_capture_on_commit_callbacks)
    peer.fail(r"/sendMessage", 500)
    assert _reply(ticket, agent, django_capture_on_commit_callbacks).delivery_status == "queued"
    blocked = {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
    peer.fail(r"/sendMessage", 403, body=blocked)
    msg = _reply(ticket, agent, django_capture_on_commit_callbacks, body="again")
    assert msg.delivery_status == "failed" and "blocked" in describe(msg.delivery_error)


# --- fuzzing ----------------------------------------------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
_message = st.fixed_dictionaries(
    {},
    optional={
        "message_id": _json | st.integers(),
        "from": st.fixed_dictionaries({}, optional={"id": _json | st.integers(), "first_name": _json}),
        "chat": st.fixed_dictionaries({}, optional={"id": _json | st.integers(), "type": _json}),
        "date": _json,
        "text": _json,
        "caption": _json,
        "photo": _json,
        "voice": _json,
        "document": _json,
        "location": _json,
        "contact": _json,
    },
)
_update = st.fixed_dictionaries({"update_id": _json}, optional={"message": _message, "edited_message": _message})


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    raw=st.one_of(
        st.binary(max_size=200), _json.map(json.dumps).map(str.encode), _update.map(json.dumps).map(str.encode)
    )
)
def test_parser_never_crashes(account, raw):
    payload = inbound_store(
        actor=Actor.system(), workspace=account.workspace, channel="telegram", raw=raw, account=account
    )
    result = inbound_process(actor=Actor.system(), payload=payload)
    assert result.status in ("processed", "ignored", "duplicate", "failed")
    if result.status == "failed":
        assert result.reason and not result.reason.startswith("Parser error")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200), signed=st.booleans())
def test_webhook_never_answers_500(client, account, raw, signed):
    assert post(client, account, raw, secret=SECRET if signed else "x").status_code in (200, 401)
