"""Seeding demo tickets with real conversations and timelines, through the ticket services."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile
from pivotdesk.cli.demo import templates_en, templates_zh
from pivotdesk.cli.demo.clock import SimulatedClock
from pivotdesk.cli.demo.people import CATEGORIES, CITIES, DEVICE_MODELS, REPLY_GROUP, TEAM_FOR
from pivotdesk.cli.demo.setup import DemoWorld
from pivotdesk.cli.demo.sla import targets_for
from pivotdesk.cli.demo.templates import Replies, Template, replies_for
from pivotdesk.customers.models import Contact, Tier
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import MessageKind, Ticket

STATUS_WEIGHTS = {"new": 12, "open": 24, "pending": 14, "on_hold": 8, "solved": 26, "closed": 16}
# How many days ago a ticket in each final status may have been opened.
AGE_DAYS = {"new": (0, 2), "open": (0.2, 10), "pending": (0.5, 14), "on_hold": (1, 16), "solved": (1, 26)}
AGE_DAYS["closed"] = (6, 30)
CHANNELS = {
    "zh": {"wechat": 24, "email": 18, "web_form": 16, "chat": 14, "voice": 10, "sms": 6, "api": 6},
    "en": {"email": 28, "web_form": 16, "chat": 14, "whatsapp": 16, "telegram": 8, "voice": 8, "sms": 4, "api": 6},
}
NEEDS_IDENTITY = {"wechat", "whatsapp", "telegram"}
ERROR_CODES = ("E-1043", "E-2210", "NET-504", "PWR-07", "SCN-12", "DB-3001", "0x8007045D", "HTTP-502", "TMO-15")
MIN = dt.timedelta(minutes=1)
EMERGING_FROM = 100  # a seed of at least this many tickets includes the emerging topic's (a smaller one stays plain)


@dataclass
class Plan:
    """One ticket to seed: when, in which language, ending in which status."""

    opened_at: dt.datetime
    language: str
    status: str
    template: Template


@dataclass
class Prepared:
    """A plan with its choices made: channel, customer, priority and SLA targets (business minutes)."""

    plan: Plan
    channel: str
    contact: Contact
    values: dict[str, str]
    priority: str  # when opened
    escalate: bool  # raised once during the conversation
    targets: tuple[int, int, int]  # first reply, next reply, resolution, for the final priority
    window: dt.timedelta  # from opening to the ticket's final status (the time its clocks run)
    late: bool = False  # solved after its resolution target: a breach in the history


class Timing:
    """The moments of one ticket's conversation, inside its window.

    Why: a business minute is never shorter than a wall-clock minute, so a reply given within its target in wall
    time is on time whatever the calendar, and a ticket whose whole running time is shorter than its resolution
    target is not breached. Each step is at most window / steps long, so the conversation fits in the window."""

    def __init__(self, seeder: TicketSeeder, start: dt.datetime, window: dt.timedelta, steps: int) -> None:
        self.seeder, self.at, self.slot = seeder, start, window / max(1, steps)

    def _advance(self, gap: dt.timedelta) -> dt.datetime:
        self.at = self.seeder._at(self.at + max(gap, dt.timedelta(seconds=30)))
        return self.at

    def agent(self, target_minutes: int) -> dt.datetime:
        """An agent's reply: within 10–60 % of its target (and of the step)."""
        limit = min(self.slot, dt.timedelta(minutes=target_minutes))
        return self._advance(limit * self.seeder.rng.uniform(0.1, 0.6))

    def customer(self) -> dt.datetime:
        """The customer's next message: any time within the step."""
        return self._advance(self.slot * self.seeder.rng.uniform(0.3, 1.0))

    def small(self) -> dt.datetime:
        """A note or a property change, shortly after the previous step."""
        return self._advance(min(self.slot, dt.timedelta(minutes=20)) * self.seeder.rng.uniform(0.05, 0.2))


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def plan_tickets(rng: random.Random, count: int, now: dt.datetime) -> list[Plan]:
    """Statuses, languages and opening times, oldest first (so ticket numbers grow with time)."""
    plans = []
    for i in range(count):
        # Cycle through every status for the first tickets so even a small seed covers all of them.
        status = list(STATUS_WEIGHTS)[i] if i < len(STATUS_WEIGHTS) else _weighted(rng, STATUS_WEIGHTS)
        language = "en" if (i % 3 == 1 if i < 12 else rng.random() < 0.35) else "zh"
        templates = templates_en.TEMPLATES if language == "en" else templates_zh.TEMPLATES
        low, high = AGE_DAYS[status]
        opened = now - dt.timedelta(days=rng.uniform(low, high), minutes=rng.randint(30, 90))
        plans.append(Plan(opened, language, status, rng.choice(templates)))
    if count >= EMERGING_FROM:
        _emerging(rng, plans, now)
    plans.sort(key=lambda p: p.opened_at)
    return plans


