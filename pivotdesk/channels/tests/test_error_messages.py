"""Channels' errors are written in the reader's language where they are raised, with a stable code."""

from __future__ import annotations

import pytest
from django.utils import translation

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.errors import ChannelErrorCode
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.common.errors import Conflict


@pytest.mark.parametrize(
    ("language", "message"),
    [("zh-hans", "已存在名为“Support”的渠道。"), ("en", "A channel named “Support” already exists.")],
)
def test_a_duplicate_channel_name_is_refused_in_the_active_language(admin_agent, workspace, language, message):
    # given a channel named Support
    actor = Actor.for_agent(admin_agent)
    channel_account_create(workspace=workspace, actor=actor, kind="web_form", name="Support")
    # when an admin adds another one with the same name, in the given language
    with translation.override(language), pytest.raises(Conflict) as refused:
        channel_account_create(workspace=workspace, actor=actor, kind="web_form", name="Support")
    # then the message is in that language and the code is the same in both
    assert refused.value.message == message
    assert refused.value.code == ChannelErrorCode.CHANNEL_EXISTS == "channel_exists"
