"""SLA's errors are written in the reader's language where they are raised, with a stable code."""

from __future__ import annotations

import pytest
from django.utils import translation

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.errors import Conflict, ValidationFailed
from pivotdesk.sla.errors import SlaErrorCode
from pivotdesk.sla.services.configuration import policy_create


@pytest.mark.parametrize(
    ("language", "message"),
    [("zh-hans", "已存在名为“Gold”的策略。"), ("en", "A policy named “Gold” exists already.")],
)
def test_a_duplicate_policy_name_is_refused_in_the_active_language(admin_agent, workspace, language, message):
    # given a policy named Gold
    policy_create(workspace=workspace, actor=Actor.for_agent(admin_agent), name="Gold")
    # when an admin creates another one with the same name, in the given language
    with translation.override(language), pytest.raises(Conflict) as refused:
        policy_create(workspace=workspace, actor=Actor.for_agent(admin_agent), name="Gold")
    # then the message is in that language and the code is the same in both
    assert refused.value.message == message
    assert refused.value.code == SlaErrorCode.DUPLICATE_NAME == "duplicate_name"


def test_a_target_error_keeps_its_placeholders_filled_in_chinese(admin_agent, workspace):
    # given a target with a priority that does not exist
    targets = [{"priority": "whenever", "metric": "first_response", "minutes": 60}]
    # when it is saved in Chinese
    with translation.override("zh-hans"), pytest.raises(ValidationFailed) as refused:
        policy_create(workspace=workspace, actor=Actor.for_agent(admin_agent), name="Gold", targets=targets)
    # then the translated message names where the problem is, and the code says what kind it is
    assert refused.value.message.startswith("targets[0]：优先级须为以下之一：")
    assert refused.value.code == SlaErrorCode.INVALID_TARGET
