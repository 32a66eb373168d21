"""Approval flows through the services and the one-click link: quorum rules, send back → resubmit → resume,
delegation, single-use links, snapshots, isolation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Role
from pivotdesk.accounts.tests.factories import AgentFactory, TeamFactory, UserFactory
from pivotdesk.automation.models import Approval, ApprovalFlow, ApprovalLink, ApprovalStatus
from pivotdesk.automation.services import approvals
from pivotdesk.automation.services.approvals import (
    approval_cancel,
    approval_decide,
    approval_resubmit,
    approval_start,
    approval_start_for_rule,
    check_link,
    decide_by_link,
    delegation_set,
    flow_save,
    progress_of,
    resolve_approvers,
    resubmit_on_customer_reply,
    waiting_for,
)
from pivotdesk.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from pivotdesk.common.models import EventRecord
from pivotdesk.common.time import now
from pivotdesk.customers.tests.factories import ContactFactory
from pivotdesk.notifications.models import Notification
from pivotdesk.tickets.models import Message, Ticket, TicketEvent
from pivotdesk.tickets.tests.factories import make_ticket
from pivotdesk.workforce.models import Leave

pytestmark = pytest.mark.django_db


# --- helpers -----------------------------------------------------------------------------------------------------


def _agents(workspace: Any, count: int) -> list[AgentProfile]:
    return [AgentFactory(workspace=workspace, role=Role.AGENT) for _ in range(count)]


def _stage(key: str, people: list[AgentProfile], rule: str = "any", n: int = 1, items: tuple[str, ...] = ()) -> dict:
    return {
        "key": key,
        "name": {"risk": "风控审核", "legal": "法务合规", "finance": "财务确认"}.get(key, key),
        "approvers": {"agents": [a.pk for a in people]},
        "rule": rule,
        "n": n,
        "required_items": list(items),
    }


def _flow(supervisor: AgentProfile, *stages: dict, name: str = "贷款审批") -> ApprovalFlow:
    return flow_save(actor=Actor.for_agent(supervisor), workspace=supervisor.workspace, name=name, stages=list(stages))


def _start(agent: AgentProfile, ticket: Ticket, flow: ApprovalFlow) -> Approval:
    return approval_start(actor=Actor.for_agent(agent), ticket=ticket, flow=flow)


def _decide(agent: AgentProfile, approval: Approval, verdict: str = "approve", **kw: Any) -> Approval:
    return approval_decide(actor=Actor.for_agent(agent), approval=approval, verdict=verdict, **kw)


def _token(approval: Approval, agent: AgentProfile) -> str:
    """The raw link token as it went out (the URL of the agent's latest approval notification)."""
    n = Notification.objects.filter(recipient=agent, kind="automation.approval", ticket=approval.ticket).latest("pk")
    return n.url.rstrip("/").rsplit("/", 1)[1]


def _verbs(ticket: Ticket) -> list[str]:
    return list(TicketEvent.objects.filter(ticket=ticket).order_by("pk").values_list("verb", flat=True))


# --- quorum rules ------------------------------------------------------------------------------------------------


def test_any_one_approver_completes_the_stage_and_the_last_stage_approves_the_ticket(workspace, supervisor, agent):
    a, b = _agents(workspace, 2)
    ticket = make_ticket(workspace=workspace)
    approval = _start(agent, ticket, _flow(supervisor, _stage("risk", [a, b])))
    assert approval.status == ApprovalStatus.PENDING and sorted(approval.waiting_on) == sorted([a.pk, b.pk])
    approval = _decide(b, approval, comment="ok")
    assert approval.status == ApprovalStatus.APPROVED and approval.waiting_on == []
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert Message.objects.filter(ticket=ticket, kind="note").exists()
    assert EventRecord.objects.filter(name="automation.approval_decided", payload__approval_id=approval.pk).exists()


def test_all_waits_for_every_approver(workspace, supervisor, agent):
    a, b, c = _agents(workspace, 3)
    flow = _flow(supervisor, _stage("risk", [a, b], rule="all"), _stage("legal", [c]))
    approval = _start(agent, make_ticket(workspace=workspace), flow)
    approval = _decide(a, approval)
    assert (approval.stage_key, approval.waiting_on) == ("risk", [b.pk])
    with pytest.raises(Conflict):
        _decide(a, approval)  # already decided
    approval = _decide(b, approval)
    assert (approval.stage_key, approval.waiting_on, approval.status) == ("legal", [c.pk], ApprovalStatus.PENDING)
    assert Notification.objects.filter(recipient=c, kind="automation.approval").count() == 1


def test_two_of_three_moves_on_at_the_second_approval(workspace, supervisor, agent):
    a, b, c, d = _agents(workspace, 4)
    flow = _flow(supervisor, _stage("risk", [a, b, c], rule="n_of_m", n=2), _stage("legal", [d]))
    approval = _start(agent, make_ticket(workspace=workspace), flow)
    approval = _decide(c, approval)
    assert approval.stage_key == "risk" and sorted(approval.waiting_on) == sorted([a.pk, b.pk])
    assert progress_of(approval).stages[0].approvals == 1
    approval = _decide(a, approval)
    assert approval.stage_key == "legal" and approval.waiting_on == [d.pk]
    shown = progress_of(approval)
    assert [s.status for s in shown.stages] == ["done", "current"] and shown.percent == 50
    assert [x.pk for x in waiting_for(d)] == [approval.pk] and waiting_for(a) == []


# --- send back, resubmit, resume ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "words"),
    [("zh-hans", ("未获批准", "原因：需补充抵押物证明", "请补充以下材料：", "- 抵押物证明")),
     ("en", ("was not approved", "Reason: 需补充抵押物证明", "Please provide:", "- 抵押物证明"))],
)  # fmt: skip
def test_a_rejection_answers_the_customer_in_their_language_and_resubmission_resumes_there(
    workspace, supervisor, agent, language, words
):
    risk, legal, finance = _agents(workspace, 3)
    flow = _flow(
        supervisor,
        _stage("risk", [risk]),
        _stage("legal", [legal], items=("抵押物证明", "收入证明")),
        _stage("finance", [finance]),
    )
    ticket = make_ticket(workspace=workspace, language=language)
    approval = _decide(risk, _start(agent, ticket, flow))
    with pytest.raises(ValidationFailed):
        _decide(legal, approval, "reject")  # a rejection needs a reason
    approval = _decide(legal, approval, "reject", reason="需补充抵押物证明", missing_items=["抵押物证明"])
    assert approval.status == ApprovalStatus.REJECTED
    reply = Message.objects.filter(ticket=ticket, kind="public", author_type="system").latest("pk").body_text
    assert all(w in reply for w in words), reply
    assert "法务合规" in reply
    ticket.refresh_from_db()
    assert ticket.status == "pending"
    approval = approval_resubmit(actor=Actor.for_agent(agent), approval=approval, provided_items=["抵押物证明"])
    assert (approval.status, approval.stage_key, approval.waiting_on) == ("pending", "legal", [legal.pk])
    assert approval.state["round"] == 2
    approval = _decide(legal, approval)
    assert approval.stage_key == "finance"
    decided = TicketEvent.objects.filter(ticket=ticket, verb="approval_decided").order_by("pk")
    assert [e.data["verdict"] for e in decided] == ["approve", "reject", "approve"]
    assert decided[1].data["reason"] == "需补充抵押物证明" and decided[1].data["missing_items"] == ["抵押物证明"]
    assert {"approval_started", "approval_decided", "approval_resubmitted"} <= set(_verbs(ticket))


