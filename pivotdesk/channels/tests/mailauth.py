"""Real peers for the mailbox setup tests (issue 18), all on loopback:

- `AuthSMTP`: aiosmtpd with AUTH PLAIN/LOGIN (one user, one password) and XOAUTH2 (the access tokens the OAuth
  peer issued), no TLS; it records who signed in how and every message it accepted.
- `OAuthPeer`: a tiny OAuth2 authorization server speaking the real wire format (RFC 6749 + PKCE RFC 7636): GET
  /authorize redirects back with a code (checking client id, redirect URI and the S256 challenge), POST /token
  answers `authorization_code` and `refresh_token` grants with JSON, and the RFC's JSON errors (`invalid_grant`,
  `invalid_client`, `unsupported_grant_type`) with status 400/401.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from pivotdesk.channels.tests.mailservers import free_port

SMTP_USER = "support@pivot.test"
SMTP_PASSWORD = "smtp-auth-code"


class _AuthHandler:
    def __init__(self, server: AuthSMTP) -> None:
        self.owner = server

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.owner.messages.append(envelope)
        return "250 Message accepted"

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        """Documented by Google and Microsoft: `AUTH XOAUTH2 <base64 user=…^Aauth=Bearer …^A^A>`; a refused token
        gets Gmail's 334 JSON challenge, the client answers with an empty line, then 535."""
        raw = args[1] if len(args) > 1 else ""
        try:
            decoded = base64.b64decode(raw, validate=True).decode()
            parts = dict(p.split("=", 1) for p in decoded.split("\x01") if p)
            user, token = parts.get("user", ""), parts.get("auth", "").removeprefix("Bearer ")
        except (ValueError, UnicodeDecodeError):
            user, token = "", ""
        self.owner.attempts.append(("XOAUTH2", user, token))
        if user and token and token in self.owner.tokens():
            self.owner.logins.append(("XOAUTH2", user))
            return AuthResult(success=True, auth_data=user)
        error = json.dumps({"status": "401", "schemes": "bearer", "scope": "https://mail.google.com/"})
        await server.challenge_auth(error)  # the client answers with an empty line
        return AuthResult(success=False, handled=False, message="535 5.7.8 Username and Password not accepted")


@dataclass
class AuthSMTP:
    """aiosmtpd on a loopback port, with AUTH; `tokens` says which XOAUTH2 access tokens are valid right now."""

    tokens: Any = field(default=set)
    port: int = 0
    logins: list[tuple[str, str]] = field(default_factory=list)
    attempts: list[tuple[str, str, str]] = field(default_factory=list)
    messages: list[Envelope] = field(default_factory=list)
    controller: Controller | None = None

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            self.attempts.append((mechanism, login, ""))
            if login == SMTP_USER and password == SMTP_PASSWORD:
                self.logins.append((mechanism, login))
                return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)

    def start(self) -> AuthSMTP:
        self.port = free_port()
        self.controller = Controller(
            _AuthHandler(self),
            hostname="127.0.0.1",
            port=self.port,
            authenticator=self._authenticate,
            auth_require_tls=False,
            ready_timeout=10,
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@dataclass
class OAuthPeer:
    """A loopback OAuth2 server: one registered client; codes, refresh and access tokens kept in memory."""

    client_id: str = "pd-test-client"
    client_secret: str = "pd-test-secret"
    next_access_token: str = ""  # the value the next issued access token takes ("" → random)
    port: int = 0
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    refresh_tokens: set[str] = field(default_factory=set)
    access_tokens: set[str] = field(default_factory=set)
    requests: list[dict[str, Any]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _issue(self) -> dict[str, Any]:
        access = self.next_access_token or f"at-{secrets.token_urlsafe(12)}"
        refresh = f"rt-{secrets.token_urlsafe(12)}"
        self.access_tokens.add(access)
        self.refresh_tokens.add(refresh)
        return {
            "token_type": "Bearer",
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": 3599,
            "scope": "https://mail.google.com/",
        }

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], dict[str, Any]]:
        """(status, headers, JSON body): a redirect back with a code, as the provider does after consent."""
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            return 400, {}, {"error": "unauthorized_client"}
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return 400, {}, {"error": "invalid_request", "error_description": "PKCE S256 required"}
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"challenge": query["code_challenge"], "redirect_uri": query.get("redirect_uri", "")}
        target = query.get("redirect_uri", "")
        location = (
            f"{target}{'&' if '?' in target else '?'}{urlencode({'code': code, 'state': query.get('state', '')})}"
        )
        return 302, {"Location": location}, {}

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.requests.append(dict(form))
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return 401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret."}
        grant = form.get("grant_type")
        if grant == "authorization_code":
            pending = self.codes.pop(form.get("code", ""), None)
            if pending is None or pending["redirect_uri"] != form.get("redirect_uri"):
                return 400, {"error": "invalid_grant", "error_description": "The code is invalid or was used."}
            if s256(form.get("code_verifier", "")) != pending["challenge"]:
                return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed."}
            return 200, self._issue()
        if grant == "refresh_token":
            refresh = form.get("refresh_token", "")
            if refresh not in self.refresh_tokens:
                return 400, {"error": "invalid_grant", "error_description": "AADSTS70008: The refresh token expired."}
            self.refresh_tokens.discard(refresh)  # rotated, as Microsoft does
            return 200, self._issue()
        return 400, {"error": "unsupported_grant_type"}

    def revoke_all(self) -> None:
        self.refresh_tokens.clear()
        self.access_tokens.clear()

    def start(self) -> OAuthPeer:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _send(self, status: int, headers: dict[str, str], body: dict[str, Any]) -> None:
                data = json.dumps(body).encode() if body else b""
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                if url.path != "/authorize":
                    self._send(404, {}, {"error": "not_found"})
                    return
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                self._send(*peer.authorize(query))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if urlparse(self.path).path != "/token":
                    self._send(404, {}, {"error": "not_found"})
                    return
                status, body = peer.token(form)
                self._send(status, {}, body)

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
