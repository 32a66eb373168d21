"""Macros: bilingual bundles of actions, personal / team / shared, previewed with placeholders filled, applied as the
agent (edited reply text wins), counted, and suggested by the ticket's category."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.tests.factories import AgentFactory, TeamFactory
from pivotdesk.automation.models import Macro
from pivotdesk.automation.services import macros
from pivotdesk.common.errors import NotFound, PermissionDenied, ValidationFailed
from pivotdesk.tickets.models import Category, Message
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db
REFUND = [
    {
        "type": "reply",
        "zh": "{{ requester.name }}您好，退款已受理（#{{ ticket.number }}）。",
        "en": "Hi {{ requester.name }}, refund accepted (#{{ ticket.number }}).",
    },
    {"type": "add_tags", "tags": ["退款"]},
    {"type": "set", "field": "status", "value": "pending"},
]


def _shared(supervisor, **kwargs):
    values = {"name": "退款受理", "name_en": "Refund accepted", "actions": REFUND} | kwargs
    return macros.macro_save(actor=Actor.for_agent(supervisor), workspace=supervisor.workspace, **values)


@pytest.mark.parametrize(("language", "start"), [("zh-hans", "李雷您好"), ("en", "Hi 李雷")])
def test_preview_then_apply_in_the_customers_language(workspace, supervisor, agent, language, start):
    macro = _shared(supervisor)
    ticket = make_ticket(workspace=workspace, language=language)
    ticket.requester.name = "李雷"
    ticket.requester.save()
    shown = macros.macro_preview(agent=agent, macro=macro, ticket=ticket)
    assert shown.reply.startswith(start) and f"#{ticket.number}" in shown.reply
    assert [c["type"] for c in shown.changes] == ["add_tags", "set"]
    assert not Message.objects.filter(ticket=ticket, kind="public", author_agent=agent).exists()  # preview sent nothing
    results = macros.macro_apply(actor=Actor.for_agent(agent), macro=macro, ticket=ticket)
    assert all(r["ok"] for r in results), results
    ticket.refresh_from_db()
    reply = Message.objects.get(ticket=ticket, kind="public", author_agent=agent)
    assert reply.body_text.startswith(start) and ticket.status == "pending"
    assert set(ticket.tags.values_list("name", flat=True)) == {"退款"}
    assert Macro.objects.get(pk=macro.pk).usage_count == 1


def test_the_agents_edited_reply_is_what_goes_out(workspace, supervisor, agent):
    macro = _shared(supervisor)
    ticket = make_ticket(workspace=workspace, language="zh-hans")
    macros.macro_apply(
        actor=Actor.for_agent(agent), macro=macro, ticket=ticket, reply="已为您办理退款，三个工作日内到账。"
    )
    assert Message.objects.get(ticket=ticket, author_agent=agent).body_text == "已为您办理退款，三个工作日内到账。"


def test_who_sees_and_keeps_which_macros(workspace, supervisor, agent):
    team = TeamFactory(workspace=workspace)
    team.members.add(agent)
    outsider = AgentFactory(workspace=workspace)
    shared = _shared(supervisor)
    team_macro = _shared(supervisor, name="团队", scope="team", team=team)
    mine = macros.macro_save(
        actor=Actor.for_agent(agent),
        workspace=workspace,
        name="我的",
        scope="personal",
        actions=[{"type": "note", "text": "回访"}],
    )
    assert {m.pk for m in macros.macros_for(agent=agent)} == {shared.pk, team_macro.pk, mine.pk}
    assert {m.pk for m in macros.macros_for(agent=outsider)} == {shared.pk}
    assert {m.pk for m in macros.macros_for(agent=agent, query="refund")} == {shared.pk, team_macro.pk}
    assert [m.pk for m in macros.macros_for(agent=agent, query="我的")] == [mine.pk]
    with pytest.raises(PermissionDenied):
        _shared(agent, name="共享")  # shared macros are the supervisors'
    with pytest.raises(PermissionDenied):
        macros.macro_save(
            actor=Actor.for_agent(outsider),
            workspace=workspace,
            name="x",
            scope="personal",
            actions=[{"type": "note", "text": "x"}],
            macro=mine,
        )
    with pytest.raises(NotFound):
        macros.macro_apply(actor=Actor.for_agent(outsider), macro=mine, ticket=make_ticket(workspace=workspace))


def test_suggestions_put_the_tickets_category_first(workspace, supervisor, agent):
    billing = Category.objects.create(workspace=workspace, name="账单")
    refunds = Category.objects.create(workspace=workspace, name="退款", parent=billing)
    popular = _shared(supervisor, name="常用")
    Macro.objects.filter(pk=popular.pk).update(usage_count=50)
    fitting = _shared(supervisor, name="账单类", category=billing)
    ticket = make_ticket(workspace=workspace, category=refunds)
    assert [m.pk for m in macros.macros_for(agent=agent, ticket=ticket)][:2] == [fitting.pk, popular.pk]


def test_bad_macros_are_refused_with_a_reason(workspace, supervisor):
    for actions in ([], [{"type": "webhook"}], [{"type": "set", "field": "priority", "value": "asap"}]):
        with pytest.raises(ValidationFailed):
            _shared(supervisor, name=f"bad {len(str(actions))}", actions=actions)
