"""A local HTTP peer standing in for platform APIs (Graph, LINE, Twilio, a generic reply URL, a CTI recording store).

It listens on 127.0.0.1 on an ephemeral port, records every request, serves configured files and JSON answers, and
can be told to fail the next calls (500, 429…). Tests point the channel accounts' base URLs at `peer.url`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode(), keep_blank_values=True)


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"{}"
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class Peer:
    """Routes: exact path → Answer (any method); unknown paths answer 404. `fail(n, status)` fails the next n calls."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.routes: dict[str, Answer] = {}
        self._failures: list[int] = []
        self._lock = threading.Lock()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                with peer._lock:
                    peer.requests.append(
                        Recorded(self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()), body)
                    )
                    failure = peer._failures.pop(0) if peer._failures else None
                    answer = peer.routes.get(parts.path)
                if failure is not None:
                    answer = Answer(failure, b'{"error": "injected failure"}')
                elif answer is None:
                    answer = Answer(404, b'{"error": "not found"}')
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer.body)

            do_GET = do_POST = do_PUT = do_HEAD = _handle

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> Peer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def route(self, path: str, *, status: int = 200, json_body: Any = None, body: bytes | None = None,
              content_type: str = "application/json", headers: dict[str, str] | None = None) -> None:  # fmt: skip
        payload = body if body is not None else json.dumps({} if json_body is None else json_body).encode()
        self.routes[path] = Answer(status, payload, content_type, headers or {})

    def fail(self, times: int = 1, status: int = 500) -> None:
        with self._lock:
            self._failures.extend([status] * times)

    def calls(self, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path == path]


@contextmanager
def running_peer() -> Iterator[Peer]:
    peer = Peer().start()
    try:
        yield peer
    finally:
        peer.stop()
