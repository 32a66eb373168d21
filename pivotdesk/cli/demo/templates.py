"""What a demo ticket looks like: a template type shared by the Chinese and English template lists."""

from __future__ import annotations

from typing import NamedTuple


class Template(NamedTuple):
    """One realistic customer request. Placeholders: {order} {device} {code} {amount} {invoice} {tracking}
    {city} {users} {company} {name}."""

    category: str  # a key of CATEGORIES in people.py
    ticket_type: str
    priority: str
    tags: tuple[str, ...]
    subject: str
    body: str


class Replies(NamedTuple):
    """Conversation material for one group of categories in one language."""

    agent: tuple[str, ...]  # public replies of an agent
    customer: tuple[str, ...]  # follow-ups from the customer
    notes: tuple[str, ...]  # internal notes between agents
    closing: tuple[str, ...]  # the agent's reply that solves the ticket
