"""WeCom customer service (微信客服): encrypted callback, sync_msg pulls stored page by page (text, image, voice,
servicer echoes skipped, cursor carried over), duplicates, kf/send_msg through a local peer, fuzzing."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.domain import wechat_crypto
from pivotdesk.channels.domain.wechat_xml import build_xml
from pivotdesk.channels.models import InboundPayload
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.channels.services.inbound import inbound_process, inbound_store
from pivotdesk.channels.tests.peers import Peer, wechat_api
from pivotdesk.common.delivery_errors import describe
from pivotdesk.customers.models import ChannelIdentity
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Message, Ticket

TOKEN = "wecom-callback-token"
CORP = "ww1234567890abcdef"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
KF = "wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw"
USER = "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw"


@pytest.fixture
def peer():
    p = wechat_api(Peer(), wecom=True).start()
    yield p
    p.stop()


@pytest.fixture
def account(workspace, peer):
    from django.core.cache import cache

    cache.clear()
    return channel_account_create(
        actor=Actor.system(),
        workspace=workspace,
        kind="wecom",
        name="微信客服",
        config={"corp_id": CORP, "api_base": peer.url},
        secrets={"token": TOKEN, "encoding_aes_key": AES_KEY, "secret": "kf-secret"},
    )


def kf_msg(msgid, msgtype="text", origin=3, **part):
    body = part or {"content": "你好，我要退货"}
    return {"msgid": msgid, "open_kfid": KF, "external_userid": USER, "send_time": 1700000000, "origin": origin,
            "msgtype": msgtype, msgtype: body}  # fmt: skip


def callback(client, account, *, token=TOKEN, event="kf_msg_or_event", receive_id=CORP):
    inner = build_xml({"ToUserName": CORP, "CreateTime": 1700000000, "MsgType": "event", "Event": event,
                       "Token": "ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR", "OpenKfId": KF})  # fmt: skip
    encrypted = wechat_crypto.encrypt(inner, encoding_aes_key=AES_KEY, receive_id=receive_id)
    timestamp, nonce = str(int(time.time())), "nonce1"
    q = {"msg_signature": wechat_crypto.msg_signature(token, timestamp, nonce, encrypted), "timestamp": timestamp,
         "nonce": nonce}  # fmt: skip
    body = build_xml({"ToUserName": CORP, "AgentID": "", "Encrypt": encrypted}).encode()
    return client.post(f"/channels/in/wecom/{account.webhook_key}/?{urlencode(q)}", data=body, content_type="text/xml")


def test_url_check_decrypts_echostr(client, account):
    echostr = wechat_crypto.encrypt("1616140317555161061", encoding_aes_key=AES_KEY, receive_id=CORP)
    q = {"msg_signature": wechat_crypto.msg_signature(TOKEN, "1", "n", echostr), "timestamp": "1", "nonce": "n"}
    url = f"/channels/in/wecom/{account.webhook_key}/"
    ok = client.get(url, {**q, "echostr": echostr})
    assert ok.status_code == 200 and ok.content == b"1616140317555161061"
    assert client.get(url, {**q, "msg_signature": "0" * 40, "echostr": echostr}).status_code == 403


def test_callback_pulls_and_opens_a_ticket(client, account, peer, django_capture_on_commit_callbacks):
    peer.media["IMG"] = (b"\xff\xd8img", "image/jpeg")
    peer.media["VOICE"] = (b"#!AMR voice", "audio/amr")
    peer.state["sync_batches"] = [
        [kf_msg("m1"), kf_msg("m2", "image", media_id="IMG")],
        [kf_msg("m3", "voice", media_id="VOICE"), kf_msg("echo", origin=5, content="客服回复")],
    ]
    with django_capture_on_commit_callbacks(execute=True):
        resp = callback(client, account)
    assert resp.status_code == 200 and resp.content == b"success"
    callback_row, *pages = InboundPayload.objects.order_by("pk")
    assert callback_row.status == "ignored"  # the callback carries no message itself
    assert [p.status for p in pages] == ["processed", "processed"]
    assert [p.meta["cursor"] for p in pages] == ["", "1"] and pages[-1].meta["next_cursor"] == "2"
    ticket = Ticket.objects.get()
    assert ChannelIdentity.objects.get(contact=ticket.requester, kind="wecom").value == USER
    msgs = list(ticket.messages.order_by("pk"))
    assert [m.external_id for m in msgs] == ["m1", "m2", "m3"]  # the servicer's echo is not a customer message
    assert msgs[0].body_text == "你好，我要退货" and msgs[1].attachments.get().file.read() == b"\xff\xd8img"
    assert msgs[2].attachments.get().content_type == "audio/amr" and msgs[2].metadata["transcription"] == "queued"
    first_sync = peer.calls("/cgi-bin/kf/sync_msg")[0].json()
    assert first_sync["token"].startswith("ENCA") and first_sync["open_kfid"] == KF and "cursor" not in first_sync


def test_next_callback_continues_from_the_stored_cursor(client, account, peer, django_capture_on_commit_callbacks):
    peer.state["sync_batches"] = [[kf_msg("m1")]]
    with django_capture_on_commit_callbacks(execute=True):
        callback(client, account)
    peer.state["sync_batches"].append([kf_msg("m2", content="还有一个问题")])
    with django_capture_on_commit_callbacks(execute=True):
        callback(client, account)
    assert peer.calls("/cgi-bin/kf/sync_msg")[-1].json()["cursor"] == "1"
    assert list(Message.objects.order_by("pk").values_list("external_id", flat=True)) == ["m1", "m2"]


def test_duplicate_pages_give_one_message(client, account, peer, django_capture_on_commit_callbacks):
    peer.state["sync_batches"] = [[kf_msg("m1")]]
    with django_capture_on_commit_callbacks(execute=True):
        callback(client, account)
    page = InboundPayload.objects.filter(meta__source="sync_msg").get()
    again = inbound_store(
        actor=Actor.system(),
        workspace=account.workspace,
        channel="wecom",
        raw=bytes(page.raw),
        meta=page.meta,
        account=account,
    )
    assert inbound_process(actor=Actor.system(), payload=again).status == "duplicate"
    assert Message.objects.count() == 1


@pytest.mark.parametrize("kwargs", [{"token": "wrong"}, {"receive_id": "ww-other-corp"}])
def test_bad_signature_or_foreign_corp_is_not_processed(
    client, account, peer, kwargs, django_capture_on_commit_callbacks
):
    peer.state["sync_batches"] = [[kf_msg("m1")]]
    with django_capture_on_commit_callbacks(execute=True):
        resp = callback(client, account, **kwargs)
    row = InboundPayload.objects.get()
    assert row.status == "failed" and not Ticket.objects.exists() and not peer.calls("/cgi-bin/kf/sync_msg")
    if "token" in kwargs:
        assert resp.status_code == 403 and "bad signature" in row.reason
    else:  # signed by us but encrypted for another corp
        assert resp.status_code == 200 and "another app or corp" in row.reason


def test_sync_failure_leaves_the_callback_failed_and_retryable(
    client, account, peer, django_capture_on_commit_callbacks
):
    peer.state["sync_batches"] = [[kf_msg("m1")]]
    peer.fail("/cgi-bin/kf/sync_msg", 500)
    with django_capture_on_commit_callbacks(execute=True):
        callback(client, account)
    row = InboundPayload.objects.get()
    assert row.status == "failed" and "sync_msg" in row.reason
    with django_capture_on_commit_callbacks(execute=True):
        assert inbound_process(actor=Actor.system(), payload=row).status == "ignored"
    assert Message.objects.get().external_id == "m1"


def test_agent_reply_goes_through_send_msg(client, account, agent, peer, django_capture_on_commit_callbacks):
    peer.state["sync_batches"] = [[kf_msg("m1")]]
    with django_capture_on_commit_callbacks(execute=True):
        callback(client, account)
    ticket = Ticket.objects.get()
    peer.state["expired"].add("TOKEN-1")
    with django_capture_on_commit_callbacks(execute=True):
        msg = ticket_services.message_create(ticket=ticket, actor=Actor.for_agent(agent), body="已为您办理退货")
    msg.refresh_from_db()
    assert msg.delivery_status == "sent"
    assert peer.state["sent"] == [
        {"touser": USER, "open_kfid": KF, "msgtype": "text", "text": {"content": "已为您办理退货"}}
    ]
    assert peer.calls("/cgi-bin/gettoken")[0].query == {"corpid": CORP, "corpsecret": "kf-secret"}
    peer.fail("/cgi-bin/kf/send_msg", 500)
    with django_capture_on_commit_callbacks(execute=True):
        second = ticket_services.message_create(ticket=ticket, actor=Actor.for_agent(agent), body="二")
    second.refresh_from_db()
    assert second.delivery_status == "queued" and "Retrying" in describe(second.delivery_error)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=15,
)
_msg = st.fixed_dictionaries(
    {"origin": st.sampled_from([3, 4, 5]) | _json},
    optional={"msgid": _json | st.text(max_size=10), "external_userid": _json | st.just(USER),
              "msgtype": st.sampled_from(["text", "image", "voice", "event", "location", "link"]) | _json,
              "text": _json, "image": _json, "location": _json, "send_time": _json},
)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.one_of(st.binary(max_size=200), _json.map(json.dumps).map(str.encode),
                     st.lists(_msg, max_size=3).map(lambda ms: json.dumps({"msg_list": ms}).encode())),
       page=st.booleans())  # fmt: skip
def test_parser_never_crashes(account, raw, page):
    meta = {"source": "sync_msg", "open_kfid": KF} if page else {}
    payload = inbound_store(
        actor=Actor.system(), workspace=account.workspace, channel="wecom", raw=raw, meta=meta, account=account
    )
    result = inbound_process(actor=Actor.system(), payload=payload)
    assert result.status in ("processed", "ignored", "duplicate", "failed")
    if result.status == "failed":
        assert result.reason and not result.reason.startswith("Parser error")


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200))
def test_webhook_never_answers_500(client, account, raw):
    resp = client.post(f"/channels/in/wecom/{account.webhook_key}/?msg_signature=x", data=raw, content_type="text/xml")
    assert resp.status_code == 403
