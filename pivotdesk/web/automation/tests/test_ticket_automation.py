"""Automation on the agent's ticket page: macros searched, previewed and applied (the edited reply wins), the
approval panel (stages, who must act, decide, a reject without a reason refused in the reader's language, resubmit,
start), the chain panel, the appeasement opening with its insert button, and another workspace's tickets refused
on every new URL."""

from __future__ import annotations

from typing import Any, cast

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Role
from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.automation.models import Appeasement, Approval, ApprovalFlow, ApprovalStatus, Chain, Macro
from pivotdesk.automation.services import approvals, chains, macros
from pivotdesk.common.tests.zh_crawl import english_words, visible_texts
from pivotdesk.tickets.models import Category, Message, Ticket
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
REFUND: list[dict[str, Any]] = [
    {"type": "reply", "zh": "{{ requester.name }}您好，退款已受理（#{{ ticket.number }}）。", "en": "Hi {{ requester.name }}, refund accepted (#{{ ticket.number }})."},
    {"type": "add_tags", "tags": ["退款"]},
    {"type": "set", "field": "status", "value": "pending"},
]  # fmt: skip


def _page(client: Any, ticket: Ticket) -> str:
    response = client.get(reverse("web:ticket", args=[ticket.number]))
    assert response.status_code == 200
    return str(response.content.decode())


def _section(html: str, anchor: str) -> str:
    assert f'id="{anchor}"' in html, f"the ticket page shows #{anchor}"
    return html.split(f'id="{anchor}"', 1)[1].split("</section>", 1)[0]


# --- macros --------------------------------------------------------------------------------------------------------


@pytest.fixture
def refund(supervisor: AgentProfile) -> Macro:
    return macros.macro_save(
        actor=Actor.for_agent(supervisor), workspace=supervisor.workspace, name="退款受理", name_en="Refund accepted",
        actions=REFUND,
    )  # fmt: skip


@pytest.fixture
def greeting(supervisor: AgentProfile) -> Macro:
    return macros.macro_save(
        actor=Actor.for_agent(supervisor), workspace=supervisor.workspace, name="问候", name_en="",
        actions=[{"type": "note", "text": "客户 {{ requester.name }} 已问候"}],
    )  # fmt: skip


@pytest.fixture
def both(refund: Macro, greeting: Macro) -> dict[str, Macro]:
    return {"refund": refund, "greeting": greeting}


@pytest.mark.parametrize("case", [("zh-hans", "退款受理", "Refund accepted"), ("en", "Refund accepted", "退款受理")])
def test_the_macro_search_names_macros_in_the_readers_language(client_as, agent, ticket, both, case):
    language, shown, hidden = case
    client = client_as(agent, language)
    # given the ticket page: the macros are suggested before anything is typed
    panel = _section(_page(client, ticket), "macros")
    assert shown in panel and hidden not in panel and 'id="macro-search"' in panel
    # when searching by the other language's name
    url = reverse("web:ticket_macros", args=[ticket.number])
    found = client.get(url, {"q": "refund"}, **HX).content.decode()
    # then the macro is found, named in the reader's language; a name without English keeps its Chinese
    assert shown in found and hidden not in found and "问候" not in found
    assert "问候" in client.get(url, {"q": "问候"}, **HX).content.decode()
    assert "退款" not in client.get(url, {"q": "nothing-like-this"}, **HX).content.decode()


def test_macros_of_the_tickets_category_come_first(client_as, agent, supervisor, both):
    workspace, refund, greeting = supervisor.workspace, both["refund"], both["greeting"]
    category = Category.objects.create(workspace=workspace, name="Billing", name_zh="账单")
    macros.macro_save(actor=Actor.for_agent(supervisor), workspace=workspace, name="问候", actions=greeting.actions,
                      category=category, macro=greeting)  # fmt: skip
    Macro.objects.filter(pk=refund.pk).update(usage_count=50)  # the most used, but not of this category
    ticket = make_ticket(workspace=workspace, category=category)
    listed = client_as(agent).get(reverse("web:ticket_macros", args=[ticket.number]), **HX).content.decode()
    assert listed.index("问候") < listed.index("Refund accepted")
    assert listed.split("问候", 1)[1].split("</li>", 1)[0].count("au-suggested") == 1


