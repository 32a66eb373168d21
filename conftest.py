"""Shared fixtures: a workspace with agents of every role, a customer and a ticket; events dispatched eagerly."""

from __future__ import annotations

import os

import pytest
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
def _routing_refreshes_in_the_foreground(settings):
    """No background threads reading the database behind a test's transaction (one routing test turns it on)."""
    settings.ROUTING_LOAD_REFRESH_IN_BACKGROUND = False


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
