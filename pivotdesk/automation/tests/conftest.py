"""Automation tests route tickets (appeasement, the assign action): each starts with routing's per-process pool cache
empty, as the routing tests do, so a policy of an earlier test's workspace with the same id is never reused."""

from __future__ import annotations

import pytest

from pivotdesk.routing.services.pool import clear_pool_cache


@pytest.fixture(autouse=True)
def _fresh_pool_cache(settings):
    settings.ROUTING_POOL_CACHE_SECONDS = 0
    settings.ROUTING_LOAD_CACHE_SECONDS = 0
    clear_pool_cache()
    yield
    clear_pool_cache()
