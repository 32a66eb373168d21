"""Issue 12: the SLA display does not contradict itself. A breach is a recorded fact that a later re-target does
not erase; the queue and the ticket show the same clock (paused, and breached-and-paused, alike); the report lists
every breach with its due time and how late it was.

Calendar: Mon–Fri 09–12, 13–18 Shanghai; the clock starts on Monday 2026-03-02 09:00."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile
from pivotdesk.sla.models import SLAFiring, SLAOutcome, SLAPolicy, TicketSLA
from pivotdesk.sla.services import sla_apply, sla_scan_due
from pivotdesk.sla.tests.conftest import SH, Clock
from pivotdesk.sla.tests.factories import CalendarFactory, add_targets
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.services import message_create, ticket_set_status, ticket_update
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


def at(hour: int, minute: int = 0, day: int = 2) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=SH)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    from django.utils import timezone

    c = Clock(at(9))
    monkeypatch.setattr(timezone, "now", c)
    return c


@pytest.fixture
def policy(workspace: Any) -> SLAPolicy:
    """Urgent: first reply in 30 business minutes; normal: in 240; resolution in 60 for both."""
    CalendarFactory(workspace=workspace, is_default=True)
    policy = SLAPolicy.objects.create(workspace=workspace, name="Standard")
    add_targets(policy, "urgent", first_reply=30, resolution=60)
    add_targets(policy, "normal", first_reply=240, resolution=60)
    return policy


def scan(clock: Clock, when: dt.datetime) -> None:
    clock.set(when)
    sla_scan_due(actor=SYSTEM, now=when)


def apply(clock: Clock, ticket: Ticket, when: dt.datetime) -> Ticket:
    clock.set(when)
    sla_apply(actor=SYSTEM, ticket=ticket, now=when)
    ticket.refresh_from_db()
    return ticket


def queue_badge(client: Client, number: int) -> str:
    html = client.get("/queue/?scope=all").content.decode()
    row = re.search(rf'<tr class="qrow[^"]*"[^>]*data-number="{number}">(.*?)</tr>', html, re.S)
    assert row, f"no queue row for #{number}"
    cell = re.search(r'<td class="col-sla">(.*?)</td>', row.group(1), re.S)
    assert cell
    return cell.group(1)


def ticket_badges(client: Client, number: int) -> str:
    response = client.get(f"/tickets/{number}/sla/")
    assert response.status_code == 200
    return response.content.decode()


def state_of(badge_html: str) -> tuple[str, str]:
    found = re.search(r'data-sla-state="([^"]*)" data-sla-paused="([^"]*)"', badge_html)
    assert found, badge_html
    return found.group(1), found.group(2)


def breach_row(client: Client, number: int, target: str) -> str:
    """The report's breach row of ticket `number` and target (its name in the page's language)."""
    html = client.get("/sla/report/").content.decode()
    table = re.search(r'id="sla-breaches">(.*?)</table>', html, re.S)
    assert table
    rows = re.findall(r"<tr>.*?</tr>", table.group(1), re.S)
    found = [r for r in rows if f'href="/tickets/{number}/"' in r and f"<td>{target}<br>" in r]
    assert len(found) == 1, f"no single {target} breach row for #{number}"
    return found[0]


def zero_late(row: str) -> bool:
    """ "fulfilled 0 m late" (and not "40 m late")."""
    return re.search(r"(?<!\d)0 m late", row) is not None


# --- a breach survives a re-target ---------------------------------------------------------------------------------


@pytest.fixture
def lowered(clock: Clock, workspace: Any, policy: SLAPolicy, agent: AgentProfile) -> Ticket:
    """Given an urgent ticket whose first reply breached at 09:30 (the breach fired), when an agent lowers its
    priority to normal at 09:40 (first reply 240 business minutes: due 14:00 under the new target)."""
    ticket = make_ticket(workspace=workspace, priority="urgent")
    apply(clock, ticket, at(9))
    scan(clock, at(9, 30))
    assert SLAFiring.objects.filter(ticket=ticket, metric="first_reply", kind="breach").exists()
    clock.set(at(9, 40))
    ticket_update(ticket=ticket, actor=Actor.for_agent(agent), changes={"priority": "normal"})
    return apply(clock, ticket, at(9, 40))


def test_lowering_the_priority_after_a_breach_keeps_the_breach_and_applies_the_new_target(lowered: Ticket) -> None:
    first = TicketSLA.objects.get(ticket=lowered, metric="first_reply")
    assert first.target_minutes == 240 and first.due_at == at(14)  # the new target applies to the clock
    assert first.breached_at == at(9, 30) and first.state == "breached"  # the breach stays, at its instant
    assert lowered.sla_state == "breached"
    outcome = SLAOutcome.objects.get(ticket=lowered, metric="first_reply", cycle=first.cycle)
    assert (outcome.achieved, outcome.breached_at, outcome.due_at) == (False, at(9, 30), at(9, 30))
    assert (outcome.target_minutes, outcome.priority) == (30, "urgent")  # the promise that was broken


def test_the_kept_breach_shows_in_the_queue_and_on_the_ticket_with_the_old_target(
    lowered: Ticket, agent: AgentProfile, client_as: Any
) -> None:
    client = client_as(agent)
    assert state_of(queue_badge(client, lowered.number))[0] == "breached"
    badges = ticket_badges(client, lowered.number)
    first = re.search(r'<span class="sla-badge[^>]*><b>First reply</b>[^<]*</span>', badges)
    assert first and state_of(first.group(0)) == ("breached", "")
    assert "Breached at 03-02 09:30 (target was 30 min before the priority changed)" in badges

    zh = ticket_badges(client_as(agent, "zh-hans"), lowered.number)
    assert "03-02 09:30 已超时（调整优先级前的目标为 30 分钟）" in zh


def test_a_breach_fulfilled_late_after_the_retarget_is_in_the_report_with_its_due_time_and_lateness(
    clock: Clock, lowered: Ticket, agent: AgentProfile, supervisor: AgentProfile, client_as: Any
) -> None:
    clock.set(at(10, 15))
    message_create(ticket=lowered, actor=Actor.for_agent(agent), body="Looking into it.")
    apply(clock, lowered, at(10, 15))
    outcome = SLAOutcome.objects.get(ticket=lowered, metric="first_reply")
    assert (outcome.achieved, outcome.due_at, outcome.fulfilled_at) == (False, at(9, 30), at(10, 15))

    row = breach_row(client_as(supervisor), lowered.number, "First reply")
    assert '<td class="mono sla-due">03-02 09:30</td>' in row
    assert "fulfilled 45 m late" in row


# --- the queue and the ticket show the same clock -------------------------------------------------------------------


def test_a_breached_resolution_clock_that_is_paused_is_breached_and_paused_in_queue_and_ticket(
    clock: Clock, workspace: Any, policy: SLAPolicy, agent: AgentProfile, client_as: Any
) -> None:
    """Given a normal ticket whose resolution (60 min) breached at 10:00, answered at 10:20 and set to pending."""
    ticket = make_ticket(workspace=workspace, priority="normal")
    apply(clock, ticket, at(9))
    scan(clock, at(10))
    clock.set(at(10, 20))
    message_create(ticket=ticket, actor=Actor.for_agent(agent), body="We need your order number.")
    ticket_set_status(ticket=ticket, status="pending", actor=Actor.for_agent(agent))
    ticket = apply(clock, ticket, at(10, 30))

    client = client_as(agent)
    queue = queue_badge(client, ticket.number)
    badges = ticket_badges(client, ticket.number)
    resolution = re.search(r'<span class="sla-badge[^>]*><b>Resolution</b>[^<]*</span>', badges)
    assert resolution
    assert state_of(queue) == state_of(resolution.group(0)) == ("breached", "1")
    assert "Breached, paused" in queue and "Breached, paused" in resolution.group(0)
    assert "⏸ 0 m" not in badges

    zh_client = client_as(agent, "zh-hans")
    assert "已超时，已暂停" in queue_badge(zh_client, ticket.number)
    assert "已超时，已暂停" in ticket_badges(zh_client, ticket.number)


def test_a_paused_ticket_past_its_warning_is_paused_in_queue_and_ticket(
    clock: Clock, workspace: Any, policy: SLAPolicy, agent: AgentProfile, client_as: Any
) -> None:
    """Given a normal ticket warned at 75 % of its resolution (09:45), then set to pending at 09:50."""
    ticket = make_ticket(workspace=workspace, priority="normal")
    apply(clock, ticket, at(9))
    scan(clock, at(9, 45))
    clock.set(at(9, 50))
    ticket_set_status(ticket=ticket, status="pending", actor=Actor.for_agent(agent))
    ticket = apply(clock, ticket, at(9, 50))

    client = client_as(agent)
    queue = state_of(queue_badge(client, ticket.number))
    shown = [state_of(b) for b in re.findall(r'<span class="sla-badge[^>]*>', ticket_badges(client, ticket.number))]
    assert queue == ("paused", "1")
    assert shown and all(s == queue for s in shown)


# --- the report ---------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("policy")
def test_the_report_row_of_a_breach_fulfilled_late_has_its_due_time_and_real_lateness(
    clock: Clock, workspace: Any, agent: AgentProfile, supervisor: AgentProfile, client_as: Any
) -> None:
    """Given a normal ticket whose resolution breached at 10:00 and that was solved at 10:40."""
    ticket = make_ticket(workspace=workspace, priority="normal")
    apply(clock, ticket, at(9))
    scan(clock, at(10))
    clock.set(at(10, 40))
    message_create(ticket=ticket, actor=Actor.for_agent(agent), body="Fixed.")
    ticket_set_status(ticket=ticket, status="solved", actor=Actor.for_agent(agent))
    apply(clock, ticket, at(10, 40))

    outcome = SLAOutcome.objects.get(ticket=ticket, metric="resolution")
    assert (outcome.due_at, outcome.breached_at, outcome.fulfilled_at) == (at(10), at(10), at(10, 40))
    row = breach_row(client_as(supervisor), ticket.number, "Resolution")
    assert '<td class="mono sla-due">03-02 10:00</td>' in row
    assert "fulfilled 40 m late" in row and not zero_late(row)
    zh = breach_row(client_as(supervisor, "zh-hans"), ticket.number, "解决")
    assert "晚了 40 分 完成" in zh


def test_a_breach_stored_without_a_due_time_shows_its_breach_instant_and_a_late_fulfilment_is_never_0_m(
    clock: Clock, workspace: Any, supervisor: AgentProfile, client_as: Any
) -> None:
    """Rows written before due times were kept on fulfilment have an empty due time; 20 s late is not "0 m"."""
    ticket = make_ticket(workspace=workspace)
    SLAOutcome.objects.create(
        workspace=workspace,
        ticket=ticket,
        policy_name="Standard",
        metric="first_reply",
        target_minutes=30,
        started_at=at(9),
        due_at=None,
        breached_at=at(9, 30),
        fulfilled_at=at(9, 30) + dt.timedelta(seconds=20),
        achieved=False,
        finished_at=at(9, 30),
    )
    row = breach_row(client_as(supervisor), ticket.number, "First reply")
    assert '<td class="mono sla-due">03-02 09:30</td>' in row
    assert "fulfilled 1 m late" in row and not zero_late(row)
