"""The embedded Celery broker (`python -m bench --only broker [--quick]`): stock kombu vs config/broker_sqla.py.

1. Fetch cost with many delivered messages in the table: stock kombu keeps every delivered message
   (`visible = false`) and its fetch scans past them; PivotDesk's transport deletes a message when it is fetched,
   and its partial index skips rows an older version left. Each size: a fresh SQLite broker file, N delivered rows
   bulk-inserted (as stock kombu leaves them), then 200 messages published and fetched one by one; the p50 / p99 of
   one fetch (`Channel._get`, the call a worker makes per message) is shown.
2. Wake latency on an idle worker: a real `celery worker` process (threads pool, as the Procfile runs it) on a
   SQLite broker file; one task sent at a time after 0.3–1.3 s of idleness; the time from `apply_async` to the
   task's first line (both on this machine's clock). Stock kombu sleeps `polling_interval` (1 s) when its queues are
   empty; PivotDesk's settings poll every 0.1 s.

The worker process imports this module (`celery -A bench.broker`); BENCH_BROKER_* environment variables choose the
transport, the broker file and where the task writes its timestamps.
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from celery import Celery
from kombu import Connection

from bench.measure import percentile

TRANSPORTS = {
    "stock kombu": ("kombu.transport.sqlalchemy:Transport", {}),
    "PivotDesk": ("config.broker_sqla:Transport", {"polling_interval": 0.1}),
}
ROOT = Path(__file__).resolve().parent.parent
FETCHES = 200

# --- the worker side (imported by `celery -A bench.broker worker`) ------------------------------------------------

app = Celery("bench_broker", set_as_current=False)
app.conf.update(
    broker_url=os.environ.get("BENCH_BROKER_URL", "sqlite:///" + str(Path(tempfile.gettempdir()) / "bench-broker")),
    broker_transport=os.environ.get("BENCH_BROKER_TRANSPORT", TRANSPORTS["PivotDesk"][0]),
    # Stock kombu passes every transport option to create_engine: it gets none (and polls every 1 s, its default).
    broker_transport_options=dict(TRANSPORTS[os.environ.get("BENCH_BROKER_KIND", "PivotDesk")][1]),
    broker_connection_retry_on_startup=True,
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    accept_content=["json"],
)


@app.task(name="bench_broker.stamp")
def stamp(token: str) -> None:
    """Append `token time` to the stamps file: when the worker started this task."""
    with Path(os.environ["BENCH_BROKER_STAMPS"]).open("a") as out:
        out.write(f"{token} {time.time()!r}\n")


# --- fetch cost -----------------------------------------------------------------------------------------------------


def _connection(path: Path, transport: str) -> Connection:
    cls_path, options = TRANSPORTS[transport]
    return Connection(f"sqlite:///{path}", transport=cls_path, transport_options=dict(options))


#: Fetch-cost columns: (label, transport, broker file in WAL mode before kombu opens it). The WAL column separates
#: stock kombu's scan past delivered rows from the fsyncs of its default rollback journal.
FETCH_COLUMNS = [
    ("stock kombu", "stock kombu", False),
    ("stock kombu, WAL file", "stock kombu", True),
    ("PivotDesk", "PivotDesk", False),
]


def _fetch_cost(delivered: int, label: str, transport: str, wal: bool, directory: Path) -> dict[str, Any]:
    path = directory / f"fetch-{label.replace(' ', '-').replace(',', '')}-{delivered}.sqlite3"
    if wal:
        with closing(sqlite3.connect(path)) as db:
            db.execute("PRAGMA journal_mode=WAL")
    with _connection(path, transport) as connection:
        channel: Any = connection.default_channel  # kombu's virtual channel (_put / _get are its own API)
        channel._put("celery", {"warm": True})
        channel._get("celery")
        with closing(sqlite3.connect(path)) as db, db:  # what stock kombu leaves: delivered rows, never deleted
            queue_id = db.execute("SELECT id FROM kombu_queue WHERE name = 'celery'").fetchone()[0]
            for start in range(0, delivered, 100_000):
                db.executemany(
                    "INSERT INTO kombu_message (queue_id, visible, payload, version) VALUES (?, 0, ?, 1)",
                    [(queue_id, '{"body": "delivered"}')] * min(100_000, delivered - start),
                )
        with closing(sqlite3.connect(path)) as db:  # the bulk insert's WAL copied back now, not during a fetch
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for n in range(FETCHES):
            channel._put("celery", {"n": n})
        seconds = []
        for _ in range(FETCHES):
            started = time.perf_counter()
            channel._get("celery")
            seconds.append(time.perf_counter() - started)
    size = path.stat().st_size
    path.unlink()
    return {
        "delivered": delivered,
        "transport": label,
        "p50_ms": round(percentile(seconds, 50) * 1000, 3),
        "p99_ms": round(percentile(seconds, 99) * 1000, 3),
        "file_mib": round(size / 2**20, 1),
    }


# --- wake latency ---------------------------------------------------------------------------------------------------


def _wake_latency(transport: str, directory: Path, samples: int) -> dict[str, Any]:
    broker = directory / f"wake-{transport.replace(' ', '-')}.sqlite3"
    stamps = directory / f"stamps-{transport.replace(' ', '-')}.txt"
    stamps.write_text("")
    cls_path, options = TRANSPORTS[transport]
    env = {
        **os.environ,
        "BENCH_BROKER_URL": f"sqlite:///{broker}",
        "BENCH_BROKER_TRANSPORT": cls_path,
        "BENCH_BROKER_KIND": transport,
        "BENCH_BROKER_STAMPS": str(stamps),
    }
    log = (directory / f"worker-{transport.replace(' ', '-')}.log").open("wb")
    command = [sys.executable, "-m", "celery", "-A", "bench.broker", "worker", "--pool", "threads"]
    command += [
        "--concurrency",
        "1",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel",
        "WARNING",
    ]
    worker = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    client = Celery("bench_broker_client", set_as_current=False)
    client.conf.update(broker_url=env["BENCH_BROKER_URL"], broker_transport=cls_path, broker_transport_options=options)
    latencies: list[float] = []
    try:
        for n in range(samples + 1):  # the first one only waits for the worker to be up
            time.sleep(0.3 + random.random())  # idle, and a random phase against the poll
            token = f"t{n}"
            sent = time.time()
            client.send_task("bench_broker.stamp", args=[token])
            deadline = time.monotonic() + (120 if n == 0 else 30)
            while time.monotonic() < deadline:
                line = next((ln for ln in stamps.read_text().splitlines() if ln.startswith(f"{token} ")), None)
                if line:
                    if n:
                        latencies.append(float(line.split()[1]) - sent)
                    break
                time.sleep(0.005)
            else:
                return {"transport": transport, "error": f"task {token} not run within the deadline"}
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
    return {
        "transport": transport,
        "n": len(latencies),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
    }


def run(quick: bool) -> dict[str, Any]:
    """Fetch cost at 1k / 100k / 1M delivered messages (1M skipped with --quick) and idle-worker wake latency."""
    sizes = [1_000, 100_000] if quick else [1_000, 100_000, 1_000_000]
    report: dict[str, Any] = {"fetch": [], "wake": []}
    with tempfile.TemporaryDirectory(prefix="bench-broker-") as tmp:
        directory = Path(tmp)
        for delivered in sizes:
            for label, transport, wal in FETCH_COLUMNS:
                print(f"  fetch: {label}, {delivered:,} delivered messages", flush=True)
                report["fetch"].append(_fetch_cost(delivered, label, transport, wal, directory))
        for transport in TRANSPORTS:
            print(f"  wake latency: {transport}", flush=True)
            report["wake"].append(_wake_latency(transport, directory, 5 if quick else 10))
    return report


def lines(report: dict[str, Any]) -> list[str]:
    """The figures side by side."""
    out = ["", "== embedded broker (SQLite file, kombu SQLAlchemy transport) =="]
    out.append(f"one fetch, p50 / p99 ms, {FETCHES} fetches after N delivered messages:")
    out.append(f"  {'delivered':>10}" + "".join(f"  {label:>22}" for label, _, _ in FETCH_COLUMNS))
    by_size: dict[int, dict[str, dict[str, Any]]] = {}
    for row in report["fetch"]:
        by_size.setdefault(row["delivered"], {})[row["transport"]] = row
    for delivered, rows in by_size.items():
        cells = [f"{rows[label]['p50_ms']:.3f} / {rows[label]['p99_ms']:.3f}" for label, _, _ in FETCH_COLUMNS]
        out.append(f"  {delivered:>10,}" + "".join(f"  {cell:>22}" for cell in cells))
    out.append("single task on an idle worker, send → task start:")
    for row in report["wake"]:
        if "error" in row:
            out.append(f"  {row['transport']}: NOT MEASURED: {row['error']}")
        else:
            out.append(f"  {row['transport']}: p50 {row['p50_ms']} ms, max {row['max_ms']} ms (n={row['n']})")
    return out


if __name__ == "__main__":
    print("\n".join(lines(run(quick="--quick" in sys.argv))))
