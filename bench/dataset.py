"""The synthetic service-desk data both systems are loaded with: pure Python, deterministic, no Django.

PivotDesk's loader and the django-helpdesk harness (which runs in another virtualenv) both import this module, so
the two systems hold the same tickets: the same status, priority, assignee, team/queue, tags, dates and text.
Each list filter therefore selects the same number of tickets on both.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass

SEED = 20260101
AGENTS = 20
TEAMS = 5
CONTACTS_PER_TICKET = 0.2  # 100,000 tickets from 20,000 customers (5 tickets each on average)
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)

# Status mix of a desk a year into use: most tickets are done, a third is in the queue.
STATUSES = {"new": 8, "open": 22, "pending": 12, "on_hold": 3, "solved": 25, "closed": 30}
PRIORITIES = {"low": 20, "normal": 55, "high": 20, "urgent": 5}
TAGS = [
    "vip", "billing", "refund", "login", "bug", "feature-request", "shipping", "invoice", "password", "mobile",
    "android", "ios", "api", "sso", "export", "import", "urgent-customer", "churn-risk", "onboarding", "trial",
    "enterprise", "integration", "email", "sms", "wechat", "outage", "security", "gdpr", "pricing", "survey",
]  # fmt: skip
# vip on ~3% of tickets, the others spread with a long tail.
TAG_WEIGHTS = [3.0] + [12.0 / (i + 1) for i in range(len(TAGS) - 1)]
WORDS = [
    "account",
    "order",
    "payment",
    "card",
    "invoice",
    "delivery",
    "package",
    "app",
    "login",
    "password",
    "reset",
    "error",
    "crash",
    "screen",
    "update",
    "version",
    "subscription",
    "plan",
    "upgrade",
    "downgrade",
    "cancel",
    "charge",
    "receipt",
    "address",
    "phone",
    "email",
    "notification",
    "sync",
    "export",
    "report",
    "dashboard",
    "team",
    "member",
    "permission",
    "access",
    "setting",
    "language",
    "timezone",
    "integration",
    "webhook",
    "token",
    "printer",
    "scanner",
    "device",
    "battery",
    "screen",
    "keyboard",
    "mouse",
    "laptop",
    "tablet",
    "store",
    "coupon",
    "discount",
    "price",
    "warranty",
]
# The search word of the `q=` benchmark: in ~1.5% of subjects and bodies.
SEARCH_WORD = "refund"
SEARCH_WORD_SHARE = 0.015


@dataclass(frozen=True)
class TicketRow:
    """One synthetic ticket, independent of either system's models."""

    index: int
    status: str
    priority: str
    assignee: int | None  # 0..AGENTS-1
    team: int | None  # 0..TEAMS-1
    tags: tuple[int, ...]  # indexes into TAGS
    requester: int  # 0..contacts-1
    subject: str
    body: str
    created_at: dt.datetime
    updated_at: dt.datetime


def contact_count(tickets: int) -> int:
    return max(10, int(tickets * CONTACTS_PER_TICKET))


def contact_email(index: int) -> str:
    return f"customer{index}@example{index % 97}.com"


def contact_name(index: int) -> str:
    return f"Customer {index}"


def agent_team(agent: int) -> int:
    return agent % TEAMS


def _weighted(rng: random.Random, table: dict[str, int]) -> str:
    return rng.choices(list(table), weights=list(table.values()))[0]


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def rows(start: int, stop: int, *, contacts: int) -> Iterator[TicketRow]:
    """Tickets number `start`..`stop-1`; each row depends only on its index, so loads can be done in steps."""
    # Agents' load follows a long tail: a few senior agents hold many tickets.
    agent_weights = [1.0 / (a + 2) ** 0.7 for a in range(AGENTS)]
    span = (NOW - dt.timedelta(days=365)).timestamp()
    for i in range(start, stop):
        rng = random.Random(SEED * 1_000_003 + i)
        status = _weighted(rng, STATUSES)
        priority = _weighted(rng, PRIORITIES)
        assignee: int | None = None
        if status != "new" and rng.random() > 0.05:
            assignee = rng.choices(range(AGENTS), weights=agent_weights)[0]
        team = agent_team(assignee) if assignee is not None else (rng.randrange(TEAMS) if rng.random() < 0.6 else None)
        n_tags = rng.choices([0, 1, 2, 3], weights=[40, 35, 18, 7])[0]
        tags = tuple(sorted(set(rng.choices(range(len(TAGS)), weights=TAG_WEIGHTS, k=n_tags))))
        subject = _sentence(rng, rng.randint(4, 9)).capitalize()
        body = _sentence(rng, rng.randint(20, 60)) + "."
        if rng.random() < SEARCH_WORD_SHARE:
            subject = f"{subject} {SEARCH_WORD}"
            body = f"{body} Please {SEARCH_WORD} my order."
        created = dt.datetime.fromtimestamp(span + rng.random() * 365 * 86400, tz=dt.UTC)
        age = (NOW - created).total_seconds()
        updated = created + dt.timedelta(seconds=min(age, rng.expovariate(1 / (3 * 86400))))
        yield TicketRow(
            index=i,
            status=status,
            priority=priority,
            assignee=assignee,
            team=team,
            tags=tags,
            requester=rng.randrange(contacts),
            subject=subject[:200],
            body=body,
            created_at=created,
            updated_at=updated,
        )


def new_ticket_payload(i: int, *, contacts: int) -> dict[str, str]:
    """The i-th ticket of a creation benchmark: 70% from known customers, 30% from new ones."""
    rng = random.Random(SEED * 7 + i)
    known = rng.random() < 0.7
    who = rng.randrange(contacts) if known else contacts + 1_000_000 + i
    return {
        "subject": _sentence(rng, rng.randint(4, 9)).capitalize(),
        "body": _sentence(rng, rng.randint(20, 60)) + ".",
        "name": contact_name(who),
        "email": contact_email(who),
        "priority": _weighted(rng, PRIORITIES),
    }


@dataclass(frozen=True)
class ListScenario:
    """A list-page request in system-neutral terms; each system translates it into its own query."""

    name: str
    status: tuple[str, ...] = ()
    assignee: int | None = None  # an agent index
    team: int | None = None  # a team index (a queue in django-helpdesk)
    tag: str | None = None
    q: str | None = None
    sort: str = "-updated_at"


LIST_SCENARIOS = [
    ListScenario("status=open,pending sort=-updated_at", status=("open", "pending")),
    ListScenario("assignee=<busiest> sort=priority", assignee=0, sort="priority"),
    ListScenario("tag=vip", tag="vip"),
    ListScenario("team=<id> status=open", team=1, status=("open",)),
    ListScenario(f"q={SEARCH_WORD}", q=SEARCH_WORD),
]
PAGE_SIZE = 50
