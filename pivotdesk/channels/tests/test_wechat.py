"""WeChat Official Account: URL check, signed XML callbacks (plaintext and safe mode), media, duplicates, passive
reply, customer-service replies through a local peer (token cache, expired token, failures), fuzzing."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.domain import wechat_crypto
from pivotdesk.channels.domain.wechat_xml import build_xml, parse_flat_xml
from pivotdesk.channels.models import InboundPayload, OutboundMessage
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.channels.services.inbound import inbound_process, inbound_store
from pivotdesk.channels.tests.peers import Peer, wechat_api
from pivotdesk.common.delivery_errors import describe
from pivotdesk.customers.models import ChannelIdentity
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Message, Ticket

TOKEN = "pivotdesk-token"
APP_ID = "wx1234567890abcdef"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
JPEG = b"\xff\xd8\xff\xe0fake-jpeg"
AMR = b"#!AMR\nfake-voice"


@pytest.fixture
def peer():
    p = wechat_api(Peer()).start()
    yield p
    p.stop()


@pytest.fixture
def account(workspace, peer):
    from django.core.cache import cache

    cache.clear()
    return channel_account_create(
        actor=Actor.system(),
        workspace=workspace,
        kind="wechat",
        name="公众号",
        config={"app_id": APP_ID, "api_base": peer.url},
        secrets={"token": TOKEN, "app_secret": "app-secret", "encoding_aes_key": AES_KEY},
    )


def signed_query(token=TOKEN, **extra) -> str:
    timestamp, nonce = str(int(time.time())), "1234567"
    q = {"timestamp": timestamp, "nonce": nonce, "signature": wechat_crypto.plain_signature(token, timestamp, nonce)}
    return urlencode({**q, **extra})


def message_xml(msg_type="text", msg_id="6054768590064713728", **fields) -> bytes:
    base: dict[str, str | int] = {
        "ToUserName": "gh_service",
        "FromUserName": OPENID,
        "CreateTime": 1700000000,
        "MsgType": msg_type,
    }
    if msg_id:
        base["MsgId"] = int(msg_id)
    return build_xml({**base, **fields}).encode()


def post(client, account, body: bytes, query: str | None = None):
    url = f"/channels/in/wechat/{account.webhook_key}/?{signed_query() if query is None else query}"
    return client.post(url, data=body, content_type="text/xml")


def test_url_check_echoes_echostr_only_with_a_valid_signature(client, account):
    url = f"/channels/in/wechat/{account.webhook_key}/"
    ok = client.get(f"{url}?{signed_query(echostr='e-123')}")
    assert ok.status_code == 200 and ok.content == b"e-123"
    assert client.get(f"{url}?{signed_query(token='wrong', echostr='e-123')}").status_code == 403
    assert client.get(f"{url}?echostr=e-123").status_code == 403


def test_text_message_opens_ticket_for_the_openid(client, account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        resp = post(client, account, message_xml(Content="你好，发票开错了"))
    assert resp.status_code == 200 and resp.content == b"success"
    payload = InboundPayload.objects.get(channel="wechat")
    assert payload.status == "processed" and payload.dedupe_key == "wechat:6054768590064713728"
    ticket = Ticket.objects.get(pk=payload.ticket_id)
    assert ticket.channel == "wechat"
    assert ChannelIdentity.objects.get(contact=ticket.requester, kind="wechat").value == OPENID
    msg = ticket.messages.get()
    assert msg.body_text == "你好，发票开错了" and msg.external_id == "6054768590064713728"


@pytest.mark.parametrize("query", ["", "timestamp=1&nonce=2&signature=deadbeef"])
def test_missing_or_bad_signature_is_refused_and_kept_as_failed(
    client, account, query, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        resp = post(client, account, message_xml(Content="forged"), query=query)
    assert resp.status_code == 403
    payload = InboundPayload.objects.get(channel="wechat")
    assert payload.status == "failed" and "bad signature" in payload.reason
    assert payload.meta["rejected"] == "bad signature"
    assert not Ticket.objects.exists()
    assert (
        inbound_process(actor=Actor.system(), payload=payload).status == "failed"
    )  # a manual retry never processes it


def test_image_is_downloaded_as_an_attachment(client, account, peer, django_capture_on_commit_callbacks):
    peer.media["MEDIA_IMG"] = (JPEG, "image/jpeg")
    body = message_xml("image", PicUrl="http://mmbiz.qpic.cn/x", MediaId="MEDIA_IMG")
    with django_capture_on_commit_callbacks(execute=True):
        post(client, account, body)
    msg = Message.objects.get(channel="wechat")
    att = msg.attachments.get()
    assert att.content_type == "image/jpeg" and att.file.read() == JPEG
    assert msg.metadata["pic_url"] == "http://mmbiz.qpic.cn/x"
    media_call = peer.calls("/cgi-bin/media/get")[0]
    assert media_call.query == {"access_token": "TOKEN-1", "media_id": "MEDIA_IMG"}


def test_voice_is_stored_and_queued_for_transcription(client, account, peer, django_capture_on_commit_callbacks):
    peer.media["MEDIA_VOICE"] = (AMR, "audio/amr")
    body = message_xml("voice", MediaId="MEDIA_VOICE", Format="amr", Recognition="我的订单在哪里")
    with django_capture_on_commit_callbacks(execute=True):
        post(client, account, body)
    msg = Message.objects.get(channel="wechat")
    assert msg.attachments.get().file.read() == AMR
    assert msg.metadata["transcription"] == "queued" and msg.metadata["recognition"] == "我的订单在哪里"
    assert msg.body_text == "我的订单在哪里"


def test_video_follows_the_video_url(client, account, peer, django_capture_on_commit_callbacks):
    peer.media["VID_FILE"] = (b"\x00\x00\x00\x18ftypmp4", "video/mp4")
    peer.route("GET", r"/cgi-bin/media/get", lambda rec, m: _video_url(peer, rec))
    peer.routes.insert(0, peer.routes.pop())  # answers before the default media route
    peer.route("GET", r"/vdl", lambda rec, m: peer.media_reply("VID_FILE"))
    with django_capture_on_commit_callbacks(execute=True):
        post(client, account, message_xml("video", MediaId="VID", ThumbMediaId="THUMB"))
    msg = Message.objects.get(channel="wechat")
    assert msg.attachments.get().content_type == "video/mp4" and msg.metadata["transcription"] == "queued"


def _video_url(peer, rec):
    from pivotdesk.channels.tests.peers import Reply

    if rec.query.get("media_id") == "VID":
        return Reply(200, {"video_url": f"{peer.url}/vdl"})
    return peer.media_reply(rec.query.get("media_id", ""))


def test_media_download_failure_keeps_the_message(client, account, peer, django_capture_on_commit_callbacks):
    body = message_xml("voice", MediaId="GONE", Format="amr")
    with django_capture_on_commit_callbacks(execute=True):
        post(client, account, body)
    payload = InboundPayload.objects.get(channel="wechat")
    assert payload.status == "processed"
    msg = Message.objects.get(pk=payload.message_id)
    assert msg.body_text == "[voice message]" and not msg.attachments.exists()
    assert "GONE" in msg.metadata["media_errors"][0] and msg.metadata["transcription"] == "queued"


def test_duplicate_delivery_gives_one_message(client, account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):  # WeChat retries three times when the answer is late
            assert post(client, account, message_xml(Content="重复")).status_code == 200
    assert Message.objects.filter(channel="wechat").count() == 1
    statuses = sorted(InboundPayload.objects.values_list("status", flat=True))
    assert statuses == ["duplicate", "duplicate", "processed"]


def test_subscribe_event_is_ignored(client, account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        resp = post(client, account, message_xml("event", msg_id="", Event="subscribe"))
    assert resp.content == b"success"
    assert InboundPayload.objects.get().status == "ignored" and not Ticket.objects.exists()


def test_location_and_link(client, account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, account, message_xml("location", Location_X="23.13", Location_Y="113.26", Scale=20, Label="广州"))
        post(client, account, message_xml("link", msg_id="2", Title="订单", Description="d", Url="https://x.cn/o"))
    texts = list(Message.objects.order_by("pk").values_list("body_text", flat=True))
    assert texts[0] == "[location] 广州 (23.13, 113.26)" and "https://x.cn/o" in texts[1]


def test_plaintext_passive_reply(client, account):
    account.config["auto_ack"] = "已收到，客服稍后回复。"
    account.save()
    resp = post(client, account, message_xml(Content="hi"))
    reply = parse_flat_xml(resp.content)
    assert reply["ToUserName"] == OPENID and reply["FromUserName"] == "gh_service"
    assert reply["MsgType"] == "text" and reply["Content"] == "已收到，客服稍后回复。"


def test_safe_mode_message_is_decrypted_and_the_reply_encrypted(client, account, django_capture_on_commit_callbacks):
    account.config["auto_ack"] = "收到"
    account.save()
    inner = message_xml(Content="加密消息").decode()
    encrypted = wechat_crypto.encrypt(inner, encoding_aes_key=AES_KEY, receive_id=APP_ID)
    timestamp, nonce = "1700000000", "n0nce"
    query = urlencode(
        {
            "timestamp": timestamp,
            "nonce": nonce,
            "signature": wechat_crypto.plain_signature(TOKEN, timestamp, nonce),
            "encrypt_type": "aes",
            "msg_signature": wechat_crypto.msg_signature(TOKEN, timestamp, nonce, encrypted),
        }
    )
    with django_capture_on_commit_callbacks(execute=True):
        resp = post(client, account, build_xml({"ToUserName": "gh_service", "Encrypt": encrypted}).encode(), query)
    assert Message.objects.get(channel="wechat").body_text == "加密消息"
    wrapped = parse_flat_xml(resp.content)
    expected = wechat_crypto.msg_signature(TOKEN, wrapped["TimeStamp"], wrapped["Nonce"], wrapped["Encrypt"])
    assert wrapped["MsgSignature"] == expected
    reply = parse_flat_xml(wechat_crypto.decrypt(wrapped["Encrypt"], encoding_aes_key=AES_KEY, receive_id=APP_ID))
    assert reply["Content"] == "收到" and reply["ToUserName"] == OPENID

    bad = query.replace("msg_signature=", "msg_signature=0")
    assert post(client, account, build_xml({"Encrypt": encrypted}).encode(), bad).status_code == 403


def test_crypto_round_trip_and_wrong_receiver():
    token = wechat_crypto.encrypt("<xml/>", encoding_aes_key=AES_KEY, receive_id=APP_ID)
    assert wechat_crypto.decrypt(token, encoding_aes_key=AES_KEY, receive_id=APP_ID) == "<xml/>"
    with pytest.raises(wechat_crypto.CryptoError):
        wechat_crypto.decrypt(token, encoding_aes_key=AES_KEY, receive_id="wx-other")


# --- outbound ---------------------------------------------------------------------------------------------------


def _open_ticket(client, account, capture) -> Ticket:
    with capture(execute=True):
        post(client, account, message_xml(Content="请帮我查一下"))
    return Ticket.objects.get(channel="wechat")


def _reply(ticket, agent, capture, body="您好，已为您查询") -> Message:
    with capture(execute=True):
        return ticket_services.message_create(ticket=ticket, actor=Actor.for_agent(agent), body=body)


def test_agent_reply_is_sent_through_custom_send(client, account, agent, peer, django_capture_on_commit_callbacks):
    ticket = _open_ticket(client, account, django_capture_on_commit_callbacks)
    msg = _reply(ticket, agent, django_capture_on_commit_callbacks)
    msg.refresh_from_db()
    assert msg.delivery_status == "sent"
    assert peer.state["sent"] == [{"touser": OPENID, "msgtype": "text", "text": {"content": "您好，已为您查询"}}]
    raw = peer.calls("/cgi-bin/message/custom/send")[0].body
    assert "您好".encode() in raw  # UTF-8, not \\u escapes
    token_call = peer.calls("/cgi-bin/token")[0]
    assert token_call.query == {"grant_type": "client_credential", "appid": APP_ID, "secret": "app-secret"}
    _reply(ticket, agent, django_capture_on_commit_callbacks, body="第二条")
    assert len(peer.calls("/cgi-bin/token")) == 1  # the token is cached


def test_server_error_leaves_the_reply_queued_for_retry(
    client, account, agent, peer, django_capture_on_commit_callbacks
):
    ticket = _open_ticket(client, account, django_capture_on_commit_callbacks)
    peer.fail(r"/cgi-bin/message/custom/send", 500)
    msg = _reply(ticket, agent, django_capture_on_commit_callbacks)
    msg.refresh_from_db()
    outbound = OutboundMessage.objects.get(message=msg)
    assert (
        msg.delivery_status == "queued"
        and "Retrying" in describe(msg.delivery_error)
        and "500" in describe(msg.delivery_error)
    )
    assert outbound.status == "queued" and outbound.next_attempt_at is not None


def test_expired_token_is_refreshed_and_the_send_retried_once(
    client, account, agent, peer, django_capture_on_commit_callbacks
):
    ticket = _open_ticket(client, account, django_capture_on_commit_callbacks)
    _reply(ticket, agent, django_capture_on_commit_callbacks, body="一")
    peer.state["expired"].add("TOKEN-1")  # the cached token dies on the platform's side
    msg = _reply(ticket, agent, django_capture_on_commit_callbacks, body="二")
    msg.refresh_from_db()
    assert msg.delivery_status == "sent"
    sends = peer.calls("/cgi-bin/message/custom/send")
    assert [c.query["access_token"] for c in sends] == ["TOKEN-1", "TOKEN-1", "TOKEN-2"]


def test_outside_the_48_hour_window_fails_permanently(client, account, agent, peer, django_capture_on_commit_callbacks):
    ticket = _open_ticket(client, account, django_capture_on_commit_callbacks)
    peer.fail(r"/cgi-bin/message/custom/send", 200, body={"errcode": 45015, "errmsg": "response out of time limit"})
    msg = _reply(ticket, agent, django_capture_on_commit_callbacks)
    msg.refresh_from_db()
    assert msg.delivery_status == "failed" and "45015" in describe(msg.delivery_error)


# --- fuzzing ----------------------------------------------------------------------------------------------------

_xml_values = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40)
_fields = st.dictionaries(
    st.sampled_from(["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "MediaId", "Encrypt",
                     "Event", "Location_X", "Label", "Format", "Recognition", "Url"]),
    st.one_of(_xml_values, st.sampled_from(["text", "image", "voice", "event", "video", "location", "link", "x"])),
)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.one_of(st.binary(max_size=300), _fields.map(lambda f: build_xml(f).encode())))
def test_parser_never_crashes(account, raw):
    payload = inbound_store(
        actor=Actor.system(), workspace=account.workspace, channel="wechat", raw=raw, account=account
    )
    result = inbound_process(actor=Actor.system(), payload=payload)
    assert result.status in ("processed", "ignored", "duplicate", "failed")
    if result.status == "failed":
        assert result.reason and not result.reason.startswith("Parser error")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200), signed=st.booleans())
def test_webhook_never_answers_500(client, account, raw, signed):
    resp = post(client, account, raw, query=None if signed else "signature=x")
    assert resp.status_code in (200, 403)
