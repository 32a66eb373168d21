"""SMS in Twilio's format: signed form webhooks (URL as seen or behind a proxy), MMS media, duplicates, the
Messages API through a local peer, and fuzzing of the parser."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.adapters.sms import EMPTY_TWIML
from pivotdesk.channels.domain.signatures import twilio_signature
from pivotdesk.channels.models import InboundPayload, OutboundMessage
from pivotdesk.channels.services.inbound import inbound_process, inbound_store
from pivotdesk.channels.tests.peers_b import running_peer
from pivotdesk.channels.tests.support_b import OGG, PNG, Hook, latest_payload, make_account
from pivotdesk.common.delivery_errors import describe
from pivotdesk.customers.models import Contact
from pivotdesk.tickets.models import Message, Ticket

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "twilio-auth-token"
CALLER = "+14155550123"
OUR_NUMBER = "+14155550100"


@pytest.fixture
def peer():
    with running_peer() as running:
        yield running


@pytest.fixture
def account(workspace, peer):
    return make_account(
        workspace,
        "sms",
        config={"account_sid": SID, "from_number": OUR_NUMBER, "api_base": peer.url},
        secrets={"auth_token": TOKEN},
    )


@pytest.fixture
def hook(client, account, django_capture_on_commit_callbacks):
    return Hook(client, account, django_capture_on_commit_callbacks)


def form(sid: str = "SM1f0e8ae6ade43cb3c0ce4525424e404f", body: str = "My router is down again", **extra: str) -> dict:
    """An incoming-message webhook as Twilio documents it."""
    return {
        "ToCountry": "US", "ToState": "CA", "SmsMessageSid": sid, "NumMedia": "0", "ToCity": "SAN FRANCISCO",
        "FromZip": "94105", "SmsSid": sid, "FromState": "CA", "SmsStatus": "received", "FromCity": "SAN FRANCISCO",
        "Body": body, "FromCountry": "US", "To": OUR_NUMBER, "ToZip": "94105", "NumSegments": "1", "MessageSid": sid,
        "AccountSid": SID, "From": CALLER, "ApiVersion": "2010-04-01", **extra,
    }  # fmt: skip


def post(hook: Hook, params: dict, *, signature: str | None = "valid", signed_url: str | None = None):
    body = urlencode(params).encode()
    headers = {}
    if signature == "valid":
        url = signed_url or f"http://testserver{hook.url}"
        headers["HTTP_X_TWILIO_SIGNATURE"] = twilio_signature(TOKEN, url, list(params.items()))
    elif signature is not None:
        headers["HTTP_X_TWILIO_SIGNATURE"] = signature
    return hook.post(body, content_type="application/x-www-form-urlencoded", **headers)


def test_signed_sms_opens_a_ticket_for_the_phone_and_answers_empty_twiml(hook):
    response = post(hook, form())
    assert response.status_code == 200 and response.content.decode() == EMPTY_TWIML
    assert response["Content-Type"].startswith("text/xml")
    payload = latest_payload(hook.account)
    assert payload.status == "processed" and payload.dedupe_key == "sms:SM1f0e8ae6ade43cb3c0ce4525424e404f"
    ticket = Ticket.objects.get(pk=payload.ticket_id)
    assert ticket.channel == "sms" and ticket.requester.phone == CALLER
    message = ticket.messages.get()
    assert message.body_text == "My router is down again"
    assert message.metadata["sms"]["to"] == OUR_NUMBER and message.metadata["sms"]["FromCity"] == "SAN FRANCISCO"


def test_signature_over_the_configured_public_url_is_accepted_behind_a_proxy(hook, account):
    account.config["public_url"] = "https://desk.example.com"
    account.save()
    response = post(hook, form(), signed_url=f"https://desk.example.com{hook.url}")
    assert response.status_code == 200 and Ticket.objects.count() == 1


@pytest.mark.parametrize(("signature", "status"), [(None, 401), ("bm90IGl0", 403)])
def test_missing_or_wrong_signature_is_refused_and_kept_as_a_failed_row(hook, signature, status):
    assert post(hook, form(), signature=signature).status_code == status
    payload = latest_payload(hook.account)
    assert payload.status == "failed" and payload.reason.startswith("Rejected")
    assert not Ticket.objects.exists()


def test_signature_of_another_url_or_changed_parameters_is_refused(hook):
    assert post(hook, form(), signed_url="https://evil.example/hook").status_code == 403
    params = form()
    good = twilio_signature(TOKEN, f"http://testserver{hook.url}", list(params.items()))
    tampered = urlencode({**params, "Body": "Send me a refund"}).encode()
    response = hook.post(tampered, content_type="application/x-www-form-urlencoded", HTTP_X_TWILIO_SIGNATURE=good)
    assert response.status_code == 403


def test_mms_image_is_downloaded_with_the_account_credentials(hook, peer):
    peer.route("/media/ME1", body=PNG, content_type="image/png")
    post(hook, form(body="", NumMedia="1", MediaUrl0=f"{peer.url}/media/ME1", MediaContentType0="image/png"))
    message = Message.objects.get()
    assert message.attachments.get().file.read() == PNG
    expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert peer.calls("/media/ME1")[0].headers["Authorization"] == expected


def test_voice_mms_is_queued_for_transcription(hook, peer):
    peer.route("/media/ME2", body=OGG, content_type="audio/ogg")
    post(hook, form(body="listen", NumMedia="1", MediaUrl0=f"{peer.url}/media/ME2", MediaContentType0="audio/ogg"))
    message = Message.objects.get()
    assert message.attachments.get().content_type == "audio/ogg" and message.metadata["transcription"] == "queued"


def test_failed_media_keeps_the_text(hook, peer):
    post(
        hook, form(body="photo of the bill", NumMedia="1", MediaUrl0=f"{peer.url}/gone", MediaContentType0="image/jpeg")
    )
    message = Message.objects.get()
    assert message.body_text == "photo of the bill" and "HTTP 404" in message.metadata["media_errors"][0]


def test_duplicate_delivery_is_one_message(hook):
    post(hook, form())
    post(hook, form())
    assert Message.objects.count() == 1
    assert sorted(InboundPayload.objects.values_list("status", flat=True)) == ["duplicate", "processed"]


def test_unreadable_sender_is_a_failed_row_with_a_reason(hook):
    post(hook, form(From="not-a-number"))
    payload = latest_payload(hook.account)
    assert payload.status == "failed" and "From" in payload.reason


def test_agent_reply_goes_through_the_messages_api(hook, peer, agent):
    path = f"/2010-04-01/Accounts/{SID}/Messages.json"
    peer.route(path, status=201, json_body={"sid": "SM9a8b7c", "status": "queued"})
    post(hook, form())
    reply = hook.reply(Ticket.objects.get(), agent, "A technician is on the way.")
    [call] = peer.calls(path)
    assert call.headers["Authorization"] == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert call.form() == {"To": [CALLER], "From": [OUR_NUMBER], "Body": ["A technician is on the way."]}
    assert reply.delivery_status == "sent" and OutboundMessage.objects.get(message=reply).provider_id == "SM9a8b7c"


def test_platform_failure_keeps_the_reply_queued(hook, peer, agent):
    post(hook, form())
    peer.fail(1, 500)
    reply = hook.reply(Ticket.objects.get(), agent, "Checking.")
    assert (
        reply.delivery_status == "queued"
        and "Retrying" in describe(reply.delivery_error)
        and "HTTP 500" in describe(reply.delivery_error)
    )


def test_rate_limit_waits_at_least_the_platforms_retry_after(hook, peer, agent):
    import datetime as dt

    from pivotdesk.common.time import now

    peer.route(
        f"/2010-04-01/Accounts/{SID}/Messages.json",
        status=429,
        json_body={"code": 20429},
        headers={"Retry-After": "600"},
    )
    post(hook, form())
    reply = hook.reply(Ticket.objects.get(), agent, "Checking.")
    outbound = OutboundMessage.objects.get(message=reply)
    assert reply.delivery_status == "queued" and outbound.next_attempt_at >= now() + dt.timedelta(seconds=590)


def test_one_contact_per_phone(hook):
    post(hook, form())
    post(hook, form(sid="SM2", From="+1 415 555 0123"))
    assert Contact.objects.count() == 1


# --- fuzzing ---------------------------------------------------------------------------------------------------------

names = st.sampled_from(["From", "To", "Body", "MessageSid", "NumMedia", "MediaUrl0", "MediaContentType0", "X"])
forms = st.dictionaries(names, st.text(max_size=30), max_size=8)
bodies = st.one_of(st.binary(max_size=300), forms.map(lambda f: urlencode(f).encode()))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=bodies)
def test_parser_never_raises_out_of_processing(workspace, account, raw):
    result = inbound_process(
        actor=Actor.system(),
        payload=inbound_store(actor=Actor.system(), workspace=workspace, channel="sms", raw=raw, account=account),
    )
    assert result.status in ("processed", "ignored", "failed", "duplicate")
    assert result.status != "failed" or result.reason


def test_a_nul_character_is_stored_with_the_raw_bytes_whole_and_the_message_delivered(hook):
    # PostgreSQL text and jsonb cannot hold NUL: the payload's text columns drop it, the raw bytes keep it
    response = post(hook, form(sid="SM\x00nul", body="router\x00 down", Extra="a\x00b"))
    assert response.status_code == 200
    payload = latest_payload(hook.account)
    assert b"%00" in bytes(payload.raw)
    assert "\x00" not in str(payload.meta) and "\x00" not in payload.dedupe_key
    assert payload.status == "processed", payload.reason
    assert Message.objects.get(external_id="SMnul").body_text == "router down"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=forms, signed=st.booleans())
def test_webhook_never_answers_500(hook, params, signed):
    assert post(hook, params, signature="valid" if signed else "bad").status_code in (200, 403)
