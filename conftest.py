"""Shared fixtures: a workspace with agents of every role, a customer and a ticket; events dispatched eagerly."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Role
from pivotdesk.accounts.tests.factories import AgentFactory, WorkspaceFactory

# Property tests explore random examples while we develop; in CI (`CI` set by .ci/run) they replay a fixed, derandomised
# set so that a clean checkout passes or fails the same way every time, and a loaded machine never trips a deadline.
hypothesis_settings.register_profile(
    "ci", derandomize=True, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(autouse=True)
def _eager_celery(settings):
    """Background tasks run inline in tests, and their errors surface."""
    from config.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _egress_allows_loopback(settings):
    """Tests talk to local peers: loopback is allowed explicitly (tests/security proves the default refuses it)."""
    settings.PIVOTDESK_EGRESS_ALLOW = ["127.0.0.0/8", "::1/128", "localhost"]


@pytest.fixture(autouse=True)
def _events_delivered_after_commit(settings):
    """Domain events are delivered in-process right after commit (the relay process does it in production)."""
    settings.PIVOTDESK_EVENTS_INLINE = True


@pytest.fixture(autouse=True)
def _configuration_read_fresh(settings):
    """Tests write configuration through factories too: no per-process configuration cache (one test turns it on)."""
    from pivotdesk.common import config_cache

    settings.PIVOTDESK_CONFIG_CACHE_SECONDS = 0
    config_cache.clear()


@pytest.fixture(autouse=True)
def _no_sentence_embeddings(settings):
    """Tests take the TF-IDF-only path (PIVOTDESK_AI_EMBEDDINGS=off) unless they turn embeddings on: the encoder
    costs tens of ms per text, and most tests are about something else (the embedding and default-model tests,
    and test_default_path.py, turn it on)."""
    settings.PIVOTDESK_AI_EMBEDDINGS = False


@pytest.fixture(autouse=True)
def _live_streams_end_quickly(settings):
    """A live-update stream (`/live/stream/`) under the test client's WSGI ends after a fraction of a second, so the
    suites that open every URL (isolation, roles, bad input) read it whole. Pages do not open the stream in tests
    (an open stream never lets the network go idle, which several browser suites wait for); the live tests turn it
    on."""
    settings.PIVOTDESK_LIVE_WSGI_SECONDS = 0.3
    settings.PIVOTDESK_LIVE_UPDATES = False


@pytest.fixture(autouse=True)
def _routing_refreshes_in_the_foreground(settings):
    """No background threads reading the database behind a test's transaction (one routing test turns it on), and
    no routing cache carried over from an earlier test: its rows were rolled back and their ids are handed out
    again (a cached policy of an earlier test once queued a ticket under a policy id this test never made)."""
    from pivotdesk.routing.services.pool import clear_pool_cache

    settings.ROUTING_LOAD_REFRESH_IN_BACKGROUND = False
    clear_pool_cache()


@pytest.fixture(autouse=True, scope="session")
def _shared_cache_per_test_process(tmp_path_factory):
    """The `shared` cache (rate limits, login throttle) is a SQLite file every process on the machine uses: each
    pytest process (xdist worker) gets a file of its own, so parallel workers never count each other's hits."""
    from django.conf import settings as django_settings
    from django.test.utils import override_settings

    caches = dict(django_settings.CACHES)
    if caches.get("shared", {}).get("BACKEND") == "pivotdesk.common.sqlite_cache.SQLiteFileCache":
        caches["shared"] = {**caches["shared"], "LOCATION": str(tmp_path_factory.mktemp("cache") / "shared.sqlite3")}
    with override_settings(CACHES=caches):
        yield


