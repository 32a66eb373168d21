"""Fixtures of the sla tests: a controllable clock (no freezegun: Django's timezone.now is swapped, so every
service, auto_now field and timeline entry sees the same instant) and a workspace with a China calendar."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

SH = ZoneInfo("Asia/Shanghai")


class Clock:
    """The current instant for everything that calls django.utils.timezone.now (and common.time.now)."""

    def __init__(self, start: dt.datetime) -> None:
        self.at = start

    def __call__(self) -> dt.datetime:
        return self.at.astimezone(dt.UTC)

    def set(self, at: dt.datetime) -> dt.datetime:
        self.at = at
        return at

    def advance(self, **delta: float) -> dt.datetime:
        self.at = self.at + dt.timedelta(**delta)
        return self.at


@pytest.fixture
def clock(monkeypatch):
    """Starts on Monday 2026-03-02 09:00 Shanghai time (a normal working day)."""
    from django.utils import timezone

    c = Clock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=SH))
    monkeypatch.setattr(timezone, "now", c)
    return c


@pytest.fixture
def system():
    from pivotdesk.accounts.actors import Actor

    return Actor.system("test")