@pytest.mark.parametrize(("language", "start"), [("zh-hans", "李雷您好"), ("en", "Hi 李雷")])
def test_the_preview_fills_the_reply_and_says_the_changes_in_words(client_as, agent, refund, language, start):
    ticket = make_ticket(workspace=agent.workspace, language=language)
    ticket.requester.name = "李雷"
    ticket.requester.save()
    client = client_as(agent, language)
    html = client.get(reverse("web:ticket_macro_preview", args=[ticket.number, refund.pk]), **HX).content.decode()
    assert 'name="reply"' in html and start in html and f"#{ticket.number}" in html
    assert 'name="skip_reply"' in html and reverse("web:ticket_macro_apply", args=[ticket.number, refund.pk]) in html
    assert "退款" in html  # the tag it adds
    assert ("将状态设为 等待客户" if language == "zh-hans" else "Pending") in html  # the status it sets, in words
    assert not Message.objects.filter(ticket=ticket, author_agent=agent).exists()  # a preview sends nothing


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_applying_sends_the_edited_reply_and_refreshes_the_page(client_as, agent, ticket, refund, language):
    client = client_as(agent, language)
    url = reverse("web:ticket_macro_apply", args=[ticket.number, refund.pk])
    response = client.post(url, {"reply": "已为您办理退款，三个工作日内到账。"}, **HX)
    assert response.status_code == 200
    assert {"conversation-changed", "props-changed", "timeline-changed"} <= set(response["HX-Trigger"].split(", "))
    assert ("退款受理" if language == "zh-hans" else "Refund accepted") in response.content.decode()
    reply = Message.objects.get(ticket=ticket, kind="public", author_agent=agent)
    assert reply.body_text == "已为您办理退款，三个工作日内到账。"  # the agent's edit, not the macro's text
    ticket.refresh_from_db()
    assert ticket.status == "pending" and "退款" in set(ticket.tags.values_list("name", flat=True))


def test_leaving_out_the_reply_applies_only_the_changes(agent_client, agent, ticket, refund):
    url = reverse("web:ticket_macro_apply", args=[ticket.number, refund.pk])
    assert agent_client.post(url, {"reply": "不应发送", "skip_reply": "1"}, **HX).status_code == 200
    assert not Message.objects.filter(ticket=ticket, kind="public", author_agent=agent).exists()
    assert Ticket.objects.get(pk=ticket.pk).status == "pending"


def test_a_refused_apply_is_said_in_the_readers_language(client_as, workspace, ticket, refund):
    light = AgentFactory(workspace=workspace, role=Role.LIGHT_AGENT)
    url = reverse("web:ticket_macro_apply", args=[ticket.number, refund.pk])
    response = client_as(light, "zh-hans").post(url, {"reply": "x"}, **HX)
    assert response.status_code == 403 and "toast" in response.content.decode()
    assert not Message.objects.filter(ticket=ticket, kind="public").exclude(author_contact__isnull=False).exists()
    assert 'id="macros"' not in _page(client_as(light), ticket)  # no macro panel for a role that may not apply


def test_another_agents_personal_macro_is_not_found(client_as, agent, workspace, ticket):
    other = AgentFactory(workspace=workspace, role=Role.AGENT)
    mine = macros.macro_save(actor=Actor.for_agent(other), workspace=workspace, name="我的宏", scope="personal",
                             actions=[{"type": "note", "text": "x"}])  # fmt: skip
    client = client_as(agent)
    assert client.get(reverse("web:ticket_macro_preview", args=[ticket.number, mine.pk]), **HX).status_code == 404
    assert client.post(reverse("web:ticket_macro_apply", args=[ticket.number, mine.pk]), **HX).status_code == 404


