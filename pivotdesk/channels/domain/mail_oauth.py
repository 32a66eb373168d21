"""OAuth2 for mailboxes (issue 18), the pure parts: PKCE (RFC 7636), the authorize URL, reading a token endpoint's
answer (RFC 6749 §5.1/§5.2) and the XOAUTH2 SASL string IMAP and SMTP sign in with (Google's and Microsoft's
"OAuth 2.0 Mechanism": `user=<address>^Aauth=Bearer <token>^A^A`)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

# The real endpoints (Microsoft identity platform v2.0, Google Identity OAuth 2.0 for web server apps) and the mail
# scopes: Microsoft's IMAP/SMTP scopes plus offline_access for a refresh token; Google's full-mail scope.
DEFAULT_ENDPOINTS: dict[str, dict[str, str]] = {
    "microsoft": {
        "authorize_url": "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        "token_url": "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        "scopes": "offline_access https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send",
    },
    "google": {
        "authorize_url": "https://accounts.google.com/o/oauth2/v2/auth",
        "token_url": "https://oauth2.googleapis.com/token",
        "scopes": "https://mail.google.com/",
    },
}
PROVIDERS = tuple(DEFAULT_ENDPOINTS)
EXPIRY_MARGIN = dt.timedelta(seconds=60)  # refresh a token this long before the provider says it expires


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str
    method: str = "S256"


def new_pkce() -> Pkce:
    """A code verifier of 64 URL-safe characters (43–128 allowed) and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    return Pkce(verifier=verifier, challenge=pkce_challenge(verifier))


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class ClientConfig:
    """Where and as whom a workspace asks a provider for tokens."""

    provider: str
    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    scopes: str


def authorize_url(client: ClientConfig, *, redirect_uri: str, state: str, challenge: str, login_hint: str = "") -> str:
    """The provider's sign-in page for the authorization-code flow with PKCE (an existing query string is kept)."""
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "scope": client.scopes,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if client.provider == "google":  # a refresh token only with offline access, and again on every consent
        params.update({"access_type": "offline", "prompt": "consent"})
    if login_hint:
        params["login_hint"] = login_hint
    joiner = "&" if "?" in client.authorize_url else "?"
    return f"{client.authorize_url}{joiner}{urlencode(params)}"


@dataclass(frozen=True)
class TokenAnswer:
    """A token endpoint's answer: tokens, or the error code the provider named."""

    access_token: str = ""
    refresh_token: str = ""
    expires_in: int = 0
    scope: str = ""
    error: str = ""
    error_description: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and bool(self.access_token)


def read_token_answer(status: int, body: object) -> TokenAnswer:
    """RFC 6749: 200 with `access_token` (and `token_type` Bearer), or 400/401 with `error`. Anything else is
    `bad_response` (an HTML error page, a proxy's answer)."""
    if not isinstance(body, dict):
        return TokenAnswer(error="bad_response")
    error = body.get("error")
    if error:
        code = str(error)[:64] if isinstance(error, str) else "bad_response"
        return TokenAnswer(error=code, error_description=str(body.get("error_description") or "")[:500])
    token = body.get("access_token")
    token_type = str(body.get("token_type") or "bearer").lower()
    if status != 200 or not isinstance(token, str) or not token or token_type != "bearer":  # noqa: S105 - a type name
        return TokenAnswer(error="bad_response")
    try:
        expires_in = max(int(body.get("expires_in") or 3600), 0)
    except (TypeError, ValueError):
        expires_in = 3600
    refresh = body.get("refresh_token")
    return TokenAnswer(
        access_token=token,
        refresh_token=refresh if isinstance(refresh, str) else "",
        expires_in=expires_in,
        scope=str(body.get("scope") or "")[:500],
    )


def expires_at(issued: dt.datetime, expires_in: int) -> dt.datetime:
    return issued + dt.timedelta(seconds=expires_in)


def needs_refresh(expires: dt.datetime | None, at: dt.datetime) -> bool:
    return expires is None or at >= expires - EXPIRY_MARGIN


def xoauth2_string(user: str, access_token: str) -> str:
    """The XOAUTH2 initial client response before base64: `user=…\\x01auth=Bearer …\\x01\\x01`."""
    if "\x01" in user or "\x01" in access_token:
        raise ValueError("XOAUTH2 values may not contain ^A")
    return f"user={user}\x01auth=Bearer {access_token}\x01\x01"


def xoauth2_base64(user: str, access_token: str) -> str:
    return base64.b64encode(xoauth2_string(user, access_token).encode()).decode("ascii")
