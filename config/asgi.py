"""ASGI entry point — what `make run` serves (`gunicorn -k uvicorn_worker.UvicornWorker config.asgi:application`).

Two halves in one process:
- `/live/…` (the server-sent event stream, `pivotdesk/web/live`) runs on the event loop through Django's ASGI
  handler, so an open stream costs a coroutine, not a thread;
- every other request runs through Django's WSGI handler in a pool of `PIVOTDESK_WEB_THREADS` threads (a2wsgi).
  Under Django's ASGI handler every synchronous view of a process would share one thread; the WSGI half keeps the
  thread-per-request concurrency the app was built and measured with.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.asgi import get_asgi_application
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from a2wsgi import WSGIMiddleware

_asgi = get_asgi_application()
_wsgi = WSGIMiddleware(get_wsgi_application(), workers=int(os.environ.get("PIVOTDESK_WEB_THREADS", "8")))  # type: ignore[arg-type]
ASYNC_PREFIXES = ("/live/",)


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http" and scope.get("path", "").startswith(ASYNC_PREFIXES):
        await _asgi(scope, receive, send)
        return
    await _wsgi(scope, receive, send)  # type: ignore[arg-type]
