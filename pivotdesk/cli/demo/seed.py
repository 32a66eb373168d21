"""`seed_demo`: the whole demo workspace in one transaction, deterministic for a given seed."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from pivotdesk.accounts.models import Workspace
from pivotdesk.cli.demo.automation import configure_automation
from pivotdesk.cli.demo.channels import create_demo_channels
from pivotdesk.cli.demo.clock import SimulatedClock, events_held_back
from pivotdesk.cli.demo.knowledge import configure_knowledge
from pivotdesk.cli.demo.knowledge_history import configure_knowledge_history
from pivotdesk.cli.demo.oncall import configure_oncall
from pivotdesk.cli.demo.portal import configure_portal
from pivotdesk.cli.demo.setup import create_customers, create_workspace_and_people
from pivotdesk.cli.demo.sla import apply_sla, configure_sla
from pivotdesk.cli.demo.surveys import configure_surveys
from pivotdesk.cli.demo.tickets import TicketSeeder, plan_tickets
from pivotdesk.cli.demo.time_tracking import configure_time_tracking
from pivotdesk.cli.demo.workforce import configure_workforce


@dataclass(frozen=True)
class SeedResult:
    """What was seeded and how long it took."""

    workspace: Workspace
    agents: int
    contacts: int
    tickets: int
    seconds: float


def seed_demo(
    *,
    tickets: int = 300,
    seed: int = 42,
    dispatch_events: bool = False,
    progress: Callable[[int], object] | None = None,
) -> SeedResult:
    """Create the demo workspace, its people, customers and `tickets` tickets with a month of history.

    All or nothing (one transaction). Domain events are not queued unless `dispatch_events` is set."""
    started = time.monotonic()
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not security
    real_now = timezone.now()
    clock = SimulatedClock(real_now - dt.timedelta(days=40))
    held_back = nullcontext() if dispatch_events else events_held_back()
    with held_back, clock, transaction.atomic():
        world = create_workspace_and_people(rng)
        clock.set(real_now - dt.timedelta(days=35))
        create_customers(world, rng)
        create_demo_channels(world)
        configure_sla(world)
        plans = plan_tickets(rng, tickets, real_now)
        created = TicketSeeder(world, rng, clock, real_now).seed(plans, progress)
        clock.set(real_now)
        apply_sla(created, real_now)
        configure_workforce(world)
        configure_oncall(world)
        configure_automation(world)
        articles = configure_knowledge(world)
        configure_knowledge_history(world, articles)
        configure_surveys(world)
        configure_time_tracking(world, clock, real_now)
        configure_portal(world)
    return SeedResult(
        workspace=world.workspace,
        agents=len(world.agents),
        contacts=len(world.contacts),
        tickets=len(created),
        seconds=time.monotonic() - started,
    )