# --- approvals -----------------------------------------------------------------------------------------------------


@pytest.fixture
def loan(workspace: Any, supervisor: AgentProfile) -> dict[str, Any]:
    """A three-stage loan flow: 风控审核 (risk officer, needs 抵押物证明), 法务合规 (lawyer), 财务确认 (cashier)."""
    people = {
        r: cast(AgentProfile, AgentFactory(workspace=workspace, role=Role.AGENT)) for r in ("risk", "legal", "finance")
    }
    stages = [
        {"key": key, "name": name, "approvers": {"agents": [people[key].pk]}, "rule": "any",
         "required_items": items}
        for key, name, items in (("risk", "风控审核", ["抵押物证明", "收入证明"]), ("legal", "法务合规", []),
                                 ("finance", "财务确认", []))
    ]  # fmt: skip
    flow = approvals.flow_save(actor=Actor.for_agent(supervisor), workspace=workspace, name="贷款审批", stages=stages)
    ticket = make_ticket(workspace=workspace, subject="贷款申请")
    approval = approvals.approval_start(actor=Actor.for_agent(supervisor), ticket=ticket, flow=flow)
    return {"flow": flow, "ticket": ticket, "approval": approval, **people}


def _decide_url(loan: dict[str, Any]) -> str:
    return reverse("web:ticket_approval_decide", args=[loan["ticket"].number, loan["approval"].pk])


def test_the_approval_panel_shows_the_stages_and_who_must_act(client_as, loan):
    panel = _section(_page(client_as(loan["legal"], "zh-hans"), loan["ticket"]), "approval")
    assert "贷款审批" in panel and "风控审核" in panel and "法务合规" in panel and "财务确认" in panel
    assert panel.count("au-step-current") == 1 and panel.count("au-step-waiting") == 2
    assert loan["risk"].name in panel and "待处理人" in panel and "当前阶段" in panel  # who must act, in Chinese
    assert 'data-width="0%"' in panel
    assert _decide_url(loan) not in panel  # the legal officer is not asked yet: no buttons


