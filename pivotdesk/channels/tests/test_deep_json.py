"""Hostile JSON on the public channel endpoints (issue 11, finding 10): a 10,000-deep body is a 4xx, never a 500,
and where the channel stores payloads the raw body is stored before parsing."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.models import InboundPayload, InboundStatus
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.channels.services.inbound import inbound_process

pytestmark = pytest.mark.django_db

DEEP = b"[" * 10_000 + b"]" * 10_000
DEEP_OBJECT = b'{"a":' * 10_000 + b"1" + b"}" * 10_000
ORIGIN = "https://shop.example.cn"


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def _account(workspace, kind, **extra):
    return channel_account_create(actor=Actor.system(), workspace=workspace, kind=kind, name=kind, **extra)


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["array", "object"])
def test_telegram_stores_a_deep_update_and_answers_without_a_500(workspace, body, django_capture_on_commit_callbacks):
    account = _account(workspace, "telegram", secrets={"bot_token": "1:x", "secret_token": "s3cr3t"})
    # when Telegram (or whoever knows the secret) posts 10,000 nested brackets
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            f"/channels/in/telegram/{account.webhook_key}/",
            data=body,
            content_type="application/json",
            HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN="s3cr3t",
        )
    # then the answer is not a 500 and the raw body is kept, its processing failed rather than crashed
    assert response.status_code < 500
    payload = InboundPayload.objects.get(account=account)
    assert bytes(payload.raw) == body
    processed = inbound_process(actor=Actor.system("channel"), payload=payload)  # again: recorded, nothing raises
    assert processed.status == InboundStatus.FAILED and "nested deeper" in processed.reason


def test_chat_message_with_deep_json_is_a_400(workspace):
    account = _account(workspace, "chat", config={"allowed_origins": [ORIGIN]})
    key = account.webhook_key
    session = Client(headers={"origin": ORIGIN}).post(reverse("channels:chat_session", args=[key])).json()
    visitor = Client(headers={"origin": ORIGIN, "x-pivotdesk-visitor": session["token"]})
    response = visitor.post(reverse("channels:chat_messages", args=[key]), DEEP, content_type="application/json")
    assert response.status_code == 400


def test_web_form_json_submission_with_deep_json_is_a_400(workspace):
    account = _account(workspace, "web_form", config={"fields": ["email", "description"]})
    response = Client().post(
        reverse("channels:form", args=[account.webhook_key]), DEEP, content_type="application/json"
    )
    assert 400 <= response.status_code < 500
