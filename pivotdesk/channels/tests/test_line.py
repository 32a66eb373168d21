"""LINE: signed webhook events in the Messaging API's documented format, content downloads, duplicates, push
messages through a local peer, and fuzzing of the parser."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.domain.signatures import line_signature
from pivotdesk.channels.models import InboundPayload, OutboundMessage
from pivotdesk.channels.services.inbound import inbound_process, inbound_store
from pivotdesk.channels.tests.peers_b import running_peer
from pivotdesk.channels.tests.support_b import MP4, PNG, Hook, latest_payload, make_account
from pivotdesk.common.delivery_errors import describe
from pivotdesk.common.time import now
from pivotdesk.customers.models import ChannelIdentity
from pivotdesk.tickets.models import Message, Ticket

SECRET = "line-channel-secret"
USER = "U4af4980629a0b2c6e1b0f4f1e2a1b9d1"
M4A = b"\x00\x00\x00\x1cftypM4A " + b"\x03" * 64


@pytest.fixture
def peer():
    with running_peer() as running:
        yield running


@pytest.fixture
def account(workspace, peer):
    return make_account(
        workspace,
        "line",
        config={"api_base": peer.url, "data_api_base": peer.url},
        secrets={"channel_secret": SECRET, "channel_access_token": "LINE-TOKEN"},
    )


@pytest.fixture
def hook(client, account, django_capture_on_commit_callbacks):
    return Hook(client, account, django_capture_on_commit_callbacks)


def webhook(*events: dict) -> bytes:
    return json.dumps({"destination": "Ub0000000000000000000000000000000", "events": list(events)}).encode()


def message_event(message: dict, *, event_id: str = "01FZ74A0TDDPYRVKNK77XKC3ZR", redelivery: bool = False) -> dict:
    return {
        "type": "message",
        "message": message,
        "webhookEventId": event_id,
        "deliveryContext": {"isRedelivery": redelivery},
        "timestamp": 1625665242211,
        "source": {"type": "user", "userId": USER},
        "replyToken": "757913772c4646b784d4b7ce46d12671",
        "mode": "active",
    }


def text(mid: str = "14353798921116", body: str = "こんにちは、注文が届きません") -> dict:
    return message_event({"type": "text", "id": mid, "quoteToken": "q3Plxr4AgKd", "text": body})


def post(hook: Hook, body: bytes, *, signature: str | None = "valid"):
    headers = {}
    if signature == "valid":
        headers["HTTP_X_LINE_SIGNATURE"] = line_signature(SECRET, body)
    elif signature is not None:
        headers["HTTP_X_LINE_SIGNATURE"] = signature
    return hook.post(body, **headers)


def test_signed_text_event_opens_a_ticket_for_the_user(hook):
    response = post(hook, webhook(text()))
    assert response.status_code == 200
    payload = latest_payload(hook.account)
    assert payload.status == "processed" and payload.dedupe_key == "line:14353798921116"
    ticket = Ticket.objects.get(pk=payload.ticket_id)
    assert ticket.channel == "line"
    assert ticket.requester_id == ChannelIdentity.objects.get(kind="line", value=USER).contact_id
    message = ticket.messages.get()
    assert message.body_text == "こんにちは、注文が届きません" and message.external_id == "14353798921116"
    assert message.metadata["line"]["webhook_event_id"] == "01FZ74A0TDDPYRVKNK77XKC3ZR"


def test_console_verification_with_no_events_is_accepted(hook):
    assert post(hook, webhook()).status_code == 200
    assert latest_payload(hook.account).status == "ignored"


@pytest.mark.parametrize(("signature", "status"), [(None, 401), ("AAAA", 403), (line_signature("other", b"{}"), 403)])
def test_missing_or_wrong_signature_is_refused_and_kept_as_a_failed_row(hook, signature, status):
    assert post(hook, webhook(text()), signature=signature).status_code == status
    payload = latest_payload(hook.account)
    assert payload.status == "failed" and payload.reason.startswith("Rejected")
    assert not Ticket.objects.exists()


def test_image_content_is_fetched_with_the_access_token(hook, peer):
    peer.route("/v2/bot/message/325708/content", body=PNG, content_type="image/png")
    post(hook, webhook(message_event({"type": "image", "id": "325708", "contentProvider": {"type": "line"}})))
    message = Message.objects.get(external_id="325708")
    assert message.attachments.get().file.read() == PNG
    [call] = peer.calls("/v2/bot/message/325708/content")
    assert call.method == "GET" and call.headers["Authorization"] == "Bearer LINE-TOKEN"


@pytest.mark.parametrize(
    ("kind", "content", "content_type"), [("audio", M4A, "audio/x-m4a"), ("video", MP4, "video/mp4")]
)
def test_voice_and_video_are_stored_and_queued_for_transcription(hook, peer, kind, content, content_type):
    peer.route("/v2/bot/message/100001/content", body=content, content_type=content_type)
    post(
        hook,
        webhook(message_event({"type": kind, "id": "100001", "duration": 60000, "contentProvider": {"type": "line"}})),
    )
    message = Message.objects.get(external_id="100001")
    assert message.attachments.get().content_type == content_type
    assert message.metadata["transcription"] == "queued"


def test_external_content_provider_url_is_downloaded(hook, peer):
    peer.route("/ext/pic.png", body=PNG, content_type="image/png")
    provider = {"type": "external", "originalContentUrl": f"{peer.url}/ext/pic.png"}
    post(hook, webhook(message_event({"type": "image", "id": "200", "contentProvider": provider})))
    assert Message.objects.get(external_id="200").attachments.get().file.read() == PNG


def test_failed_content_download_is_noted_and_the_message_kept(hook, peer):
    peer.fail(1, 500)
    post(hook, webhook(message_event({"type": "audio", "id": "300", "duration": 1000})))
    message = Message.objects.get(external_id="300")
    assert message.body_text == "[audio: download failed]" and "HTTP 500" in message.metadata["media_errors"][0]


def test_redelivered_event_is_one_message(hook):
    post(hook, webhook(text()))
    post(hook, webhook(text() | {"deliveryContext": {"isRedelivery": True}}))
    assert Message.objects.filter(external_id="14353798921116").count() == 1
    assert sorted(InboundPayload.objects.values_list("status", flat=True)) == ["duplicate", "processed"]


def test_follow_unfollow_and_standby_events_are_ignored(hook):
    follow = {"type": "follow", "source": {"type": "user", "userId": USER}, "mode": "active", "timestamp": 1}
    standby = text() | {"mode": "standby"}
    post(hook, webhook(follow, standby))
    assert latest_payload(hook.account).status == "ignored" and not Message.objects.exists()


def test_agent_reply_is_pushed_with_a_retry_key(hook, peer, agent):
    peer.route("/v2/bot/message/push", json_body={"sentMessages": [{"id": "461230966842064897", "quoteToken": "x"}]})
    post(hook, webhook(text()))
    reply = hook.reply(Ticket.objects.get(), agent, "ご迷惑をおかけしました。本日発送します。")
    [call] = peer.calls("/v2/bot/message/push")
    assert call.headers["Authorization"] == "Bearer LINE-TOKEN" and call.headers["X-Line-Retry-Key"]
    assert call.json() == {
        "to": USER,
        "messages": [{"type": "text", "text": "ご迷惑をおかけしました。本日発送します。"}],
    }
    assert reply.delivery_status == "sent"
    assert OutboundMessage.objects.get(message=reply).provider_id == "461230966842064897"


def test_platform_failure_keeps_the_reply_queued_and_a_retry_reuses_the_key(hook, peer, agent):
    from pivotdesk.channels.services.outbox import outbox_retry, outbox_send

    post(hook, webhook(text()))
    peer.fail(1, 500)
    reply = hook.reply(Ticket.objects.get(), agent, "確認します")
    assert reply.delivery_status == "queued" and "HTTP 500" in describe(reply.delivery_error)
    peer.route("/v2/bot/message/push", status=409, json_body={"message": "The retry key is already accepted"})
    assert (
        outbox_send(actor=Actor.system(), outbound=OutboundMessage.objects.get(message=reply)).attempts == 1
    )  # backing off: not sent
    OutboundMessage.objects.filter(message=reply).update(next_attempt_at=now())  # the back-off passes
    outbound = outbox_send(actor=Actor.system(), outbound=OutboundMessage.objects.get(message=reply))
    assert outbound.status == "sent"
    first, second = peer.calls("/v2/bot/message/push")
    assert first.headers["X-Line-Retry-Key"] == second.headers["X-Line-Retry-Key"]
    assert outbox_retry(actor=Actor.system(), outbound=outbound).status == "sent"


# --- fuzzing ---------------------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
events = st.fixed_dictionaries(
    {"type": st.sampled_from(["message", "follow", 1])},
    optional={
        "mode": st.sampled_from(["active", "standby"]) | json_values,
        "source": json_values | st.fixed_dictionaries({"userId": json_values, "type": json_values}),
        "message": json_values
        | st.fixed_dictionaries(
            {"id": json_values, "type": st.sampled_from(["text", "sticker", "location", "file"]) | json_values},
            optional={"text": json_values, "contentProvider": json_values, "title": json_values},
        ),
        "webhookEventId": json_values,
        "deliveryContext": json_values,
    },
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"events": st.lists(events, max_size=3) | json_values}).map(lambda v: json.dumps(v).encode()),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=bodies)
def test_parser_never_raises_out_of_processing(workspace, account, raw):
    result = inbound_process(
        actor=Actor.system(),
        payload=inbound_store(actor=Actor.system(), workspace=workspace, channel="line", raw=raw, account=account),
    )
    assert result.status in ("processed", "ignored", "failed", "duplicate")
    assert result.status != "failed" or result.reason


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=bodies, signed=st.booleans())
def test_webhook_never_answers_500(hook, raw, signed):
    assert post(hook, raw, signature="valid" if signed else "bad").status_code in (200, 403)
