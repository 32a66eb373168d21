"""Routing's errors reach the reader in the request's language, with a stable code (see common/errors.py)."""

from __future__ import annotations

from pivotdesk.routing.errors import RoutingErrorCode
from pivotdesk.routing.tests.factories import policy


def _patch(client, auth: dict[str, str], policy_id: int, body: dict[str, object], **headers: str):
    return client.patch(
        f"/api/v1/routing/policies/{policy_id}/", body, content_type="application/json", **auth, **headers
    )


def test_an_unknown_strategy_is_refused_in_chinese_and_in_english_with_the_same_code(
    client, supervisor, workspace, api_auth
):
    # given a routing policy
    row = policy(workspace, name="Default")
    auth = api_auth(supervisor)
    # when a supervisor sets a strategy that does not exist, once asking for Chinese and once without a language
    chinese = _patch(client, auth, row.pk, {"strategy": "dice"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    english = _patch(client, auth, row.pk, {"strategy": "dice"})
    # then both are refused with the same code, each message in its own language
    assert chinese.status_code == english.status_code == 422
    assert chinese.json()["code"] == english.json()["code"] == RoutingErrorCode.UNKNOWN_STRATEGY == "unknown_strategy"
    assert chinese.json()["message"] == "未知的分配策略“dice”。"
    assert english.json()["message"] == "Unknown strategy “dice”."
