"""A worker killed mid-send: the delivery is claimed again after its lease and acted on once by an idempotent receiver.

A REAL second process (a Python interpreter running Django against the same database) claims the delivery and POSTs
it to a receiver on 127.0.0.1 that holds the request open; the test kills that process with SIGKILL while the POST
is in flight. pytest-django's SQLite test database lives in memory, which another process cannot open, so on SQLite
the test copies it to a file for the worker and copies the file back afterwards (SQLite's online backup); on
PostgreSQL the worker simply connects to the test database.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from pivotdesk.common.outbox import OutboxStatus
from pivotdesk.common.time import now
from pivotdesk.webhooks import services
from pivotdesk.webhooks.models import WebhookAttempt, WebhookDelivery
from pivotdesk.webhooks.tests.factories import make_endpoint

LEASE_S = 3.0

WORKER = """
import os, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from django.conf import settings
settings.PIVOTDESK_WEBHOOK_LEASE_SECONDS = float(sys.argv[2])
from pivotdesk.accounts.actors import Actor
from pivotdesk.webhooks.services import webhook_deliver
print("claiming", flush=True)
webhook_deliver(delivery_id=int(sys.argv[1]), actor=Actor.system("killed worker"))
print("finished", flush=True)  # never reached: the test kills this process mid-send
"""


@dataclass
class IdempotentReceiver:
    """Acts on each event id once (a duplicate is answered 200 and ignored); holds the first request open until
    released, as a slow receiver would while the sender dies."""

    port: int = 0
    seen: list[str] = field(default_factory=list)
    acted: Counter[str] = field(default_factory=Counter)
    first_arrived: threading.Event = field(default_factory=threading.Event)
    release_first: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


def _handler(receiver: IdempotentReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            event_id = str(json.loads(body)["id"])
            with receiver.lock:
                first = not receiver.seen
                receiver.seen.append(event_id)
            if first:
                receiver.first_arrived.set()
                receiver.release_first.wait(60)
            with receiver.lock:
                if not receiver.acted[event_id]:
                    receiver.acted[event_id] += 1  # the receiver's one effect per event id
            try:
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:  # the sender is gone
                pass

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@pytest.fixture
def idempotent_receiver() -> Iterator[IdempotentReceiver]:
    receiver = IdempotentReceiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield receiver
    receiver.release_first.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _database_for_another_process(tmp_path: Path) -> tuple[str, Callable[[], None]]:
    """A DATABASE_URL another process can open holding this test's data, and how to bring its writes back here."""
    if connection.vendor == "sqlite":
        path = tmp_path / "shared.sqlite3"
        connection.ensure_connection()
        raw = connection.connection
        with sqlite3.connect(path) as target:
            raw.backup(target)

        def bring_back() -> None:
            source = sqlite3.connect(path)  # recovers the worker's WAL, if any
            try:
                source.backup(connection.connection)
            finally:
                source.close()

        return f"sqlite:///{path}", bring_back
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        auth = urllib.parse.quote(s["USER"] or "")
        if s["PASSWORD"]:
            auth += ":" + urllib.parse.quote(s["PASSWORD"])
        url = f"postgres://{auth}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"
        return url, lambda: None
    pytest.skip(f"no way to share a {connection.vendor} test database with another process")


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_is_retried_after_its_lease_and_the_receiver_acts_once(
    workspace, idempotent_receiver, tmp_path
):
    # given a queued delivery, and a worker process that claims it and is stuck in the POST
    endpoint = make_endpoint(workspace=workspace, url=idempotent_receiver.url())
    delivery = WebhookDelivery.objects.create(
        workspace=workspace,
        endpoint=endpoint,
        event_name="ticket.updated",
        payload={"id": "evt-killed-worker", "type": "ticket.updated", "data": {}},
    )
    database_url, bring_back = _database_for_another_process(tmp_path)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "PIVOTDESK_EGRESS_ALLOW": "127.0.0.0/8",  # the receiver is on loopback
    }
    worker = subprocess.Popen(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", WORKER, str(delivery.pk), str(LEASE_S)],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert idempotent_receiver.first_arrived.wait(60), worker.stderr.read().decode() if worker.stderr else ""

        # when the worker is killed mid-send
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == -signal.SIGKILL
    claimed_at = now()
    bring_back()

    # then the row is stranded in `sending` under a lease, and the retry scan leaves it alone until the lease ends
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (OutboxStatus.SENDING, 1)
    assert delivery.lease_until is not None and delivery.lease_until > claimed_at
    assert services.webhook_retry_due() == 0
    assert idempotent_receiver.seen == ["evt-killed-worker"]

    # the receiver finishes the abandoned request on its side (its answer goes to a dead socket)
    idempotent_receiver.release_first.set()
    time.sleep(max(0.0, (delivery.lease_until - now()).total_seconds()) + 0.2)

    # after the lease, the retry scan claims it again and delivers it
    assert services.webhook_retry_due() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.lease_until) == (OutboxStatus.SENT, 2, None)
    assert idempotent_receiver.seen == ["evt-killed-worker", "evt-killed-worker"]
    assert idempotent_receiver.acted == Counter({"evt-killed-worker": 1})
    # the killed attempt left no log row (it never finished); the retry's is attempt 1 of the log
    assert list(WebhookAttempt.objects.filter(delivery=delivery).values_list("succeeded", flat=True)) == [True]
    assert services.webhook_retry_due() == 0
