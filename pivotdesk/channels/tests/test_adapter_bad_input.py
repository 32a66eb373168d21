"""Hostile bodies on every messaging adapter (issue 11, finding 10): deeply nested JSON, huge integers, invalid
UTF-8 and NUL bytes are a 4xx or a stored payload whose processing failed with a reason — never a 500, and the raw
body is stored before anything parses it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.domain.signatures import line_signature, sha256_header, twilio_signature
from pivotdesk.channels.models import ChannelAccount, InboundPayload, InboundStatus
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.channels.services.inbound import inbound_process, inbound_store

pytestmark = pytest.mark.django_db

NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing is fetched from a hostile body anyway
ORIGIN = "https://shop.example.cn"

BODIES: dict[str, bytes] = {
    "deep array": b"[" * 10_000 + b"]" * 10_000,
    "deep object": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    "huge integer": b'{"id": ' + b"9" * 5_000 + b', "events": [], "entry": [], "update_id": 1}',
    "big integers as ids": (
        b'{"id": '
        + b"9" * 400
        + b', "update_id": '
        + b"9" * 400
        + b', "call_id": '
        + b"9" * 400
        + b', "event": "call.started", "from": {"id": '
        + b"9" * 400
        + b'}, "text": "x"}'
    ),
    "invalid UTF-8": b'{"id": "\xff\xfe", "text": "\xc3\x28", "events": [{"message": {"id": "\xff"}}]}',
    "NUL escapes": b'{"id": "a\\u0000b", "text": "x\\u0000y", "from": {"id": "\\u0000", "email": "a\\u0000@x.cn"}}',
    "raw NUL bytes": b'\x00\x00{"id": 1}\x00',
}


@dataclass
class Adapter:
    kind: str
    config: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, Any] = field(default_factory=dict)
    headers: Callable[[bytes, str], dict[str, str]] = lambda body, url: {}
    content_type: str = "application/json"


ADAPTERS = {
    a.kind: a
    for a in [
        Adapter(
            "line",
            {"api_base": NOWHERE, "data_api_base": NOWHERE},
            {"channel_secret": "line-secret", "channel_access_token": "T"},
            lambda body, url: {"X-Line-Signature": line_signature("line-secret", body)},
        ),
        Adapter(
            "messenger",
            {"page_id": "1", "graph_base": NOWHERE},
            {"app_secret": "m-secret", "verify_token": "v", "page_access_token": "T"},
            lambda body, url: {"X-Hub-Signature-256": sha256_header("m-secret", body)},
        ),
        Adapter(
            "whatsapp",
            {"phone_number_id": "1", "graph_base": NOWHERE},
            {"app_secret": "w-secret", "verify_token": "v", "access_token": "T"},
            lambda body, url: {"X-Hub-Signature-256": sha256_header("w-secret", body)},
        ),
        Adapter(
            "generic",
            {"reply_url": f"{NOWHERE}/replies"},
            {"signing_secret": "g-secret"},
            lambda body, url: {"X-PivotDesk-Signature": sha256_header("g-secret", body)},
        ),
        Adapter(
            "cti",
            {},
            {"signing_secret": "c-secret"},
            lambda body, url: {"X-PivotDesk-Signature": sha256_header("c-secret", body)},
        ),
        Adapter(
            "telegram",
            {"api_base": NOWHERE},
            {"bot_token": "1:x", "secret_token": "t-secret"},
            lambda body, url: {"X-Telegram-Bot-Api-Secret-Token": "t-secret"},
        ),
        Adapter(
            "sms",
            {"account_sid": "AC1", "from_number": "+8613800000000", "api_base": NOWHERE},
            {"auth_token": "s-secret"},
            # a body that is no form signs as a form without fields: it passes and is stored
            lambda body, url: {"X-Twilio-Signature": twilio_signature("s-secret", url, [])},
            "application/x-www-form-urlencoded",
        ),
    ]
}


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def _account(workspace, adapter: Adapter) -> ChannelAccount:
    return channel_account_create(
        actor=Actor.system(),
        workspace=workspace,
        kind=adapter.kind,
        name=adapter.kind,
        config=dict(adapter.config),
        secrets=dict(adapter.secrets),
    )


def _settled(payload: InboundPayload, body_name: str) -> None:
    """Processed (again, by hand): never raises, and a failure carries its reason — for deep JSON the guard's own
    (`pivotdesk.common.json_guard`), not a RecursionError caught by luck."""
    processed = inbound_process(actor=Actor.system("channel"), payload=payload)
    assert processed.status != InboundStatus.RECEIVED
    if processed.status == InboundStatus.FAILED:
        assert processed.reason.strip()
    if body_name.startswith("deep") and payload.channel != "sms":  # SMS bodies are forms, not JSON
        assert processed.status == InboundStatus.FAILED and "nested deeper" in processed.reason, processed.reason


@pytest.mark.parametrize("body_name", list(BODIES))
@pytest.mark.parametrize("kind", list(ADAPTERS))
def test_a_hostile_body_is_stored_raw_and_fails_with_a_reason_never_a_500(
    kind, body_name, workspace, django_capture_on_commit_callbacks
):
    adapter, body = ADAPTERS[kind], BODIES[body_name]
    account = _account(workspace, adapter)
    url = f"/channels/in/{kind}/{account.webhook_key}/"
    headers = {
        f"HTTP_{k.upper().replace('-', '_')}": v for k, v in adapter.headers(body, f"http://testserver{url}").items()
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(url, data=body, content_type=adapter.content_type, **headers)

    assert response.status_code < 500, response.content[:300]
    stored = list(InboundPayload.objects.filter(account=account).order_by("pk"))
    if response.status_code < 400:  # accepted: the very bytes were kept before any parsing
        assert stored and bytes(stored[0].raw) == body
    for payload in stored:
        _settled(payload, body_name)


@pytest.mark.parametrize("body_name", list(BODIES))
def test_a_hostile_wecom_message_page_fails_with_a_reason(body_name, workspace):
    # WeCom's callbacks are encrypted XML; its messages arrive as JSON pages pulled from kf/sync_msg and stored raw
    account = _account(workspace, Adapter("wecom", {"corp_id": "ww1", "api_base": NOWHERE}, {"token": "t"}))
    payload = inbound_store(
        actor=Actor.system("channel"),
        workspace=workspace,
        channel="wecom",
        account=account,
        raw=BODIES[body_name],
        content_type="application/json",
        meta={"source": "sync_msg"},
    )
    _settled(payload, body_name)


def _chat(workspace) -> tuple[Client, str]:
    account = _account(workspace, Adapter("chat", {"allowed_origins": [ORIGIN]}))
    key = account.webhook_key
    session = Client(headers={"origin": ORIGIN}).post(reverse("channels:chat_session", args=[key])).json()
    return Client(headers={"origin": ORIGIN, "x-pivotdesk-visitor": session["token"]}), key


@pytest.mark.parametrize("body_name", list(BODIES))
def test_the_chat_widget_answers_a_hostile_json_body_with_a_4xx(body_name, workspace):
    visitor, key = _chat(workspace)
    response = visitor.post(
        reverse("channels:chat_messages", args=[key]), BODIES[body_name], content_type="application/json"
    )
    assert response.status_code < 500
    if response.status_code >= 400:
        assert response.json()["code"]


@pytest.mark.parametrize("body_name", list(BODIES))
def test_the_headless_web_form_answers_a_hostile_json_body_with_a_4xx(body_name, workspace):
    account = _account(workspace, Adapter("web_form"))
    response = Client().post(
        reverse("channels:form", args=[account.webhook_key]), BODIES[body_name], content_type="application/json"
    )
    assert 400 <= response.status_code < 500, response.content[:300]