def _emerging(rng: random.Random, plans: list[Plan], now: dt.datetime) -> None:
    """Turn a few planned tickets into requests about the demo's emerging topic (a problem no category covers):
    new, uncategorised, opened over the last days, so the AI page has a topic to show once triage is done."""
    emerging = [*templates_zh.EMERGING, *templates_en.EMERGING]
    step = len(plans) // (len(emerging) + 1)
    for k, template in enumerate(emerging, start=1):
        language = "en" if template in templates_en.EMERGING else "zh"
        opened = now - dt.timedelta(days=rng.uniform(0.05, 3), minutes=rng.randint(30, 90))
        plans[k * step] = Plan(opened, language, "new", template)


class TicketSeeder:
    """Walks each planned ticket through its life: opened by the customer, assigned, answered, resolved."""

    def __init__(self, world: DemoWorld, rng: random.Random, clock: SimulatedClock, now: dt.datetime) -> None:
        self.world = world
        self.rng = rng
        self.clock = clock
        self.now = now
        self.vip_contacts = [c for c in world.contacts if c.organization and c.organization.tier != Tier.STANDARD]
        self.supervisor = world.agents["supervisor"]

    def seed(self, plans: list[Plan], progress: Callable[[int], object] | None = None) -> list[Ticket]:
        prepared = [self._prepare(plan) for plan in plans]
        prepared.sort(key=lambda p: p.plan.opened_at)  # ticket numbers grow with time
        tickets = []
        for item in prepared:
            tickets.append(self._one(item))
            if progress is not None:
                progress(1)
        return tickets

    # --- choices --------------------------------------------------------------------------------------------------
    def _contact(self, plan: Plan, channel: str) -> Contact:
        language = plan.language
        pool = [c for c in self.world.contacts if c.language == language]
        if {"vip", "VIP"} & set(plan.template.tags):
            pool = [c for c in self.vip_contacts if c.language == language] or pool
        if channel in NEEDS_IDENTITY:
            pool = [c for c in pool if channel in self.world.identity_kinds.get(c.pk, set())] or pool
        return self.rng.choice(pool)

    def _values(self, plan: Plan, contact: Contact) -> dict[str, str]:
        rng, day = self.rng, plan.opened_at
        city_key = rng.choice(list(CITIES))
        org_name = contact.organization.name if contact.organization else ""
        return {
            "order": f"PD{day:%Y%m%d}{rng.randint(10000, 99999)}",
            "device": rng.choice(DEVICE_MODELS),
            "code": rng.choice(ERROR_CODES),
            "amount": f"{rng.randint(99, 20000):,}.00",
            "invoice": f"{rng.randint(10_000_000, 99_999_999)}",
            "tracking": f"SF{rng.randint(10**11, 10**12 - 1)}",
            "city": CITIES[city_key][0] if plan.language == "zh" else city_key.capitalize().replace("Xian", "Xi'an"),
            "users": str(rng.choice([3, 5, 8, 12, 20, 35, 60, 120])),
            "company": org_name or ("我们公司" if plan.language == "zh" else "our company"),
            "name": contact.name,
        }

    def _custom_fields(self, template: Template, values: dict[str, str]) -> dict[str, Any]:
        rng = self.rng
        fields: dict[str, Any] = {}
        if template.category in ("device", "repair", "installation") or "{device}" in template.body:
            fields["device_model"] = next((d for d in DEVICE_MODELS if d in template.body), values["device"])
            fields["warranty"] = rng.random() < 0.7
            if rng.random() < 0.5:
                fields["purchase_date"] = (dt.date(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 900))).isoformat()
        if "{order}" in template.body or "{order}" in template.subject:
            fields["order_number"] = values["order"]
        if "{users}" in template.body or template.category in ("api", "software"):
            fields["affected_users"] = int(values["users"]) * rng.choice([1, 4, 10])
        return fields

    def _assignee(self, team_key: str, language: str) -> AgentProfile:
        members = self.world.team_members[team_key]
        speakers = [m for m in members if language in m.languages]
        return self.rng.choice(speakers or members)

    def _at(self, when: dt.datetime) -> dt.datetime:
        return self.clock.set(min(when, self.now - MIN))

    def _prepare(self, plan: Plan) -> Prepared:
        """Choose channel, customer and priority, then fit the ticket's life to its service levels: an open ticket
        is younger than its resolution target (a new one than its first-reply target), and most tickets were
        answered and solved in time. A few solved ones were late: their breaches are history, recorded at seeding."""
        rng, template = self.rng, plan.template
        channel = _weighted(rng, CHANNELS[plan.language])
        contact = self._contact(plan, channel)
        if channel in NEEDS_IDENTITY and channel not in self.world.identity_kinds.get(contact.pk, set()):
            channel = "email"
        values = self._values(plan, contact)
        priority = template.priority
        tier = contact.effective_tier
        if tier == Tier.STRATEGIC and priority == "normal":
            priority = "high"
        escalate = plan.status != "new" and priority != "urgent" and rng.random() < 0.15
        final = ("urgent" if priority == "high" else "high") if escalate else priority
        targets = targets_for(tier=tier, category=template.category, priority=final)
        first, _following, resolution = targets
        minutes = dt.timedelta(minutes=1)
        if plan.status == "new":
            plan.opened_at = max(plan.opened_at, self.now - minutes * first * rng.uniform(0.1, 0.8))
        elif plan.status == "open":
            plan.opened_at = max(plan.opened_at, self.now - minutes * resolution * rng.uniform(0.2, 0.9))
        span = self.now - plan.opened_at
        late = plan.status in ("solved", "closed") and rng.random() < 0.12
        if plan.status in ("new", "open") or late:
            window = span  # running until now; or, for a few solved tickets, solved late
        else:
            window = min(span, minutes * resolution * rng.uniform(0.2, 0.85))
        if plan.status == "closed":
            window = min(window, span - dt.timedelta(days=4, minutes=5))  # closed four days after solved
        return Prepared(plan, channel, contact, values, priority, escalate, targets, window, late)

    # --- one ticket -----------------------------------------------------------------------------------------------
    def _one(self, item: Prepared) -> Ticket:
        rng, plan = self.rng, item.plan
        template, channel, contact, values = plan.template, item.channel, item.contact, item.values
        group = REPLY_GROUP[CATEGORIES[template.category][2] or template.category]
        pools = templates_en.REPLIES if plan.language == "en" else templates_zh.REPLIES
        replies = replies_for(pools[group], group=group, category=template.category)
        team = self.world.teams[TEAM_FOR[group]]
        priority = item.priority
        self._at(plan.opened_at)
        ticket = ticket_services.ticket_create(
            workspace=self.world.workspace,
            requester=contact,
            actor=Actor.for_contact(contact.pk, contact.name),
            subject=template.subject.format(**values),
            body=template.body.format(**values),
            channel=channel,
            priority=priority,
            ticket_type=template.ticket_type,
            category=None if template.uncategorised else self.world.categories[template.category],
            tags=list(template.tags),
            custom_fields=self._custom_fields(template, values),
            language=plan.language,
        )
        extra = rng.randint(1, 5)  # messages after the customer's first one: 2–6 in all
        timing = Timing(self, plan.opened_at, item.window, extra + 4)
        if plan.status == "new":
            if rng.random() < 0.3 and not template.uncategorised:
                timing.customer()
                ticket_services.message_create(
                    ticket=ticket,
                    actor=Actor.for_contact(contact.pk, contact.name),
                    body=rng.choice(replies.customer).format(**values),
                    as_customer=True,
                )
            if rng.random() < 0.4:
                timing.small()
                ticket_services.ticket_update(ticket=ticket, actor=Actor.system("triage"), changes={"team": team})
            return ticket
        agent = self._assignee(TEAM_FOR[group], plan.language)
        timing.small()
        ticket_services.ticket_update(
            ticket=ticket, actor=Actor.for_agent(self.supervisor), changes={"team": team, "assignee": agent}
        )
        self._conversation(ticket=ticket, item=item, agent=agent, replies=replies, extra=extra, timing=timing)
        return ticket

    def _conversation(
        self,
        *,
        ticket: Ticket,
        item: Prepared,
        agent: AgentProfile,
        replies: Replies,
        extra: int,
        timing: Timing,
    ) -> None:
        rng, contact, values = self.rng, item.contact, item.values
        first, following, _resolution = item.targets
        as_agent, as_customer = Actor.for_agent(agent), Actor.for_contact(contact.pk, contact.name)
        answered = False  # the agent's next public message answers the customer (first reply, then next reply)
        for i in range(extra - 1):  # the last one is the agent's closing move, in _finish
            if i % 2 == 0:
                if answered and rng.random() < 0.3:  # a note between colleagues; the reply comes in _finish
                    timing.small()
                    note = rng.choice(replies.notes).format(**values)
                    ticket_services.message_create(ticket=ticket, actor=as_agent, body=note, kind=MessageKind.NOTE)
                    continue
                timing.agent(following if answered else first)
                body = rng.choice(replies.agent).format(**values)
                ticket_services.message_create(ticket=ticket, actor=as_agent, body=body)
                answered = True
            else:
                timing.customer()
                body = rng.choice(replies.customer).format(**values)
                ticket_services.message_create(ticket=ticket, actor=as_customer, body=body, as_customer=True)
        if item.escalate:
            timing.small()
            ticket_services.ticket_update(
                ticket=ticket,
                actor=Actor.for_agent(self.supervisor),
                changes={"priority": "urgent" if ticket.priority == "high" else "high", "add_tags": ["escalated"]},
            )
        timing.agent(following if answered else first)
        if item.late:  # solved at the end of its window, past its resolution target
            timing.at = self._at(max(timing.at, item.plan.opened_at + item.window))
        self._finish(ticket=ticket, plan=item.plan, as_agent=as_agent, replies=replies, values=values, timing=timing)

    def _finish(
        self,
        *,
        ticket: Ticket,
        plan: Plan,
        as_agent: Actor,
        replies: Replies,
        values: dict[str, str],
        timing: Timing,
    ) -> None:
        rng, status = self.rng, plan.status
        if status in ("solved", "closed"):
            body = rng.choice(replies.closing).format(**values)
            ticket_services.message_create(ticket=ticket, actor=as_agent, body=body, status_after="solved")
            if status == "closed":
                self._at(self.clock.at + dt.timedelta(days=4))
                ticket_services.ticket_set_status(ticket=ticket, status="closed", actor=Actor.system("auto-close"))
            return
        body = rng.choice(replies.agent).format(**values)
        if status == "open":
            ticket_services.message_create(ticket=ticket, actor=as_agent, body=body)
            return
        if status == "pending":
            ticket_services.message_create(ticket=ticket, actor=as_agent, body=body, status_after="pending")
            return
        # on hold: a note saying why, then the custom label that says what we wait for
        note = rng.choice(replies.notes).format(**values)
        ticket_services.message_create(ticket=ticket, actor=as_agent, body=note, kind=MessageKind.NOTE)
        labels = self.world.status_labels
        label = labels["Waiting for parts"] if plan.template.category in ("device", "repair") else None
        if plan.template.category == "installation":
            label = labels["Waiting for on-site visit"]
        timing.small()
        changes: dict[str, Any] = {"status": "on_hold"}
        if label is not None:
            changes["custom_status"] = label
        ticket_services.ticket_update(ticket=ticket, actor=as_agent, changes=changes)
