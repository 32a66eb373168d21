"""Ticket status transitions (pure). Closed is final: a follow-up opens a new ticket."""

from __future__ import annotations

NEW, OPEN, PENDING, ON_HOLD, SOLVED, CLOSED = "new", "open", "pending", "on_hold", "solved", "closed"
ALL_STATUSES = (NEW, OPEN, PENDING, ON_HOLD, SOLVED, CLOSED)
ACTIVE = frozenset({NEW, OPEN, PENDING, ON_HOLD})

TRANSITIONS: dict[str, frozenset[str]] = {
    NEW: frozenset({OPEN, PENDING, ON_HOLD, SOLVED}),
    OPEN: frozenset({PENDING, ON_HOLD, SOLVED}),
    PENDING: frozenset({OPEN, ON_HOLD, SOLVED}),
    ON_HOLD: frozenset({OPEN, PENDING, SOLVED}),
    SOLVED: frozenset({OPEN, CLOSED}),
    CLOSED: frozenset(),
}


class TransitionError(ValueError):
    """The status change is not allowed. `template` (English, with named placeholders) and `params` let the
    services translate the reason (this module imports no Django); `str()` is the English reason."""

    def __init__(self, template: str, **params: str) -> None:
        super().__init__(template % params)
        self.template = template
        self.params = params


def can_transition(old: str, new: str) -> bool:
    """Whether a ticket may move from `old` to `new` (staying put is always allowed)."""
    if old not in TRANSITIONS or new not in TRANSITIONS:
        return False
    return old == new or new in TRANSITIONS[old]


def check_transition(old: str, new: str) -> None:
    """Raise TransitionError with a readable reason unless the move is allowed."""
    if new not in TRANSITIONS:
        raise TransitionError(
            "Unknown status '%(new)s'. Use one of: %(allowed)s.", new=new, allowed=", ".join(ALL_STATUSES)
        )
    if not can_transition(old, new):
        if not TRANSITIONS.get(old):
            raise TransitionError(
                "A ticket cannot go from '%(old)s' to '%(new)s'. Closed tickets are final.", old=old, new=new
            )
        raise TransitionError(
            "A ticket cannot go from '%(old)s' to '%(new)s'. From '%(old)s' it can go to: %(allowed)s.",
            old=old,
            new=new,
            allowed=", ".join(sorted(TRANSITIONS[old])),
        )
