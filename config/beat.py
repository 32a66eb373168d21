"""Exactly one beat: the scheduler sends the schedule only while it holds a lock; a second beat waits.

A second `celery beat` once doubled every periodic job. `SingleBeatScheduler` (settings `CELERY_BEAT_SCHEDULER`)
takes a lock before it sends anything and checks it every PIVOTDESK_BEAT_LOCK_RETRY_SECONDS:

- on PostgreSQL, a session advisory lock on a connection of its own (works across machines; the server drops it
  the moment the holder's connection dies, so the waiting beat takes over at its next try);
- on SQLite (one machine by nature), an exclusive `flock` on PIVOTDESK_BEAT_LOCK_FILE, which the kernel drops when
  the holding process dies, even by SIGKILL.

A beat that takes over sends every job that fell due while it waited once (each job has an `expires`).
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from pathlib import Path
from typing import Any, Protocol

from celery.beat import PersistentScheduler
from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

#: pg_try_advisory_lock key: a fixed 64-bit number naming "PivotDesk beat" (advisory locks are per database).
ADVISORY_KEY = 0x5049_564F_4245_4154  # "PIVOBEAT"


class BeatLock(Protocol):
    """A lock one process at a time may hold; released when the process dies."""

    def acquire(self) -> bool: ...
    def still_held(self) -> bool: ...
    def release(self) -> None: ...


class FileLock:
    """An exclusive, non-blocking `flock` on a file (one machine: the embedded SQLite setup)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock if free; False when another process (or another open of the file) holds it."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def still_held(self) -> bool:
        """A flock cannot be lost while the descriptor is open."""
        return self._fd is not None

    def release(self) -> None:
        """Drop the lock (closing the descriptor releases the flock)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class PostgresAdvisoryLock:
    """A session-level advisory lock held on a dedicated connection (never the request connection)."""

    def __init__(self, key: int = ADVISORY_KEY) -> None:
        self.key = key
        self._connection: Any = None

    def acquire(self) -> bool:
        """Try the lock on a new connection; keep the connection only when the lock was granted."""
        if self._connection is not None:
            return True
        raw = connection.get_new_connection(connection.get_connection_params())
        raw.autocommit = True
        granted = bool(raw.execute("SELECT pg_try_advisory_lock(%s)", [self.key]).fetchone()[0])
        if not granted:
            raw.close()
            return False
        self._connection = raw
        return True

    def still_held(self) -> bool:
        """True while the connection (and so the lock) is alive."""
        if self._connection is None:
            return False
        try:
            self._connection.execute("SELECT 1")
        except Exception:  # any failure means the session, and the lock with it, may be gone
            logger.warning("beat: lost the connection that held the beat lock; stopping until it is retaken")
            self.release()
            return False
        return True

    def release(self) -> None:
        """Close the connection: the server releases the lock with the session."""
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None


def lock_for_database() -> BeatLock:
    """The beat lock that fits the configured database."""
    if connection.vendor == "postgresql":
        return PostgresAdvisoryLock()
    return FileLock(Path(settings.PIVOTDESK_BEAT_LOCK_FILE))


class SingleBeatScheduler(PersistentScheduler):
    """Celery's persistent scheduler, sending only while this process holds the beat lock."""

    def __init__(self, *args: Any, lock: BeatLock | None = None, **kwargs: Any) -> None:
        self._lock = lock or lock_for_database()
        self._leader = False
        self._checked_at = 0.0
        super().__init__(*args, **kwargs)

    @property
    def retry_seconds(self) -> float:
        return float(settings.PIVOTDESK_BEAT_LOCK_RETRY_SECONDS)

    def is_leader(self) -> bool:
        """Hold the lock (taking it if free); re-checked at most every `retry_seconds`."""
        now = time.monotonic()
        if self._leader and now - self._checked_at < self.retry_seconds:
            return True
        self._checked_at = now
        was_leader = self._leader
        self._leader = self._lock.still_held() or self._lock.acquire()
        if self._leader != was_leader:
            logger.info(
                "beat: %s", "holds the beat lock: sending the schedule" if self._leader else "lock lost: waiting"
            )
        return self._leader

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self.is_leader():
            return self.retry_seconds
        return float(super().tick(*args, **kwargs))

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._lock.release()
            self._leader = False
