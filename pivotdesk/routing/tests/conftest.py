"""Routing tests start with an empty pool cache (it is per process) and, unless a test says otherwise, no caching:
tests add agents and skills between routing calls."""

from __future__ import annotations

import pytest

from pivotdesk.routing.services.pool import clear_pool_cache


@pytest.fixture(autouse=True)
def _fresh_pool_cache(settings):
    settings.ROUTING_POOL_CACHE_SECONDS = 0
    settings.ROUTING_LOAD_CACHE_SECONDS = 0
    settings.PIVOTDESK_AI_ENABLED = False  # triage is not what these tests are about (and it is slow)
    clear_pool_cache()
    yield
    clear_pool_cache()
