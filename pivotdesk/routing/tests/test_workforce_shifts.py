"""Routing asks workforce who is on shift: it never assigns to an agent who is off shift while an on-shift agent
with room exists, and falls back to everyone online when the roster leaves the hour uncovered."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from pivotdesk.accounts.models import AgentStatus
from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.workforce.models import Shift
from pivotdesk.workforce.tests.helpers import roster, shift

pytestmark = pytest.mark.django_db


def test_routing_skips_off_shift_agents_while_on_shift_agents_have_room(workspace, settings):
    """Routing never assigns to an agent who is off shift when an on-shift agent with room exists — and uses
    everyone online again when the roster leaves the hour uncovered."""
    from pivotdesk.accounts.actors import Actor
    from pivotdesk.common.time import now
    from pivotdesk.routing import services as routing
    from pivotdesk.routing.models import Trigger
    from pivotdesk.routing.services.pool import clear_pool_cache
    from pivotdesk.routing.tests.factories import policy
    from pivotdesk.tickets.tests.factories import make_ticket

    policy(workspace, strategy="least_loaded")
    on = AgentFactory(workspace=workspace, status=AgentStatus.ONLINE, capacity={"email": 50})
    off = [AgentFactory(workspace=workspace, status=AgentStatus.ONLINE, capacity={"email": 50}) for _ in range(3)]
    at = now()
    day = at.astimezone(zoneinfo.ZoneInfo(workspace.time_zone)).date()
    r = roster(workspace, day - dt.timedelta(days=1), days=3)
    shift(r, on, at - dt.timedelta(hours=1), hours=4)
    clear_pool_cache()
    chosen = set()
    for _ in range(6):
        ticket = make_ticket(workspace=workspace, channel="email")
        routing.route_ticket(actor=Actor.system(), ticket=ticket, trigger=Trigger.NEW)
        ticket.refresh_from_db()
        chosen.add(ticket.assignee_id)
    assert chosen == {on.pk}, chosen
    # The shift ends: nobody is scheduled at that hour, so everyone online may take tickets again.
    Shift.objects.filter(agent=on).update(end=at - dt.timedelta(minutes=1))
    clear_pool_cache()
    later = set()
    for _ in range(6):
        ticket = make_ticket(workspace=workspace, channel="email")
        routing.route_ticket(actor=Actor.system(), ticket=ticket, trigger=Trigger.NEW)
        ticket.refresh_from_db()
        later.add(ticket.assignee_id)
    assert later & {a.pk for a in off}
