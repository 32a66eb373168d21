"""Typed, durable domain events: declared per app, stored with the change, relayed to subscribers in batches.

- **Typed.** Each app declares its events as frozen dataclasses in its own `events.py` (`@register` on a subclass
  of `Event` with a `name`); the registry here is filled when the apps load (`autodiscover`), so webhooks can offer
  every registered event and a payload with a missing or unknown field is refused where it is published.
- **Durable.** `publish` inserts an `EventRecord` row in the caller's transaction: the event commits or rolls back
  with the change, and no broker is needed at commit time. The relay (`pivotdesk.common.relay`) claims committed
  rows in batches and hands each to the dispatcher installed by the composition root (`config.subscribers`),
  which runs every subscriber; a row is done when all its subscribers succeeded, else retried with back-off.
- Lower apps never import the higher ones that react.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from django.apps import apps
from django.conf import settings
from django.db import transaction

from pivotdesk.common import live

log = logging.getLogger(__name__)


# --- the typed events and their registry -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Event:
    """Something that happened in a workspace. Subclasses add typed, JSON-serialisable fields (ids, not objects)."""

    name: ClassVar[str] = ""
    #: One sentence for the webhook settings and the docs.
    description: ClassVar[str] = ""

    workspace_id: int

    def payload(self) -> dict[str, Any]:
        """The fields besides the workspace, as stored and as subscribers receive them."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "workspace_id"}

    def merged(self, later: Event) -> Event | None:
        """This event and a later one published in the same `coalesced` block, as one event that says both; None
        (the default) when they must stay two. Only events whose subscribers read the current state, not the
        event's own values, may merge (ticket.updated: "these fields changed")."""
        return None


E = TypeVar("E", bound=type[Event])

_REGISTRY: dict[str, type[Event]] = {}


def register[E: type[Event]](cls: E) -> E:
    """Class decorator: add an event type to the registry (its `name` must be unique)."""
    if not cls.name:
        raise TypeError(f"{cls.__name__} has no event name")
    known = _REGISTRY.get(cls.name)
    if known is not None and known is not cls and known.__qualname__ != cls.__qualname__:
        raise TypeError(f"event {cls.name!r} is declared twice ({known.__module__}, {cls.__module__})")
    _REGISTRY[cls.name] = cls
    return cls


def event_types() -> dict[str, type[Event]]:
    """Every registered event type by name (filled when the apps load)."""
    return dict(sorted(_REGISTRY.items()))


def event_type(name: str) -> type[Event]:
    """The registered type of an event name (KeyError for an unknown name)."""
    return _REGISTRY[name]


def autodiscover() -> None:
    """Import `<app>.events` of every installed app so that each app's event types register themselves."""
    for config in apps.get_app_configs():
        try:
            importlib.import_module(f"{config.name}.events")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.events":
                raise


# --- the stored event as subscribers receive it ----------------------------------------------------------------


@dataclass(frozen=True)
class DomainEvent:
    """A committed event as the dispatcher sees it. `payload` is JSON-serialisable (ids, not objects)."""

    name: str
    workspace_id: int
    payload: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))  # subscribers use it to act once per event

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "workspace_id": self.workspace_id, "payload": self.payload}


#: Runs every subscriber of one event; returns the subscribers that failed (with the error) and those that ran.
Dispatcher = Callable[[DomainEvent, frozenset[str]], "DispatchResult"]


@dataclass
class DispatchResult:
    """What one dispatch of an event did: subscribers that succeeded (or had nothing to do) and those that failed."""

    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


#: Sees a whole batch of events before they are dispatched one by one (e.g. to embed the batch's tickets together).
BatchPreparer = Callable[[Sequence[DomainEvent]], object]

_dispatcher: Dispatcher | None = None
_batch_preparer: BatchPreparer | None = None
_recorded: list[DomainEvent] | None = None
_held_back: ContextVar[bool] = ContextVar("pivotdesk_events_held_back", default=False)
_pending: ContextVar[list[Event] | None] = ContextVar("pivotdesk_events_pending", default=None)


def set_dispatcher(dispatcher: Dispatcher | None) -> None:
    """Install the function that delivers committed events (called once by the composition root)."""
    global _dispatcher  # noqa: PLW0603 - one process-wide bus, installed at start-up
    _dispatcher = dispatcher


def get_dispatcher() -> Dispatcher | None:
    return _dispatcher