@pytest.fixture(autouse=True)
def _shared_cache_cleared(_shared_cache_per_test_process):
    """Every test starts with no rate-limit counts or login locks (tests clear the default cache themselves)."""
    from django.core.cache import caches

    caches["shared"].clear()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Test users need no slow key stretching (production keeps Django's default hasher)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def workspace(db):
    return WorkspaceFactory()


@pytest.fixture
def other_workspace(db):
    return WorkspaceFactory()


@pytest.fixture
def agent(workspace):
    return AgentFactory(workspace=workspace, role=Role.AGENT)


@pytest.fixture
def admin_agent(workspace):
    return AgentFactory(workspace=workspace, role=Role.ADMIN)


@pytest.fixture
def supervisor(workspace):
    return AgentFactory(workspace=workspace, role=Role.SUPERVISOR)


@pytest.fixture
def light_agent(workspace):
    return AgentFactory(workspace=workspace, role=Role.LIGHT_AGENT)


@pytest.fixture
def actor(agent):
    return Actor.for_agent(agent)


@pytest.fixture
def contact(workspace):
    from pivotdesk.customers.tests.factories import ContactFactory

    return ContactFactory(workspace=workspace)


@pytest.fixture
def ticket(workspace, contact):
    from pivotdesk.tickets.tests.factories import make_ticket

    return make_ticket(workspace=workspace, requester=contact)


# ---- test clients: one way to be signed in, for every app's tests --------------------------------------------------
# Screens are driven by a browser-like client with a session; the API by a client carrying a fresh bearer token.
# Factories (`client_as(agent)`, `api_client_for(agent, scope=…)`) for any agent; ready clients for the role fixtures.


@pytest.fixture
def client_as(db):
    """Make a browser-like test client logged in as an agent, asking for a language (`client_as(agent, "zh-hans")`)."""

    def make(agent, language: str = "en") -> Client:
        client = Client(headers={"accept-language": language})
        client.force_login(agent.user)
        return client

    return make


@pytest.fixture
def agent_client(client_as, agent):
    return client_as(agent)


@pytest.fixture
def admin_agent_client(client_as, admin_agent):
    """Signed in as the workspace admin (`admin_client` stays pytest-django's superuser for the Django admin)."""
    return client_as(admin_agent)


@pytest.fixture
def supervisor_client(client_as, supervisor):
    return client_as(supervisor)


@pytest.fixture
def light_client(client_as, light_agent):
    return client_as(light_agent)


@pytest.fixture
def api_auth(db):
    """Make the header of a fresh API token of an agent, for the `client` fixture: `client.get(url, **api_auth(a))`."""

    def make(agent, scope: str = "write", name: str = "test", **token: Any) -> dict[str, str]:
        from pivotdesk.accounts.services import api_token_create

        _, secret = api_token_create(actor=Actor.system(), agent=agent, name=name, scope=scope, **token)
        return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    return make


@pytest.fixture
def api_client_for(api_auth):
    """Make an API test client carrying a fresh token of an agent (`api_client_for(agent, scope="read")`)."""

    def make(agent, scope: str = "write", name: str = "test", **token: Any) -> Client:
        header = api_auth(agent, scope=scope, name=name, **token)["HTTP_AUTHORIZATION"]
        return Client(headers={"authorization": header})

    return make


# Browser tests (marked `browser`) drive Debian's Chromium through Playwright; no browser is ever downloaded.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium():
    """One headless Debian Chromium for the browser tests of the run; skipped where it is not installed."""
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium fonts-noto-cjk)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _live_server_idle_before_flush(request: pytest.FixtureRequest) -> Iterator[None]:
    """Browser tests end while the live server may still answer a request the page sent last (a poll, an HTMX
    refresh). On the in-memory SQLite test database such a request holds a table lock, and the flush that ends the
    test fails with "database table is locked". This fixture depends on pytest-django's database helper, so its
    teardown runs first: it waits (up to 15 s) until no request thread of the live server is alive."""
    if request.node.get_closest_marker("browser") is None:
        yield
        return
    request.getfixturevalue("_django_db_helper")
    yield
    deadline = time.monotonic() + 15.0
    while time.monotonic() < deadline:
        busy = [t for t in threading.enumerate() if t.is_alive() and "process_request_thread" in t.name]
        if not busy:
            return
        time.sleep(0.05)
