"""The domain-event bus mechanism: publish after commit, to one dispatcher installed by the composition root.

Apps define their event names (see `pivotdesk.tickets.events`); `config.subscribers` installs the dispatcher that
fans each event out to the Celery tasks listed in the subscriber table. Lower apps never import the higher ones
that react.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DomainEvent:
    """Something that happened, after it was committed. `payload` is JSON-serialisable (ids, not objects)."""

    name: str
    workspace_id: int
    payload: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))  # subscribers use it to act once per event

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "workspace_id": self.workspace_id, "payload": self.payload}


Dispatcher = Callable[[DomainEvent], None]

_dispatcher: Dispatcher | None = None
_recorded: list[DomainEvent] | None = None


def set_dispatcher(dispatcher: Dispatcher | None) -> None:
    """Install the function that delivers committed events (called once by the composition root)."""
    global _dispatcher  # noqa: PLW0603 - one process-wide bus, installed at start-up
    _dispatcher = dispatcher


def publish(name: str, *, workspace_id: int, **payload: Any) -> None:
    """Publish an event once the current transaction commits (at once when there is none)."""
    event = DomainEvent(name=name, workspace_id=workspace_id, payload=payload)
    transaction.on_commit(lambda: _deliver(event))


def _deliver(event: DomainEvent) -> None:
    if _recorded is not None:
        _recorded.append(event)
    if _dispatcher is None:
        return
    try:
        _dispatcher(event)
    except Exception:  # a broken broker must not undo a committed write; the failure is logged
        log.exception("could not dispatch %s", event.name)


class record_events:
    """Collect the events delivered inside the block (for tests)."""

    def __enter__(self) -> list[DomainEvent]:
        global _recorded  # noqa: PLW0603
        _recorded = []
        return _recorded

    def __exit__(self, *exc: object) -> None:
        global _recorded  # noqa: PLW0603
        _recorded = None
