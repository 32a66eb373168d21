"""The embedded broker (config/broker_sqla.py): fetched messages are deleted, old delivered rows cost nothing and
are swept, an idle worker polls every 0.1 s; Redis gets a short visibility timeout; other brokers are untouched."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from queue import Empty

import pytest
from kombu import Connection

from config.broker import transport_options
from config.broker_sqla import PENDING_INDEX, Transport

EMBEDDED = {"polling_interval": 0.1}


@pytest.fixture
def broker_file(tmp_path: Path) -> Path:
    return tmp_path / "broker.sqlite3"


@pytest.fixture
def channel(broker_file: Path) -> Iterator[object]:
    url = f"sqla+sqlite:///{broker_file}"
    with Connection(url, transport_options=transport_options(url, visibility_timeout=50.0)) as connection:
        yield connection.default_channel


def _rows(broker_file: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(broker_file) as db:
        return db.execute(sql).fetchall()


def test_the_settings_give_each_broker_kind_its_options() -> None:
    assert transport_options("sqla+sqlite:///var/b.sqlite3", visibility_timeout=50.0) == EMBEDDED
    assert transport_options("redis://127.0.0.1:6379/0", visibility_timeout=50.0) == {
        "visibility_timeout": 50.0,
        "unacked_restore_interval": 5,
        "unacked_restore_throttle": 1,
    }
    assert transport_options("amqp://guest:guest@127.0.0.1:5672//", visibility_timeout=50.0) == {}


def test_an_sqla_url_uses_the_embedded_transport_polling_every_tenth_of_a_second(channel: object) -> None:
    connection = channel.connection  # type: ignore[attr-defined]

    assert isinstance(connection, Transport)
    assert connection.polling_interval == 0.1


def test_given_messages_when_fetched_then_they_come_in_order_and_their_rows_are_deleted(
    channel: object, broker_file: Path
) -> None:
    for n in range(3):
        channel._put("q", {"n": n})  # type: ignore[attr-defined]

    fetched = [channel._get("q")["n"] for _ in range(3)]  # type: ignore[attr-defined]

    assert fetched == [0, 1, 2]
    assert _rows(broker_file, "SELECT count(*) FROM kombu_message") == [(0,)]
    with pytest.raises(Empty):
        channel._get("q")  # type: ignore[attr-defined]


def test_queues_do_not_see_each_others_messages(channel: object) -> None:
    channel._put("a", {"to": "a"})  # type: ignore[attr-defined]
    channel._put("b", {"to": "b"})  # type: ignore[attr-defined]

    assert channel._get("b") == {"to": "b"}  # type: ignore[attr-defined]
    assert channel._size("a") == 1  # type: ignore[attr-defined]
    assert channel._get("a") == {"to": "a"}  # type: ignore[attr-defined]


def test_given_rows_left_delivered_by_stock_kombu_then_the_fetch_uses_the_partial_index_and_idle_polls_sweep_them(
    channel: object, broker_file: Path
) -> None:
    channel._put("q", {"n": 1})  # type: ignore[attr-defined]
    queue_id = _rows(broker_file, "SELECT id FROM kombu_queue WHERE name = 'q'")[0][0]
    with sqlite3.connect(broker_file) as db:  # what stock kombu leaves behind: delivered rows, visible = 0
        db.executemany(
            "INSERT INTO kombu_message (queue_id, visible, payload, version) VALUES (?, 0, '{}', 1)",
            [(queue_id,)] * 12_000,
        )
    with sqlite3.connect(broker_file) as db:
        plan = db.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM kombu_message WHERE queue_id = ? AND visible = 1 ORDER BY id LIMIT 1",
            [queue_id],
        ).fetchall()

    assert any(PENDING_INDEX in str(row) for row in plan), plan
    assert channel._get("q") == {"n": 1}  # type: ignore[attr-defined]
    for _ in range(3):  # idle polls: 5,000 delivered rows each
        with pytest.raises(Empty):
            channel._get("q")  # type: ignore[attr-defined]
    assert _rows(broker_file, "SELECT count(*) FROM kombu_message") == [(0,)]


def test_the_embedded_broker_file_is_in_wal_mode(channel: object, broker_file: Path) -> None:
    channel._put("q", {})  # type: ignore[attr-defined]

    assert _rows(broker_file, "PRAGMA journal_mode") == [("wal",)]
