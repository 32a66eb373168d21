"""Triage's cost pinned: a new ticket, with trained category/priority/team/type models and the default steps.

Statements are every statement the connection executes (BEGIN, SAVEPOINT, RELEASE and COMMIT included); commits
are the explicit ones and the implicit commit of any write made outside a transaction. The tests run with real
transactions (`transaction=True`), so what is counted is what production commits.

Issue 13 §3 asks for at most 15 statements and 2 commits per ticket. The pipeline's own share is pinned at OWN
(ticket, messages; BEGIN, field history, predictions, entities, runs, COMMIT): it computes every step in memory and
writes once. The rest is spent inside other apps' services, each measured here as the pipeline calls it:

- `tickets.services.ticket_update` (one call with every change): SAVEPOINT, SELECT … FOR UPDATE, one UPDATE of the
  ticket, one INSERT of all its timeline rows, the event row, RELEASE (tags add a read and two inserts);
- `training.classify_step` / `sentiment_step`: the active ModelVersions, read through the per-workspace
  configuration cache (nothing in a warm worker);
- `llm.summary_step`: the workspace's LLM settings, through the same cache.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.accounts.services import team_create
from pivotdesk.accounts.tests.factories import WorkspaceFactory
from pivotdesk.ai import pipeline
from pivotdesk.ai.domain.steps import STEP_ORDER
from pivotdesk.ai.models import ExtractedEntity, Prediction, TriageRun
from pivotdesk.ai.services import training
from pivotdesk.ai.tests.synthetic import dataset
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Category, Ticket, TicketEvent
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db(transaction=True)

TARGET_STATEMENTS = 15  # issue 13 §3
TARGET_COMMITS = 2
OWN = 8  # the pipeline's own statements for a new ticket (see the module docstring)
COMMITS = 1
OTHERS = frozenset({"ticket_update", "classify_step", "sentiment_step", "summary_step"})
CLASSES = {  # synthetic label → category, team, priority, type
    "billing": ("Billing", "Finance", "high", "problem"),
    "shipping": ("Shipping", "Logistics", "normal", "incident"),
    "login": ("Login", "Accounts", "urgent", "question"),
}
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


@pytest.fixture
def trained(settings, tmp_path) -> Workspace:
    """A workspace whose category, priority, team and type models are trained on 36 solved synthetic tickets;
    its order-number custom field is filled from the entities. No event is relayed (tickets stay untriaged)."""
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    settings.PIVOTDESK_EVENTS_INLINE = False
    system = Actor.system()
    workspace: Workspace = WorkspaceFactory.create()
    ticket_services.custom_field_create(
        actor=system, workspace=workspace, key="order_number", label="Order number", field_type="text"
    )
    categories = {
        k: ticket_services.category_create(actor=system, workspace=workspace, name=v[0]) for k, v in CLASSES.items()
    }
    teams = {k: team_create(actor=system, workspace=workspace, name=v[1]) for k, v in CLASSES.items()}
    texts, labels = dataset(12)
    for i, (text, label) in enumerate(zip(texts, labels, strict=True)):
        ticket = make_ticket(
            workspace=workspace,
            subject=f"#{i}",
            body=text,
            category=categories[label],
            team=teams[label],
            priority=CLASSES[label][2],
            ticket_type=CLASSES[label][3],
        )
        ticket_services.ticket_set_status(ticket=ticket, status="solved", actor=system)
    results = training.workspace_train(actor=system, workspace=workspace, fields=training.CLASSIFY_FIELDS)
    assert all(r.activated for r in results), [r.note for r in results]
    return workspace


@dataclass
class Count:
    queries: CaptureQueriesContext
    commits: list[str] = field(default_factory=list)
    by: Counter[str] = field(default_factory=Counter)  # "pipeline", or the other app's service that ran it

    @property
    def own(self) -> int:
        return self.by["pipeline"]


def _owner() -> str:
    """Whose statement this is: the other app's service on the stack (its `@transaction.atomic` wrapper, which
    issues its SAVEPOINT and RELEASE, included), else the pipeline's."""
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_name
        if name == "inner":  # contextlib.ContextDecorator's wrapper around a decorated function
            name = getattr(frame.f_locals.get("func"), "__name__", name)
        if name in OTHERS:
            return name
        frame = frame.f_back
    return "pipeline"


