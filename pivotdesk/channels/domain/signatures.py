"""Webhook signatures of the messaging platforms (pure): computing and checking them in constant time.

- Meta (Messenger, WhatsApp Cloud) and PivotDesk's own generic/CTI webhooks: `sha256=<hex HMAC-SHA256 of the body>`.
- LINE: base64 of HMAC-SHA256(channel secret, body).
- Twilio: base64 of HMAC-SHA1(auth token, full URL + each POST parameter's name and value, sorted by name).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit


def _key(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def _same(expected: str, given: str) -> bool:
    """Constant-time comparison that accepts any text (a header may hold non-ASCII junk)."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))


def hmac_sha256_hex(secret: str | bytes, body: bytes) -> str:
    """Hex HMAC-SHA256 of a body."""
    return hmac.new(_key(secret), body, hashlib.sha256).hexdigest()


def sha256_header(secret: str | bytes, body: bytes) -> str:
    """The `sha256=<hex>` header value (X-Hub-Signature-256, X-PivotDesk-Signature)."""
    return "sha256=" + hmac_sha256_hex(secret, body)


def verify_sha256_header(secret: str | bytes, body: bytes, header: str | None) -> bool:
    """True when the header is `sha256=<hex>` of the body with this secret (hex case-insensitive)."""
    if not secret or not header:
        return False
    scheme, _, given = header.strip().partition("=")
    if scheme.strip().lower() != "sha256" or not given:
        return False
    return _same(hmac_sha256_hex(secret, body), given.strip().lower())


def line_signature(channel_secret: str | bytes, body: bytes) -> str:
    """X-Line-Signature: base64(HMAC-SHA256(channel secret, body))."""
    return base64.b64encode(hmac.new(_key(channel_secret), body, hashlib.sha256).digest()).decode()


def verify_line_signature(channel_secret: str | bytes, body: bytes, header: str | None) -> bool:
    if not channel_secret or not header:
        return False
    return _same(line_signature(channel_secret, body), header.strip())


def twilio_signature(auth_token: str | bytes, url: str, params: Iterable[tuple[str, str]]) -> str:
    """X-Twilio-Signature of a form POST: the URL, then every parameter name followed by its value, names sorted
    (values of a repeated name sorted too, as Twilio's own validators do)."""
    grouped: dict[str, set[str]] = {}
    for name, value in params:
        grouped.setdefault(name, set()).add(value)
    data = url + "".join(name + value for name in sorted(grouped) for value in sorted(grouped[name]))
    digest = hmac.new(_key(auth_token), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_url_variants(url: str) -> list[str]:
    """The URL as given, and with the default port added or removed: Twilio signs the URL as configured, which may
    or may not spell out :443/:80, while a proxy may report either."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    variants = [url]
    if default is None or not parts.hostname:
        return variants
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    try:
        port = parts.port
    except ValueError:
        return variants
    if port is None:
        variants.append(urlunsplit(parts._replace(netloc=f"{prefix}{host}:{default}")))
    elif port == default:
        variants.append(urlunsplit(parts._replace(netloc=f"{prefix}{host}")))
    return variants


def verify_twilio_signature(
    auth_token: str | bytes, urls: Iterable[str], params: list[tuple[str, str]], header: str | None
) -> bool:
    """True when the header matches the signature of any candidate URL (with and without the default port)."""
    if not auth_token or not header:
        return False
    given = header.strip()
    return any(
        _same(twilio_signature(auth_token, variant, params), given)
        for url in urls
        for variant in twilio_url_variants(url)
    )
