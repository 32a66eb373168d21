"""A real HTTP receiver on 127.0.0.1 (ephemeral port) that records every request and answers as told."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers POSTs with the queued (status, body) responses, then with `default`; `delay_s` slows every answer."""

    host: str
    port: int
    requests: list[Received] = field(default_factory=list)
    queued: deque[tuple[int, bytes]] = field(default_factory=deque)
    default: tuple[int, bytes] = (200, b'{"ok": true}')
    delay_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hook") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def respond(self, *statuses: int, body: bytes = b"nope") -> None:
        """Answer the next requests with these statuses (then with `default` again)."""
        self.queued.extend((s, body) for s in statuses)

    def always(self, status: int, body: bytes = b"") -> None:
        self.default = (status, body)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with receiver.lock:
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
                status, answer = receiver.queued.popleft() if receiver.queued else receiver.default
            if receiver.delay_s:
                time.sleep(receiver.delay_s)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
                pass

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@pytest.fixture
def receiver():
    """A live HTTP server on an ephemeral loopback port, stopped after the test."""
    rec = Receiver(host="127.0.0.1", port=0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(rec))
    server.daemon_threads = True
    rec.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield rec
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
