"""The one rate limiter: a sliding window in the shared cache, keyed by the real client address, and shared by every
process that uses the same Redis."""

from __future__ import annotations

import ipaddress
import os
import threading
import uuid
from pathlib import Path

import pytest
from django.core.cache import caches
from django.test import RequestFactory

from pivotdesk.common import ratelimit
from pivotdesk.common.ratelimit import client_ip, forwarded_client, hit

REDIS_URL = os.environ.get("PIVOTDESK_TEST_REDIS_URL", "")
W = 60
T0 = 1_800_000_000.0 - 1_800_000_000.0 % W  # the start of a window


def _scope() -> str:
    return f"test-{uuid.uuid4().hex}"  # the local-memory cache outlives a test: every test counts on its own


def test_the_limit_is_allowed_and_the_next_hit_refused_with_a_retry_time():
    scope = _scope()
    verdicts = [hit(scope=scope, key="k", limit=3, window_seconds=W, at=T0 + 10) for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert verdicts[-1].retry_after == W - 10 + round(W * (1 - 2 / 4))  # the window turns, then 4 fades to 2
    assert hit(scope=scope, key="other", limit=3, window_seconds=W, at=T0 + 10).allowed  # keys are apart
    assert not hit(scope=_scope(), key="k", limit=0, window_seconds=W, at=T0).allowed  # a limit of 0 shuts the door


def test_the_previous_window_fades_so_a_burst_at_the_edge_cannot_pass_twice_the_limit():
    scope = _scope()
    assert all(hit(scope=scope, key="k", limit=4, window_seconds=W, at=T0 + 59).allowed for _ in range(4))
    # One second later a new fixed window began, but 59/60 of the last one still counts: refused.
    edge = hit(scope=scope, key="k", limit=4, window_seconds=W, at=T0 + 60)
    assert not edge.allowed and edge.retry_after >= 1
    # Half-way through the next window half of the old four weigh 2; with the refused edge hit (it counts too) one
    # more hit makes 4 — allowed — and the next one 5: refused.
    mid = [hit(scope=scope, key="k", limit=4, window_seconds=W, at=T0 + 90) for _ in range(2)]
    assert [(v.allowed, v.count) for v in mid] == [(True, 4.0), (False, 5.0)]
    later = hit(scope=_scope(), key="k", limit=4, window_seconds=W, at=T0 + 90)
    assert later.allowed and later.count == 1


def test_retry_after_is_when_a_hit_is_allowed_again():
    scope = _scope()
    for _ in range(5):
        hit(scope=scope, key="k", limit=5, window_seconds=W, at=T0 + 50)
    refused = hit(scope=scope, key="k", limit=5, window_seconds=W, at=T0 + 50)
    assert not refused.allowed
    again = T0 + 50 + refused.retry_after
    assert hit(scope=scope, key="k", limit=5, window_seconds=W, at=again).allowed


@pytest.mark.parametrize(
    ("forwarded", "trusted", "expected"),
    [
        ("", [], "10.0.0.9"),  # no header: the peer itself
        ("203.0.113.7", [], "203.0.113.7"),  # one proxy: the hop it saw
        ("1.1.1.1, 203.0.113.7", [], "203.0.113.7"),  # the client's own "1.1.1.1" is not believed
        ("1.1.1.1, 203.0.113.7, 10.0.0.2", ["10.0.0.0/8"], "203.0.113.7"),  # our chain of proxies is skipped
        ("203.0.113.7, 10.0.0.2, 10.0.0.3", ["10.0.0.0/8"], "203.0.113.7"),
        ("10.0.0.2, 10.0.0.3", ["10.0.0.0/8"], "10.0.0.2"),  # all ours: the left-most
        ("garbage, 203.0.113.7", ["203.0.113.7/32"], "203.0.113.7"),  # not an address: stop at the last vouched hop
        ("2001:db8::1, 198.51.100.4", [], "198.51.100.4"),
        ("2001:db8::1", [], "2001:db8::1"),
    ],
)
def test_the_client_is_the_right_most_hop_that_is_not_our_proxy(forwarded, trusted, expected):
    networks = [ipaddress.ip_network(n) for n in trusted]
    assert forwarded_client(forwarded, remote="10.0.0.9", trusted=networks) == expected


def test_x_forwarded_for_is_ignored_unless_behind_a_proxy(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    settings.BEHIND_PROXY = False
    assert client_ip(request) == "192.0.2.1"
    settings.BEHIND_PROXY = True
    settings.PIVOTDESK_TRUSTED_PROXIES = []
    assert client_ip(request) == "203.0.113.7"
    settings.PIVOTDESK_TRUSTED_PROXIES = ["203.0.113.0/24"]
    assert client_ip(request) == "6.6.6.6"


@pytest.fixture
def two_redis_clients(settings):
    """Two cache aliases on the same Redis: two connection pools, as two web processes would have."""
    if not REDIS_URL:
        pytest.skip("PIVOTDESK_TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/15)")
    backend = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    settings.CACHES = {**settings.CACHES, "rl_a": backend, "rl_b": backend}
    yield "rl_a", "rl_b"
    for alias in ("rl_a", "rl_b"):
        caches[alias].close()


def test_two_processes_on_redis_share_one_count(two_redis_clients):
    a, b = two_redis_clients
    assert caches[a] is not caches[b]
    scope = _scope()
    first = [hit(scope=scope, key="k", limit=4, window_seconds=W, at=T0 + 5, cache_alias=a) for _ in range(2)]
    second = [hit(scope=scope, key="k", limit=4, window_seconds=W, at=T0 + 5, cache_alias=b) for _ in range(3)]
    assert [v.allowed for v in first + second] == [True, True, True, True, False]
    assert second[-1].count == 5


def test_concurrent_hits_on_redis_never_let_more_than_the_limit_through(two_redis_clients):
    """INCR is atomic: 8 threads over two clients, 200 hits, exactly `limit` allowed."""
    scope, allowed, lock = _scope(), [], threading.Lock()

    def hammer(alias: str) -> None:
        for _ in range(25):
            v = hit(scope=scope, key="k", limit=50, window_seconds=W, at=T0 + 1, cache_alias=alias)
            with lock:
                allowed.append(v.allowed)

    threads = [threading.Thread(target=hammer, args=(two_redis_clients[i % 2],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(allowed) == 200 and sum(allowed) == 50


def test_the_api_and_the_public_form_use_it():
    """One limiter: the modules that limit call `ratelimit.hit` and keep no counter of their own (read as text: the
    common app may not import the apps above it)."""
    root = Path(__file__).resolve().parents[2]
    api_auth = (root / "accounts" / "api_auth.py").read_text(encoding="utf-8")
    public_views = (root / "channels" / "public_views.py").read_text(encoding="utf-8")
    web_form = (root / "channels" / "services" / "web_form.py").read_text(encoding="utf-8")
    assert "ratelimit.hit(" in api_auth and "cache.incr" not in api_auth
    assert public_views.count("ratelimit.hit(") == 3
    assert "ratelimit.client_ip(request)" in public_views and "REMOTE_ADDR" not in public_views
    assert "def rate_limit_hit" not in web_form and "cache.incr" not in web_form
    assert ratelimit.hit is hit
