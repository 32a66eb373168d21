"""Local HTTP peers that speak the messaging platforms' APIs (token, send, media, getFile, sync_msg) on 127.0.0.1.

A test points an account's base URL at `peer.url`; the peer records every request and can be told to fail.
No mocking of httpx: the adapters make real HTTP calls.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int = 200
    body: bytes | dict[str, Any] | list[Any] | str = b""
    content_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Recorded, re.Match[str]], Reply]


class Peer:
    """A threading HTTP server with routes (method + path regex) and a queue of forced failures."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.requests: list[Recorded] = []
        self.failures: list[tuple[re.Pattern[str], Reply]] = []
        self.media: dict[str, tuple[bytes, str]] = {}
        self.state: dict[str, Any] = {}
        self._lock = threading.Lock()
        peer = self

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                rec = Recorded(self.command, parts.path, query, {k.lower(): v for k, v in self.headers.items()}, body)
                reply = peer._dispatch(rec)
                data = reply.body
                ctype = reply.content_type
                if isinstance(data, (dict, list)):
                    data, ctype = json.dumps(data).encode(), ctype or "application/json"
                elif isinstance(data, str):
                    data, ctype = data.encode(), ctype or "text/plain; charset=utf-8"
                self.send_response(reply.status)
                self.send_header("Content-Type", ctype or "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Peer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((method, re.compile(pattern), handler))

    def fail(self, pattern: str, status: int = 500, *, times: int = 1, body: Any = b"", headers=None) -> None:
        """The next `times` requests whose path matches `pattern` get this reply instead."""
        for _ in range(times):
            self.failures.append((re.compile(pattern), Reply(status, body, headers=headers or {})))

    def calls(self, pattern: str, method: str | None = None) -> list[Recorded]:
        rx = re.compile(pattern)
        return [r for r in self.requests if rx.search(r.path) and (method is None or r.method == method)]

    def _dispatch(self, rec: Recorded) -> Reply:
        with self._lock:
            self.requests.append(rec)
            for i, (rx, reply) in enumerate(self.failures):
                if rx.search(rec.path):
                    del self.failures[i]
                    return reply
        for method, rx, handler in self.routes:
            match = rx.fullmatch(rec.path)
            if match and method == rec.method:
                return handler(rec, match)
        return Reply(404, {"error": f"no route for {rec.method} {rec.path}"})

    def media_reply(self, media_id: str) -> Reply:
        if media_id not in self.media:
            return Reply(404, {"errcode": 40007, "errmsg": "invalid media_id"})
        content, ctype = self.media[media_id]
        return Reply(200, content, ctype, {"Content-Disposition": f'attachment; filename="{media_id}.bin"'})


# --- WeChat Official Account and WeCom (the same token and media shapes) ----------------------------------------


def wechat_api(peer: Peer, *, wecom: bool = False) -> Peer:
    """cgi-bin/token (or gettoken), message/custom/send, kf/send_msg, kf/sync_msg, media/get."""
    peer.state.update(token_n=0, expired=set(), sync_batches=[], sent=[])

    def issue(rec: Recorded, m: re.Match[str]) -> Reply:
        peer.state["token_n"] += 1
        return Reply(200, {"access_token": f"TOKEN-{peer.state['token_n']}", "expires_in": 7200})

    def current(rec: Recorded) -> bool:
        token = rec.query.get("access_token", "")
        return token == f"TOKEN-{peer.state['token_n']}" and token not in peer.state["expired"]

    def send(rec: Recorded, m: re.Match[str]) -> Reply:
        if not current(rec):
            return Reply(200, {"errcode": 42001, "errmsg": "access_token expired"})
        peer.state["sent"].append(rec.json())
        return Reply(200, {"errcode": 0, "errmsg": "ok", "msgid": f"MSG{len(peer.state['sent'])}"})

    def media(rec: Recorded, m: re.Match[str]) -> Reply:
        if not current(rec):
            return Reply(200, {"errcode": 40001, "errmsg": "invalid credential"})
        return peer.media_reply(rec.query.get("media_id", ""))

    def sync(rec: Recorded, m: re.Match[str]) -> Reply:
        if not current(rec):
            return Reply(200, {"errcode": 40014, "errmsg": "invalid access_token"})
        cursor = rec.json().get("cursor", "") or "0"
        batches = peer.state["sync_batches"]
        index = int(cursor) if cursor.isdigit() else 0
        if index >= len(batches):
            return Reply(200, {"errcode": 0, "errmsg": "ok", "next_cursor": cursor, "has_more": 0, "msg_list": []})
        has_more = 1 if index + 1 < len(batches) else 0
        body = {"errcode": 0, "errmsg": "ok", "next_cursor": str(index + 1), "has_more": has_more}
        return Reply(200, {**body, "msg_list": batches[index]})

    peer.route("GET", r"/cgi-bin/(token|gettoken)", issue)
    peer.route("POST", r"/cgi-bin/message/custom/send", send)
    peer.route("POST", r"/cgi-bin/kf/send_msg", send)
    peer.route("POST", r"/cgi-bin/kf/sync_msg", sync)
    peer.route("GET", r"/cgi-bin/media/get", media)
    return peer


# --- Telegram Bot API ---------------------------------------------------------------------------------------------


def telegram_api(peer: Peer, bot_token: str) -> Peer:
    """getFile, file download and sendMessage for one bot token."""
    peer.state.update(sent=[])
    bot = re.escape(bot_token)

    def get_file(rec: Recorded, m: re.Match[str]) -> Reply:
        file_id = rec.query.get("file_id") or (rec.json() or {}).get("file_id", "")
        if file_id not in peer.media:
            return Reply(400, {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"})
        path = f"files/{file_id}.bin"
        return Reply(200, {"ok": True, "result": {"file_id": file_id, "file_unique_id": "u", "file_path": path}})

    def file(rec: Recorded, m: re.Match[str]) -> Reply:
        return peer.media_reply(m.group(1))

    def send(rec: Recorded, m: re.Match[str]) -> Reply:
        peer.state["sent"].append(rec.json())
        n = len(peer.state["sent"])
        chat = rec.json().get("chat_id")
        return Reply(200, {"ok": True, "result": {"message_id": 1000 + n, "chat": {"id": chat}, "date": 0}})

    peer.route("GET", rf"/bot{bot}/getFile", get_file)
    peer.route("POST", rf"/bot{bot}/getFile", get_file)
    peer.route("GET", rf"/file/bot{bot}/files/(.+)\.bin", file)
    peer.route("POST", rf"/bot{bot}/sendMessage", send)
    return peer


# --- WhatsApp Cloud API (Graph) -----------------------------------------------------------------------------------


def whatsapp_api(peer: Peer, *, access_token: str, version: str = "v21.0") -> Peer:
    """Media URL lookup, media download (bearer token required) and /messages."""
    peer.state.update(sent=[])
    auth = f"Bearer {access_token}"

    def media_url(rec: Recorded, m: re.Match[str]) -> Reply:
        if rec.headers.get("authorization") != auth:
            return Reply(401, {"error": {"message": "Invalid OAuth access token", "code": 190}})
        media_id = m.group(1)
        if media_id not in peer.media:
            return Reply(404, {"error": {"message": "Unsupported get request", "code": 100}})
        ctype = peer.media[media_id][1]
        url = f"{peer.url}/download/{media_id}"
        return Reply(200, {"url": url, "mime_type": ctype, "id": media_id, "messaging_product": "whatsapp"})

    def download(rec: Recorded, m: re.Match[str]) -> Reply:
        if rec.headers.get("authorization") != auth:
            return Reply(401, b"")
        return peer.media_reply(m.group(1))

    def send(rec: Recorded, m: re.Match[str]) -> Reply:
        if rec.headers.get("authorization") != auth:
            return Reply(401, {"error": {"message": "Invalid OAuth access token", "code": 190}})
        peer.state["sent"].append(rec.json())
        n = len(peer.state["sent"])
        to = rec.json().get("to")
        return Reply(
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": f"wamid.OUT{n}"}],
            },
        )

    peer.route("POST", rf"/{re.escape(version)}/(\d+)/messages", send)
    peer.route("GET", r"/download/(.+)", download)
    peer.route("GET", rf"/{re.escape(version)}/([^/]+)", media_url)
    return peer
