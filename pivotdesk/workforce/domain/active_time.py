"""Automatic time tracking (pure, no Django): the ticket page reports the seconds the agent was active on it
since the page opened (a cumulative total); `credit_report` turns that into the seconds to add — idempotent (the
same report twice adds nothing), never negative, never beyond the wall-clock time the server has seen the page
for — and `cap_entry` keeps a day's entry within the wall clock too."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pivotdesk.workforce.domain.durations import MAX_SECONDS

#: The most a page's first report may bring before the server has seen the page at all (the report interval and
#: some slack): a report of an hour from a page never seen before is someone else's clock, not time spent here.
FIRST_REPORT_MAX = 75


@dataclass(frozen=True)
class PageSession:
    """What the server knows of one open ticket page: when it first heard of it, and the seconds credited."""

    opened_at: dt.datetime
    credited: int


def credit_report(session: PageSession | None, *, reported_total: int, at: dt.datetime) -> tuple[PageSession, int]:
    """The session after a report of `reported_total` active seconds since the page opened, and the seconds to add.

    The credited total never exceeds the wall-clock time since the server first heard of the page (for a page it
    has never heard of, at most FIRST_REPORT_MAX before now), never decreases, and a repeated or older report
    adds nothing."""
    reported = max(0, int(reported_total))
    if session is None:
        session = PageSession(opened_at=at - dt.timedelta(seconds=min(reported, FIRST_REPORT_MAX)), credited=0)
    wall = max(0, int((at - session.opened_at).total_seconds()))
    allowed = min(reported, wall)
    added = max(0, allowed - session.credited)
    return PageSession(opened_at=session.opened_at, credited=session.credited + added), added


def cap_entry(seconds: int, *, started_at: dt.datetime, at: dt.datetime) -> int:
    """An automatic entry's seconds, at most the wall-clock time since it started (two tabs on the same ticket
    count once) and at most a day."""
    wall = max(0, int((at - started_at).total_seconds()))
    return max(0, min(seconds, wall, MAX_SECONDS))
