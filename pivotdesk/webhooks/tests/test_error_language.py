"""Webhook errors reach an API client in the client's language, with the same stable code in every language."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def auth(api_auth, admin_agent):
    return api_auth(admin_agent, scope="admin")


def _call(client, auth, **language):
    return client.post(
        "/api/v1/webhooks/", {"url": "ftp://example.com/hook"}, content_type="application/json", **auth, **language
    )


def test_a_non_http_url_is_refused_in_chinese_and_in_english_with_one_code(client, auth):
    # given a request that breaks a rule (an endpoint URL that is not http(s))
    # when a Chinese client and an English one send it
    chinese = _call(client, auth, HTTP_ACCEPT_LANGUAGE="zh-hans")
    english = _call(client, auth)
    # then each reads the message in its language, and both get the same code
    assert chinese.status_code == english.status_code == 422
    assert chinese.json()["message"] == "只允许 http 和 https 地址。"
    assert english.json()["message"] == "Only http and https URLs are allowed."
    assert chinese.json()["code"] == english.json()["code"] == "validation_failed"
