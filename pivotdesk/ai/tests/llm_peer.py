"""Local HTTP peers for the AI tests: a server speaking the OpenAI chat-completions wire format, and a base for
other JSON peers (an ERP, a carrier). Real sockets on 127.0.0.1 with an ephemeral port; nothing is mocked.

    with LLMPeer() as peer:
        peer.reply = {"summary": "…"}           # the JSON the "model" answers with
        peer.fail_next(429, retry_after_ms=10)   # one-shot failures, served before the reply
        settings.PIVOTDESK_LLM_BASE_URL = peer.base_url
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    """One request as the peer saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Answer:
    """One HTTP answer: status, headers, body (bytes), and an optional delay before it is sent."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    undeclared: bool = False  # no Content-Length: the body runs until the connection closes (HTTP/1.0)

    @classmethod
    def json(cls, data: Any, status: int = 200, **headers: str) -> Answer:
        return cls(
            status, json.dumps(data, ensure_ascii=False).encode(), {"Content-Type": "application/json", **headers}
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


class LocalPeer:
    """A threading HTTP server on 127.0.0.1 that records requests and answers through `handle` (override it)."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with peer._lock:
                    peer.requests.append(request)
                answer = peer.handle(request)
                if answer.delay:
                    time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    if not answer.undeclared:
                        self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout or size limit): that is what some tests want

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handle(self, request: Recorded) -> Answer:
        return Answer(404)

    def start(self) -> LocalPeer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RoutePeer(LocalPeer):
    """Answers by path: `routes[path]` is an Answer or a function of the request returning one."""

    def __init__(self, routes: dict[str, Answer | Callable[[Recorded], Answer]] | None = None) -> None:
        super().__init__()
        self.routes = dict(routes or {})

    def handle(self, request: Recorded) -> Answer:
        route = self.routes.get(request.path.split("?", 1)[0])
        if route is None:
            return Answer.json({"error": "not found"}, status=404)
        return route(request) if callable(route) else route


class LLMPeer(LocalPeer):
    """POST /v1/chat/completions in the OpenAI wire format (non-streaming).

    `reply` (a dict) is answered as the message content, JSON-encoded; `content` (a str) overrides it verbatim;
    `fail_next` queues one-shot error answers; `reject_json_schema` answers 400 to response_format json_schema the
    way servers without structured output do (DeepSeek's wording)."""

    def __init__(self) -> None:
        super().__init__()
        self.reply: dict[str, Any] = {}
        self.content: str | None = None
        self.model = "qwen2.5-7b-instruct"
        self.usage = (120, 45)
        self.reject_json_schema = False
        self.finish_reason = "stop"
        self._queued: list[Answer] = []

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def completions(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == "/v1/chat/completions"]

    def fail_next(self, status: int, *, times: int = 1, retry_after_ms: int | None = 10, message: str = "") -> None:
        headers = {"retry-after-ms": str(retry_after_ms)} if retry_after_ms is not None else {}
        error = {"error": {"message": message or f"peer failure {status}", "type": "server_error", "code": None}}
        for _ in range(times):
            self._queued.append(Answer.json(error, status=status, **headers))

    def handle(self, request: Recorded) -> Answer:
        if request.method != "POST" or request.path != "/v1/chat/completions":
            return Answer.json({"error": {"message": "not found", "type": "invalid_request_error"}}, status=404)
        with self._lock:
            queued = self._queued.pop(0) if self._queued else None
        if queued is not None:
            return queued
        body = request.json or {}
        response_format = body.get("response_format") or {}
        if self.reject_json_schema and response_format.get("type") == "json_schema":
            error = {
                "error": {"message": "This response_format type is unavailable now", "type": "invalid_request_error"}
            }
            return Answer.json(error, status=400)
        content = self.content if self.content is not None else json.dumps(self.reply, ensure_ascii=False)
        prompt_tokens, completion_tokens = self.usage
        return Answer.json(
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": self.model,
                "system_fingerprint": "fp_peer",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": None},
                        "logprobs": None,
                        "finish_reason": self.finish_reason,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            }
        )
