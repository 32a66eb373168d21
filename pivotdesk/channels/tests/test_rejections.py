"""Rejected webhook calls are bounded: per channel account at most the cap of them is stored per window, beyond it
one in N, the rest only counted (shown on the channel page); old ones are pruned; the caller's answer is unchanged
and a genuine call after a flood is still processed."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.domain.signatures import line_signature
from pivotdesk.channels.models import InboundPayload
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.channels.services.inbound import inbound_store
from pivotdesk.channels.services.rejections import (
    NOT_STORED,
    REJECTED_KEEP_BYTES,
    inbound_rejected_prune,
    rejected_admit,
    rejected_not_stored,
)
from pivotdesk.channels.tests.peers import Peer, telegram_api
from pivotdesk.channels.tests.peers_b import running_peer
from pivotdesk.common.time import now
from pivotdesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db

CAP = 20
CALLS = 50
MEGABYTE = b"x" * (1024 * 1024)
LINE_SECRET = "line-channel-secret"
BOT = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
TG_SECRET = "s3cr3t-token_A"
SYSTEM = Actor.system("tests")


@pytest.fixture(autouse=True)
def _cap(settings):
    settings.PIVOTDESK_REJECTED_INBOUND_LIMIT = CAP
    settings.PIVOTDESK_REJECTED_INBOUND_SAMPLE = 100
    # One long window: the test never straddles two (each window has its own counter of calls not stored).
    settings.PIVOTDESK_REJECTED_INBOUND_WINDOW_SECONDS = 7 * 24 * 3600


def _stored(account) -> list[InboundPayload]:
    return list(InboundPayload.objects.filter(account=account).exclude(classification=NOT_STORED))


# --- LINE: rejected through `signature_rejection` → `inbound_reject` -----------------------------------------------


@pytest.fixture
def line_peer():
    with running_peer() as running:
        yield running


@pytest.fixture
def line(workspace, line_peer):
    return channel_account_create(
        actor=SYSTEM,
        workspace=workspace,
        kind="line",
        name="line",
        config={"api_base": line_peer.url, "data_api_base": line_peer.url},
        secrets={"channel_secret": LINE_SECRET, "channel_access_token": "LINE-TOKEN"},
    )


def _line_text_event() -> bytes:
    event = {
        "type": "message",
        "message": {"type": "text", "id": "14353798921116", "text": "Still there?"},
        "webhookEventId": "01FZ74A0TDDPYRVKNK77XKC3ZR",
        "deliveryContext": {"isRedelivery": False},
        "timestamp": 1625665242211,
        "source": {"type": "user", "userId": "U4af4980629a0b2c6e1b0f4f1e2a1b9d1"},
        "replyToken": "757913772c4646b784d4b7ce46d12671",
        "mode": "active",
    }
    return json.dumps({"destination": "Ub0000000000000000000000000000000", "events": [event]}).encode()


def test_a_flood_of_forged_line_calls_stores_at_most_the_cap_and_counts_the_rest(
    client, line, django_capture_on_commit_callbacks
):
    url = f"/channels/in/line/{line.webhook_key}/"
    for _ in range(CALLS):
        response = client.post(url, MEGABYTE, content_type="application/json", HTTP_X_LINE_SIGNATURE="AAAA")
        assert response.status_code == 403  # the same answer whether the call was stored or only counted

    stored = _stored(line)
    assert len(stored) <= CAP
    assert all(p.status == "failed" and p.reason.startswith("Rejected") for p in stored)
    assert sum(len(bytes(p.raw)) for p in stored) <= CAP * REJECTED_KEEP_BYTES
    assert rejected_not_stored(account=line, since=now() - dt.timedelta(hours=1)) == CALLS - len(stored)

    body = _line_text_event()
    with django_capture_on_commit_callbacks(execute=True):
        genuine = client.post(
            url, body, content_type="application/json", HTTP_X_LINE_SIGNATURE=line_signature(LINE_SECRET, body)
        )
    assert genuine.status_code == 200
    assert InboundPayload.objects.filter(account=line).order_by("-pk").first().status == "processed"
    assert Ticket.objects.filter(channel="line").count() == 1


# --- Telegram: rejected through `platform_api.store_rejected` ------------------------------------------------------


@pytest.fixture
def tg_peer():
    p = telegram_api(Peer(), BOT).start()
    yield p
    p.stop()


@pytest.fixture
def telegram(workspace, tg_peer):
    return channel_account_create(
        actor=SYSTEM,
        workspace=workspace,
        kind="telegram",
        name="bot",
        config={"api_base": tg_peer.url},
        secrets={"bot_token": BOT, "secret_token": TG_SECRET},
    )


def test_a_flood_of_forged_telegram_calls_stores_at_most_the_cap_and_counts_the_rest(
    client, telegram, django_capture_on_commit_callbacks
):
    url = f"/channels/in/telegram/{telegram.webhook_key}/"
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(CALLS):
            response = client.post(
                url, MEGABYTE, content_type="application/json", HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN="wrong"
            )
            assert response.status_code == 401

    stored = _stored(telegram)
    assert len(stored) <= CAP
    assert all(p.status == "failed" and "bad secret token" in p.reason for p in stored)
    assert sum(len(bytes(p.raw)) for p in stored) <= CAP * REJECTED_KEEP_BYTES
    assert rejected_not_stored(account=telegram, since=now() - dt.timedelta(hours=1)) == CALLS - len(stored)

    update = {
        "update_id": 10000,
        "message": {
            "message_id": 1365,
            "from": {"id": 987654321, "is_bot": False, "first_name": "Ivan"},
            "chat": {"id": 987654321, "type": "private", "first_name": "Ivan"},
            "date": 1700000000,
            "text": "My order has not arrived",
        },
    }
    with django_capture_on_commit_callbacks(execute=True):
        genuine = client.post(
            url, json.dumps(update), content_type="application/json", HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=TG_SECRET
        )
    assert genuine.status_code == 200
    assert Ticket.objects.filter(channel="telegram").count() == 1


# --- the cap, the sample and the counter ---------------------------------------------------------------------------


def test_beyond_the_cap_one_call_in_n_is_stored_and_the_rest_counted(line, settings):
    settings.PIVOTDESK_REJECTED_INBOUND_LIMIT = 2
    settings.PIVOTDESK_REJECTED_INBOUND_SAMPLE = 5

    admitted = [rejected_admit(actor=SYSTEM, account=line) for _ in range(2 + 12)]

    assert admitted[:2] == [{}, {}]  # within the cap
    over = admitted[2:]
    assert [i for i, a in enumerate(over, start=1) if a is not None] == [5, 10]
    assert all(a == {"sampled_one_in": 5} for a in over if a is not None)
    assert rejected_not_stored(account=line, since=now() - dt.timedelta(hours=1)) == 10


def test_each_account_has_its_own_cap(workspace, line, settings):
    settings.PIVOTDESK_REJECTED_INBOUND_LIMIT = 1
    other = channel_account_create(
        actor=SYSTEM, workspace=workspace, kind="line", name="line 2", config={}, secrets={"channel_secret": "x"}
    )
    assert rejected_admit(actor=SYSTEM, account=line) == {}
    assert rejected_admit(actor=SYSTEM, account=line) is None
    assert rejected_admit(actor=SYSTEM, account=other) == {}


def test_the_channel_page_says_how_many_rejected_calls_were_not_stored(client_as, admin_agent, line, settings):
    settings.PIVOTDESK_REJECTED_INBOUND_LIMIT = 0
    for _ in range(7):
        rejected_admit(actor=SYSTEM, account=line)

    english = client_as(admin_agent).get(f"/settings/channels/{line.pk}/").content.decode()
    chinese = client_as(admin_agent, "zh-hans").get(f"/settings/channels/{line.pk}/").content.decode()

    assert "7 rejected calls not stored in the last hour" in english
    assert "过去一小时有 7 次被拒绝的调用未保存" in chinese


# --- pruning -------------------------------------------------------------------------------------------------------


def test_old_rejected_calls_and_counters_are_pruned_and_everything_else_kept(workspace, line, settings):
    settings.PIVOTDESK_REJECTED_INBOUND_LIMIT = 0
    settings.PIVOTDESK_REJECTED_INBOUND_KEEP_DAYS = 14
    rejected_admit(actor=SYSTEM, account=line)  # a counter row
    old_rejected = inbound_store(
        actor=SYSTEM, workspace=workspace, channel="line", raw=b"x", meta={"rejected": True}, account=line
    )
    new_rejected = inbound_store(
        actor=SYSTEM, workspace=workspace, channel="line", raw=b"x", meta={"rejected": "bad signature"}, account=line
    )
    old_genuine = inbound_store(actor=SYSTEM, workspace=workspace, channel="line", raw=b"{}", account=line)
    long_ago = now() - dt.timedelta(days=15)
    InboundPayload.objects.filter(pk__in=[old_rejected.pk, old_genuine.pk]).update(received_at=long_ago)
    InboundPayload.objects.filter(classification=NOT_STORED).update(received_at=long_ago)

    assert inbound_rejected_prune(actor=SYSTEM) == 2

    left = set(InboundPayload.objects.values_list("pk", flat=True))
    assert left == {new_rejected.pk, old_genuine.pk}
