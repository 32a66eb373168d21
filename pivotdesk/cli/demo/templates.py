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
    # A request about a problem no category covers (the demo's emerging topic): opened without a category, never
    # answered or solved, so training never learns it as an old category; `category` only picks its reply pool.
    uncategorised: bool = False


class Replies(NamedTuple):
    """Conversation material for one group of categories in one language."""

    agent: tuple[str, ...]  # public replies of an agent
    customer: tuple[str, ...]  # follow-ups from the customer
    notes: tuple[str, ...]  # internal notes between agents
    closing: tuple[str, ...]  # the agent's reply that solves the ticket


# Which leaf categories (keys of CATEGORIES) a line of a reply pool fits, by (group, kind, index in the pool): a line
# not listed fits every category of its group. The English and Chinese pools are parallel (same lines in the same
# order), so one table serves both. Why: a scanner-firmware ticket must not be answered about connection pools.
LINE_FITS: dict[tuple[str, str, int], tuple[str, ...]] = {
    ("billing", "agent", 0): ("refunds",),
    ("billing", "customer", 2): ("refunds", "invoices"),
    ("billing", "notes", 0): ("refunds",),
    ("billing", "notes", 1): ("invoices",),
    ("billing", "notes", 2): ("invoices",),
    ("billing", "notes", 3): ("payments",),
    ("billing", "closing", 0): ("refunds",),
    ("billing", "closing", 1): ("invoices",),
    ("billing", "closing", 2): ("payments",),
    ("orders", "agent", 0): ("shipping",),
    ("orders", "agent", 1): ("returns",),
    ("orders", "customer", 1): ("returns",),
    ("orders", "customer", 2): ("shipping",),
    ("orders", "notes", 0): ("shipping",),
    ("orders", "notes", 1): ("returns",),
    ("orders", "notes", 2): ("shipping",),
    ("orders", "closing", 0): ("returns",),
    ("orders", "closing", 1): ("shipping",),
    ("account", "agent", 0): ("login",),
    ("account", "agent", 1): ("login",),
    ("account", "agent", 2): ("login",),
    ("account", "agent", 3): ("permissions",),
    ("account", "customer", 0): ("login",),
    ("account", "customer", 1): ("login",),
    ("account", "customer", 2): ("permissions",),
    ("account", "notes", 0): ("login",),
    ("account", "notes", 1): ("login",),
    ("account", "closing", 0): ("login",),
    ("account", "closing", 1): ("permissions",),
    ("technical", "agent", 0): ("device",),
    ("technical", "agent", 1): ("device", "software"),
    ("technical", "agent", 3): ("api",),
    ("technical", "customer", 0): ("device", "software"),
    ("technical", "customer", 1): ("api", "software"),
    ("technical", "customer", 3): ("device", "software"),
    ("technical", "notes", 0): ("device",),
    ("technical", "notes", 1): ("device",),
    ("technical", "notes", 2): ("device",),
    ("technical", "notes", 3): ("api",),
    ("technical", "notes", 4): ("software",),
    ("technical", "closing", 0): ("device", "software"),
    ("technical", "closing", 1): ("api", "software"),
    ("field", "agent", 1): ("repair",),
    ("field", "agent", 2): ("repair",),
    ("field", "customer", 2): ("repair",),
    ("field", "notes", 1): ("repair",),
    ("field", "closing", 0): ("installation",),
    ("field", "closing", 1): ("repair",),
    ("feedback", "agent", 0): ("complaint",),
    ("feedback", "agent", 1): ("suggestion",),
    ("feedback", "agent", 2): ("complaint",),
    ("feedback", "customer", 0): ("complaint",),
    ("feedback", "customer", 1): ("complaint",),
    ("feedback", "customer", 2): ("suggestion",),
    ("feedback", "notes", 0): ("complaint",),
    ("feedback", "notes", 1): ("complaint",),
    ("feedback", "notes", 2): ("suggestion",),
    ("feedback", "closing", 0): ("complaint",),
    ("feedback", "closing", 1): ("suggestion",),
}
KINDS = ("agent", "customer", "notes", "closing")


def replies_for(replies: Replies, *, group: str, category: str) -> Replies:
    """The lines of a group's pool that fit a ticket of this leaf category."""

    def fitting(kind: str) -> tuple[str, ...]:
        pool: tuple[str, ...] = getattr(replies, kind)
        return tuple(line for i, line in enumerate(pool) if category in LINE_FITS.get((group, kind, i), (category,)))

    return Replies(*(fitting(kind) for kind in KINDS))
