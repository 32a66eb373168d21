"""The composition root's subscriber table: every event reaches its subscribers in order, and one broken subscriber
stops nobody (it is reported, to be retried alone)."""

from __future__ import annotations

import pytest

from config import subscribers
from config.subscribers import SUBSCRIBERS, dispatch, subscribers_for
from pivotdesk.common.events import DomainEvent, event_types
from pivotdesk.tickets.tests.factories import make_ticket
from pivotdesk.webhooks import tasks as webhook_tasks


class _Recorder:
    """Stands in for a subscriber task: records the events it was called with."""

    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []

    def __call__(self, body: dict[str, object]) -> None:
        self.calls.append(body)

    delay = __call__


class _Broken:
    def __call__(self, body: dict[str, object]) -> None:
        raise ConnectionError("warehouse API down")


recorder = _Recorder()
broken = _Broken()


@pytest.fixture(autouse=True)
def _fresh_recorder():
    recorder.calls.clear()
    yield
    subscribers._task.cache_clear()


def test_every_subscriber_path_names_a_registered_celery_task():
    from config.celery import app

    for paths in SUBSCRIBERS.values():
        for path in paths:
            task = subscribers._task(path)
            assert task.name in app.tasks, path
            assert callable(task.delay)


def test_every_registered_event_reaches_the_webhook_fan_out():
    assert {"ticket.created", "ticket.triaged", "contact.merged", "agent.status_changed"} <= set(event_types())
    for name in event_types():
        assert "pivotdesk.webhooks.tasks.webhook_fan_out" in subscribers_for(name)


def test_specific_subscribers_come_before_the_catch_all(monkeypatch):
    monkeypatch.setitem(SUBSCRIBERS, "ticket.created", ["config.tests.test_subscribers.recorder"])
    assert subscribers_for("ticket.created") == [
        "config.tests.test_subscribers.recorder",
        "pivotdesk.webhooks.tasks.webhook_fan_out",
    ]
    assert subscribers_for("something.else") == ["pivotdesk.webhooks.tasks.webhook_fan_out"]


def test_dispatch_runs_each_subscriber_with_the_event_as_a_dict(monkeypatch):
    monkeypatch.setitem(SUBSCRIBERS, "*", ["config.tests.test_subscribers.recorder"])

    dispatch(DomainEvent(name="ticket.created", workspace_id=7, payload={"ticket_id": 3}))

    assert [{k: v for k, v in c.items() if k != "id"} for c in recorder.calls] == [
        {"name": "ticket.created", "workspace_id": 7, "payload": {"ticket_id": 3}}
    ]


def test_a_broken_or_missing_subscriber_does_not_stop_the_others(monkeypatch, caplog):
    monkeypatch.setitem(
        SUBSCRIBERS,
        "ticket.created",
        [
            "config.tests.test_subscribers.broken",
            "config.tests.no_such_module.task",
            "config.tests.test_subscribers.recorder",
        ],
    )
    monkeypatch.setitem(SUBSCRIBERS, "*", [])

    result = dispatch(DomainEvent(name="ticket.created", workspace_id=1, payload={}))

    assert len(recorder.calls) == 1
    assert result.done == ["config.tests.test_subscribers.recorder"]
    assert sorted(result.failed) == ["config.tests.no_such_module.task", "config.tests.test_subscribers.broken"]
    assert "warehouse API down" in result.failed["config.tests.test_subscribers.broken"]
    failed = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any("config.tests.test_subscribers.broken" in m for m in failed)


def test_dispatch_skips_the_subscribers_already_done(monkeypatch):
    monkeypatch.setitem(SUBSCRIBERS, "ticket.created", ["config.tests.test_subscribers.broken"])
    monkeypatch.setitem(SUBSCRIBERS, "*", ["config.tests.test_subscribers.recorder"])

    result = dispatch(
        DomainEvent(name="ticket.created", workspace_id=1, payload={}),
        frozenset({"config.tests.test_subscribers.broken"}),
    )

    assert result.failed == {} and len(recorder.calls) == 1


@pytest.mark.django_db
def test_no_fan_out_is_queued_for_a_workspace_without_endpoints(
    workspace, monkeypatch, django_capture_on_commit_callbacks
):
    seen = _Recorder()
    monkeypatch.setattr(webhook_tasks.webhook_fan_out, "run", seen)
    with django_capture_on_commit_callbacks(execute=True):
        make_ticket(workspace=workspace)
    assert seen.calls == []


def test_a_committed_ticket_reaches_the_webhook_task_through_the_installed_dispatcher(
    workspace, monkeypatch, django_capture_on_commit_callbacks
):
    from pivotdesk.accounts.actors import Actor
    from pivotdesk.webhooks.services.endpoints import webhook_endpoint_create

    webhook_endpoint_create(workspace=workspace, url="http://127.0.0.1:9/hook", actor=Actor.system())
    seen = _Recorder()
    monkeypatch.setattr(webhook_tasks.webhook_fan_out, "run", seen)

    with django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(workspace=workspace)
        assert seen.calls == []  # nothing is published before the commit

    created = [c for c in seen.calls if c["name"] == "ticket.created"]
    assert len(created) == 1 and created[0].pop("id")  # every event carries its own id
    assert created == [
        {
            "name": "ticket.created",
            "workspace_id": workspace.pk,
            "payload": {"ticket_id": ticket.pk, "channel": "web_form"},
        }
    ]


def test_a_new_ticket_is_triaged_then_routed_then_given_its_sla_then_paged_in_one_pass():
    assert SUBSCRIBERS["ticket.created"] == [
        "pivotdesk.ai.tasks.triage_on_event",
        # triggers read what triage found and may set the team or assign before routing picks an agent
        "pivotdesk.automation.tasks.triggers_on_event",
        "pivotdesk.routing.tasks.route_on_created",
        "pivotdesk.sla.tasks.sla_apply_on_event",
        # night duty reads the triaged priority and category; the after-hours reply says whether it paged
        "pivotdesk.oncall.tasks.page_on_event",
        "pivotdesk.oncall.tasks.after_hours_on_event",
    ]


def test_a_new_tickets_triage_publishes_ticket_triaged(workspace, settings, django_capture_on_commit_callbacks):
    from pivotdesk.ai import tasks as ai_tasks
    from pivotdesk.common import events

    settings.PIVOTDESK_AI_ENABLED = False  # the pipeline does nothing, but the event still tells routing to go
    ticket = make_ticket(workspace=workspace)
    with events.record_events() as seen, django_capture_on_commit_callbacks(execute=True):
        ai_tasks.triage_on_event(
            {"name": "ticket.created", "workspace_id": workspace.pk, "payload": {"ticket_id": ticket.pk}}
        )
        ai_tasks.triage_on_event(
            {"name": "message.created", "workspace_id": workspace.pk, "payload": {"ticket_id": ticket.pk}}
        )
    assert [(e.name, e.payload["ticket_id"]) for e in seen] == [("ticket.triaged", ticket.pk)]
