"""The demo desk's knowledge history: what its solved tickets taught it.

- **Resolutions** for the demo's solved tickets: the agent's last public reply as the solution, and the topic
  article of the ticket's category as the article that solved it (so similar tickets show what resolved them,
  and each article learns the questions it answered).
- **Root cause from facts**: "物流太慢" tickets whose words say nothing about the cause, each with the order facts
  the connector returned (the last logistics node, the zone, days without a scan). Agents set the cause when they
  solved them: a delay at a remote-area node, a parcel missed at the sorting centre, or a courier who did not
  deliver. A few stay open, so agent assist suggests a cause on them, and explains it with the deciding fact.
- **The graph**, built from all of that (`knowledge_graph.seed_graph`).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from pivotdesk.accounts.actors import Actor
from pivotdesk.ai.models import ExtractedEntity
from pivotdesk.cli.demo.knowledge_graph import seed_graph
from pivotdesk.cli.demo.setup import DemoWorld
from pivotdesk.common.time import now
from pivotdesk.knowledge.demo_rootcause import seed_root_causes
from pivotdesk.knowledge.models import Article, Resolution, RootCause
from pivotdesk.knowledge.services import assist
from pivotdesk.tickets.models import Status, Ticket
from pivotdesk.tickets.selectors import last_agent_replies
from pivotdesk.tickets.services import messages as message_services
from pivotdesk.tickets.services import tickets as ticket_services

# The demo category of a ticket → the key of the topic article that answers it (pivotdesk/cli/demo/knowledge_articles).
TOPIC_FOR_CATEGORY = {
    "refunds": "refund_timeline",
    "invoices": "vat_invoice",
    "payments": "payment_failed",
    "shipping": "delivery_delay",
    "returns": "return_label",
    "login": "password_reset",
    "permissions": "users_roles",
    "device": "device_error_codes",
    "api": "api_errors",
    "software": "licence_expired",
    "installation": "installation_booking",
    "repair": "onsite_repair",
    "complaint": "complaint_policy",
    "suggestion": "suggestion",
}
TEMPLATE_FOR_CAUSE = {
    "logistics-remote-delay": "tpl_remote_delay",
    "logistics-sorting-missed": "tpl_sorting_missed_scan",
    "account-licence-expired": "tpl_licence_expired",
    "account-wrong-password": "tpl_password_reset",
    "device-firmware-defect": "tpl_controller_reset",
}
# Same words, different causes: only the facts tell them apart.
QUESTIONS = (
    ("物流太慢了", "订单 {order} 好几天了物流都没动，怎么回事？"),
    ("快递怎么还没到", "我的订单 {order} 下单快一周了还没收到，麻烦查一下。"),
    ("Where is my parcel?", "Order {order} has not moved for days. What is going on?"),
)
FACTS: dict[str, dict[str, Any]] = {
    "logistics-remote-delay": {"zone": "remote", "last_node": "县级末端网点", "carrier": "邮政", "status": "运输中"},
    "logistics-sorting-missed": {"zone": "urban", "last_node": "华东分拣中心", "last_scan": "sorting_center", "status": "已揽收"},
    "logistics-courier-no-delivery": {"zone": "urban", "last_node": "派送网点", "carrier": "顺丰", "status": "派送中"},
}  # fmt: skip
SOLVED_PER_CAUSE = 14
OPEN_PER_CAUSE = 1
FACT_NOISE = 0.1  # a tenth of the solved tickets carry a fact of another cause too (real data is not clean)


def _agent(world: DemoWorld) -> Actor:
    members = world.team_members.get("billing") or list(world.agents.values())
    return Actor.for_agent(members[0])


def _resolutions(world: DemoWorld, articles: Mapping[str, Article], rng: random.Random) -> int:
    """A resolution for every solved or closed demo ticket: its last reply, the topic article of its category."""
    solved = list(
        Ticket.objects.filter(workspace=world.workspace, status__in=(Status.SOLVED, Status.CLOSED))
        .exclude(resolution__isnull=False)
        .values_list("pk", "category_id", "language", "assignee_id")
    )
    key_of = {c.pk: key for key, c in world.categories.items()}
    replies = last_agent_replies([pk for pk, *_ in solved])
    rows = []
    for pk, category, language, assignee_id in solved:
        key = TOPIC_FOR_CATEGORY.get(key_of.get(category, ""), "")
        article = articles.get(f"{key}_en" if (language or "").startswith("en") else key) if key else None
        rows.append(
            Resolution(
                workspace=world.workspace,
                ticket_id=pk,
                article=article,
                solution=replies.get(pk, ""),
                resolved_by_id=assignee_id,
                resolved_at=now(),
                succeeded=rng.random() > 0.08,
            )
        )
    Resolution.objects.bulk_create(rows)
    return len(rows)


def _logistics_ticket(world: DemoWorld, rng: random.Random, cause: str, number: int) -> Ticket:
    contact = rng.choice(world.contacts)
    order = f"DD{20261100 + number:08d}"
    subject, body = rng.choice(QUESTIONS)
    english = subject.startswith("Where")
    ticket = ticket_services.ticket_create(
        workspace=world.workspace, requester=contact, actor=Actor.for_contact(contact.pk, contact.name),
        subject=subject, body=body.format(order=order), channel="web_form", language="en" if english else "zh-hans",
        category=world.categories.get("shipping"),
    )  # fmt: skip
    facts = dict(FACTS[cause])
    if rng.random() < FACT_NOISE:
        other = rng.choice([c for c in FACTS if c != cause])
        facts["carrier"] = FACTS[other].get("carrier", facts.get("carrier", ""))
    facts["days_without_scan"] = rng.randint(3, 6)
    ExtractedEntity.objects.create(
        workspace=world.workspace, ticket=ticket, kind="order_number", value=order, raw=order, enrichment=facts
    )
    return ticket


def _logistics(world: DemoWorld, causes: Mapping[str, RootCause], rng: random.Random) -> int:
    """The "物流太慢" tickets: most solved with the cause the facts show, one of each cause still open."""
    agent = _agent(world)
    made = 0
    for cause in FACTS:
        root = causes[cause]
        template = root.template
        for i in range(SOLVED_PER_CAUSE + OPEN_PER_CAUSE):
            ticket = _logistics_ticket(world, rng, cause, made)
            made += 1
            if i >= SOLVED_PER_CAUSE:
                continue  # left open: agent assist suggests the cause
            reply = assist.fill(ticket, template.body) if template is not None else root.name_zh
            message_services.message_create(ticket=ticket, actor=agent, body=reply, status_after="solved")
            Resolution.objects.update_or_create(
                ticket=ticket,
                defaults={
                    "workspace": world.workspace, "root_cause": root, "article": template, "solution": reply,
                    "resolved_by": agent.agent, "resolved_at": now(), "succeeded": True,
                },
            )  # fmt: skip
    return made


def configure_knowledge_history(world: DemoWorld, articles: Mapping[str, Article], seed: int = 7) -> dict[str, int]:
    """Root causes (linked to the demo's templates), resolutions, the logistics history and the graph."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data
    templates = {code: articles[key] for code, key in TEMPLATE_FOR_CAUSE.items() if key in articles}
    causes = seed_root_causes(world.workspace, Actor.system("demo"), templates)
    resolved = _resolutions(world, articles, rng)
    logistics = _logistics(world, causes, rng)
    edges = seed_graph(world.workspace)
    return {"resolutions": resolved, "logistics_tickets": logistics, "graph_edges": edges}
