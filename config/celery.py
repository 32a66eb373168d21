"""The Celery application: one for web, worker and beat; the broker comes from settings."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import worker_process_init, worker_ready

from config import broker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
broker.install()  # `sqla+` URLs (the embedded broker) use config/broker_sqla.py

app = Celery("pivotdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _schedule(sender: Celery, **_: object) -> None:
    from config.schedule import BEAT_SCHEDULE

    sender.conf.beat_schedule = BEAT_SCHEDULE


def _warm_up_ai() -> None:
    """Load the AI models in the background (pivotdesk.ai.services.warmup): the first task does not pay for it."""
    from pivotdesk.ai.services import warmup

    warmup.start_in_background()


@worker_process_init.connect
def _warm_up_pool_process(**_: Any) -> None:
    _warm_up_ai()  # a prefork child: where its tasks run


@worker_ready.connect
def _warm_up_worker(sender: Any = None, **_: Any) -> None:
    pool = getattr(getattr(sender, "controller", None), "pool_cls", None)
    name = pool if isinstance(pool, str) else getattr(pool, "__module__", "") + getattr(pool, "__name__", "")
    if "prefork" not in str(name).lower():  # threads / solo pools run tasks in this process
        _warm_up_ai()
