"""Self-evolution: a solved ticket whose solution no article covers proposes a draft (or an update of a near
duplicate); a solution that failed on similar tickets is flagged; the reviewer approves (an article with a version)
or rejects; ageing articles are queued for review. Idempotent throughout."""

from __future__ import annotations

import datetime as dt

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.errors import Conflict, PermissionDenied
from pivotdesk.common.time import now
from pivotdesk.knowledge import services
from pivotdesk.knowledge.models import (
    Article,
    ArticleProposal,
    AssistFeedback,
    AssistKind,
    ProposalStatus,
    Resolution,
)
from pivotdesk.knowledge.services import evolution
from pivotdesk.search.services import document_build
from pivotdesk.tickets.services.messages import message_create
from pivotdesk.tickets.services.tickets import ticket_update
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")
SOLUTION = "在 macOS 上还要打开“系统设置 → 隐私与安全性 → 防火墙”，允许本软件联网，然后重新激活授权。"


@pytest.fixture
def boss(supervisor):
    return Actor.for_agent(supervisor)


def _solved(
    workspace, agent, contact, *, subject="软件授权失效", question="重新激活后还是提示授权失效。", solution=SOLUTION
):
    ticket = make_ticket(workspace=workspace, requester=contact, subject=subject, body=question)
    message_create(ticket=ticket, actor=Actor.for_agent(agent), body=solution)
    ticket_update(ticket=ticket, actor=Actor.for_agent(agent), changes={"status": "solved"})
    document_build(kind="ticket", object_id=ticket.pk)
    return ticket


def test_an_uncovered_solution_becomes_a_draft_once(workspace, agent, contact):
    ticket = _solved(workspace, agent, contact)
    proposal = evolution.propose_from_resolution(actor=SYSTEM, ticket=ticket)
    assert proposal is not None and proposal.reason == ArticleProposal.Reason.NEW_SOLUTION
    assert proposal.title == "软件授权失效" and "防火墙" in proposal.body and "重新激活后" in proposal.body
    assert proposal.language == "zh-hans" and proposal.flags == []
    assert evolution.propose_from_resolution(actor=SYSTEM, ticket=ticket) is None  # idempotent
    assert ArticleProposal.objects.filter(ticket=ticket).count() == 1


def test_a_covered_solution_proposes_nothing(workspace, agent, contact, boss):
    article = services.article_save(
        actor=boss, workspace=workspace, title="macOS 防火墙", body=SOLUTION, status="published"
    )
    document_build(kind="article", object_id=article.pk)
    assert evolution.propose_from_resolution(actor=SYSTEM, ticket=_solved(workspace, agent, contact)) is None


def test_a_short_solution_teaches_nothing(workspace, agent, contact):
    assert (
        evolution.propose_from_resolution(actor=SYSTEM, ticket=_solved(workspace, agent, contact, solution="已处理"))
        is None
    )


def test_a_near_duplicate_title_makes_it_an_update_of_that_article(workspace, agent, contact, boss):
    existing = services.article_save(
        actor=boss, workspace=workspace, title="软件授权失效怎么办", body="1. 打开设置 → 授权。", status="published"
    )
    proposal = evolution.propose_from_resolution(actor=SYSTEM, ticket=_solved(workspace, agent, contact))
    assert proposal is not None and proposal.reason == ArticleProposal.Reason.UPDATE
    assert proposal.target == existing and proposal.flags[0]["kind"] == "near_duplicate"
    approved = evolution.proposal_decide(actor=boss, proposal=proposal, approve=True)
    existing.refresh_from_db()
    assert approved.article == existing and existing.version == 2
    assert existing.body.startswith("1. 打开设置 → 授权。") and "防火墙" in existing.body


def test_a_solution_that_failed_on_similar_tickets_is_flagged(workspace, agent, contact):
    bad = "请卸载后重新安装软件，再重启电脑，一般就能恢复授权，不行再联系我们。"
    for _ in range(3):
        earlier = _solved(workspace, agent, contact, solution=bad)
        Resolution.objects.update_or_create(
            ticket=earlier, defaults={"workspace": workspace, "solution": bad, "succeeded": False}
        )
    proposal = evolution.propose_from_resolution(actor=SYSTEM, ticket=_solved(workspace, agent, contact, solution=bad))
    assert proposal is not None
    flag = next(f for f in proposal.flags if f["kind"] == "failed_on_similar")
    assert flag == {"kind": "failed_on_similar", "failures": 3, "trials": 3}
    assert evolution.flag_text(flag) == "This solution failed on 3 of 3 similar tickets."


def test_the_reviewer_approves_with_edits_or_rejects_and_only_once(workspace, agent, contact, boss):
    proposal = evolution.propose_from_resolution(actor=SYSTEM, ticket=_solved(workspace, agent, contact))
    with pytest.raises(PermissionDenied):
        evolution.proposal_decide(actor=Actor.for_agent(agent), proposal=proposal, approve=True)
    decided = evolution.proposal_decide(actor=boss, proposal=proposal, approve=True, title="macOS 授权失效")
    article = Article.objects.get(pk=decided.article_id)
    assert decided.status == ProposalStatus.APPROVED and article.title == "macOS 授权失效"
    assert article.status == "published" and article.visibility == "internal" and "防火墙" in article.body
    with pytest.raises(Conflict):
        evolution.proposal_decide(actor=boss, proposal=proposal, approve=False)
    other = evolution.propose_from_resolution(actor=SYSTEM, ticket=
        _solved(workspace, agent, contact, subject="打印机卡纸", question="打印机一直卡纸。",
                solution="打开后盖，取出卡住的纸，清洁搓纸轮后再试一次打印。")
    )  # fmt: skip
    rejected = evolution.proposal_decide(actor=boss, proposal=other, approve=False)
    assert rejected.status == ProposalStatus.REJECTED and rejected.article is None


def test_articles_that_age_are_queued_for_review_once(workspace, agent, contact, boss):
    disliked = services.article_save(
        actor=boss, workspace=workspace, title="重置路由器", body="按住 10 秒。", status="published"
    )
    stale = services.article_save(
        actor=boss, workspace=workspace, title="旧版客户端", body="已停用。", status="published"
    )
    Article.objects.filter(pk=stale.pk).update(published_at=now() - dt.timedelta(days=200))
    for _ in range(3):
        AssistFeedback.objects.create(
            workspace=workspace, ticket=make_ticket(workspace=workspace, requester=contact), kind=AssistKind.ARTICLE,
            object_id=disliked.pk, useful=False, agent=agent,
        )  # fmt: skip
    assert evolution.review_sweep(actor=SYSTEM, workspace_id=workspace.pk) == 2
    assert evolution.review_sweep(actor=SYSTEM, workspace_id=workspace.pk) == 0
    reasons = dict(ArticleProposal.objects.values_list("target_id", "reason"))
    assert reasons == {disliked.pk: "negative_feedback", stale.pk: "unused"}
