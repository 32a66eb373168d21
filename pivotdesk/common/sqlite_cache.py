"""A Django cache backend in a SQLite file of its own: one store for every process on the machine.

The embedded default runs several processes (web, worker, beat, relay; gunicorn with N workers) without Redis.
What must be counted once for all of them — the rate limits and the login throttle (`pivotdesk.common.ratelimit`,
the `shared` cache alias) — cannot live in Django's local-memory cache, which is per process (issue 11, finding 9:
40 form posts accepted against a limit of 20 with two processes). Why not the alternatives:

- Django's DatabaseCache on the main database would put a write on the application's SQLite write lock for every
  counted request, and its `incr` is a read followed by a write: two processes can both read 7 and both write 8.
- Django's DatabaseCache routed to a second database alias fixes the lock traffic but not the lost updates.
- This backend: a separate file (`VAR_DIR/cache.sqlite3`), WAL (readers never wait for a writer), and `incr` as one
  statement (`UPDATE … SET value = value + ? … RETURNING value`): SQLite runs every statement under the database's
  write lock, so concurrent increments from any number of processes are serialised and none is lost. `add` is one
  `INSERT … ON CONFLICT DO UPDATE … WHERE <expired> RETURNING`: exactly one process creates a live key.

Values: integers are stored as SQLite integers (so `incr` can add in SQL), everything else pickled, as Django's own
backends do (the file is ours and lives beside the database; it is not a trust boundary). Expired rows are ignored
on read and deleted every `CULL_EVERY` writes, when the store also trims itself to `MAX_ENTRIES` (soonest expiring
first). With `REDIS_URL` set the `shared` alias is Redis instead (several machines); see config/settings.py.

One connection per process and thread, opened lazily and reopened after a fork (Celery's prefork pool).
"""

from __future__ import annotations

import os
import pickle
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value, expires REAL) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS cache_expires ON cache (expires)",
)
_FOREVER = float("inf")
_INHERITED: list[sqlite3.Connection] = []


class SQLiteFileCache(BaseCache):
    """Django cache backend: LOCATION is the SQLite file (created with its folder on first use)."""

    CULL_EVERY = 500

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        self._path = Path(location)
        self._local = threading.local()
        self._writes = 0

    # --- connection ----------------------------------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            if getattr(self._local, "pid", None) == os.getpid():
                return conn
            # Inherited through a fork: never use it, and never close it either (closing would drop this process's
            # POSIX locks on the file, held by its new connection): keep it referenced so it is not collected.
            _INHERITED.append(conn)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit (isolation_level=None): each statement is its own transaction, atomic under SQLite's write lock.
        conn = sqlite3.connect(self._path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=30000")
        _set_wal(conn)
        conn.execute("PRAGMA synchronous=NORMAL")
        for statement in _SCHEMA:
            conn.execute(statement)
        self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def close(self, **kwargs: Any) -> None:
        """Django calls this at the end of each request: the connection is kept (it is cheap to keep, not to open)."""

    def close_connection(self) -> None:
        """Close this thread's connection (tests, shutdown)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # --- values --------------------------------------------------------------------------------------------------

    @staticmethod
    def _encode(value: Any) -> int | bytes:
        if type(value) is int and -(2**63) <= value < 2**63:
            return value
        return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def _decode(stored: Any) -> Any:
        if isinstance(stored, bytes):
            return pickle.loads(stored)  # noqa: S301 - our own file, written by this class
        return stored

    def _expiry(self, timeout: Any) -> float:
        at = self.get_backend_timeout(timeout)
        return _FOREVER if at is None else float(at)

    # --- the cache API ---------------------------------------------------------------------------------------------

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        if timeout is not None and timeout is not DEFAULT_TIMEOUT and timeout <= 0:
            return False
        row = (
            self._db()
            .execute(
                "INSERT INTO cache (key, value, expires) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE "
                "SET value = excluded.value, expires = excluded.expires WHERE cache.expires <= ? RETURNING 1",
                (key, self._encode(value), self._expiry(timeout), time.time()),
            )
            .fetchone()
        )
        self._wrote()
        return row is not None

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        row = self._db().execute("SELECT value FROM cache WHERE key = ? AND expires > ?", (key, time.time())).fetchone()
        return default if row is None else self._decode(row[0])

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        key = self.make_and_validate_key(key, version=version)
        if timeout is not None and timeout is not DEFAULT_TIMEOUT and timeout <= 0:
            self._db().execute("DELETE FROM cache WHERE key = ?", (key,))
            return
        self._db().execute(
            "INSERT INTO cache (key, value, expires) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE "
            "SET value = excluded.value, expires = excluded.expires",
            (key, self._encode(value), self._expiry(timeout)),
        )
        self._wrote()

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        row = (
            self._db()
            .execute(
                "UPDATE cache SET expires = ? WHERE key = ? AND expires > ? RETURNING 1",
                (self._expiry(timeout), key, time.time()),
            )
            .fetchone()
        )
        return row is not None

    def delete(self, key: Any, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        row = self._db().execute("DELETE FROM cache WHERE key = ? RETURNING expires > ?", (key, time.time())).fetchone()
        return bool(row and row[0])

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        """Atomic across processes: one UPDATE … RETURNING under SQLite's write lock. ValueError when the key is
        missing or expired (Django's contract), TypeError when its value is not an integer."""
        key = self.make_and_validate_key(key, version=version)
        row = (
            self._db()
            .execute(
                "UPDATE cache SET value = value + ? WHERE key = ? AND expires > ? AND typeof(value) = 'integer' "
                "RETURNING value",
                (delta, key, time.time()),
            )
            .fetchone()
        )
        if row is None:
            if self._live(key):
                raise TypeError(f"Key '{key}' does not hold an integer.")
            raise ValueError(f"Key '{key}' not found.")
        self._wrote()
        return int(row[0])

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._live(self.make_and_validate_key(key, version=version))

    def _live(self, made_key: str) -> bool:
        row = self._db().execute("SELECT 1 FROM cache WHERE key = ? AND expires > ?", (made_key, time.time()))
        return row.fetchone() is not None

    def clear(self) -> None:
        self._db().execute("DELETE FROM cache")

    # --- housekeeping ----------------------------------------------------------------------------------------------

    def _wrote(self) -> None:
        self._writes += 1
        if self._writes % self.CULL_EVERY == 0:
            self.cull()

    def cull(self) -> None:
        """Delete expired rows; past MAX_ENTRIES, also the soonest-expiring 1/CULL_FREQUENCY of the rest."""
        db = self._db()
        db.execute("DELETE FROM cache WHERE expires <= ?", (time.time(),))
        (count,) = db.execute("SELECT count(*) FROM cache").fetchone()
        if count > self._max_entries:
            drop = max(1, count // self._cull_frequency) if self._cull_frequency else count
            db.execute("DELETE FROM cache WHERE key IN (SELECT key FROM cache ORDER BY expires LIMIT ?)", (int(drop),))


def _set_wal(conn: sqlite3.Connection, attempts: int = 100) -> None:
    """Switch the file to WAL. Two processes opening a new file at once can get "database is locked" here at
    once: SQLite does not call the busy handler for a journal-mode change. Try again briefly; the first switch
    sticks to the file, so a later try only reads the mode."""
    for attempt in range(attempts):
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05)
