"""Account errors reach an API client in the client's language, with the same stable code in every language."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def auth(api_auth, admin_agent):
    return api_auth(admin_agent, scope="admin")


def _call(client, auth, **language):
    return client.get("/api/v1/agents/999999", **auth, **language)


def test_an_unknown_agent_is_not_found_in_chinese_and_in_english_with_one_code(client, auth):
    # given a request that breaks a rule (an agent that does not exist)
    # when a Chinese client and an English one send it
    chinese = _call(client, auth, HTTP_ACCEPT_LANGUAGE="zh-hans")
    english = _call(client, auth)
    # then each reads the message in its language, and both get the same code
    assert chinese.status_code == english.status_code == 404
    assert chinese.json()["message"] == "客服不存在。"
    assert english.json()["message"] == "Agent not found."
    assert chinese.json()["code"] == english.json()["code"] == "not_found"
