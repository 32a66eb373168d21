"""Scale-out checks: the same code on Redis (cache and Celery broker), and on the embedded SQLite broker.

The Redis tests need PIVOTDESK_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15: use a database of its own). They
touch only keys carrying a per-test unique name and delete them afterwards. The Celery round trips start the
project's real worker command (`celery -A config worker`, as the Procfile does) in a subprocess pointed at the
broker, send it a task from this process and wait for the result, every step under a timeout.
"""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from celery.result import allow_join_result
from django.conf import settings
from django.core.cache import cache

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.services import api_token_create

REDIS_URL = os.environ.get("PIVOTDESK_TEST_REDIS_URL", "")
needs_redis = pytest.mark.skipif(
    not REDIS_URL,
    reason="PIVOTDESK_TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/15): Redis scale-out tests skipped",
)
pytestmark = pytest.mark.xdist_group("scale_out")

BASE_DIR = Path(settings.BASE_DIR)
CELERY = BASE_DIR / ".venv" / "bin" / "celery"
RESULT_TIMEOUT_S = 120.0  # generous: the worker boots Django, and CI machines are shared
STOP_TIMEOUT_S = 15.0


@pytest.fixture
def redis_client() -> Iterator[Any]:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
    client.ping()
    yield client
    client.close()


def _delete_matching(client: Any, pattern: str) -> None:
    for key in client.scan_iter(match=pattern, count=500):
        client.delete(key)


# --- (a) Django's RedisCache: the API rate limit shared by every web process -------------------------------------


@pytest.fixture
def redis_cache(settings: Any, redis_client: Any) -> Iterator[str]:
    prefix = f"pdtest-{uuid.uuid4().hex[:12]}"
    redis = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": prefix,
        "OPTIONS": {"socket_timeout": 5, "socket_connect_timeout": 5},
    }
    # As config/settings.py does with REDIS_URL: the shared alias (rate limits, login throttle) is Redis too.
    settings.CACHES = {"default": redis, "shared": redis}
    yield prefix
    _delete_matching(redis_client, f"{prefix}:*")


@needs_redis
def test_the_redis_cache_adds_increments_and_expires(redis_cache: str, redis_client: Any) -> None:
    assert type(cache._cache).__name__ == "RedisCacheClient"  # type: ignore[attr-defined]
    assert cache.add("counter", 1, timeout=30) is True
    assert cache.add("counter", 1, timeout=30) is False  # add never overwrites: the first process wins
    assert cache.incr("counter") == 2
    assert cache.incr("counter", 5) == 7
    assert redis_client.ttl(f"{redis_cache}:1:counter") > 0
    with pytest.raises(ValueError):
        cache.incr("missing")


@needs_redis
@pytest.mark.django_db
def test_the_api_rate_limit_counts_in_redis(redis_cache: str, redis_client: Any, client: Any, admin_agent: Any) -> None:
    _, raw = api_token_create(
        actor=Actor.system(), agent=admin_agent, name="limited", scope="admin", rate_limit_per_minute=3
    )
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    statuses = [client.get("/api/v1/webhooks/", **auth).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    # The one rate limiter (common.ratelimit): a sliding window over per-minute counters that live in Redis, shared
    # by every web process (a request near a minute's end may leave its count in the next minute's key).
    keys = list(redis_client.scan_iter(match=f"{redis_cache}:1:pd:rl:api-token:*"))
    assert 1 <= len(keys) <= 2
    assert sum(int(redis_client.get(key)) for key in keys) == 4
    assert all(0 < redis_client.ttl(key) <= 2 * 60 + 1 for key in keys)


# --- (b), (c) Celery round trips through a real broker and a real worker process ---------------------------------


@contextmanager
def _worker(*, broker: str, backend: str, queue: str, var_dir: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The project's worker command in a subprocess, consuming only `queue`; stopped (then killed) on exit."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": backend,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PIVOTDESK_VAR_DIR": str(var_dir),  # nothing of the developer's var/ is touched
        "LOG_LEVEL": "WARNING",
    }
    log = (var_dir / "worker.log").open("wb")
    proc = subprocess.Popen(  # noqa: S603 - a fixed command line
        [
            str(CELERY),
            "-A",
            "config",
            "worker",
            "--pool",
            "threads",
            "--concurrency",
            "2",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "WARNING",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)  # warm shutdown
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT_S)
        log.close()


def _client_app(*, broker: str, backend: str, queue: str) -> Celery:
    """A producer configured like the project (same CELERY_* settings) but for this broker; never the current app,
    so the rest of the test session keeps its eager project app."""
    app = Celery(f"pd-scale-out-{queue}", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(
        broker_url=broker,
        result_backend=backend,
        task_always_eager=False,
        task_default_queue=queue,
        broker_connection_retry_on_startup=False,
        broker_connection_max_retries=3,
        broker_connection_timeout=5,
    )
    return app


def _round_trip(*, broker: str, backend: str, queue: str, var_dir: Path) -> Any:
    app = _client_app(broker=broker, backend=backend, queue=queue)
    try:
        with _worker(broker=broker, backend=backend, queue=queue, var_dir=var_dir) as proc:
            # `celery.accumulate` is a built-in task of every Celery app: it echoes its arguments, so the worker
            # needs no test-only code and no database.
            result = app.send_task("celery.accumulate", args=[2, "二", {"three": 3}], queue=queue)
            try:
                # This process is a test, not a task. Celery's "never call get() within a task" guard is one global
                # flag that apply_async sets and restores; threads sending tasks at once (the PostgreSQL concurrency
                # tests) can leave it set for the rest of the xdist worker, and it must not refuse this wait.
                with allow_join_result():
                    value = result.get(timeout=RESULT_TIMEOUT_S)
            except Exception:
                proc.poll()
                log = (var_dir / "worker.log").read_text(errors="replace")[-3000:]
                pytest.fail(f"no result within {RESULT_TIMEOUT_S} s (worker exit code {proc.returncode}):\n{log}")
            result.forget()
            return value
    finally:
        app.close()


@needs_redis
@pytest.mark.slow
def test_a_task_round_trips_through_a_redis_broker_and_result_backend(tmp_path: Path, redis_client: Any) -> None:
    queue = f"pdtest-{uuid.uuid4().hex[:12]}"
    try:
        value = _round_trip(broker=REDIS_URL, backend=REDIS_URL, queue=queue, var_dir=tmp_path)
    finally:
        _delete_matching(redis_client, f"*{queue}*")

    assert value == [2, "二", {"three": 3}]


@pytest.mark.slow
def test_a_task_round_trips_through_the_embedded_sqlite_broker(tmp_path: Path) -> None:
    """`make run`'s default: a broker in a SQLite file (kombu's SQLAlchemy transport), no server at all."""
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    backend = f"db+sqlite:///{tmp_path / 'results.sqlite3'}"
    queue = f"pdtest-{uuid.uuid4().hex[:12]}"

    value = _round_trip(broker=broker, backend=backend, queue=queue, var_dir=tmp_path)

    assert value == [2, "二", {"three": 3}]
    assert (tmp_path / "broker.sqlite3").stat().st_size > 0