def test_the_requesters_reply_resubmits_a_request_for_changes(workspace, supervisor, agent):
    a = _agents(workspace, 1)[0]
    ticket = make_ticket(workspace=workspace)
    approval = _decide(a, _start(agent, ticket, _flow(supervisor, _stage("risk", [a]))), "changes", reason="补材料")
    assert approval.status == ApprovalStatus.CHANGES_REQUESTED
    with pytest.raises(PermissionDenied):
        resubmit_on_customer_reply(actor=Actor.for_agent(agent), ticket=ticket)
    again = resubmit_on_customer_reply(actor=Actor.system("test"), ticket=ticket)
    assert again is not None and again.status == ApprovalStatus.PENDING and again.waiting_on == [a.pk]
    assert resubmit_on_customer_reply(actor=Actor.system("test"), ticket=ticket) is None  # nothing sent back now
    assert Notification.objects.filter(recipient=a, kind="automation.approval").count() == 2  # a fresh link


# --- who may act -------------------------------------------------------------------------------------------------


def test_an_outsider_is_refused_with_a_translated_message(workspace, supervisor, agent):
    a, outsider = _agents(workspace, 2)
    approval = _start(agent, make_ticket(workspace=workspace), _flow(supervisor, _stage("risk", [a])))
    for language, message in (("zh-hans", "你不是此阶段的审批人。"), ("en", "You are not an approver of this stage.")):
        with translation.override(language), pytest.raises(PermissionDenied) as err:
            _decide(outsider, approval)
        assert err.value.message == message
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING


def test_an_agent_of_another_workspace_cannot_decide(workspace, other_workspace, supervisor, agent):
    a = _agents(workspace, 1)[0]
    approval = _start(agent, make_ticket(workspace=workspace), _flow(supervisor, _stage("risk", [a])))
    stranger = AgentFactory(workspace=other_workspace, role=Role.ADMIN, user=a.user)  # even the same person
    with pytest.raises((PermissionDenied, NotFound)):
        _decide(stranger, approval)
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING


