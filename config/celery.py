"""The Celery application: one for web, worker and beat; the broker comes from settings."""

from __future__ import annotations

import os

from celery import Celery

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
