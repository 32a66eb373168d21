"""The embedded Celery broker's transport (`sqla+sqlite:///…`): kombu's SQLAlchemy transport, kept fast at any age.

Stock kombu marks a delivered message `visible = false` and never deletes it, then scans past every delivered row
on each fetch (0.09 ms at 1k delivered messages, 110 ms at 100k, 225–424 ms at 1M), and it sleeps one second
whenever its queues are empty. This transport, registered for `sqla+` URLs only (config/broker.py; Redis and
RabbitMQ are untouched):

- deletes a message when it is fetched (a delivered row is never read again by kombu: an unacknowledged message is
  held in the worker's memory and put back as a new row when the worker shuts down, so deleting instead of hiding
  changes nothing but the table's size);
- fetches through a partial index `(queue_id, id) WHERE visible = 1`, so the rows an older version left behind cost
  nothing, and deletes those rows in small batches while the worker is idle;
- looks for a message with a read-only query before taking SQLite's write lock, so polling every 0.1 s
  (`polling_interval` in `broker_transport_options`, see settings) does not contend with publishers;
- inserts with one statement and a cached queue id, on a SQLite file in WAL mode (`synchronous=NORMAL`).

Only SQLite gets the fast path (the embedded default); another SQLAlchemy database keeps kombu's own code and
only gains the 0.1 s poll. Redis or RabbitMQ is the scale-out path.
"""

from __future__ import annotations

import threading
from json import dumps, loads
from queue import Empty
from typing import Any, cast

from kombu.transport import sqlalchemy as kombu_sqla
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

#: Transport options this module reads; kombu's channel would otherwise pass them to `create_engine` (TypeError).
OWN_OPTIONS = ("polling_interval", "legacy_sweep_batch")
#: How many delivered rows left by stock kombu are deleted per idle poll (one short write transaction each).
LEGACY_SWEEP_BATCH = 5_000
PENDING_INDEX = "ix_kombu_message_pending"

_FAST_DIALECTS = ("sqlite",)  # the embedded broker; another database keeps kombu's code (and the poll)
_prepared: set[int] = set()  # engines (by id) whose partial index exists
_swept: set[int] = set()  # engines whose legacy delivered rows are all gone
_LOCK = threading.Lock()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: publishers and the consumer do not block each other's reads, and a commit is one fsync of the log
    # (NORMAL) instead of a rollback journal's several.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=20000")
    cursor.close()


# The same text in the index and in the queries: SQLite uses a partial index only when the query's WHERE contains
# the index's WHERE term as written.
VISIBLE = "visible = 1"


def ensure_pending_index(engine: Engine, *, message_table: str = "kombu_message") -> None:
    """Create the partial index `(queue_id, id) WHERE visible` the fetch query uses (idempotent; SQLite only)."""
    if engine.dialect.name not in _FAST_DIALECTS:
        return
    with engine.begin() as connection:
        connection.execute(
            text(f"CREATE INDEX IF NOT EXISTS {PENDING_INDEX} ON {message_table} (queue_id, id) WHERE {VISIBLE}")
        )


def sweep_delivered(engine: Engine, *, message_table: str = "kombu_message", batch: int = LEGACY_SWEEP_BATCH) -> int:
    """Delete up to `batch` delivered rows (left by stock kombu); returns how many were deleted."""
    with engine.begin() as connection:
        result = connection.execute(
            text(
                f"DELETE FROM {message_table} WHERE id IN "  # noqa: S608
                f"(SELECT id FROM {message_table} WHERE visible = 0 LIMIT :batch)"
            ),
            {"batch": batch},
        )
    return int(result.rowcount or 0)


class Channel(kombu_sqla.Channel):
    """kombu's SQLAlchemy channel with delete-on-fetch, a partial index and a lock-free idle poll."""

    _engines: dict[str, Any] = {}  # our own cache: never share an engine (and its pragmas) with stock kombu
    _queue_ids: dict[str, int]

    def __init__(self, connection: Any, **kwargs: Any) -> None:
        self._queue_ids = {}
        options = connection.client.transport_options
        self._sweep_batch = int(options.get("legacy_sweep_batch", LEGACY_SWEEP_BATCH))
        super().__init__(connection, **kwargs)

    def _engine_from_config(self) -> Engine:
        conninfo: Any = self.connection.client
        saved = conninfo.transport_options
        conninfo.transport_options = {k: v for k, v in saved.items() if k not in OWN_OPTIONS}
        try:
            engine: Engine = super()._engine_from_config()
        finally:
            conninfo.transport_options = saved
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        return engine

    def _open(self) -> Any:
        engine, session_factory = super()._open()
        if id(engine) not in _prepared:
            with _LOCK:
                if id(engine) not in _prepared:
                    ensure_pending_index(engine, message_table=self.message_tablename)
                    _prepared.add(id(engine))
        return engine, session_factory

    def _engine(self) -> Engine:
        return cast(Engine, self.session.bind)

    @property
    def _fast(self) -> bool:
        return self._engine().dialect.name in _FAST_DIALECTS

    def _queue_id(self, queue: str) -> int:
        queue_id = self._queue_ids.get(queue)
        if queue_id is None:
            queue_id = int(self._get_or_create(queue).id)  # type: ignore[attr-defined]  # kombu's, untyped
            self.session.commit()
            self._queue_ids[queue] = queue_id
        return queue_id

    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]  # kombu's 2 bases differ
        if not self._fast:
            super()._put(queue, payload, **kwargs)
            return
        queue_id = self._queue_id(queue)
        try:
            self.session.execute(
                text(
                    f"INSERT INTO {self.message_tablename} (queue_id, visible, payload, version) "  # noqa: S608
                    "VALUES (:queue_id, :visible, :payload, 1)"
                ),
                {"queue_id": queue_id, "visible": True, "payload": dumps(payload)},
            )
            self.session.commit()
        except Exception:
            self.session.rollback()
            raise

    def _get(self, queue: str, timeout: float | None = None) -> Any:
        if not self._fast:
            return super()._get(queue)
        queue_id = self._queue_id(queue)
        table = self.message_tablename
        first_pending = f"SELECT id FROM {table} WHERE queue_id = :queue_id AND {VISIBLE} ORDER BY id LIMIT 1"  # noqa: S608
        session = self.session
        # A read-only look first: an idle poll never takes the write lock.
        found = session.execute(text(first_pending), {"queue_id": queue_id}).first()
        session.commit()
        if found is None:
            self._sweep_when_idle()
            raise Empty()
        # Then claim it under the write lock (another consumer may have taken it meanwhile: Empty).
        session.execute(text("BEGIN IMMEDIATE TRANSACTION"))
        try:
            row = session.execute(
                text(f"DELETE FROM {table} WHERE id = ({first_pending}) RETURNING payload"),  # noqa: S608
                {"queue_id": queue_id},
            ).first()
            session.commit()
        except Exception:
            session.rollback()
            raise
        if row is None:
            raise Empty()
        payload = row[0]
        return loads(payload.decode() if isinstance(payload, bytes) else payload)

    def _sweep_when_idle(self) -> None:
        engine = self._engine()
        if id(engine) in _swept or self._sweep_batch <= 0:
            return
        if sweep_delivered(engine, message_table=self.message_tablename, batch=self._sweep_batch) < self._sweep_batch:
            _swept.add(id(engine))


class Transport(kombu_sqla.Transport):
    """The `sqla+` transport with the channel above."""

    Channel = Channel