def test_starting_needs_a_ticket_updater_and_one_open_approval_per_ticket(workspace, supervisor, agent, light_agent):
    a = _agents(workspace, 1)[0]
    flow = _flow(supervisor, _stage("risk", [a]))
    ticket = make_ticket(workspace=workspace)
    with pytest.raises(PermissionDenied):
        _start(light_agent, ticket, flow)
    assert approval_start_for_rule(ticket=ticket, flow_id=flow.pk, actor=Actor(kind="rule", label="r")) == flow.name
    with pytest.raises(Conflict):
        _start(agent, ticket, flow)
    with pytest.raises(NotFound):
        approval_start_for_rule(ticket=make_ticket(workspace=workspace), flow_id=flow.pk + 999, actor=Actor.system())


# --- delegation --------------------------------------------------------------------------------------------------


def test_a_delegation_row_hands_the_slot_to_the_delegate(workspace, supervisor, agent):
    a, delegate = _agents(workspace, 2)
    at = now()
    delegation_set(actor=Actor.for_agent(a), agent=a, delegate=delegate, start=at - dt.timedelta(hours=1),
                   end=at + dt.timedelta(days=3))  # fmt: skip
    with pytest.raises(PermissionDenied):  # an agent sets only their own
        delegation_set(actor=Actor.for_agent(agent), agent=a, delegate=agent, start=at, end=at + dt.timedelta(days=1))
    ticket = make_ticket(workspace=workspace)
    approval = _start(agent, ticket, _flow(supervisor, _stage("risk", [a])))
    assert approval.waiting_on == [delegate.pk]
    with pytest.raises(PermissionDenied):
        _decide(a, approval)  # on leave: the delegate decides
    approval = _decide(delegate, approval)
    assert approval.status == ApprovalStatus.APPROVED
    entry = TicketEvent.objects.get(ticket=ticket, verb="approval_decided")
    assert (entry.data["agent"], entry.data["for"]) == (delegate.pk, a.pk)


def test_an_approver_on_workforce_leave_is_replaced_by_their_team_lead(workspace, supervisor, agent):
    a, lead = _agents(workspace, 2)
    team = TeamFactory(workspace=workspace, lead=lead)
    team.members.add(a, lead)
    Leave.objects.create(workspace=workspace, agent=a, start=now() - dt.timedelta(hours=2),
                         end=now() + dt.timedelta(days=2))  # fmt: skip
    approval = _start(agent, make_ticket(workspace=workspace), _flow(supervisor, _stage("risk", [a])))
    assert approval.waiting_on == [lead.pk]
    assert _token(approval, lead)  # the lead got the link, not the absent approver
    assert not Notification.objects.filter(recipient=a, kind="automation.approval").exists()
    assert _decide(lead, approval).status == ApprovalStatus.APPROVED


def test_approvers_resolve_from_team_role_and_manager(workspace, supervisor, agent):
    member, lead, other_lead = _agents(workspace, 3)
    team = TeamFactory(workspace=workspace, lead=lead)
    team.members.add(member)
    TeamFactory(workspace=workspace, lead=other_lead, name="ZZ").members.add(agent)
    AgentFactory(workspace=workspace, role=Role.SUPERVISOR, is_active=False)  # inactive: never an approver
    ticket = make_ticket(workspace=workspace, team=team)
    assert resolve_approvers({"team": team.pk}, ticket) == {member.pk}
    assert resolve_approvers({"role": "supervisor"}, ticket) == {supervisor.pk}  # not the inactive one
    assert resolve_approvers({"manager": True}, ticket) == {lead.pk}
    assigned = make_ticket(workspace=workspace, assignee=agent)
    assert resolve_approvers({"manager": True}, assigned) == {other_lead.pk}  # the assignee's first team's lead


# --- the one-click link ------------------------------------------------------------------------------------------


