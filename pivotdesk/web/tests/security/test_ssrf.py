"""The SSRF matrix: every outbound feature × every spelling of an internal address, with the default guard (no
allowlist). Each call is refused with a readable reason and the local peer never sees a request.

The peer listens on 127.0.0.1; the other suites reach it because the root conftest allows loopback explicitly.
It counts TCP connections, so the features that speak other protocols (IMAP, SMTP) prove that nothing connected.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import apprise
import httpx
import openai
import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.ai.models import Connector
from pivotdesk.ai.providers import llm
from pivotdesk.ai.services.enrichment import connector_lookup
from pivotdesk.channels import mailboxes
from pivotdesk.channels.adapters import email_send, platform_api, transport
from pivotdesk.channels.adapters.transport import MediaError
from pivotdesk.channels.models import ChannelAccount, ChannelKind
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.channels.services.outbox import SendError
from pivotdesk.common import egress
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.notifications import senders
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

        class Server(ThreadingHTTPServer):
            def get_request(self):
                accepted = super().get_request()
                peer.connections += 1
                return accepted

        self.connections = 0
        self.server = Server(("127.0.0.1", 0), Handler)
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


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or 0


def _mailbox(workspace, **config) -> ChannelAccount:
    """A mailbox saved before the guard (or before its DNS changed): the connection itself must refuse."""
    return ChannelAccount.objects.create(
        workspace=workspace, kind=ChannelKind.EMAIL, name=f"m{ChannelAccount.objects.count()}", config=config
    )


def _imap(url: str, workspace, *, tls: bool) -> str:
    host, port = _host_port(url)
    account = _mailbox(workspace, imap_host=host, imap_port=port, imap_ssl=tls, username="u", imap_timeout=3)
    result = mailboxes.mailbox_poll(account=account)
    return result.error


def _smtp(url: str, workspace, *, security: str) -> str:
    host, port = _host_port(url)
    account = _mailbox(workspace, smtp_host=host, smtp_port=port, smtp_security=security, smtp_timeout=3)
    return _expect(
        SendError,
        lambda: email_send.smtp_deliver(
            account=account, msg=EmailMessage(), sender="a@example.com", recipients=["b@x.cn"]
        ),
    )


def _mailbox_saved(url: str, workspace) -> str:
    host, port = _host_port(url)
    config = {"imap_host": host, "imap_port": port, "smtp_host": host, "smtp_port": port}
    return _expect(
        ValidationFailed,
        lambda: channel_account_create(
            workspace=workspace, actor=Actor.system("tests"), kind=ChannelKind.EMAIL, name="mail", config=config
        ),
    )


def _apprise_send(url: str) -> str:
    target = "json://" + url.split("://", 1)[1]
    ok, error = senders.send_apprise(url=target, title="t", body="b", timeout=5.0)
    assert not ok
    if apprise.Apprise.instantiate(target, suppress_exceptions=True) is None:  # apprise cannot even read the host
        assert error.startswith('{"code":"bad_target_url"'), error  # stored as a code, shown translated
        return f"not allowed: {error}"
    return error


# Outbound paths that do not go through httpx (plain sockets, apprise's own HTTP stack) and follow no redirects of
# ours: refused by the same rules, before any connection.
OTHER_FEATURES: dict[str, Callable[..., str]] = {
    "IMAP mailbox poll": lambda url, ctx: _imap(url, ctx[0], tls=False),
    "IMAP mailbox poll (TLS)": lambda url, ctx: _imap(url, ctx[0], tls=True),
    "SMTP reply": lambda url, ctx: _smtp(url, ctx[0], security="none"),
    "SMTP reply (TLS)": lambda url, ctx: _smtp(url, ctx[0], security="ssl"),
    "mailbox saved with an internal IMAP/SMTP host": lambda url, ctx: _mailbox_saved(url, ctx[0]),
    "apprise target at send time": lambda url, ctx: _apprise_send(url),
}
ALL_FEATURES = {**FEATURES, **OTHER_FEATURES}


@pytest.mark.django_db
@pytest.mark.parametrize("feature", list(ALL_FEATURES))
@pytest.mark.parametrize("host", ADDRESS_FORMS)
@pytest.mark.usefixtures("guard_on")
def test_an_internal_address_is_refused_and_nothing_is_sent(
    feature, host, peer, workspace, django_capture_on_commit_callbacks
):
    url = f"http://{host}:{peer.port}/target"

    error = ALL_FEATURES[feature](url, (workspace, django_capture_on_commit_callbacks))

    assert "not allowed" in error, error
    assert peer.paths == []
    assert peer.connections == 0


@pytest.mark.django_db
@pytest.mark.parametrize("feature", list(OTHER_FEATURES))
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.0.0.1"])
@pytest.mark.usefixtures("guard_on")
def test_the_refusal_does_not_tell_an_open_port_from_a_closed_one(feature, host, peer, workspace):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]

    to_open = ALL_FEATURES[feature](f"http://{host}:{peer.port}/target", (workspace, None))
    to_closed = ALL_FEATURES[feature](f"http://{host}:{closed}/target", (workspace, None))

    assert to_open.replace(str(peer.port), "PORT") == to_closed.replace(str(closed), "PORT")
    assert peer.connections == 0


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


def test_a_mail_server_on_a_closed_port_and_an_unknown_one_give_the_same_terse_answer(settings):
    settings.PIVOTDESK_EGRESS_ALLOW = ["127.0.0.0/8"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with pytest.raises(egress.EgressUnreachable) as refused:
        egress.guarded_connection("127.0.0.1", closed, timeout=2.0)
    assert str(refused.value) == "Could not connect to '127.0.0.1'."
    with pytest.raises(egress.EgressUnreachable) as unknown:
        egress.guarded_connection("no-such-host.invalid", 25, timeout=2.0)
    assert str(unknown.value) == "Could not connect to 'no-such-host.invalid'."


def test_an_allowed_mail_server_is_reached_by_its_checked_address(peer, settings):
    settings.PIVOTDESK_EGRESS_ALLOW = ["127.0.0.0/8", "localhost"]
    with egress.guarded_connection("localhost", peer.port, timeout=2.0) as connection:
        assert connection.getpeername()[:2] in (("127.0.0.1", peer.port),)
