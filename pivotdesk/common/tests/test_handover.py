"""The one rule every bot uses to hear "I want a person"."""

from __future__ import annotations

import pytest

from pivotdesk.common.domain.handover import ASK_MAX_CHARS, asked_for_person


@pytest.mark.parametrize(
    "text", ["转人工", "人工", "找真人", "客服人员在吗", "human", "Human please", "talk to an agent", "a real person"]
)
def test_a_short_request_for_a_person_is_heard(text):
    assert asked_for_person(text)


@pytest.mark.parametrize(
    "text",
    ["personal account", "reagent", "", "   ", "我的订单", "x" * ASK_MAX_CHARS + "人工", "operators' manual" * 20],
)
def test_a_question_that_only_mentions_people_is_not_a_request(text):
    assert not asked_for_person(text)
