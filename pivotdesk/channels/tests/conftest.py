"""Channel tests test the channels: the AI pipeline (which would transcribe voice at once in eager mode) is off."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _ai_off(settings):
    settings.PIVOTDESK_AI_ENABLED = False
