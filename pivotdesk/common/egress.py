"""The egress guard: every outbound HTTP call of PivotDesk goes through `guarded_client()` (or `guarded_transport()`).

The transport resolves the host once, checks every address (`pivotdesk.common.domain.egress`), and connects to the
checked address itself, so a DNS answer that changes between check and connect (rebinding) cannot reach an internal
service. The Host header and TLS (SNI and certificate check) keep using the name. Each redirect hop is a new request
through the same transport, so it is checked again. Refusals and connection failures carry the same terse messages
("not allowed", "could not connect") and never the socket error, so the guard cannot be used as a port scanner.

`PIVOTDESK_EGRESS_ALLOW` (CIDRs and host names) opens on-premises targets; tests allow loopback explicitly.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from typing import Any

import httpx
from django.conf import settings

from pivotdesk.common.domain.egress import Allowlist, IPAddress, check_addresses, parse_ip_literal

__all__ = [
    "EgressRefused",
    "EgressUnreachable",
    "check_host",
    "check_url",
    "guarded_client",
    "guarded_connection",
    "parse_ip_literal",
]

DEFAULT_MAX_BYTES = 10 * 1024 * 1024


class EgressRefused(httpx.TransportError):
    """The target's address is not allowed (loopback, private, …); no connection was made."""


class EgressUnreachable(httpx.TransportError):
    """The target could not be reached (no address, refused, timed out): one message for all, by design."""


def allowlist() -> Allowlist:
    """The configured allowlist (read on every call: tests and settings changes apply at once)."""
    entries: Iterable[str] = getattr(settings, "PIVOTDESK_EGRESS_ALLOW", ()) or ()
    if isinstance(entries, str):
        entries = entries.split(",")
    # The operator's own LLM endpoint (often a local Ollama/vLLM) is trusted by configuring it.
    llm_host = _host_of(str(getattr(settings, "PIVOTDESK_LLM_BASE_URL", "") or ""))
    return Allowlist.parse([*entries, llm_host] if llm_host else entries)


def _host_of(url: str) -> str:
    try:
        return httpx.URL(url).host if url else ""
    except (httpx.InvalidURL, ValueError):
        return ""


def resolve(host: str, port: int) -> list[IPAddress]:
    """The addresses of a host: the literal itself for a numeric host (read like inet_aton), else one DNS lookup."""
    try:
        literal = parse_ip_literal(host)
    except ValueError as exc:
        raise EgressRefused(f"Connection to {host!r} is not allowed: invalid address.") from exc
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise EgressUnreachable(f"Could not connect to {host!r}.") from exc
    found: list[IPAddress] = []
    for info in infos:
        address = parse_ip_literal(str(info[4][0]))
        if address is not None and address not in found:
            found.append(address)
    return found


def check_host(host: str, port: int = 443) -> IPAddress:
    """Resolve and check a host; the first address to connect to. Raises EgressRefused / EgressUnreachable."""
    addresses = resolve(host, port)
    reason = check_addresses(host, addresses, allowlist())
    if reason is not None:
        raise EgressRefused(f"Connection to {host!r} is not allowed: {reason}.")
    if not addresses:
        raise EgressUnreachable(f"Could not connect to {host!r}.")
    return addresses[0]


def check_url(url: str) -> None:
    """Refuse a URL whose host is not allowed (for validating configured targets when they are saved)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise EgressRefused("Connection is not allowed: invalid URL.") from exc
    if not parsed.host:
        raise EgressRefused("Connection is not allowed: the URL has no host.")
    check_host(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80))


def guarded_connection(host: str, port: int, *, timeout: float | None) -> socket.socket:
    """A TCP connection for protocols outside httpx (IMAP, SMTP): the host is resolved once and checked like a
    URL's, and the checked address is the one connected to; TLS stays the caller's, with the host name for SNI and
    the certificate check. A refused, closed or silent port gives the same EgressUnreachable message."""
    address = check_host(host, port)
    try:
        return socket.create_connection((str(address), port), timeout=timeout)
    except OSError as exc:
        raise EgressUnreachable(f"Could not connect to {host!r}.") from exc


class GuardedTransport(httpx.HTTPTransport):
    """An httpx transport that connects only to checked addresses, pinned for the request (no DNS rebinding)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise EgressRefused(f"Connection is not allowed: scheme {url.scheme!r}.", request=request)
        host = url.host
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            address = check_host(host, port)
        except httpx.TransportError as exc:
            exc.request = request
            raise
        if str(address) != host.strip("[]"):
            request.url = url.copy_with(host=str(address))
            if url.scheme == "https":
                request.extensions = {**request.extensions, "sni_hostname": host}
        try:
            return super().handle_request(request)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise EgressUnreachable(f"Could not connect to {host!r}.", request=request) from exc
        finally:
            request.url = url


class GuardedClient(httpx.Client):
    """An httpx client whose URLs that httpx cannot even parse (`0177.0.0.1`) are refused like any other target."""

    def build_request(self, method: str, url: Any, **kwargs: Any) -> httpx.Request:
        try:
            return super().build_request(method, url, **kwargs)
        except (httpx.InvalidURL, ValueError) as exc:
            raise EgressRefused("Connection is not allowed: invalid address.") from exc


def openai_http_client(*, timeout: float) -> Any:
    """A guarded client for the openai SDK, which runs on its own vendored copy of httpx (`httpx2`): the same checks
    and pinning as GuardedTransport."""
    import httpx2

    class _Transport(httpx2.HTTPTransport):
        def handle_request(self, request: httpx2.Request) -> httpx2.Response:
            url = request.url
            if url.scheme not in ("http", "https"):
                raise EgressRefused(f"Connection is not allowed: scheme {url.scheme!r}.")
            host = url.host
            address = check_host(host, url.port or (443 if url.scheme == "https" else 80))
            if str(address) != host.strip("[]"):
                request.url = url.copy_with(host=str(address))
                if url.scheme == "https":
                    request.extensions = {**request.extensions, "sni_hostname": host}
            try:
                return super().handle_request(request)
            except (httpx2.ConnectError, httpx2.ConnectTimeout) as exc:
                raise EgressUnreachable(f"Could not connect to {host!r}.") from exc
            finally:
                request.url = url

    return httpx2.Client(transport=_Transport(), timeout=timeout, follow_redirects=False)


def guarded_transport(**kwargs: Any) -> GuardedTransport:
    """A guarded transport (keyword arguments as for httpx.HTTPTransport, e.g. verify=…)."""
    return GuardedTransport(**kwargs)


def guarded_client(
    *, timeout: float | httpx.Timeout = 15.0, follow_redirects: bool = False, max_redirects: int = 5, **kwargs: Any
) -> httpx.Client:
    """An httpx client whose every request (and every redirect hop) goes through the egress guard."""
    verify = kwargs.pop("verify", True)
    return GuardedClient(
        transport=GuardedTransport(verify=verify),
        timeout=timeout,
        follow_redirects=follow_redirects,
        max_redirects=max_redirects,
        **kwargs,
    )