@contextmanager
def counted() -> Iterator[Count]:
    """Every statement (and whose it is), and every commit (explicit, or a write in autocommit mode)."""
    with CaptureQueriesContext(connection) as queries:
        count = Count(queries)
        real_commit = connection.commit

        def commit() -> None:
            count.commits.append("COMMIT")
            count.by[_owner()] += 1
            real_commit()

        def statement(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            count.by[_owner()] += 1
            if not connection.in_atomic_block and sql.lstrip().upper().startswith(WRITES):
                count.commits.append(f"autocommit: {sql[:80]}")
            return execute(sql, params, many, context)

        connection.commit = commit  # type: ignore[method-assign]
        try:
            with connection.execute_wrapper(statement):
                yield count
        finally:
            del connection.commit


def _new_ticket(workspace: Workspace, body: str) -> Ticket:
    return make_ticket(workspace=workspace, subject=body[:30], body=body, channel="email")


def _warm(workspace: Workspace, settings: Any) -> None:
    """A worker that has triaged before: its per-process configuration cache and models are loaded."""
    settings.PIVOTDESK_CONFIG_CACHE_SECONDS = 600
    pipeline.triage_ticket(
        ticket_id=_new_ticket(workspace, "我的快递还没到，物流一直不更新，订单号 PD2026010100001").pk
    )


def _sql(count: Count) -> str:
    lines = [f"{i + 1:>3} {q['sql'][:160]}" for i, q in enumerate(count.queries.captured_queries)]
    return "\n".join([*lines, f"by: {dict(count.by)}"])


def test_a_new_ticket_is_triaged_within_the_budget_with_the_same_result(trained, settings):
    # Given a warm worker and a new shipping ticket that names an order
    _warm(trained, settings)
    ticket = _new_ticket(trained, "My laptop package has not arrived, where is my delivery? Order PD2026011512345")
    # When it is triaged
    with counted() as count:
        outcome = pipeline.triage_ticket(ticket_id=ticket.pk)
    # Then the pipeline wrote once: its own statements, the total and the commits are pinned
    assert count.own <= OWN, _sql(count)
    assert len(count.queries) <= TARGET_STATEMENTS, _sql(count)
    assert len(count.commits) <= min(COMMITS, TARGET_COMMITS), count.commits
    assert count.by["ticket_update"] and count.commits == ["COMMIT"]  # one ticket update, in the one transaction
    # and the result is what triage always gave: one run per step
    assert outcome is not None and set(outcome) == set(STEP_ORDER)
    runs = {r.step: r for r in TriageRun.objects.filter(ticket=ticket)}
    assert set(runs) == set(STEP_ORDER)
    assert all(r.status == "succeeded" and r.attempts == 1 and r.finished_at for r in runs.values())
    # the classification applied, with provenance, in one update and one timeline write set
    ticket.refresh_from_db()
    shipping = Category.objects.get(workspace=trained, name="Shipping")
    assert ticket.category_id == shipping.pk and ticket.language == "en"
    category = Prediction.objects.get(ticket=ticket, field="category")
    assert category.status == "applied" and category.model_name.startswith("pivotdesk-") and category.confidence
    assert {p.field for p in Prediction.objects.filter(ticket=ticket)} >= {"language", "category", "sentiment"}
    events = TicketEvent.objects.filter(ticket=ticket, actor_type="ai")
    assert {"language", "category", "custom_fields.order_number"} <= set(events.values_list("field", flat=True))
    assert len({e.actor_label for e in events}) == 1
    # the entity is stored and filled the custom field
    entity = ExtractedEntity.objects.get(ticket=ticket, kind="order_number")
    assert entity.value == "PD2026011512345" and entity.target_field == "order_number"
    assert ticket.custom_fields["order_number"] == "PD2026011512345"


def test_a_failing_step_is_recorded_failed_within_the_budget(trained, settings, monkeypatch):
    # Given a warm worker whose entity extractor is broken
    _warm(trained, settings)

    def broken(ctx: Any) -> None:
        raise RuntimeError("extractor exploded")

    monkeypatch.setitem(pipeline.STEPS, "entities", broken)
    ticket = _new_ticket(trained, "我的手机订阅被重复扣款了，请退款")
    # When the ticket is triaged
    with counted() as count:
        outcome = pipeline.triage_ticket(ticket_id=ticket.pk)
    # Then the step is recorded failed with the reason after its attempts, the others still ran and applied, in the
    # same one write
    assert count.own <= OWN, _sql(count)
    assert len(count.commits) <= min(COMMITS, TARGET_COMMITS), count.commits
    assert outcome is not None and outcome["entities"] == "failed" and outcome["classify"] == "succeeded"
    run = TriageRun.objects.get(ticket=ticket, step="entities")
    assert run.status == "failed" and run.attempts == 2 and "RuntimeError: extractor exploded" in run.error
    ticket.refresh_from_db()
    assert ticket.category_id == Category.objects.get(workspace=trained, name="Billing").pk and ticket.language == "zh"


def test_rerunning_costs_reads_only(trained, settings):
    # Given a triaged ticket
    _warm(trained, settings)
    ticket = _new_ticket(trained, "Forgot my tablet password and the reset link is expired")
    pipeline.triage_ticket(ticket_id=ticket.pk)
    # When it is triaged again (nothing forced)
    with counted() as count:
        outcome = pipeline.triage_ticket(ticket_id=ticket.pk)
    # Then nothing is written and no step runs again: the ticket, its messages, its runs and its entities are read
    assert outcome is not None and set(outcome.values()) == {"unchanged"}
    assert count.commits == [] and len(count.queries) <= 4, _sql(count)
