"""The rules, macros and approvals API: supervisors keep rules (admin-scope token), anyone previews what a rule would
do only with the permission, agents list and apply their macros and decide the approvals that wait for them."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.automation.models import ApprovalFlow, Rule
from pivotdesk.automation.services import approvals, macros
from pivotdesk.tickets.models import Message
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db
URGENT = {"all": [{"field": "priority", "op": "is", "value": "urgent"}]}


def test_a_supervisor_keeps_rules_through_the_api(api_client_for, supervisor, agent, workspace, other_workspace):
    boss = api_client_for(supervisor, scope="admin")
    body = {"name": "Urgent tag", "conditions": URGENT, "actions": [{"type": "add_tags", "tags": ["urgent"]}]}
    created = boss.post("/api/v1/rules/", body, content_type="application/json")
    assert created.status_code == 201, created.content
    rule_id = created.json()["id"]
    changed = boss.put(f"/api/v1/rules/{rule_id}/", {**body, "active": False}, content_type="application/json")
    assert changed.status_code == 200 and changed.json()["version"] == 2 and changed.json()["active"] is False
    assert [r["id"] for r in boss.get("/api/v1/rules/?kind=trigger").json()] == [rule_id]
    make_ticket(workspace=workspace, priority="urgent")
    make_ticket(workspace=workspace, priority="low")
    rows = boss.get(f"/api/v1/rules/{rule_id}/preview/").json()
    assert sorted(r["fires"] for r in rows) == [False, True]
    bad = boss.post(
        "/api/v1/rules/",
        {"name": "Bad", "conditions": {"all": [{"field": "subject", "op": "matches", "value": "(a+)+"}]}},
        content_type="application/json",
        headers={"accept-language": "zh-hans"},
    )
    assert bad.status_code == 422 and "all.0" in str(bad.json()["details"]) and "重复" in bad.json()["message"]
    assert (
        api_client_for(agent, scope="admin").post("/api/v1/rules/", body, content_type="application/json").status_code
        == 403
    )
    assert api_client_for(agent).get("/api/v1/rules/").status_code == 403
    stranger = api_client_for(_boss(other_workspace))
    assert stranger.get(f"/api/v1/rules/{rule_id}/preview/").status_code == 404
    assert Rule.objects.count() == 1


def _boss(workspace):
    from pivotdesk.accounts.models import Role
    from pivotdesk.accounts.tests.factories import AgentFactory

    return AgentFactory(workspace=workspace, role=Role.SUPERVISOR)


def test_an_agent_lists_and_applies_a_macro(api_client_for, supervisor, agent, workspace):
    macro = macros.macro_save(
        actor=Actor.for_agent(supervisor),
        workspace=workspace,
        name="已收到",
        name_en="Received",
        actions=[{"type": "reply", "zh": "已收到 #{{ ticket.number }}", "en": "Got #{{ ticket.number }}"}],
    )
    ticket = make_ticket(workspace=workspace, language="zh-hans")
    me = api_client_for(agent)
    assert [m["id"] for m in me.get(f"/api/v1/macros/?q=收到&ticket_number={ticket.number}").json()] == [macro.pk]
    applied = me.post(
        f"/api/v1/macros/{macro.pk}/apply/", {"ticket_number": ticket.number}, content_type="application/json"
    )
    assert applied.status_code == 200 and applied.json()[0]["ok"] is True
    assert Message.objects.get(ticket=ticket, author_agent=agent).body_text == f"已收到 #{ticket.number}"
    missing = me.post(f"/api/v1/macros/{macro.pk}/apply/", {"ticket_number": 999999}, content_type="application/json")
    assert missing.status_code == 404


def test_an_approver_decides_through_the_api(api_client_for, supervisor, agent, workspace):
    flow = ApprovalFlow.objects.create(
        workspace=workspace,
        name="贷款",
        stages=[{"key": "risk", "name": "风控审核", "approvers": {"agents": [agent.pk]}, "rule": "any"}],
    )
    approval = approvals.approval_start(actor=Actor.system(), ticket=make_ticket(workspace=workspace), flow=flow)
    me = api_client_for(agent)
    (waiting,) = me.get("/api/v1/approvals/").json()
    assert waiting["id"] == approval.pk and waiting["stages"][0]["status"] == "current"
    no_reason = me.post(
        f"/api/v1/approvals/{approval.pk}/decide/", {"verdict": "reject"}, content_type="application/json"
    )
    assert no_reason.status_code == 422
    assert (
        api_client_for(supervisor)
        .post(f"/api/v1/approvals/{approval.pk}/decide/", {"verdict": "approve"}, content_type="application/json")
        .status_code
        == 403
    )  # not an approver of this stage
    done = me.post(f"/api/v1/approvals/{approval.pk}/decide/", {"verdict": "approve"}, content_type="application/json")
    assert done.status_code == 200 and done.json()["status"] == "approved" and done.json()["percent"] == 100
