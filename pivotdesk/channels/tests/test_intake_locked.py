"""A locked database during inbound processing (issue 11, finding 4): retried at once with a short back-off, and
when it stays locked the payload is a visible failed row with its reason, processed again later — never lost.

The intake runs in a thread of its own, on a file copy of the test database, while a second sqlite3 connection
holds the write lock (`BEGIN IMMEDIATE`). The lock is released when the intake says it is waiting (a log record),
not after a time, so the test does not depend on the machine's speed.
"""

from __future__ import annotations

import base64
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import connection, connections
from django.test import Client

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.models import InboundPayload
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.channels.services.inbound import LOCKED_REASON, inbound_process, inbound_retry_due, inbound_store
from pivotdesk.common import events, relay
from pivotdesk.common.models import EventRecord, EventState
from pivotdesk.common.time import now
from pivotdesk.tickets.events import TicketCreated
from pivotdesk.tickets.models import Attachment, Message
from pivotdesk.webhooks.models import WebhookDelivery
from pivotdesk.webhooks.tests.factories import make_endpoint

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's write lock"),
]

MAIL = (
    b"From: Li Lei <lilei@example.cn>\r\nTo: support@pivot.test\r\nSubject: locked\r\n"
    b"Message-ID: <locked@example.cn>\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n'
    b'--B\r\nContent-Type: application/pdf; name="a.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
    + base64.b64encode(b"%PDF-1.4 locked")
    + b"\r\n--B--\r\n"
)


