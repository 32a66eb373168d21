"""Exactly one beat: two schedulers against the same database send each job once; the second takes over."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from celery.signals import before_task_publish

from config.beat import FileLock, SingleBeatScheduler
from config.schedule import BEAT_SCHEDULE, SCHEDULED_QUEUE

PING = "beat_test.ping"


@pytest.fixture
def beat_app() -> Celery:
    """A Celery app on the in-memory broker with one job due every 10 ms."""
    app = Celery("beat_test", broker="memory://", set_as_current=False)
    app.conf.beat_schedule = {"ping": {"task": PING, "schedule": 0.01}}
    return app


@pytest.fixture
def sent() -> Iterator[list[str]]:
    names: list[str] = []

    def record(sender: str | None = None, **_: Any) -> None:
        if sender == PING:
            names.append(sender)

    before_task_publish.connect(record, weak=False)
    yield names
    before_task_publish.disconnect(record)


@pytest.fixture
def lock_settings(settings: Any, tmp_path: Path) -> Path:
    settings.PIVOTDESK_BEAT_LOCK_FILE = str(tmp_path / "celerybeat.lock")
    settings.PIVOTDESK_BEAT_LOCK_RETRY_SECONDS = 0.05
    return tmp_path


def _scheduler(app: Celery, directory: Path, name: str) -> SingleBeatScheduler:
    return SingleBeatScheduler(app=app, schedule_filename=str(directory / f"{name}-schedule"))


def _run(scheduler: SingleBeatScheduler, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        scheduler.tick()
        time.sleep(0.015)


@pytest.mark.django_db
def test_given_two_beats_on_one_database_when_both_tick_then_only_the_lock_holder_sends(
    beat_app: Celery, sent: list[str], lock_settings: Path
) -> None:
    first = _scheduler(beat_app, lock_settings, "first")
    second = _scheduler(beat_app, lock_settings, "second")
    try:
        _run(first, 0.2)
        sent_by_first = len(sent)
        _run(second, 0.2)

        assert sent_by_first > 0
        assert len(sent) == sent_by_first  # the second beat sent nothing
        assert first.is_leader() and not second.is_leader()
    finally:
        first.close()
        second.close()


@pytest.mark.django_db
def test_given_the_first_beat_stops_when_the_second_ticks_then_it_takes_over(
    beat_app: Celery, sent: list[str], lock_settings: Path
) -> None:
    first = _scheduler(beat_app, lock_settings, "first")
    second = _scheduler(beat_app, lock_settings, "second")
    try:
        _run(first, 0.1)
        _run(second, 0.1)
        before = len(sent)

        first.close()
        time.sleep(0.06)  # the retry interval
        _run(second, 0.2)

        assert len(sent) > before
        assert second.is_leader()
    finally:
        first.close()
        second.close()


def test_given_a_beat_process_killed_with_sigkill_then_its_file_lock_is_free(tmp_path: Path) -> None:
    path = tmp_path / "celerybeat.lock"
    holder = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from config.beat import FileLock; "
            f"assert FileLock(Path({str(path)!r})).acquire(); print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        waiting = FileLock(path)
        assert not waiting.acquire()

        holder.kill()
        holder.wait(timeout=10)

        assert waiting.acquire()
        waiting.release()
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_every_periodic_job_goes_to_the_scheduled_queue_and_expires_within_its_interval() -> None:
    for name, entry in BEAT_SCHEDULE.items():
        options = entry["options"]
        assert options["queue"] == SCHEDULED_QUEUE, name
        interval = entry["schedule"]
        if isinstance(interval, float):
            assert 0 < options["expires"] <= interval, name


def test_the_procfile_runs_a_worker_for_scheduled_jobs_and_one_for_event_work() -> None:
    procfile = (Path(__file__).resolve().parents[2] / "Procfile").read_text()
    commands = dict(line.split(": ", 1) for line in procfile.splitlines() if line.strip())

    assert f"-Q {SCHEDULED_QUEUE} " in commands["scheduled"]
    assert "-Q celery " in commands["worker"]
    assert sum(" beat" in command for command in commands.values()) == 1
