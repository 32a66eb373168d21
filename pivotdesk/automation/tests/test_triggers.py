"""Triggers and time rules through the services: each action, once per event and ticket, loop protection across
the rule's own changes, time rules once per period even with two sweeps, and the preview equal to what happens."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import translation

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.tests.factories import AgentFactory, TeamFactory
from pivotdesk.automation.models import Rule, RuleKind, RuleRun, RuleVersion
from pivotdesk.automation.services import rules, triggers
from pivotdesk.common.errors import PermissionDenied, ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.tickets.models import Message, Ticket, TicketEvent
from pivotdesk.tickets.services import ticket_update
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


def _event(ticket: Ticket, name: str = "ticket.created", **payload: object) -> dict[str, object]:
    return {
        "id": str(uuid.uuid4()),
        "name": name,
        "workspace_id": ticket.workspace_id,
        "payload": {"ticket_id": ticket.pk, **payload},
    }


def _rule(supervisor, name, conditions, actions, kind=RuleKind.TRIGGER):
    return rules.rule_save(
        actor=Actor.for_agent(supervisor),
        workspace=supervisor.workspace,
        name=name,
        conditions=conditions,
        actions=actions,
        kind=kind,
    )


def _tags(ticket: Ticket) -> set[str]:
    return set(Ticket.objects.get(pk=ticket.pk).tags.values_list("name", flat=True))


def test_a_trigger_fires_its_actions_once_per_event(workspace, supervisor):
    team = TeamFactory(workspace=workspace)
    rule = _rule(
        supervisor,
        "Urgent to the night team",
        {
            "all": [
                {"field": "event", "op": "is", "value": "ticket.created"},
                {"field": "priority", "op": "is", "value": "urgent"},
            ]
        },
        [{"type": "add_tags", "tags": ["夜间"]}, {"type": "set", "field": "team", "value": team.pk}],
    )
    ticket = make_ticket(workspace=workspace, subject="down", priority="urgent")
    quiet = make_ticket(workspace=workspace, subject="question", priority="low")
    event = _event(ticket)
    (run,) = triggers.run_for_event(actor=SYSTEM, event=event)
    assert run.ok and [r["type"] for r in run.results] == ["add_tags", "set"]
    ticket.refresh_from_db()
    assert _tags(ticket) == {"夜间"} and ticket.team_id == team.pk
    assert triggers.run_for_event(actor=SYSTEM, event=event) == []  # the same event again: nothing twice
    assert triggers.run_for_event(actor=SYSTEM, event=_event(quiet)) == []
    rule.refresh_from_db()
    assert rule.fired_count == 1 and rule.last_fired_at is not None
    entry = TicketEvent.objects.get(ticket=ticket, verb="automation_fired")
    assert entry.actor_type == "rule" and entry.data["name"] == "Urgent to the night team"
    from pivotdesk.automation.timeline import automation_sentence

    with translation.override("zh-hans"):
        assert "规则" in str(automation_sentence(entry, "")) and "添加了标签" in str(automation_sentence(entry, ""))
    with translation.override("en"):
        assert str(automation_sentence(entry, "")).startswith("Rule “Urgent to the night team” fired: added tags")


def test_rules_that_undo_each_other_stop_and_their_own_changes_do_not_refire(workspace, supervisor):
    _rule(
        supervisor,
        "A",
        {"all": [{"field": "tags", "op": "not_contains", "value": "x"}]},
        [{"type": "add_tags", "tags": ["x"]}],
    )
    _rule(
        supervisor,
        "B",
        {"all": [{"field": "tags", "op": "contains", "value": "x"}]},
        [{"type": "remove_tags", "tags": ["x"]}],
    )
    ticket = make_ticket(workspace=workspace)
    runs = triggers.run_for_event(actor=SYSTEM, event=_event(ticket))
    assert [r.rule.name for r in runs] == ["A", "B"]  # each once: the cycle ends
    # the rules' own changes published ticket.updated with actor_type "rule": that event fires nothing
    assert (
        triggers.run_for_event(actor=SYSTEM, event=_event(ticket, "ticket.updated", fields=["tags"], actor_type="rule"))
        == []
    )


def test_field_changed_to_and_customer_replied(workspace, supervisor, agent):
    _rule(
        supervisor,
        "Raised to urgent",
        {"all": [{"field": "priority", "op": "changed_to", "value": "urgent"}]},
        [{"type": "note", "text": "升级为紧急：#{{ ticket.number }}"}],
    )
    _rule(
        supervisor,
        "Complaint words",
        {
            "all": [
                {"field": "event", "op": "is", "value": "customer.replied"},
                {"field": "body", "op": "contains_any_words", "value": ["投诉", "complaint"]},
            ]
        },
        [{"type": "set", "field": "priority", "value": "high"}],
    )
    ticket = make_ticket(workspace=workspace, priority="normal")
    ticket_update(ticket=ticket, actor=Actor.for_agent(agent), changes={"priority": "urgent"})
    (_run,) = triggers.run_for_event(
        actor=SYSTEM, event=_event(ticket, "ticket.updated", fields=["priority"], actor_type="agent")
    )
    note = Message.objects.filter(ticket=ticket, kind="note").latest("pk")
    assert note.body_text == f"升级为紧急：#{ticket.number}"
    other = make_ticket(workspace=workspace, priority="low")
    from pivotdesk.tickets.services import message_create

    said = message_create(
        ticket=other, actor=Actor.for_contact(other.requester_id), body="我要投诉你们", as_customer=True
    )
    event = _event(other, "message.created", message_id=said.pk, kind="public", author_type="contact")
    assert [r.rule.name for r in triggers.run_for_event(actor=SYSTEM, event=event)] == ["Complaint words"]
    other.refresh_from_db()
    assert other.priority == "high"


@pytest.mark.parametrize(("language", "expected"), [("zh-hans", "您好 张三"), ("en", "Hello 张三")])
def test_a_reply_goes_out_in_the_customers_language_with_placeholders(workspace, supervisor, language, expected):
    _rule(
        supervisor,
        "Acknowledge",
        {"all": [{"field": "event", "op": "is", "value": "ticket.created"}]},
        [
            {
                "type": "reply",
                "zh": "您好 {{ requester.name }}，已收到 #{{ticket.number}}。",
                "en": "Hello {{ requester.name }}, we got #{{ ticket.number }}.",
            }
        ],
    )
    ticket = make_ticket(workspace=workspace, language=language)
    ticket.requester.name = "张三"
    ticket.requester.save()
    triggers.run_for_event(actor=SYSTEM, event=_event(ticket))
    reply = Message.objects.filter(ticket=ticket, kind="public").latest("pk")
    assert reply.body_text.startswith(expected) and f"#{ticket.number}" in reply.body_text


def test_a_failing_action_is_recorded_and_the_others_still_run(workspace, supervisor):
    outsider = AgentFactory()  # another workspace: the ticket service refuses the assignment
    _rule(
        supervisor,
        "Half broken",
        {"all": []},
        [{"type": "assign", "agent": outsider.pk}, {"type": "add_tags", "tags": ["seen"]}],
    )
    ticket = make_ticket(workspace=workspace)
    (run,) = triggers.run_for_event(actor=SYSTEM, event=_event(ticket))
    assert [r["ok"] for r in run.results] == [False, True] and not run.ok
    assert _tags(ticket) == {"seen"}


def test_time_rule_fires_once_per_period_even_with_two_sweeps(workspace, supervisor):
    rule = _rule(
        supervisor,
        "Remind after 72 h",
        {
            "all": [
                {"field": "status", "op": "is", "value": "pending"},
                {"field": "hours_since_updated", "op": "gte", "value": 72},
            ]
        },
        [{"type": "note", "text": "提醒客户"}],
        kind=RuleKind.TIME,
    )
    old = make_ticket(workspace=workspace, status="pending")
    fresh = make_ticket(workspace=workspace, status="pending")
    Ticket.objects.filter(pk=old.pk).update(updated_at=now() - dt.timedelta(hours=80))
    assert triggers.sweep(actor=SYSTEM) == 1
    assert triggers.sweep(actor=SYSTEM) == 0  # a second scheduler, or the next hour: the same period
    assert RuleRun.objects.filter(rule=rule).count() == 1 and RuleRun.objects.get(rule=rule).ticket_id == old.pk
    assert not RuleRun.objects.filter(ticket=fresh).exists()


def test_the_preview_is_what_the_rule_then_does(workspace, supervisor):
    rule = _rule(
        supervisor,
        "Urgent or VIP words",
        {
            "any": [
                {"field": "priority", "op": "is", "value": "urgent"},
                {"field": "subject", "op": "contains_any_words", "value": ["VIP"]},
            ]
        },
        [{"type": "add_tags", "tags": ["watch"]}],
    )
    tickets = [
        make_ticket(workspace=workspace, subject=subject, priority=priority)
        for subject, priority in [
            ("VIP order", "low"),
            ("printer", "urgent"),
            ("printer", "low"),
            ("vip lounge", "normal"),
        ]
    ]
    shown = {row["ticket"].pk: row["fires"] for row in rules.preview(actor=Actor.for_agent(supervisor), rule=rule)}
    done = {
        t.pk: bool(triggers.run_for_event(actor=SYSTEM, event=_event(t, "ticket.updated", fields=["subject"])))
        for t in tickets
    }
    assert shown == done and sum(done.values()) == 3


def test_rules_are_versioned_validated_and_for_supervisors(workspace, supervisor, agent):
    rule = _rule(supervisor, "R", {"all": []}, [{"type": "add_tags", "tags": ["a"]}])
    rules.rule_save(
        actor=Actor.for_agent(supervisor),
        workspace=workspace,
        name="R",
        conditions={"all": []},
        actions=[{"type": "add_tags", "tags": ["b"]}],
        rule=rule,
    )
    assert list(RuleVersion.objects.filter(rule=rule).values_list("version", flat=True).order_by("version")) == [1, 2]
    with pytest.raises(PermissionDenied):
        _rule(agent, "Mine", {"all": []}, [])
    with translation.override("zh-hans"), pytest.raises(ValidationFailed) as bad:
        _rule(supervisor, "Bad", {"all": [{"field": "nope", "op": "is", "value": 1}]}, [])
    assert "all.0" in str(bad.value.details) and bad.value.message
    with pytest.raises(ValidationFailed):
        _rule(supervisor, "Bad action", {"all": []}, [{"type": "explode"}])
    assert Rule.objects.filter(workspace=workspace).count() == 1


def test_a_cycle_publishes_one_update_and_records_its_runs_in_a_few_statements(workspace, supervisor):
    """Three rules change tags, priority and tags again: one ticket.updated for the cycle (not three), and the
    cycle's run rows, timeline entries and counters are one statement each, however many rules fired."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from pivotdesk.common.models import EventRecord

    created = {"field": "event", "op": "is", "value": "ticket.created"}
    for name, actions in (
        ("tag", [{"type": "add_tags", "tags": ["a"]}]),
        ("raise", [{"type": "set", "field": "priority", "value": "high"}]),
        ("tag again", [{"type": "add_tags", "tags": ["b"]}]),
    ):
        _rule(supervisor, name, {"all": [created]}, actions)
    ticket = make_ticket(workspace=workspace, subject="s", priority="low")
    before = set(EventRecord.objects.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        runs = triggers.run_for_event(actor=SYSTEM, event=_event(ticket))
    assert len(runs) == 3
    published = EventRecord.objects.exclude(pk__in=before)
    assert list(published.values_list("name", "payload")) == [
        ("ticket.updated", {"ticket_id": ticket.pk, "fields": ["tags", "priority"], "actor_type": "rule"})
    ]
    sql = [q["sql"] for q in queries.captured_queries]
    assert sum(s.startswith('INSERT INTO "automation_rulerun"') for s in sql) == 1
    assert sum(s.startswith('UPDATE "automation_rule"') for s in sql) == 1
    assert sum('"verb"' in s and s.startswith('INSERT INTO "tickets_ticketevent"') for s in sql) <= 4
    assert sum(s.startswith('SELECT "tickets_ticket"') for s in sql) <= 4  # read once, then kept by the actions
    assert set(Rule.objects.values_list("fired_count", flat=True)) == {1}


def test_the_compiled_triggers_follow_every_change_of_the_rules(workspace, supervisor):
    """A worker keeps its compiled triggers while the rules are unchanged; a save, a switch, a reorder and a
    delete are each seen at the next event."""
    created = {"field": "event", "op": "is", "value": "ticket.created"}
    first = _rule(supervisor, "first", {"all": [created]}, [{"type": "add_tags", "tags": ["one"]}])
    second = _rule(supervisor, "second", {"all": [created]}, [{"type": "add_tags", "tags": ["two"]}])

    def fired() -> list[str]:
        ticket = make_ticket(workspace=workspace, subject="s")
        return [run.rule.name for run in triggers.run_for_event(actor=SYSTEM, event=_event(ticket))]

    assert fired() == ["first", "second"]
    compiled = triggers.triggers_for(workspace.pk)[1]
    assert triggers.triggers_for(workspace.pk)[1] is compiled  # unchanged rules: the same compiled list
    rules.rule_save(
        actor=Actor.for_agent(supervisor),
        workspace=workspace,
        name="first",
        conditions={"all": [created, {"field": "priority", "op": "is", "value": "urgent"}]},
        actions=[{"type": "add_tags", "tags": ["one"]}],
        rule=first,
    )
    assert fired() == ["second"]
    rules.rules_reorder(
        actor=Actor.for_agent(supervisor), workspace=workspace, kind=RuleKind.TRIGGER, rule_ids=[second.pk, first.pk]
    )
    rules.rule_save(
        actor=Actor.for_agent(supervisor),
        workspace=workspace,
        name="first",
        conditions={"all": [created]},
        actions=[{"type": "add_tags", "tags": ["one"]}],
        rule=first,
    )
    assert fired() == ["second", "first"]
    rules.rule_set_active(actor=Actor.for_agent(supervisor), rule=second, active=False)
    assert fired() == ["first"]
    rules.rule_delete(actor=Actor.for_agent(supervisor), rule=first)
    assert fired() == []
