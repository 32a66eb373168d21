"""The `shared` cache in the embedded default: a SQLite file every process on the machine uses, with atomic
increments, so rate limits count once for all processes (issue 11, finding 9: 40 form posts were accepted against a
limit of 20 with two processes, each counting in its own memory)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import caches

from pivotdesk.common.sqlite_cache import SQLiteFileCache

BASE_DIR = Path(settings.BASE_DIR)
TIMEOUT_S = 120.0


@pytest.fixture
def store(tmp_path):
    cache = SQLiteFileCache(str(tmp_path / "cache.sqlite3"), {})
    yield cache
    cache.close_connection()


def _expire_everything(cache: SQLiteFileCache) -> None:
    """Time passes (deterministically): every row's expiry moves into the past."""
    cache._db().execute("UPDATE cache SET expires = 0")


def test_the_shared_alias_is_this_store_in_the_embedded_default():
    assert isinstance(caches["shared"], SQLiteFileCache)


def test_it_keeps_values_of_any_kind_and_counts_integers(store):
    store.set("obj", {"a": [1, 2]}, timeout=60)
    store.set("flag", True, timeout=60)
    store.set("when", 12.5, timeout=None)
    assert store.get("obj") == {"a": [1, 2]} and store.get("flag") is True and store.get("when") == 12.5
    assert store.get("missing", "dflt") == "dflt"

    assert store.add("n", 1, timeout=60) is True
    assert store.add("n", 100, timeout=60) is False  # add never overwrites a live key
    assert store.incr("n") == 2 and store.incr("n", 5) == 7 and store.decr("n", 2) == 5
    with pytest.raises(ValueError):
        store.incr("absent")
    with pytest.raises(TypeError):
        store.incr("obj")

    assert store.touch("n", timeout=60) and store.has_key("n")
    assert store.delete("n") is True and store.delete("n") is False and not store.has_key("n")
    store.set("gone", 1, timeout=0)  # Django: a timeout of 0 expires at once
    assert store.get("gone") is None
    store.clear()
    assert store.get("obj") is None


def test_expired_keys_are_absent_and_can_be_added_again(store):
    store.set("a", "x", timeout=60)
    store.add("n", 3, timeout=60)
    _expire_everything(store)
    assert store.get("a") is None and not store.has_key("n")
    with pytest.raises(ValueError):
        store.incr("n")  # an expired counter is not counted on
    assert store.add("n", 1, timeout=60) is True and store.incr("n") == 2
    store.cull()
    assert store._db().execute("SELECT count(*) FROM cache").fetchone()[0] == 1  # the expired row is gone


def test_two_connections_on_the_same_file_count_every_increment(tmp_path):
    """Two backends on one file (as two processes have), eight threads: no increment is lost."""
    stores = [SQLiteFileCache(str(tmp_path / "c.sqlite3"), {}) for _ in range(2)]
    stores[0].add("n", 0, timeout=60)

    def hammer(cache: SQLiteFileCache) -> None:
        for _ in range(50):
            cache.incr("n")

    threads = [threading.Thread(target=hammer, args=(stores[i % 2],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert stores[1].get("n") == 400


_HITTER = """
import os, sys, time
import django
django.setup()
from pivotdesk.common.ratelimit import hit
ready, go = sys.argv[1], sys.argv[2]
open(ready, "w").close()
deadline = time.monotonic() + 60
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.005)
allowed = sum(
    hit(scope="web-form", key="203.0.113.7", limit=20, window_seconds=3600, at=1_800_000_000.0).allowed
    for _ in range(20)
)
print(allowed)
"""


def test_two_processes_posting_40_times_against_a_limit_of_20_get_exactly_20_through(tmp_path):
    """Two OS processes started with the project's settings (no REDIS_URL: the embedded default) hit the same key
    20 times each, at the same moment: 20 are allowed in all."""
    env = {
        **{k: v for k, v in os.environ.items() if k != "REDIS_URL"},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PIVOTDESK_VAR_DIR": str(tmp_path / "var"),
    }
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(  # noqa: S603 - a fixed command line
            [sys.executable, "-c", _HITTER, str(tmp_path / f"ready-{i}"), str(go)],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while not all((tmp_path / f"ready-{i}").exists() for i in range(2)) and time.monotonic() < deadline:
            if any(p.poll() is not None for p in procs):
                break
            time.sleep(0.01)
        go.touch()
        results = [p.communicate(timeout=TIMEOUT_S) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert all(p.returncode == 0 for p in procs), [err for _, err in results]
    allowed = [int(out.strip()) for out, _ in results]
    assert sum(allowed) == 20, allowed
    assert (tmp_path / "var" / "cache.sqlite3").exists()  # the store is the var folder's file
