"""Facebook Messenger: webhook verification, signed deliveries in Meta's documented format, media, duplicates,
the Send API through a local peer, and fuzzing of the parser."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.domain.signatures import sha256_header
from pivotdesk.channels.models import InboundPayload, OutboundMessage
from pivotdesk.channels.services.inbound import inbound_process, inbound_store
from pivotdesk.channels.tests.peers_b import running_peer
from pivotdesk.channels.tests.support_b import MP4, OGG, PNG, Hook, inbound_url, latest_payload, make_account
from pivotdesk.common.delivery_errors import describe
from pivotdesk.customers.models import ChannelIdentity
from pivotdesk.tickets.models import Message, Ticket

APP_SECRET = "messenger-app-secret"
PAGE = "105000000000001"
PSID = "6543210987654321"


@pytest.fixture
def peer():
    with running_peer() as running:
        yield running


@pytest.fixture
def account(workspace, peer):
    return make_account(
        workspace,
        "messenger",
        config={"page_id": PAGE, "graph_base": peer.url, "graph_version": "v21.0"},
        secrets={"app_secret": APP_SECRET, "verify_token": "verify-me", "page_access_token": "PAGE-TOKEN"},
    )


def delivery(*events: dict) -> bytes:
    """A webhook body exactly as Meta documents it: object page, entry[] with messaging[]."""
    return json.dumps(
        {"object": "page", "entry": [{"id": PAGE, "time": 1762902671000, "messaging": list(events)}]}
    ).encode()


def message_event(mid: str = "m_AbC123", text: str | None = "Hello, my order is late", **message) -> dict:
    body = {"mid": mid, **({"text": text} if text is not None else {}), **message}
    return {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1762902671000, "message": body}


@pytest.fixture
def hook(client, account, django_capture_on_commit_callbacks):
    return Hook(client, account, django_capture_on_commit_callbacks)


def post(hook: Hook, body: bytes, *, signature: str | None = "valid"):
    headers = {}
    if signature == "valid":
        headers["HTTP_X_HUB_SIGNATURE_256"] = sha256_header(APP_SECRET, body)
    elif signature is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    return hook.post(body, **headers)


def test_subscription_check_echoes_the_challenge_only_for_the_right_token(client, account):
    url = inbound_url(account)
    ok = client.get(url, {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.content == b"1158201444"
    wrong = client.get(url, {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"})
    assert wrong.status_code == 403


def test_signed_text_message_opens_a_ticket_for_the_psid(hook):
    account = hook.account
    response = post(hook, delivery(message_event()))
    assert response.status_code == 200 and response.content == b"EVENT_RECEIVED"
    payload = latest_payload(hook.account)
    assert payload.status == "processed" and payload.dedupe_key == "messenger:m_AbC123"
    ticket = Ticket.objects.get(pk=payload.ticket_id)
    assert ticket.channel == "messenger"
    identity = ChannelIdentity.objects.get(kind="messenger", value=PSID)
    assert ticket.requester_id == identity.contact_id
    message = ticket.messages.get()
    assert message.body_text == "Hello, my order is late" and message.external_id == "m_AbC123"
    assert message.metadata["channel_account_id"] == account.pk


@pytest.mark.parametrize(
    ("signature", "status"),
    [(None, 401), ("sha256=" + "0" * 64, 403), ("sha1=abc", 403), ("sha256=not-hex-at-all", 403)],
)
def test_missing_or_wrong_signature_is_refused_and_kept_as_a_failed_row(hook, signature, status):
    response = post(hook, delivery(message_event()), signature=signature)
    assert response.status_code == status
    payload = latest_payload(hook.account)
    assert payload.status == "failed" and "Rejected" in payload.reason and payload.meta["rejected"] is True
    assert not Ticket.objects.exists()


def test_body_signed_with_another_secret_is_refused(client, account):
    body = delivery(message_event())
    response = client.post(
        inbound_url(account), body, content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=sha256_header("someone-else", body),
    )  # fmt: skip
    assert response.status_code == 403


def test_image_is_downloaded_and_stored(hook, peer):
    peer.route("/cdn/photo.png", body=PNG, content_type="image/png")
    event = message_event(text=None, attachments=[{"type": "image", "payload": {"url": f"{peer.url}/cdn/photo.png"}}])
    post(hook, delivery(event))
    message = Message.objects.get(external_id="m_AbC123")
    attachment = message.attachments.get()
    assert attachment.content_type == "image/png" and attachment.file.read() == PNG
    assert "transcription" not in message.metadata


@pytest.mark.parametrize(
    ("kind", "content", "content_type"), [("audio", OGG, "audio/ogg"), ("video", MP4, "video/mp4")]
)
def test_voice_and_video_are_stored_and_queued_for_transcription(hook, peer, kind, content, content_type):
    peer.route("/cdn/clip", body=content, content_type=content_type)
    event = message_event(text=None, attachments=[{"type": kind, "payload": {"url": f"{peer.url}/cdn/clip"}}])
    post(hook, delivery(event))
    message = Message.objects.get(external_id="m_AbC123")
    assert message.attachments.get().content_type == content_type
    assert message.metadata["transcription"] == "queued"


def test_failed_media_download_keeps_the_text_and_says_why(hook, peer):
    event = message_event(
        text="See the photo", attachments=[{"type": "image", "payload": {"url": f"{peer.url}/cdn/gone.jpg"}}]
    )
    post(hook, delivery(event))
    message = Message.objects.get(external_id="m_AbC123")
    assert message.body_text == "See the photo" and not message.attachments.exists()
    assert "HTTP 404" in message.metadata["media_errors"][0]


def test_voice_only_message_whose_download_fails_is_still_a_message(hook, peer):
    event = message_event(text=None, attachments=[{"type": "audio", "payload": {"url": f"{peer.url}/nope"}}])
    post(hook, delivery(event))
    message = Message.objects.get(external_id="m_AbC123")
    assert message.body_text == "[audio: download failed]" and message.metadata["media_errors"]
    assert "transcription" not in message.metadata


def test_duplicate_delivery_is_one_message(hook):
    body = delivery(message_event())
    post(hook, body)
    post(hook, body)
    assert Message.objects.filter(external_id="m_AbC123").count() == 1
    assert sorted(InboundPayload.objects.values_list("status", flat=True)) == ["duplicate", "processed"]


def test_second_message_threads_onto_the_same_ticket(hook):
    post(hook, delivery(message_event()))
    post(hook, delivery(message_event(mid="m_2", text="Any news?")))
    assert Ticket.objects.count() == 1 and Message.objects.count() == 2


def test_echoes_deliveries_and_reads_are_ignored(hook):
    echo = message_event(mid="m_echo", is_echo=True, app_id=1517776481860111)
    receipt = {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "delivery": {"mids": ["m_x"], "watermark": 1}}
    read = {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "read": {"watermark": 1}}
    post(hook, delivery(echo, receipt, read))
    assert latest_payload(hook.account).status == "ignored" and not Message.objects.exists()


def test_agent_reply_goes_through_the_send_api(hook, peer, agent):
    peer.route("/v21.0/me/messages", json_body={"recipient_id": PSID, "message_id": "m_reply_1"})
    post(hook, delivery(message_event()))
    ticket = Ticket.objects.get()
    reply = hook.reply(ticket, agent, "Your parcel ships today.")
    [call] = peer.calls("/v21.0/me/messages")
    assert call.method == "POST" and call.query["access_token"] == ["PAGE-TOKEN"]
    assert call.json() == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Your parcel ships today."},
    }
    assert reply.delivery_status == "sent"
    assert OutboundMessage.objects.get(message=reply).provider_id == "m_reply_1"


@pytest.mark.parametrize("status", [500, 429])
def test_platform_failure_leaves_the_reply_queued_with_the_reason(hook, peer, agent, status):
    post(hook, delivery(message_event()))
    peer.fail(1, status)
    reply = hook.reply(Ticket.objects.get(), agent, "On it.")
    assert reply.delivery_status == "queued" and describe(reply.delivery_error).startswith("Retrying (attempt 1)")
    assert f"HTTP {status}" in describe(reply.delivery_error) and "PAGE-TOKEN" not in describe(reply.delivery_error)


def test_invalid_token_is_a_permanent_failure(hook, peer, agent):
    peer.route("/v21.0/me/messages", status=400, json_body={"error": {"code": 190, "message": "Invalid token"}})
    post(hook, delivery(message_event()))
    reply = hook.reply(Ticket.objects.get(), agent, "On it.")
    assert reply.delivery_status == "failed" and "HTTP 400" in describe(reply.delivery_error)


def test_graph_throttling_code_is_retried(hook, peer, agent):
    peer.route("/v21.0/me/messages", status=400, json_body={"error": {"code": 613, "message": "Calls limit"}})
    post(hook, delivery(message_event()))
    reply = hook.reply(Ticket.objects.get(), agent, "On it.")
    assert reply.delivery_status == "queued"


# --- fuzzing ---------------------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
shaped = st.fixed_dictionaries(
    {"object": st.sampled_from(["page", "user", 3])},
    optional={
        "entry": st.lists(
            st.fixed_dictionaries(
                {"id": json_values},
                optional={
                    "messaging": st.lists(
                        st.fixed_dictionaries(
                            {"sender": st.one_of(json_values, st.fixed_dictionaries({"id": json_values}))},
                            optional={
                                "message": st.one_of(
                                    json_values,
                                    st.fixed_dictionaries(
                                        {"mid": json_values, "text": json_values},
                                        optional={"attachments": json_values, "is_echo": json_values},
                                    ),
                                ),
                                "postback": json_values,
                                "timestamp": json_values,
                            },
                        ),
                        max_size=3,
                    )
                },
            ),
            max_size=2,
        )
    },
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    shaped.map(lambda v: json.dumps(v).encode()),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=bodies)
def test_parser_never_raises_out_of_processing(workspace, account, raw):
    payload = inbound_store(actor=Actor.system(), workspace=workspace, channel="messenger", raw=raw, account=account)
    result = inbound_process(actor=Actor.system(), payload=payload)
    assert result.status in ("processed", "ignored", "failed", "duplicate")
    if result.status == "failed":
        assert result.reason


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=bodies, signed=st.booleans())
def test_webhook_never_answers_500(hook, raw, signed):
    response = post(hook, raw, signature="valid" if signed else "sha256=00")
    assert response.status_code in (200, 403)
