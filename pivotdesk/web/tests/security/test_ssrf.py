"""The SSRF matrix: every outbound feature × every spelling of an internal address, with the default guard (no
allowlist). Each call is refused with a readable reason and the local peer never sees a request.

The peer listens on 127.0.0.1; the other suites reach it because the root conftest allows loopback explicitly.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import apprise
import httpx
import openai
import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.ai.models import Connector
from pivotdesk.ai.providers import llm
from pivotdesk.ai.services.enrichment import connector_lookup
from pivotdesk.channels.adapters import platform_api, transport
from pivotdesk.channels.adapters.transport import MediaError
from pivotdesk.channels.services.outbox import SendError
from pivotdesk.common import egress
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.notifications.services import validate_apprise_url
from pivotdesk.webhooks.models import WebhookAttempt
from pivotdesk.webhooks.services import webhook_endpoint_ping
from pivotdesk.webhooks.tests.factories import make_endpoint


class Peer:
    """A loopback HTTP server that records every request path; `/redirect` answers 302 to `redirect_to`."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.hosts: list[str] = []
        self.redirect_to = ""
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                peer.paths.append(self.path)
                peer.hosts.append(self.headers.get("Host", ""))
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                if self.path.startswith("/redirect"):
                    self.send_response(302)
                    self.send_header("Location", peer.redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = b'{"ok": true, "data": []}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]


@pytest.fixture
def peer() -> Iterator[Peer]:
    p = Peer()
    thread = threading.Thread(target=p.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield p
    p.server.shutdown()
    p.server.server_close()


@pytest.fixture
def guard_on(settings):
    """The production default: no allowlist."""
    settings.PIVOTDESK_EGRESS_ALLOW = []


ADDRESS_FORMS = [
    "127.0.0.1",
    "localhost",  # a DNS name resolving to 127.0.0.1
    "2130706433",
    "0x7f000001",
    "0177.0.0.1",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "10.0.0.1",
    "169.254.169.254",
    "100.64.0.1",
]


def _webhook(url: str, workspace, django_capture_on_commit_callbacks) -> str:
    endpoint = make_endpoint(workspace=workspace, url=url)
    with django_capture_on_commit_callbacks(execute=True):
        webhook_endpoint_ping(endpoint=endpoint, actor=Actor.system("tests"))
    attempt = WebhookAttempt.objects.filter(delivery__endpoint=endpoint).latest("pk")
    assert not attempt.succeeded
    return attempt.error


def _expect(kind: type[BaseException], call: Callable[[], object]) -> str:
    with pytest.raises(kind) as caught:
        call()
    return str(caught.value)


def _connector(url: str) -> str:
    connector = Connector(name="crm", entity_kind="order", url_template=url + "?q={value}", method="GET", headers={})
    result = connector_lookup(connector, kind="order", value="A1")
    assert not result.ok
    return result.error


def _llm(url: str) -> str:
    llm._client.cache_clear()
    try:
        client = llm._client(url + "/v1", "", 2.0, 0)
    except Exception as exc:  # the SDK's own URL parser rejects some spellings (0177.0.0.1) before any connection
        assert type(exc).__name__ == "InvalidURL", exc
        return f"not allowed: {exc}"
    with pytest.raises(openai.APIConnectionError) as caught:
        client.models.list()
    cause = caught.value.__cause__
    assert isinstance(cause, egress.EgressRefused | egress.EgressUnreachable), cause
    return str(cause)


FEATURES: dict[str, Callable[..., str]] = {
    "outgoing webhook": lambda url, ctx: _webhook(url, *ctx),
    "media download (SMS MediaUrlN, generic webhook, CTI recording)": lambda url, ctx: _expect(
        MediaError, lambda: transport.fetch_media(url)
    ),
    "platform media download": lambda url, ctx: _expect(platform_api.MediaError, lambda: platform_api.download(url)),
    "platform send API": lambda url, ctx: _expect(SendError, lambda: transport.send_request("POST", url)),
    "platform API call (api_base)": lambda url, ctx: _expect(
        SendError, lambda: platform_api.call("GET", url, what="t")
    ),
    "enrichment connector": lambda url, ctx: _connector(url),
    "LLM base URL": lambda url, ctx: _llm(url),
}


@pytest.mark.django_db
@pytest.mark.parametrize("feature", list(FEATURES))
@pytest.mark.parametrize("host", ADDRESS_FORMS)
@pytest.mark.usefixtures("guard_on")
def test_an_internal_address_is_refused_and_nothing_is_sent(
    feature, host, peer, workspace, django_capture_on_commit_callbacks
):
    url = f"http://{host}:{peer.port}/target"

    error = FEATURES[feature](url, (workspace, django_capture_on_commit_callbacks))

    assert "not allowed" in error, error
    assert peer.paths == []


@pytest.mark.django_db
@pytest.mark.parametrize("feature", list(FEATURES))
def test_a_redirect_from_an_allowed_peer_to_loopback_is_refused(
    feature, peer, settings, workspace, django_capture_on_commit_callbacks
):
    settings.PIVOTDESK_EGRESS_ALLOW = ["localhost"]  # the peer by name only, not 127.0.0.1
    peer.redirect_to = f"http://127.0.0.1:{peer.port}/target"
    url = f"http://localhost:{peer.port}/redirect"

    # Features that never follow redirects stop at the 302 and report it their own way.
    with contextlib.suppress(AssertionError, pytest.fail.Exception, openai.APIStatusError):
        FEATURES[feature](url, (workspace, django_capture_on_commit_callbacks))

    assert len(peer.paths) == 1 and peer.paths[0].startswith("/redirect")


@pytest.mark.parametrize("host", ADDRESS_FORMS)
def test_an_apprise_target_on_an_internal_address_cannot_be_created(host, guard_on):
    url = f"json://{host}:8080/notify"
    with pytest.raises(ValidationFailed) as caught:
        validate_apprise_url(url)
    if apprise.Apprise.instantiate(url, suppress_exceptions=True) is not None:  # the forms apprise can parse at all
        assert "not a public address" in str(caught.value)


def test_allowed_targets_are_reached_by_the_checked_address_with_the_name_kept(peer, settings, monkeypatch):
    """Resolved once and pinned: a DNS answer that changes after the check (rebinding) is never used."""
    settings.PIVOTDESK_EGRESS_ALLOW = ["127.0.0.0/8"]
    real = socket.getaddrinfo
    answers = iter(["127.0.0.1"])

    def rebinding_dns(host, *args, **kwargs):
        if host == "rebind.test":
            address = next(answers, "10.0.0.1")  # the second answer would point elsewhere
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, args[0] if args else 80))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)

    with egress.guarded_client() as client:
        response = client.get(f"http://rebind.test:{peer.port}/target")

    assert response.status_code == 200
    assert peer.paths == ["/target"]
    assert peer.hosts == [f"rebind.test:{peer.port}"]


def test_a_closed_port_and_an_unknown_name_give_the_same_terse_answer(settings):
    settings.PIVOTDESK_EGRESS_ALLOW = ["127.0.0.0/8"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with egress.guarded_client(timeout=2.0) as client, pytest.raises(egress.EgressUnreachable) as refused:
        client.get(f"http://127.0.0.1:{closed}/")
    assert str(refused.value) == "Could not connect to '127.0.0.1'."
    with egress.guarded_client(timeout=2.0) as client, pytest.raises(httpx.TransportError) as unknown:
        client.get("http://no-such-host.invalid/")
    assert str(unknown.value) == "Could not connect to 'no-such-host.invalid'."
