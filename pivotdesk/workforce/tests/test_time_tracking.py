"""Time spent on tickets (issue 18): the duration parser, manual entries, the automatic merge (idempotent, capped,
never negative), deleting, and the report's sums against a brute-force sum."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.common.errors import PermissionDenied, ValidationFailed
from pivotdesk.tickets.models import Category
from pivotdesk.tickets.tests.factories import make_ticket
from pivotdesk.workforce import timesheets
from pivotdesk.workforce.domain.active_time import FIRST_REPORT_MAX, PageSession, cap_entry, credit_report
from pivotdesk.workforce.domain.durations import MAX_SECONDS, DurationError, format_duration, parse_duration
from pivotdesk.workforce.services.time_tracking import time_entry_add, time_entry_delete, time_entry_track
from pivotdesk.workforce.time_models import TimeEntry, TimeSource

T0 = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai


# ---- the parser ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("15m", 900),
        ("1h 30m", 5400),
        ("1h30", 5400),
        ("1:30", 5400),
        ("0:05:30", 330),
        ("90", 5400),
        ("1.5h", 5400),
        ("2 小时", 7200),
        ("1小时30分钟", 5400),
        ("半小时", 1800),
        ("１：３０", 5400),
        ("45 sec", 45),
        ("1 hour and 5 minutes", 3900),
    ],
)
def test_parse_duration_reads_what_agents_type(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "0", "0m", "-5m", "25h", "1:75", "1h abc", "1e5", "9" * 60])
def test_parse_duration_refuses_the_rest(text):
    with pytest.raises(DurationError):
        parse_duration(text)


@given(st.integers(min_value=0, max_value=24), st.integers(min_value=0, max_value=59))
def test_hours_and_minutes_written_any_way_parse_to_the_same_seconds(hours, minutes):
    expected = hours * 3600 + minutes * 60
    if not 0 < expected <= MAX_SECONDS:
        return
    written = [f"{hours}h {minutes}m", f"{hours}:{minutes:02d}", f"{hours}小时{minutes}分钟", str(hours * 60 + minutes)]
    assert {parse_duration(text) for text in written} == {expected}


@given(st.integers(min_value=1, max_value=MAX_SECONDS))
def test_format_duration_reads_back(seconds):
    shown = format_duration(seconds)
    # the compact form drops seconds beyond an hour: what it reads back is the whole minutes
    expected = seconds if seconds < 3600 else seconds - seconds % 60
    assert parse_duration(shown) == expected


# ---- the automatic merge rule (pure) -------------------------------------------------------------------------------


@given(st.lists(st.tuples(st.integers(0, 400), st.integers(0, 4000)), min_size=1, max_size=30))
def test_credit_report_is_monotone_capped_and_idempotent(steps):
    # given reports at increasing times with arbitrary totals (retries, reordering, lies)
    session, at, credited = None, T0, 0
    first_at = None
    for gap, total in steps:
        at = at + dt.timedelta(seconds=gap)
        session, added = credit_report(session, reported_total=total, at=at)
        first_at = first_at or at
        # then nothing is ever taken away, and the total never passes the wall clock the server has seen
        assert added >= 0
        credited += added
        assert session.credited == credited
        wall = (at - first_at).total_seconds() + FIRST_REPORT_MAX
        assert credited <= wall
        assert credited <= max(t for _, t in steps)
        # and the same report again adds nothing
        again, zero = credit_report(session, reported_total=total, at=at)
        assert zero == 0 and again == session


def test_credit_report_counts_what_the_page_says_when_the_clock_allows():
    session, added = credit_report(None, reported_total=60, at=T0)
    assert added == 60
    session, added = credit_report(session, reported_total=120, at=T0 + dt.timedelta(seconds=60))
    assert added == 60
    # a page never seen before claiming an hour gets the first report's allowance only
    _, added = credit_report(None, reported_total=3600, at=T0)
    assert added == FIRST_REPORT_MAX
    assert cap_entry(5000, started_at=T0, at=T0 + dt.timedelta(seconds=100)) == 100
    assert PageSession(opened_at=T0, credited=0).credited == 0


# ---- the services ---------------------------------------------------------------------------------------------------


@pytest.fixture
def category(workspace):
    return Category.objects.create(workspace=workspace, name="Billing")


def test_manual_entry_keeps_the_category_of_the_moment(workspace, agent, contact, category):
    ticket = make_ticket(workspace=workspace, requester=contact, category=category)
    entry = time_entry_add(ticket=ticket, actor=Actor.for_agent(agent), duration="1h 30m", note=" call  back ")
    assert (entry.seconds, entry.source, entry.category_id, entry.agent_id) == (5400, "manual", category.pk, agent.pk)
    assert entry.note == "call back"
    ticket.category = None
    ticket.save()
    entry.refresh_from_db()
    assert entry.category_id == category.pk
    with pytest.raises(ValidationFailed):
        time_entry_add(ticket=ticket, actor=Actor.for_agent(agent), duration="forever")


def test_logging_for_someone_else_needs_workforce_manage(workspace, agent, supervisor, ticket):
    colleague = AgentFactory(workspace=workspace)
    with pytest.raises(PermissionDenied):
        time_entry_add(ticket=ticket, actor=Actor.for_agent(agent), duration="15m", agent=colleague)
    entry = time_entry_add(ticket=ticket, actor=Actor.for_agent(supervisor), duration="15m", agent=colleague)
    assert entry.agent_id == colleague.pk


def _at(monkeypatch, at):
    monkeypatch.setattr(timezone, "now", lambda: at)


def test_automatic_reports_merge_into_one_entry_per_agent_ticket_and_day(workspace, agent, ticket, monkeypatch):
    actor = Actor.for_agent(agent)
    # a page reports 60 s after a minute, then 120 s, then the same 120 s again (a retry), then the beacon
    for offset, total in ((60, 60), (120, 120), (121, 120), (150, 140)):
        _at(monkeypatch, T0 + dt.timedelta(seconds=offset))
        time_entry_track(ticket=ticket, actor=actor, page="p1", active_seconds=total)
    # a second tab on the same ticket a bit later
    _at(monkeypatch, T0 + dt.timedelta(seconds=300))
    time_entry_track(ticket=ticket, actor=actor, page="p2", active_seconds=45)
    entries = list(TimeEntry.objects.filter(ticket=ticket, source=TimeSource.AUTOMATIC))
    assert len(entries) == 1
    assert entries[0].seconds == 140 + 45
    assert entries[0].day == dt.date(2026, 12, 7)
    # the next local day (Asia/Shanghai: 16:00 UTC is midnight) starts a new entry
    _at(monkeypatch, dt.datetime(2026, 12, 7, 16, 30, tzinfo=dt.UTC))
    time_entry_track(ticket=ticket, actor=actor, page="p3", active_seconds=30)
    assert TimeEntry.objects.filter(ticket=ticket, source=TimeSource.AUTOMATIC).count() == 2


def test_automatic_time_is_capped_at_the_wall_clock_and_never_negative(workspace, agent, ticket, monkeypatch):
    actor = Actor.for_agent(agent)
    _at(monkeypatch, T0)
    assert time_entry_track(ticket=ticket, actor=actor, page="p", active_seconds=0) is None
    time_entry_track(ticket=ticket, actor=actor, page="p", active_seconds=5000)  # a page never seen: 75 s at most
    _at(monkeypatch, T0 + dt.timedelta(seconds=60))
    time_entry_track(ticket=ticket, actor=actor, page="p", active_seconds=3)  # a smaller total takes nothing away
    for page in ("a", "b", "c"):  # three tabs at once cannot add up to more than the wall clock either
        time_entry_track(ticket=ticket, actor=actor, page=page, active_seconds=70)
    entry = TimeEntry.objects.get(ticket=ticket, source=TimeSource.AUTOMATIC)
    assert entry.seconds == FIRST_REPORT_MAX + 60
    with pytest.raises(ValidationFailed):
        time_entry_track(ticket=ticket, actor=actor, page="p", active_seconds=-5)


def test_own_entries_may_be_deleted_others_by_supervisors(workspace, agent, supervisor, ticket):
    mine = time_entry_add(ticket=ticket, actor=Actor.for_agent(agent), duration="10m")
    theirs = time_entry_add(ticket=ticket, actor=Actor.for_agent(supervisor), duration="10m")
    with pytest.raises(PermissionDenied):
        time_entry_delete(entry=theirs, actor=Actor.for_agent(agent))
    time_entry_delete(entry=mine, actor=Actor.for_agent(agent))
    time_entry_delete(entry=theirs, actor=Actor.for_agent(supervisor))
    assert not TimeEntry.objects.filter(ticket=ticket).exists()


def test_report_sums_per_agent_and_category_match_a_brute_force_sum(workspace, contact, category, monkeypatch):
    # given random entries of three agents on tickets of two categories (and none), some outside the period
    rng = random.Random(18)
    agents = [AgentFactory(workspace=workspace) for _ in range(3)]
    other = Category.objects.create(workspace=workspace, name="Shipping")
    tickets = [make_ticket(workspace=workspace, requester=contact, category=c) for c in (category, other, None)]
    since, until = T0 - dt.timedelta(days=7), T0
    for _ in range(40):
        ticket, agent = rng.choice(tickets), rng.choice(agents)
        started = T0 - dt.timedelta(minutes=rng.randint(1, 60 * 24 * 10))
        time_entry_add(
            ticket=ticket, actor=Actor.system(), agent=agent, duration=rng.randint(60, 7200), started_at=started
        )
    # when the report sums them
    report = timesheets.time_report(workspace=workspace, since=since, until=until)
    # then every sum is the brute-force sum of the entries that started in the period
    by_agent: dict[int, int] = defaultdict(int)
    by_category: dict[int | None, int] = defaultdict(int)
    by_pair: dict[tuple[int, int | None], int] = defaultdict(int)
    for e in TimeEntry.objects.filter(workspace=workspace):
        if since <= e.started_at < until:
            by_agent[e.agent_id] += e.seconds
            by_category[e.category_id] += e.seconds
            by_pair[(e.agent_id, e.category_id)] += e.seconds
    assert {r.key: r.seconds for r in report.by_agent} == dict(by_agent)
    assert {r.key: r.seconds for r in report.by_category} == dict(by_category)
    assert {(a.key, r.key): r.seconds for a, r in report.by_agent_category} == dict(by_pair)
    assert report.total.seconds == sum(by_agent.values())
    assert [r.seconds for r in report.by_agent] == sorted(by_agent.values(), reverse=True)
