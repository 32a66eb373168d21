"""The generic JSON webhook and the call-centre (CTI) webhook: authentication, the documented schemas, contact
unification, attachments and recordings, idempotency, signed replies through a local peer, and fuzzing."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.domain.signatures import sha256_header, twilio_signature, verify_sha256_header
from pivotdesk.channels.models import InboundPayload, OutboundMessage
from pivotdesk.channels.services.inbound import inbound_process, inbound_store
from pivotdesk.channels.tests.peers_b import running_peer
from pivotdesk.channels.tests.support_b import OGG, PNG, Hook, latest_payload, make_account
from pivotdesk.customers import services as customer_services
from pivotdesk.customers.models import ChannelIdentity, Contact
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Message, MessageKind, Ticket

SECRET = "generic-signing-secret"
CALLER = "+8613800138000"


@pytest.fixture
def peer():
    with running_peer() as running:
        yield running


@pytest.fixture
def generic(workspace, peer):
    return make_account(
        workspace, "generic", config={"reply_url": f"{peer.url}/replies"}, secrets={"signing_secret": SECRET}
    )


@pytest.fixture
def cti(workspace):
    return make_account(workspace, "cti", config={}, secrets={"signing_secret": SECRET})


@pytest.fixture
def hook(client, generic, django_capture_on_commit_callbacks):
    return Hook(client, generic, django_capture_on_commit_callbacks)


@pytest.fixture
def call_hook(client, cti, django_capture_on_commit_callbacks):
    return Hook(client, cti, django_capture_on_commit_callbacks)


def post(hook: Hook, data: object, *, signature: str | None = "valid", **headers: str):
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    if signature == "valid":
        headers["HTTP_X_PIVOTDESK_SIGNATURE"] = sha256_header(SECRET, body)
    elif signature is not None:
        headers["HTTP_X_PIVOTDESK_SIGNATURE"] = signature
    return hook.post(body, **headers)


def message(**fields: object) -> dict:
    return {
        "id": "msg-1",
        "from": {"id": "user-42", "name": "王芳", "email": "WangFang@Example.cn"},
        "text": "打印机又卡纸了",
        "subject": "打印机",
        "conversation_id": "chat-7",
        **fields,
    }


# --- generic: inbound ------------------------------------------------------------------------------------------------


def test_signed_message_opens_a_ticket_for_the_email_contact(hook, workspace):
    known = customer_services.contact_create(
        actor=Actor.system(), workspace=workspace, name="Wang Fang", email="wangfang@example.cn"
    )
    response = post(hook, message())
    assert response.status_code == 202 and response.json()["status"] == "accepted"
    payload = latest_payload(hook.account)
    assert payload.status == "processed" and payload.dedupe_key == "generic:msg-1"
    ticket = Ticket.objects.get(pk=payload.ticket_id)
    assert ticket.requester_id == known.pk and ticket.subject == "打印机" and ticket.channel == "api"
    assert ticket.messages.get().body_text == "打印机又卡纸了"
    assert ChannelIdentity.objects.get(kind="external", value="user-42").contact_id == known.pk


def test_sender_with_only_an_id_is_an_external_identity(hook):
    post(hook, message(**{"from": {"id": "crm-77", "name": "Li"}}))
    contact = Ticket.objects.get().requester
    assert ChannelIdentity.objects.get(kind="external", value="crm-77").contact_id == contact.pk


def test_phone_unifies_with_the_sms_contact(hook, workspace):
    known = customer_services.contact_resolve(actor=Actor.system(), workspace=workspace, kind="phone", value=CALLER)
    post(hook, message(**{"from": {"id": "u1", "phone": "+86 138 0013 8000"}}))
    assert Ticket.objects.get().requester_id == known.pk


@pytest.mark.parametrize(("signature", "status"), [(None, 401), ("sha256=" + "0" * 64, 403), ("garbage", 403)])
def test_missing_or_wrong_signature_is_refused_and_kept_as_a_failed_row(hook, signature, status):
    assert post(hook, message(), signature=signature).status_code == status
    payload = latest_payload(hook.account)
    assert payload.status == "failed" and payload.reason.startswith("Rejected")
    assert not Ticket.objects.exists()


def test_bearer_token_authentication(client, workspace, django_capture_on_commit_callbacks):
    account = make_account(workspace, "generic", config={}, secrets={"bearer_token": "s3cret-token"})
    bearer = Hook(client, account, django_capture_on_commit_callbacks)
    assert post(bearer, message(), signature=None, HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 202
    assert post(bearer, message(id="m2"), signature=None, HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert post(bearer, message(id="m3"), signature=None).status_code == 401
    assert Message.objects.count() == 1


def test_account_without_credentials_accepts_nothing(client, workspace, django_capture_on_commit_callbacks):
    account = make_account(workspace, "generic", config={}, secrets={})
    assert post(Hook(client, account, django_capture_on_commit_callbacks), message()).status_code == 403


def test_attachments_by_base64_and_url_and_a_voice_note(hook, peer):
    peer.route("/files/voice.ogg", body=OGG, content_type="audio/ogg")
    attachments = [
        {"content_base64": base64.b64encode(PNG).decode(), "filename": "bill.png", "content_type": "image/png"},
        {"url": f"{peer.url}/files/voice.ogg", "filename": "voice.ogg", "content_type": "audio/ogg"},
    ]
    post(hook, message(attachments=attachments))
    stored = Message.objects.get()
    assert sorted(a.filename for a in stored.attachments.all()) == ["bill.png", "voice.ogg"]
    assert stored.metadata["transcription"] == "queued"


def test_broken_attachments_are_noted_and_the_text_kept(hook, peer):
    attachments = [{"content_base64": "%%%not base64", "filename": "x.png"}, {"url": f"{peer.url}/missing"}]
    post(hook, message(attachments=attachments))
    stored = Message.objects.get()
    assert stored.body_text == "打印机又卡纸了" and len(stored.metadata["media_errors"]) == 2


def test_duplicate_delivery_is_one_message(hook):
    post(hook, message())
    post(hook, message())
    assert Message.objects.count() == 1
    assert sorted(InboundPayload.objects.values_list("status", flat=True)) == ["duplicate", "processed"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"from": {"id": "u"}, "text": "hi"}, "id is missing"),
        ({"id": "1", "text": "hi"}, "from must be an object"),
        ({"id": "1", "from": {"id": "u"}}, "no text"),
        (b"\xff\xfe not json", "not JSON"),
    ],
)
def test_malformed_bodies_are_failed_rows_with_the_reason(hook, body, reason):
    assert post(hook, body).status_code == 202
    payload = latest_payload(hook.account)
    assert payload.status == "failed" and reason in payload.reason


# --- generic: outbound -----------------------------------------------------------------------------------------------


def test_agent_reply_is_posted_signed_to_the_reply_url(hook, peer, agent):
    peer.route("/replies", json_body={"id": "ext-reply-9"})
    post(hook, message())
    ticket = Ticket.objects.get()
    reply = hook.reply(ticket, agent, "请重启打印机")
    [call] = peer.calls("/replies")
    assert verify_sha256_header(SECRET, call.body, call.headers["X-PivotDesk-Signature"])
    sent = call.json()
    assert sent["id"] == f"pivotdesk-message-{reply.pk}" == call.headers["Idempotency-Key"]
    assert sent["in_reply_to"] == "msg-1" and sent["conversation_id"] == "chat-7"
    assert sent["to"] == {"id": "user-42", "name": "王芳", "email": "wangfang@example.cn"}
    assert sent["text"] == "请重启打印机" and sent["ticket"]["number"] == ticket.number
    assert reply.delivery_status == "sent" and OutboundMessage.objects.get(message=reply).provider_id == "ext-reply-9"


def test_reply_url_failure_keeps_the_reply_queued(hook, peer, agent):
    post(hook, message())
    peer.fail(1, 503)
    reply = hook.reply(Ticket.objects.get(), agent, "稍等")
    assert reply.delivery_status == "queued" and "HTTP 503" in reply.delivery_error


def test_api_tickets_not_from_the_webhook_are_not_sent_there(hook, peer, agent, workspace, contact):
    ticket = ticket_services.ticket_create(
        workspace=workspace, requester=contact, subject="API", body="from REST", actor=Actor.for_agent(agent),
        channel="api",
    )  # fmt: skip
    reply = hook.reply(ticket, agent, "answer")
    assert reply.delivery_status == "" and not peer.calls("/replies")


# --- CTI ---------------------------------------------------------------------------------------------------------


def call_event(event: str, **fields: object) -> dict:
    return {
        "event": event,
        "call_id": "c-1001",
        "from": CALLER,
        "to": "+862150001000",
        "started_at": "2026-03-01T10:00:00+08:00",
        **fields,
    }


def test_call_started_opens_a_voice_ticket_for_the_caller(call_hook):
    response = post(call_hook, call_event("call.started"))
    assert response.status_code == 202
    payload = latest_payload(call_hook.account)
    assert payload.status == "processed" and payload.dedupe_key == "cti:c-1001:call.started"
    ticket = Ticket.objects.get(pk=payload.ticket_id)
    assert ticket.channel == "voice" and ticket.requester.phone == CALLER
    assert ticket.messages.get().body_text.startswith(f"Incoming call from {CALLER}")


def test_answered_and_ended_add_notes_with_the_recording(call_hook, peer, agent):
    peer.route("/rec/c-1001.ogg", body=OGG, content_type="audio/ogg")
    post(call_hook, call_event("call.started"))
    post(call_hook, call_event("call.answered", agent_email=agent.user.email.upper()))
    answered = latest_payload(call_hook.account)
    post(call_hook, call_event("call.ended", duration_s=195, recording_url=f"{peer.url}/rec/c-1001.ogg"))
    ticket = Ticket.objects.get()
    first, note_answered, note_ended = ticket.messages.order_by("pk")
    assert first.kind == MessageKind.PUBLIC and first.author_type == "contact"
    assert note_answered.kind == MessageKind.NOTE and note_answered.author_agent_id == agent.pk
    assert note_answered.body_text == f"Call answered by {agent.name}."
    assert note_ended.kind == MessageKind.NOTE and note_ended.body_text.startswith("Call ended after 3 min 15 s.")
    assert note_ended.attachments.get().content_type == "audio/ogg"
    assert note_ended.metadata["transcription"] == "queued" and note_ended.metadata["call"]["duration_s"] == 195
    assert answered.status == "ignored" and answered.classification == "call_event"
    assert answered.ticket_id == ticket.pk and answered.message_id == note_answered.pk


def test_recording_download_failure_is_said_in_the_note(call_hook, peer):
    post(call_hook, call_event("call.started"))
    post(call_hook, call_event("call.ended", duration_s=12, recording_url=f"{peer.url}/rec/none"))
    note = Message.objects.get(kind=MessageKind.NOTE)
    assert "could not be downloaded" in note.body_text and "HTTP 404" in note.metadata["media_errors"][0]
    assert not note.attachments.exists() and "transcription" not in note.metadata


def test_each_call_event_is_delivered_once(call_hook):
    for event in ("call.started", "call.started", "call.answered", "call.answered", "call.ended", "call.ended"):
        post(call_hook, call_event(event, duration_s=5))
    assert Message.objects.count() == 3 and Ticket.objects.count() == 1


def test_ended_before_started_still_finds_or_opens_the_ticket(call_hook):
    post(call_hook, call_event("call.ended", duration_s=30))
    post(call_hook, call_event("call.started"))
    ticket = Ticket.objects.get()
    assert ticket.channel == "voice" and ticket.messages.count() == 2


def test_a_second_call_appends_to_the_callers_recent_voice_ticket(call_hook):
    post(call_hook, call_event("call.started"))
    post(call_hook, call_event("call.started", call_id="c-1002"))
    assert Ticket.objects.count() == 1 and Message.objects.count() == 2


def test_cti_refuses_unsigned_events(call_hook):
    assert post(call_hook, call_event("call.started"), signature=None).status_code == 401
    assert post(call_hook, call_event("call.started"), signature="sha256=00").status_code == 403
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (call_event("call.transferred"), "event must be one of"),
        (call_event("call.started", **{"from": "anonymous"}), "from:"),
        (call_event("call.ended", duration_s=-1), "duration_s"),
        ({"event": "call.started", "from": CALLER}, "call_id is missing"),
    ],
)
def test_malformed_call_events_are_failed_rows_with_the_reason(call_hook, event, reason):
    post(call_hook, event)
    payload = latest_payload(call_hook.account)
    assert payload.status == "failed" and reason in payload.reason


def test_the_same_phone_by_sms_and_by_call_is_one_contact(
    client, call_hook, workspace, django_capture_on_commit_callbacks
):
    sms = make_account(workspace, "sms", config={"account_sid": "AC1"}, secrets={"auth_token": "tok"})
    params = {"From": CALLER, "To": "+862150001000", "Body": "请回电", "MessageSid": "SMx", "NumMedia": "0"}
    url = f"/channels/in/sms/{sms.webhook_key}/"
    signature = twilio_signature("tok", f"http://testserver{url}", list(params.items()))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            url, urlencode(params), content_type="application/x-www-form-urlencoded", HTTP_X_TWILIO_SIGNATURE=signature
        )
    post(call_hook, call_event("call.started"))
    assert Contact.objects.count() == 1
    assert set(Ticket.objects.values_list("channel", flat=True)) == {"sms", "voice"}
    assert set(Ticket.objects.values_list("requester_id", flat=True)) == {Contact.objects.get().pk}


# --- fuzzing ---------------------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
generic_shaped = st.fixed_dictionaries(
    {"id": json_values},
    optional={
        "from": json_values
        | st.fixed_dictionaries(
            {"id": json_values}, optional={"email": json_values, "phone": json_values, "name": json_values}
        ),
        "text": json_values,
        "html": json_values,
        "subject": json_values,
        "conversation_id": json_values,
        "attachments": json_values
        | st.lists(
            st.fixed_dictionaries(
                {}, optional={"content_base64": json_values, "filename": json_values, "content_type": json_values}
            ),
            max_size=2,
        ),
    },
)
cti_shaped = st.fixed_dictionaries(
    {"event": st.sampled_from(["call.started", "call.answered", "call.ended"]) | json_values},
    optional={
        "call_id": json_values,
        "from": st.sampled_from([CALLER, "+14155550123", "x"]) | json_values,
        "duration_s": json_values,
        "agent_email": json_values,
        "to": json_values,
    },
)


def as_bodies(shaped):
    return st.one_of(
        st.binary(max_size=300),
        json_values.map(lambda v: json.dumps(v).encode()),
        shaped.map(lambda v: json.dumps(v).encode()),
    )


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=as_bodies(generic_shaped))
def test_generic_parser_never_raises_out_of_processing(workspace, generic, raw):
    result = inbound_process(
        actor=Actor.system(),
        payload=inbound_store(actor=Actor.system(), workspace=workspace, channel="generic", raw=raw, account=generic),
    )
    assert result.status in ("processed", "ignored", "failed", "duplicate")
    assert result.status != "failed" or result.reason


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=as_bodies(cti_shaped))
def test_cti_parser_never_raises_out_of_processing(workspace, cti, raw):
    result = inbound_process(
        actor=Actor.system(),
        payload=inbound_store(actor=Actor.system(), workspace=workspace, channel="cti", raw=raw, account=cti),
    )
    assert result.status in ("processed", "ignored", "failed", "duplicate")
    assert result.status != "failed" or result.reason


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=as_bodies(generic_shaped), signed=st.booleans())
def test_generic_webhook_never_answers_500(hook, raw, signed):
    assert post(hook, raw, signature="valid" if signed else "sha256=1").status_code in (202, 403)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=as_bodies(cti_shaped), signed=st.booleans())
def test_cti_webhook_never_answers_500(call_hook, raw, signed):
    assert post(call_hook, raw, signature="valid" if signed else "sha256=1").status_code in (202, 403)


def test_a_calls_messages_read_in_the_readers_language(call_hook, peer, agent, client_as):
    """Issue 12: the call's lines are rendered from its facts at display time, not shown as stored English."""
    peer.route("/rec/c-1001.ogg", body=OGG, content_type="audio/ogg")
    post(call_hook, call_event("call.started"))
    post(call_hook, call_event("call.answered", agent_email=agent.user.email))
    post(call_hook, call_event("call.ended", duration_s=195, recording_url=f"{peer.url}/rec/c-1001.ogg"))
    ticket = Ticket.objects.get()
    assert ticket.subject == CALLER  # a fact: the queue shows the channel ("Voice" / "语音") beside it

    zh = client_as(agent, "zh-hans").get(f"/tickets/{ticket.number}/").content.decode()
    assert f"来电：{CALLER} 拨打 +862150001000" in zh
    assert f"{agent.name} 接听了来电。" in zh and "通话结束，时长 3 分 15 秒。 已附上录音。" in zh
    assert "Incoming call" not in zh and "Call answered" not in zh and "Call ended" not in zh
    en = client_as(agent, "en").get(f"/tickets/{ticket.number}/").content.decode()
    assert (
        f"Incoming call from {CALLER} to +862150001000" in en
        and "Call ended after 3 min 15 s. Recording attached." in en
    )