def set_batch_preparer(preparer: BatchPreparer | None) -> None:
    """Install the function the relay calls once per batch, with all its events, before dispatching them (installed
    by the composition root). Only a warm-up: the subscribers must work without it."""
    global _batch_preparer  # noqa: PLW0603 - one process-wide hook, installed at start-up
    _batch_preparer = preparer


def prepare_batch(batch: Sequence[DomainEvent]) -> None:
    """Run the installed batch preparer on a batch; an error is logged and ignored (it cannot stop the delivery)."""
    preparer = _batch_preparer
    if preparer is None or not batch:
        return
    try:
        preparer(batch)
    except Exception:
        log.exception("event batch preparer failed (ignored) for %d events", len(batch))


def build(name: str, *, workspace_id: int, **payload: Any) -> Event:
    """The typed event for a name and its fields (TypeError for an unknown name or a wrong field)."""
    try:
        cls = _REGISTRY[name]
    except KeyError:
        raise TypeError(f"unknown event {name!r}: declare it in the app's events.py with @register") from None
    return cls(workspace_id=workspace_id, **payload)


def publish(event: Event | str, *, workspace_id: int | None = None, **payload: Any) -> None:
    """Store an event in the current transaction; the relay delivers it once the transaction has committed.

    Takes a typed event (`publish(TicketCreated(workspace_id=…, ticket_id=…))`) or, for older call sites, a
    registered name and its fields (checked against the type all the same).
    """
    if _held_back.get():
        return
    if isinstance(event, str):
        if workspace_id is None:
            raise TypeError("publish(name, …) needs workspace_id")
        event = build(event, workspace_id=workspace_id, **payload)
    elif workspace_id is not None or payload:
        raise TypeError("publish(event) takes no other arguments")
    pending = _pending.get()
    if pending is not None:
        for i in range(len(pending) - 1, -1, -1):
            merged = pending[i].merged(event) if type(pending[i]) is type(event) else None
            if merged is not None:
                pending[i] = merged
                return
        pending.append(event)
        return
    _store([event])


def _store(batch: Sequence[Event]) -> None:
    from pivotdesk.common.models import EventRecord

    rows = [
        EventRecord(name=e.name, workspace_id=e.workspace_id, payload=e.payload(), event_id=uuid.uuid4()) for e in batch
    ]
    if len(rows) == 1:
        rows[0].save(force_insert=True)
    else:
        EventRecord.objects.bulk_create(rows)  # one statement; SQLite and PostgreSQL return the ids
    # The agents' open pages learn of the change at once (common/live.py): one callback per batch, no statement.
    transaction.on_commit(functools.partial(live.wake, {e.workspace_id for e in batch}))
    inline = getattr(settings, "PIVOTDESK_EVENTS_INLINE", False)
    if inline or _recorded is not None:
        for record in rows:
            transaction.on_commit(functools.partial(_after_commit, record.pk, record.as_domain_event(), inline=inline))


@contextmanager
def coalesced() -> Iterator[None]:
    """Publish the block's events when it ends, each merged with a later one it `merged` (one `ticket.updated`
    for the fields a trigger cycle's rules changed, not one per rule), in one insert. Must run inside the
    transaction of the changes; an exception drops them with the changes. Nested blocks join the outer one."""
    if _pending.get() is not None:
        yield
        return
    batch: list[Event] = []
    token = _pending.set(batch)
    try:
        yield
    finally:
        _pending.reset(token)
    if batch:
        _store(batch)


def _after_commit(record_id: int, event: DomainEvent, *, inline: bool) -> None:
    """Tests (and `PIVOTDESK_EVENTS_INLINE`) deliver at once in-process, as the relay does in the background."""
    if _recorded is not None:
        _recorded.append(event)
    if inline:
        from pivotdesk.common import relay

        relay.relay_ids([record_id])


@contextmanager
def record_events() -> Iterator[list[DomainEvent]]:
    """Collect the events committed inside the block (for tests)."""
    global _recorded  # noqa: PLW0603
    _recorded = []
    try:
        yield _recorded
    finally:
        _recorded = None


@contextmanager
def held_back() -> Iterator[None]:
    """Store no events inside the block: for writing history (the demo's month of seeded tickets) that must not
    wake triage, routing, SLA or webhooks when the desk starts."""
    token = _held_back.set(True)
    try:
        yield
    finally:
        _held_back.reset(token)