def test_the_link_shows_on_get_decides_on_post_once_and_never_after_its_stage(workspace, supervisor, agent):
    a, b, c = _agents(workspace, 3)
    flow = _flow(supervisor, _stage("risk", [a, b], items=("收入证明",)), _stage("legal", [c]))
    ticket = make_ticket(workspace=workspace, subject="贷款申请 loan")
    approval = _start(agent, ticket, flow)
    token_a, token_b = _token(approval, a), _token(approval, b)
    anonymous = Client()
    shown = anonymous.get(f"/approvals/{token_a}/")
    html = shown.content.decode()
    assert shown.status_code == 200 and "贷款申请 loan" in html and "收入证明" in html
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING and approval.stage_key == "risk"  # GET changed nothing
    assert ApprovalLink.objects.get(token_hash=approvals._hash(token_a)).used_at is None
    refused = anonymous.post(f"/approvals/{token_a}/", {"verdict": "reject"})
    assert refused.status_code == 422  # no reason: nothing happens, the link stays usable
    done = anonymous.post(f"/approvals/{token_a}/", {"verdict": "approve", "comment": "好"})
    assert done.status_code == 200
    approval.refresh_from_db()
    assert approval.stage_key == "legal"
    assert anonymous.post(f"/approvals/{token_a}/", {"verdict": "approve"}).status_code == 409  # used
    with pytest.raises(Conflict):
        check_link(token_b)  # a past stage's link
    assert anonymous.get(f"/approvals/{token_b}/").status_code == 409
    assert Client().get("/approvals/not-a-token/").status_code == 404
    with pytest.raises(NotFound):
        decide_by_link(token="not-a-token", verdict="approve")
    entry = TicketEvent.objects.filter(ticket=ticket, verb="approval_decided").latest("pk")
    assert entry.data["agent"] == a.pk and entry.data["comment"] == "好"


def test_an_expired_or_cancelled_link_is_refused(workspace, supervisor, agent):
    a = _agents(workspace, 1)[0]
    flow = _flow(supervisor, _stage("risk", [a]))
    approval = _start(agent, make_ticket(workspace=workspace), flow)
    token = _token(approval, a)
    ApprovalLink.objects.filter(approval=approval).update(expires_at=now() - dt.timedelta(seconds=1))
    with translation.override("en"), pytest.raises(Conflict) as err:
        decide_by_link(token=token, verdict="approve")
    assert err.value.message == "This link has expired."
    other = _start(agent, make_ticket(workspace=workspace), flow)
    other_token = _token(other, a)
    approval_cancel(actor=Actor.for_agent(agent), approval=other, reason="withdrawn")
    with pytest.raises(Conflict):
        decide_by_link(token=other_token, verdict="approve")


def test_the_link_page_speaks_the_approvers_language(workspace, supervisor, agent):
    user = UserFactory(preferred_language="en")
    a = AgentFactory(workspace=workspace, user=user)
    approval = _start(agent, make_ticket(workspace=workspace), _flow(supervisor, _stage("risk", [a])))
    page = Client(headers={"accept-language": "zh-hans"}).get(f"/approvals/{_token(approval, a)}/")
    assert b"Request changes" in page.content


# --- definitions -------------------------------------------------------------------------------------------------


def test_editing_the_flow_leaves_a_running_approval_alone(workspace, supervisor, agent):
    a, b = _agents(workspace, 2)
    flow = _flow(supervisor, _stage("risk", [a]))
    approval = _start(agent, make_ticket(workspace=workspace), flow)
    flow = flow_save(actor=Actor.for_agent(supervisor), workspace=workspace, name=flow.name, flow=flow,
                     stages=[_stage("risk", [b]), _stage("legal", [b])])  # fmt: skip
    assert flow.version == 2
    approval.refresh_from_db()
    assert len(approval.snapshot["stages"]) == 1 and approval.waiting_on == [a.pk]
    with pytest.raises(PermissionDenied):
        _decide(b, approval)
    assert _decide(a, approval).status == ApprovalStatus.APPROVED


def test_flow_save_checks_every_stage_and_names_the_problems(workspace, other_workspace, supervisor, agent):
    stranger = AgentFactory(workspace=other_workspace)
    stages = [
        {"key": "risk", "name": "风控", "approvers": {"agents": [stranger.pk]}},
        {"key": "risk", "name": "", "approvers": {}, "rule": "most", "sla_minutes": 0},
    ]
    with translation.override("en"), pytest.raises(ValidationFailed) as err:
        _flow(supervisor, *stages)
    problems = err.value.details["stages"]
    assert set(problems) == {"0", "1"} and len(problems["1"]) == 5
    assert str(stranger.pk) in problems["0"][0] and "stage 2" in err.value.message
    with pytest.raises(PermissionDenied):
        _flow(agent, _stage("risk", [agent]))
    with pytest.raises(ValidationFailed):
        _flow(supervisor, _stage("risk", [agent], rule="n_of_m", n=2))
    _flow(supervisor, _stage("risk", [agent]))
    with pytest.raises(ValidationFailed) as dup:
        _flow(supervisor, _stage("risk", [agent]))
    assert dup.value.code == "duplicate_name"


def test_a_stage_that_resolves_to_nobody_cannot_start(workspace, supervisor, agent):
    flow = _flow(supervisor, {"key": "m", "name": "主管", "approvers": {"manager": True}})
    with translation.override("zh-hans"), pytest.raises(ValidationFailed) as err:
        _start(agent, make_ticket(workspace=workspace, requester=ContactFactory(workspace=workspace)), flow)
    assert err.value.message == "阶段“m”没有审批人。"