class Holder:
    """A second connection to the database file that takes and releases the write lock on cue."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)

    def lock(self) -> None:
        if not self.db.in_transaction:
            self.db.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        if self.db.in_transaction:
            self.db.execute("COMMIT")


class OnLog(logging.Handler):
    """Calls `action` for each record of a logger whose message contains `words`."""

    def __init__(self, words: str, action: Callable[[], None]) -> None:
        super().__init__()
        self.words, self.action, self.seen = words, action, 0

    def emit(self, record: logging.LogRecord) -> None:
        if self.words in record.getMessage():
            self.seen += 1
            self.action()


def _file_copy(tmp_path: Path) -> Path:
    """A file copy of the test database as it is now (WAL, as in production), for the intake thread."""
    path = tmp_path / "locked.sqlite3"
    connection.ensure_connection()
    with sqlite3.connect(path) as target:
        connection.connection.backup(target)
    sqlite3.connect(path).execute("PRAGMA journal_mode=WAL").close()
    return path


def _in_a_thread_on(path: Path, work: Callable[[], Any]) -> Any:
    """Run `work` in a new thread whose default database is the file, with a 50 ms busy timeout."""
    result: dict[str, Any] = {}
    wrapper = type(connections["default"])
    settings_dict = {
        **connections["default"].settings_dict,
        "NAME": str(path),
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 0.05, "init_command": "PRAGMA busy_timeout=50;"},
    }

    def run() -> None:
        connections["default"] = wrapper(settings_dict, "default")  # this thread only
        try:
            result["value"] = work()
        except BaseException as exc:  # surfaced in the test's thread
            result["error"] = exc
        finally:
            connections["default"].close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(120)
    assert not thread.is_alive()
    if "error" in result:
        raise result["error"]
    return result["value"]


@pytest.fixture
def on_log() -> Iterator[Callable[[str, str, Callable[[], None]], OnLog]]:
    attached: list[tuple[logging.Logger, OnLog]] = []

    def attach(logger: str, words: str, action: Callable[[], None]) -> OnLog:
        handler = OnLog(words, action)
        logging.getLogger(logger).addHandler(handler)
        attached.append((logging.getLogger(logger), handler))
        return handler

    yield attach
    for logger, handler in attached:
        logger.removeHandler(handler)


def test_a_delivery_that_finds_the_database_locked_is_retried_and_its_files_were_written_before(
    workspace, tmp_path, on_log, monkeypatch
):
    # given a stored mail, and another connection that takes the write lock the moment the intake writes its file
    payload = inbound_store(actor=Actor.system(), workspace=workspace, channel="email", raw=MAIL)
    database_file = _file_copy(tmp_path)
    holder = Holder(database_file)
    save = FileSystemStorage._save

    def save_then_lock(self: FileSystemStorage, name: str, content: Any) -> str:
        saved = save(self, name, content)
        holder.lock()  # the files are written; now another writer holds the database
        return saved

    monkeypatch.setattr(FileSystemStorage, "_save", save_then_lock)
    retried = on_log("pivotdesk.common.db_retry", "database is locked", holder.release)

    # when the intake processes it
    def process() -> tuple[str, str, list[str]]:
        done = inbound_process(actor=Actor.system(), payload=InboundPayload.objects.get(pk=payload.pk))
        files = list(Attachment.objects.filter(message_id=done.message_id).values_list("filename", flat=True))
        return done.status, done.reason, files

    status, reason, files = _in_a_thread_on(database_file, process)

    # then its write transaction waited out the lock and the mail became a ticket with its file
    assert retried.seen >= 1
    assert (status, reason, files) == ("processed", "", ["a.pdf"])


def test_a_database_that_stays_locked_leaves_a_failed_row_with_its_reason_that_is_processed_later(
    workspace, tmp_path, on_log, monkeypatch
):
    # given a stored mail, and another connection holding the write lock through every quick retry
    payload = inbound_store(actor=Actor.system(), workspace=workspace, channel="email", raw=MAIL)
    database_file = _file_copy(tmp_path)
    holder = Holder(database_file)
    save = FileSystemStorage._save

    def save_then_lock(self: FileSystemStorage, name: str, content: Any) -> str:
        saved = save(self, name, content)
        holder.lock()
        return saved

    monkeypatch.setattr(FileSystemStorage, "_save", save_then_lock)
    # released only once the intake gives up on this round (so its failure can be written)
    gave_up = on_log("pivotdesk.channels.services.inbound", "stayed locked", holder.release)

    def process() -> InboundPayload:
        inbound_process(actor=Actor.system(), payload=InboundPayload.objects.get(pk=payload.pk))
        return InboundPayload.objects.get(pk=payload.pk)

    failed = _in_a_thread_on(database_file, process)

    # then the payload is failed, with its reason, due for a retry; nothing half-written and no file left behind
    assert gave_up.seen == 1
    assert failed.status == "failed" and failed.reason.startswith(LOCKED_REASON)
    assert failed.retry_at is not None and failed.ticket_id is None
    assert not list((Path(FileSystemStorage().location)).rglob("a.pdf"))

    # when its retry is due and beat's scan runs, with the database free
    monkeypatch.setattr(FileSystemStorage, "_save", save)

    def retry() -> tuple[list[int], str, int]:
        InboundPayload.objects.filter(pk=payload.pk).update(retry_at=failed.processed_at)  # the back-off has passed
        due = inbound_retry_due(actor=Actor.system())
        for payload_id in due:
            inbound_process(actor=Actor.system(), payload=InboundPayload.objects.get(pk=payload_id))
        done = InboundPayload.objects.get(pk=payload.pk)
        return due, done.status, Message.objects.filter(ticket_id=done.ticket_id).count()

    due, status, messages = _in_a_thread_on(database_file, retry)

    # then it is processed into a ticket
    assert due == [payload.pk]
    assert (status, messages) == ("processed", 1)


def test_a_webhook_fan_out_that_finds_the_database_locked_is_retried_not_lost(workspace, tmp_path, on_log, settings):
    """The review's lost event: the fan-out failed on a lock and nobody ran it again. Now the relay records the
    failure on the event row (waiting out the lock to write it) and runs the fan-out again when it is due."""
    # given an endpoint and a committed event, relayed in the background (not right after commit)
    settings.PIVOTDESK_EVENTS_INLINE = False
    make_endpoint(workspace=workspace, url="https://hooks.example.net/in", event_types=["ticket.created"])
    events.publish(TicketCreated(workspace_id=workspace.pk, ticket_id=1, channel="email"))
    database_file = _file_copy(tmp_path)
    holder = Holder(database_file)
    on_log("pivotdesk.common.db_retry", "database is locked", holder.release)

    # when another writer takes the lock right after the relay claimed the event (before the fan-out writes)
    def relay_once() -> tuple[str, str, int]:
        step = {"at": "start"}

        def trace(sql: str) -> None:  # SQLite calls this as each statement starts
            if step["at"] == "start" and 'UPDATE "common_event" SET "lease_until"' in sql:
                step["at"] = "claimed"
            elif step["at"] == "claimed" and sql.startswith("COMMIT"):
                step["at"] = "committed"
            elif step["at"] == "committed":  # the first statement after the claim's commit
                step["at"] = "locked"
                holder.lock()

        connections["default"].ensure_connection()
        connections["default"].connection.set_trace_callback(trace)
        relay.relay_batch()
        connections["default"].connection.set_trace_callback(None)
        row = EventRecord.objects.get()
        return row.state, row.last_error, WebhookDelivery.objects.count()

    state, error, deliveries = _in_a_thread_on(database_file, relay_once)

    # then the event is pending with the reason, not done and not lost
    assert (state, deliveries) == (EventState.PENDING, 0)
    assert "webhook_fan_out" in error and "database is locked" in error

    # when its retry is due, the fan-out runs again and creates the delivery
    def relay_again() -> tuple[str, int]:
        EventRecord.objects.update(next_attempt_at=now())
        relay.relay_batch()
        return EventRecord.objects.get().state, WebhookDelivery.objects.count()

    assert _in_a_thread_on(database_file, relay_again) == (EventState.DONE, 1)


def test_a_webhook_post_that_cannot_be_stored_is_told_to_come_back_not_given_a_500(workspace, tmp_path):
    # given a mailbox's raw-mail endpoint, and another connection holding the write lock
    account = channel_account_create(
        actor=Actor.system(), workspace=workspace, kind="email", name="support", config={"address": "s@x"}
    )
    url = f"/channels/in/email/{account.webhook_key}/"
    database_file = _file_copy(tmp_path)
    holder = Holder(database_file)
    holder.lock()

    def post() -> tuple[int, str]:
        response = Client().post(url, data=MAIL, content_type="message/rfc822")
        return response.status_code, response.get("Retry-After", "")

    # when the mail service posts while the lock stays held, then it hears 503 with Retry-After, and nothing is kept
    assert _in_a_thread_on(database_file, post) == (503, "30")
    # and when it sends it again once the lock is free, it is accepted
    holder.release()
    assert _in_a_thread_on(database_file, post) == (202, "")
    assert sqlite3.connect(database_file).execute("SELECT count(*) FROM channels_inboundpayload").fetchone() == (1,)