def test_the_expected_approver_gets_the_buttons_and_approves(client_as, loan):
    client = client_as(loan["risk"], "zh-hans")
    panel = _section(_page(client, loan["ticket"]), "approval")
    assert _decide_url(loan) in panel and 'value="approve"' in panel and 'value="reject"' in panel
    assert 'value="抵押物证明"' in panel and 'value="收入证明"' in panel  # the stage's items, to tick as missing
    response = client.post(_decide_url(loan), {"verdict": "approve", "comment": "资料齐全"}, **HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "au-step-done" in html and 'data-width="33%"' in html and loan["legal"].name in html
    approval = Approval.objects.get(pk=loan["approval"].pk)
    assert approval.status == ApprovalStatus.PENDING and approval.stage_key == "legal"


@pytest.mark.parametrize(("language", "message"), [("zh-hans", "驳回或要求修改时请填写原因。"), ("en", "Give a reason to reject or to request changes.")])  # fmt: skip
def test_a_reject_without_a_reason_is_refused_in_the_readers_language(client_as, loan, language, message):
    response = client_as(loan["risk"], language).post(_decide_url(loan), {"verdict": "reject", "reason": " "}, **HX)
    assert response.status_code == 422 and message in response.content.decode()
    assert Approval.objects.get(pk=loan["approval"].pk).status == ApprovalStatus.PENDING


def test_a_non_approver_sees_no_buttons_and_is_refused(client_as, loan, supervisor):
    client = client_as(supervisor, "zh-hans")
    assert _decide_url(loan) not in _page(client, loan["ticket"])
    response = client.post(_decide_url(loan), {"verdict": "approve"}, **HX)
    assert response.status_code == 403 and "你不是此阶段的审批人。" in response.content.decode()
    assert Approval.objects.get(pk=loan["approval"].pk).stage_key == "risk"


def test_a_rejection_names_the_missing_items_then_resubmit_resumes_there(client_as, loan, agent):
    risk = client_as(loan["risk"], "zh-hans")
    data = {"verdict": "reject", "reason": "缺少材料", "missing_items": ["抵押物证明"]}
    assert risk.post(_decide_url(loan), data, **HX).status_code == 200
    approval = Approval.objects.get(pk=loan["approval"].pk)
    assert approval.status == ApprovalStatus.REJECTED
    client = client_as(agent, "zh-hans")
    panel = _section(_page(client, loan["ticket"]), "approval")
    assert "au-step-sent_back" in panel and "抵押物证明" in panel and "缺少材料" in panel
    url = reverse("web:ticket_approval_resubmit", args=[loan["ticket"].number, approval.pk])
    assert url in panel
    response = client.post(url, **HX)
    assert response.status_code == 200 and "timeline-changed" in response["HX-Trigger"]
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING and approval.stage_key == "risk"
    assert client.post(url, **HX).status_code == 409  # nothing to resubmit any more


def test_an_agent_starts_an_approval_from_the_page(client_as, agent, workspace, supervisor):
    flow = approvals.flow_save(
        actor=Actor.for_agent(supervisor), workspace=workspace, name="退款审批",
        stages=[{"key": "boss", "name": "主管审批", "approvers": {"agents": [supervisor.pk]}, "rule": "any"}],
    )  # fmt: skip
    ApprovalFlow.objects.create(workspace=workspace, name="已停用流程", stages=flow.stages, active=False)
    ticket = make_ticket(workspace=workspace)
    client = client_as(agent, "zh-hans")
    panel = _section(_page(client, ticket), "approval")
    assert "退款审批" in panel and "已停用流程" not in panel
    url = reverse("web:ticket_approval_start", args=[ticket.number])
    response = client.post(url, {"flow": flow.pk}, **HX)
    assert response.status_code == 200 and "主管审批" in response.content.decode()
    assert Approval.objects.get(ticket=ticket).status == ApprovalStatus.PENDING
    assert client.post(url, {"flow": flow.pk}, **HX).status_code == 409  # one open approval per ticket
    assert url not in _page(client, ticket)  # no start form while one is open


# --- chain and appeasement -----------------------------------------------------------------------------------------


@pytest.fixture
def order_chain(workspace: Any, supervisor: AgentProfile) -> Chain:
    boss = Actor.for_agent(supervisor)
    template = chains.template_save(
        actor=boss, workspace=workspace, name="订单履约", mode="parallel",
        stages=[{"key": k, "name": n, "team": None, "expected_minutes": 60}
                for k, n in (("pick", "仓储拣货"), ("ship", "运输配送"))],
    )  # fmt: skip
    return chains.chain_start(actor=boss, template=template, key="order:PD2026001", parent=make_ticket(workspace=workspace))  # fmt: skip


def test_the_chain_panel_shows_the_stages_on_the_parent_and_on_a_stage(client_as, agent, order_chain):
    client = client_as(agent, "zh-hans")
    panel = _section(_page(client, order_chain.parent), "chain")
    assert "订单履约" in panel and "order:PD2026001" in panel and "仓储拣货" in panel and "运输配送" in panel
    stage_ticket = order_chain.stages.get(key="ship").ticket
    assert stage_ticket is not None
    assert reverse("web:ticket", args=[stage_ticket.number]) in panel
    on_stage = _section(_page(client, stage_ticket), "chain")
    assert "au-this" in on_stage and reverse("web:ticket", args=[order_chain.parent.number]) in on_stage


def test_the_appeasement_opening_is_offered_with_an_insert_button(client_as, agent, ticket):
    Appeasement.objects.create(
        workspace=ticket.workspace,
        ticket=ticket,
        reasons=["sentiment", "phrase"],
        level=2,
        opening="非常抱歉给您带来困扰",
    )
    panel = _section(_page(client_as(agent, "en"), ticket), "appeasement")
    assert "非常抱歉给您带来困扰" in panel and "Negative sentiment" in panel and "Escalation phrase" in panel
    assert 'data-insert-text="非常抱歉给您带来困扰"' in panel and 'data-insert-target="reply-body"' in panel
    assert 'id="reply-body"' in _page(client_as(agent, "en"), ticket)  # the box the button fills
    assert "插入回复" in _section(_page(client_as(agent, "zh-hans"), ticket), "appeasement")


def test_the_page_loads_its_script_and_no_panel_without_automation(agent_client, ticket):
    html = _page(agent_client, ticket)
    assert "/static/web/ticket_automation.js" in html
    assert 'id="chain"' not in html and 'id="appeasement"' not in html and 'id="approval"' not in html


def test_the_panels_cost_a_few_queries_however_long_the_history(client_as, loan, supervisor):
    client = client_as(loan["risk"])
    with CaptureQueriesContext(connection) as queries:
        _page(client, loan["ticket"])
    automation = [q["sql"] for q in queries.captured_queries if '"automation_' in q["sql"]]
    assert len(automation) <= 5, automation


# --- isolation -----------------------------------------------------------------------------------------------------


def test_another_workspaces_ticket_numbers_are_not_found_on_every_new_url(client_as, other_workspace, loan, refund):
    stranger = AgentFactory(workspace=other_workspace, role=Role.ADMIN)
    client = client_as(stranger)
    number, approval = loan["ticket"].number, loan["approval"].pk
    assert not Ticket.objects.filter(workspace=other_workspace, number=number).exists()
    gets = [reverse("web:ticket_macros", args=[number]), reverse("web:ticket_macro_preview", args=[number, refund.pk])]
    posts = [
        reverse("web:ticket_macro_apply", args=[number, refund.pk]),
        reverse("web:ticket_approval_start", args=[number]),
        reverse("web:ticket_approval_decide", args=[number, approval]),
        reverse("web:ticket_approval_resubmit", args=[number, approval]),
    ]
    for url in gets:
        assert client.get(url, **HX).status_code == 404, url
    for url in posts:
        assert client.post(url, {"flow": loan["flow"].pk, "verdict": "approve"}, **HX).status_code == 404, url
    assert Approval.objects.get(pk=approval).stage_key == "risk"


def test_an_approval_of_another_ticket_is_not_found_under_this_one(client_as, loan, workspace):
    other = make_ticket(workspace=workspace)
    url = reverse("web:ticket_approval_decide", args=[other.number, loan["approval"].pk])
    assert client_as(loan["risk"]).post(url, {"verdict": "approve"}, **HX).status_code == 404


def test_every_panel_reads_in_chinese_without_english_left_over(client_as, loan, refund, order_chain):
    # given a ticket sent back at 风控审核 with an appeasement, and a chain
    risk = client_as(loan["risk"], "zh-hans")
    risk.post(_decide_url(loan), {"verdict": "changes", "reason": "缺少材料", "missing_items": ["收入证明"]}, **HX)
    ticket = loan["ticket"]
    Appeasement.objects.create(workspace=ticket.workspace, ticket=ticket, reasons=["repeat"], level=1, opening="抱歉")
    client = client_as(loan["legal"], "zh-hans")
    html = _page(client, ticket)
    preview = client.get(reverse("web:ticket_macro_preview", args=[ticket.number, refund.pk]), **HX).content.decode()
    chain = _section(_page(client, order_chain.parent), "chain")
    # then no English words are left in what the agent reads (people's names aside)
    names = [a.name for a in AgentProfile.objects.filter(workspace=ticket.workspace)]
    for anchor in ("approval", "macros", "appeasement"):
        assert not english_words(anchor, visible_texts(_section(html, anchor)), phrases=names), anchor
    assert not english_words("preview", visible_texts(preview), phrases=names)
    assert not english_words("chain", visible_texts(chain), phrases=names)
