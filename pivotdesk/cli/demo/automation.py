"""The demo's automation: a handful of triggers and time rules, ten bilingual macros, a three-stage loan approval
(风控审核 → 法务合规 → 财务确认) with one request waiting at 法务合规 and one rejected at 风控, and an order chain
(下单 → 仓储拣货 → 运输配送 → 客户签收) whose delayed shipment opened a 客户安抚工单 and a 物流调度工单.

Everything goes through the automation services, and running it again changes nothing: each definition is skipped
when its name exists, the loan tickets are found by their external id, the chain by its key, the business event by
its id, and the trigger's run by its event key.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from pivotdesk.accounts import services as accounts_services
from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Team
from pivotdesk.automation.events import BusinessEventReceived
from pivotdesk.automation.models import (
    Approval,
    ApprovalFlow,
    BusinessEvent,
    Chain,
    ChainStage,
    ChainTemplate,
    Macro,
    MacroScope,
    Rule,
    RuleKind,
)
from pivotdesk.automation.services import approvals, chains, macros, rules, triggers
from pivotdesk.automation.services.business_events import business_event_receive
from pivotdesk.cli.demo.setup import DemoWorld
from pivotdesk.common.models import EventRecord
from pivotdesk.customers.models import Contact
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Status, Ticket

SYSTEM = Actor.system("demo")

SENIORS = "资深顾问 Senior advisors"
SENIOR_MEMBERS = ("supervisor", "liu.yang")  # seniority 4 and 3, both with VIP care
LOAN_FLOW = "贷款审批 Loan approval"
ORDER_CHAIN = "订单履约 Order fulfilment"
ORDER_NO = "PD20261207001"
CHAIN_KEY = f"order:{ORDER_NO}"
DELAY_EVENT = {
    "id": "evt-demo-shipment-delayed-1",
    "type": "shipment.delayed",
    "key": CHAIN_KEY,
    "data": {"order_no": ORDER_NO, "carrier": "顺丰", "delay_hours": 18},
}
MISSING_COLLATERAL = "需补充抵押物证明"


def configure_automation(world: DemoWorld) -> None:
    """Rules, macros, the loan approvals and the order chain of the demo workspace (safe to run twice)."""
    seniors = _senior_advisors(world)
    _save_rules(world, _triggers(world, seniors), RuleKind.TRIGGER)
    _save_rules(world, _time_rules(), RuleKind.TIME)
    _save_macros(world)
    _loan_approvals(world)
    _order_chain(world)


def _senior_advisors(world: DemoWorld) -> Team:
    """The appeasement pool: two experienced agents with VIP care, led by the supervisor."""
    found = Team.objects.filter(workspace=world.workspace, name=SENIORS).first()
    if found is not None:
        return found
    members = [world.agents[name] for name in SENIOR_MEMBERS]
    return accounts_services.team_create(
        actor=SYSTEM,
        workspace=world.workspace,
        name=SENIORS,
        description="情绪安抚与 VIP 升级 — appeasement and VIP escalations.",
        members=members,
        lead=members[0],
    )


# --- triggers and time rules -------------------------------------------------------------------------------------


class RuleSpec(NamedTuple):
    name: str
    description: str
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]


def _cond(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value}


def _save_rules(world: DemoWorld, specs: list[RuleSpec], kind: str) -> None:
    existing = set(Rule.objects.filter(workspace=world.workspace).values_list("name", flat=True))
    for spec in specs:
        if spec.name not in existing:
            rules.rule_save(
                actor=SYSTEM,
                workspace=world.workspace,
                name=spec.name,
                conditions=spec.conditions,
                actions=spec.actions,
                kind=kind,
                description=spec.description,
            )


def _triggers(world: DemoWorld, seniors: Team) -> list[RuleSpec]:
    leads = [world.agents["supervisor"].pk, world.agents["liu.yang"].pk]
    created = _cond("event", "is", "ticket.created")
    return [
        RuleSpec(
            "紧急工单通知主管 Urgent → notify supervisors",
            "新建的紧急工单立即通知两位主管并打上 urgent 标签 — a new urgent ticket alerts both supervisors.",
            {"all": [created, _cond("priority", "is", "urgent")]},
            [
                {
                    "type": "notify",
                    "agents": leads,
                    "title": "紧急工单 Urgent #{{ ticket.number }}: {{ ticket.subject }}",
                    "text": "请立即查看 Please look now: {{ requester.name }}",
                },
                {"type": "add_tags", "tags": ["urgent"]},
            ],
        ),
        RuleSpec(
            "VIP 客户优先 VIP first",
            "VIP 与战略客户的新工单提升为高优先级 — VIP and strategic customers' tickets start at high priority.",
            {"all": [created, _cond("vip", "is", True), _cond("priority", "in", ["low", "normal"])]},
            [{"type": "set", "field": "priority", "value": "high"}, {"type": "add_tags", "tags": ["vip"]}],
        ),
        RuleSpec(
            "退款与发票转账务组 Refunds & invoices → Billing",
            "提到退款或发票的新工单交给账务与订单组 — refund and invoice requests go to Billing & Orders.",
            {
                "all": [
                    created,
                    {"field": "team", "op": "not_set"},
                    {
                        "any": [
                            _cond("subject", "contains_any_words", ["退款", "发票", "refund", "invoice"]),
                            _cond("body", "contains_any_words", ["退款", "发票", "refund", "invoice"]),
                        ]
                    },
                ]
            },
            [{"type": "assign", "team": world.teams["billing"].pk}, {"type": "add_tags", "tags": ["billing"]}],
        ),
        _appeasement_rule(seniors),
        _shipment_delayed_rule(world, seniors),
    ]


def _appeasement_rule(seniors: Team) -> RuleSpec:
    phrases = ["投诉", "曝光", "12315", "complaint", "lawyer"]
    return RuleSpec(
        "情绪安抚 Appeasement",
        "投诉用语、强烈负面情绪或 7 天内多次来访时安抚客户，严重时转资深顾问 — escalation phrases, strong negative "
        "sentiment or repeat contacts get an empathetic opening; severe cases go to the senior advisors.",
        {
            "all": [
                _cond("event", "in", ["ticket.created", "customer.replied"]),
                {
                    "any": [
                        _cond("body", "contains_any_words", phrases),
                        {"all": [_cond("sentiment", "is", "negative"), _cond("sentiment_confidence", "gte", 0.7)]},
                        _cond("requester_recent_tickets", "gte", 2),
                    ]
                },
            ]
        },
        [
            {
                "type": "appease",
                "pool": seniors.pk,
                "opening_zh": "{{ requester.name }}，非常抱歉给您带来了困扰，我完全理解您的心情。您的工单 "
                "#{{ ticket.number }} 已由我亲自跟进，直到问题解决为止。",
                "opening_en": "{{ requester.name }}, I am truly sorry for the trouble and I understand how you feel. "
                "I am following your ticket #{{ ticket.number }} personally until it is resolved.",
            },
            {"type": "add_tags", "tags": ["appeasement"]},
        ],
    )


def _shipment_delayed_rule(world: DemoWorld, seniors: Team) -> RuleSpec:
    context = (
        "订单 Order {{ event.order_no }} · 承运商 Carrier {{ event.carrier }} · 延误 Delay {{ event.delay_hours }} h"
    )
    return RuleSpec(
        "物流延误 → 安抚 + 调度 Shipment delayed",
        "订单系统报告配送延误时，为客服开客户安抚工单、为物流开调度工单，均挂在订单链下 — a delayed shipment opens "
        "an appeasement ticket and a dispatch ticket under the order's chain.",
        {"all": [_cond("event", "is", "business_event"), _cond("event_type", "is", "shipment.delayed")]},
        [
            {
                "type": "create_linked",
                "subject": "客户安抚：订单 {{ event.order_no }} 配送延误",
                "body": f"主动联系客户致歉并告知新的送达时间。Call the customer, apologise, give the new ETA.\n{context}",
                "team": seniors.pk,
                "priority": "high",
                "tags": ["shipment-delayed", "appeasement"],
                "link": "child",
            },
            {
                "type": "create_linked",
                "subject": "物流调度：订单 {{ event.order_no }} 延误 {{ event.delay_hours }} 小时（{{ event.carrier }}）",
                "body": f"与承运商确认位置并改派或加急。Locate the parcel with the carrier; reroute or expedite.\n{context}",
                "team": world.teams["billing"].pk,
                "priority": "high",
                "tags": ["shipment-delayed", "dispatch"],
                "link": "child",
            },
        ],
    )


def _time_rules() -> list[RuleSpec]:
    return [
        RuleSpec(
            "待回复 72 小时提醒 Pending 72 h reminder",
            "等待客户回复超过 72 小时，发一次提醒 — remind the customer once after 72 hours pending.",
            {"all": [_cond("status", "is", "pending"), _cond("hours_since_updated", "gte", 72)]},
            [
                {
                    "type": "reply",
                    "zh": "{{ requester.name }}，您好！工单 #{{ ticket.number }} 还在等待您的回复。如问题已解决，"
                    "无需操作，我们将在几天后自动关闭。",
                    "en": "Hello {{ requester.name }}, ticket #{{ ticket.number }} is still waiting for your reply. "
                    "If the problem is solved, there is nothing to do: we will close it in a few days.",
                },
                {"type": "add_tags", "tags": ["reminded"]},
            ],
        ),
        RuleSpec(
            "已解决 4 天后关闭 Close solved after 4 days",
            "已解决 96 小时无动静的工单自动关闭 — solved tickets close after 96 quiet hours.",
            {"all": [_cond("status", "is", "solved"), _cond("hours_since_updated", "gte", 96)]},
            [{"type": "set", "field": "status", "value": "closed"}],
        ),
    ]


# --- macros ------------------------------------------------------------------------------------------------------


class MacroSpec(NamedTuple):
    name: str
    name_en: str
    shortcut: str
    category: str  # key of people.CATEGORIES, "" for none
    zh: str
    en: str
    tags: tuple[str, ...]
    status: str
    scope: str = MacroScope.SHARED


MACROS: tuple[MacroSpec, ...] = (
    MacroSpec(
        "退款处理中", "Refund in progress", "/refund", "refunds",
        "{{ requester.name }}，您好！工单 #{{ ticket.number }} 的退款申请已提交财务，预计 3–5 个工作日原路退回。",
        "Hello {{ requester.name }}, the refund for ticket #{{ ticket.number }} is with finance and returns to "
        "your original payment method within 3–5 working days.",
        ("refund",), Status.PENDING,
    ),
    MacroSpec(
        "发票已开具", "Invoice issued", "/invoice", "invoices",
        "{{ requester.name }}，您好！您申请的发票已开具并发送至您的邮箱，工单 #{{ ticket.number }} 先为您解决。",
        "Hello {{ requester.name }}, your invoice has been issued and e-mailed to you; we are marking ticket "
        "#{{ ticket.number }} solved.",
        ("invoice",), Status.SOLVED,
    ),
    MacroSpec(
        "物流状态答复", "Shipping status", "/ship", "shipping",
        "{{ requester.name }}，您好！您的订单当前状态：{{ order.status }}。物流有更新我们会第一时间通知您。",
        "Hello {{ requester.name }}, your order's current status: {{ order.status }}. We will tell you as soon as "
        "the carrier updates it.",
        ("shipping",), Status.PENDING,
    ),
    MacroSpec(
        "重置密码指引", "Password reset steps", "/pwd", "login",
        "{{ requester.name }}，您好！请在登录页点击“忘记密码”，按短信验证码设置新密码。如仍无法登录请回复本邮件。",
        "Hello {{ requester.name }}, click “Forgot password” on the sign-in page and set a new password with the "
        "SMS code. Reply to this e-mail if you still cannot sign in.",
        ("password",), Status.PENDING,
    ),
    MacroSpec(
        "请补充信息", "Need more information", "/info", "",
        "{{ requester.name }}，您好！为尽快处理工单 #{{ ticket.number }}，请补充订单号、设备型号和问题截图。",
        "Hello {{ requester.name }}, to move ticket #{{ ticket.number }} on, please send the order number, the "
        "device model and a screenshot of the problem.",
        ("need-info",), Status.PENDING,
    ),
    MacroSpec(
        "上门服务已预约", "On-site visit booked", "/visit", "installation",
        "{{ requester.name }}，您好！工程师上门时间已预约，出发前会电话联系您。工单号 #{{ ticket.number }}。",
        "Hello {{ requester.name }}, the engineer's visit is booked and they will call before setting off. "
        "Ticket #{{ ticket.number }}.",
        ("onsite",), Status.PENDING,
    ),
    MacroSpec(
        "设备返修", "Return for repair", "/rma", "device",
        "{{ requester.name }}，您好！请将设备寄回维修中心，寄件时请在包裹内注明工单号 #{{ ticket.number }}。",
        "Hello {{ requester.name }}, please send the device to our repair centre with ticket #{{ ticket.number }} "
        "written inside the parcel.",
        ("rma",), Status.ON_HOLD,
    ),
    MacroSpec(
        "感谢您的建议", "Thanks for the suggestion", "", "suggestion",
        "{{ requester.name }}，感谢您的宝贵建议！我们已转给产品团队评估。",
        "Thank you for the suggestion, {{ requester.name }}! We have passed it to the product team.",
        ("feedback",), Status.SOLVED,
    ),
    MacroSpec(
        "退款已到账确认", "Refund completed", "", "refunds",
        "{{ requester.name }}，您好！工单 #{{ ticket.number }} 的退款已完成，请留意账户到账信息。",
        "Hello {{ requester.name }}, the refund for ticket #{{ ticket.number }} is complete; please check your "
        "account.",
        ("refund",), Status.SOLVED, MacroScope.TEAM,
    ),
    MacroSpec(
        "我的固件升级步骤", "My firmware update steps", "/fw", "device",
        "{{ requester.name }}，您好！请在设备“设置 → 系统 → 固件升级”中更新到最新版本后重启，再告诉我结果。",
        "Hello {{ requester.name }}, update the device under Settings → System → Firmware, restart it, and tell "
        "me how it goes.",
        ("firmware",), Status.PENDING, MacroScope.PERSONAL,
    ),
)  # fmt: skip
TEAM_MACRO_TEAM = "billing"
PERSONAL_MACRO_OWNER = "agent"


def _save_macros(world: DemoWorld) -> None:
    existing = set(Macro.objects.filter(workspace=world.workspace).values_list("name", flat=True))
    owner = world.agents[PERSONAL_MACRO_OWNER]
    for spec in MACROS:
        if spec.name in existing:
            continue
        actions: list[dict[str, Any]] = [
            {"type": "reply", "zh": spec.zh, "en": spec.en},
            {"type": "add_tags", "tags": list(spec.tags)},
            {"type": "set", "field": "status", "value": str(spec.status)},
        ]
        macros.macro_save(
            actor=Actor.for_agent(owner) if spec.scope == MacroScope.PERSONAL else SYSTEM,
            workspace=world.workspace,
            name=spec.name,
            name_en=spec.name_en,
            actions=actions,
            scope=spec.scope,
            team=world.teams[TEAM_MACRO_TEAM] if spec.scope == MacroScope.TEAM else None,
            category=world.categories[spec.category] if spec.category else None,
            shortcut=spec.shortcut,
        )


# --- the loan approvals ------------------------------------------------------------------------------------------


def _loan_flow(world: DemoWorld) -> ApprovalFlow:
    found = ApprovalFlow.objects.filter(workspace=world.workspace, name=LOAN_FLOW).first()
    if found is not None:
        return found
    agents = world.agents
    stages = [
        {
            "key": "risk",
            "name": "风控审核",
            "approvers": {"agents": [agents["liu.yang"].pk, agents["zhao.min"].pk]},
            "rule": "any",
            "sla_minutes": 8 * 60,
            "required_items": ["收入证明", "抵押物证明"],
        },
        {
            "key": "legal",
            "name": "法务合规",
            "approvers": {"agents": [agents["admin"].pk, agents["supervisor"].pk]},
            "rule": "all",
            "sla_minutes": 24 * 60,
            "required_items": ["借款合同", "担保协议"],
        },
        {
            "key": "finance",
            "name": "财务确认",
            "approvers": {"team": world.teams["billing"].pk},
            "rule": "n_of_m",
            "n": 2,
            "sla_minutes": 24 * 60,
            "required_items": ["放款账户信息"],
        },
    ]
    return approvals.flow_save(
        actor=SYSTEM,
        workspace=world.workspace,
        name=LOAN_FLOW,
        stages=stages,
        description="设备采购贷款：风控审核 → 法务合规 → 财务确认 — risk, then legal, then finance.",
    )


class LoanSpec(NamedTuple):
    external_id: str
    subject: str
    body: str


LOANS = (
    LoanSpec(
        "loan:LN20261207001",
        "贷款申请：设备采购贷款 50 万",
        "您好，我司计划采购 20 台工业扫码设备，申请设备采购贷款 50 万元，期限 24 个月。收入证明和抵押物证明已附上。",
    ),
    LoanSpec(
        "loan:LN20261207002",
        "贷款申请：门店扩张贷款 120 万",
        "您好，我们准备新开 3 家门店，申请经营贷款 120 万元，期限 36 个月。收入证明已附上，抵押物材料稍后补充。",
    ),
)


def _zh_customers(world: DemoWorld) -> list[Contact]:
    return [c for c in world.contacts if c.language == "zh" and c.organization_id is not None]


def _loan_ticket(world: DemoWorld, spec: LoanSpec, contact: Contact) -> Ticket:
    found = Ticket.objects.filter(workspace=world.workspace, external_id=spec.external_id).first()
    if found is not None:
        return found
    return ticket_services.ticket_create(
        workspace=world.workspace,
        requester=contact,
        actor=Actor.for_contact(contact.pk, contact.name),
        subject=spec.subject,
        body=spec.body,
        channel="web_form",
        priority="high",
        ticket_type="task",
        tags=["loan"],
        language="zh",
        external_id=spec.external_id,
    )


def _decider(approval: Approval) -> Actor:
    """An approver the current stage waits for (delegations already applied)."""
    agent = AgentProfile.objects.get(pk=sorted(approval.waiting_on)[0])
    return Actor.for_agent(agent)


def _loan_approvals(world: DemoWorld) -> None:
    """One request approved by 风控 and waiting at 法务合规; one rejected at 风控 for a missing collateral proof."""
    flow = _loan_flow(world)
    customers = _zh_customers(world)
    waiting, rejected = (_loan_ticket(world, spec, customers[i]) for i, spec in enumerate(LOANS))
    if approvals.approval_of(waiting) is None:
        approval = approvals.approval_start(actor=SYSTEM, ticket=waiting, flow=flow)
        approvals.approval_decide(
            actor=_decider(approval), approval=approval, verdict="approve", comment="收入与抵押物齐全，风险可控。"
        )
    if approvals.approval_of(rejected) is None:
        approval = approvals.approval_start(actor=SYSTEM, ticket=rejected, flow=flow)
        approvals.approval_decide(
            actor=_decider(approval),
            approval=approval,
            verdict="reject",
            reason=MISSING_COLLATERAL,
            missing_items=["抵押物证明"],
        )


# --- the order chain and its delayed shipment --------------------------------------------------------------------


def _order_template(world: DemoWorld) -> ChainTemplate:
    found = ChainTemplate.objects.filter(workspace=world.workspace, name=ORDER_CHAIN).first()
    if found is not None:
        return found
    billing, field = world.teams["billing"].pk, world.teams["field"].pk
    stages = [
        {"key": "order", "name": "下单 Order", "team": billing, "expected_minutes": 60},
        {"key": "picking", "name": "仓储拣货 Picking", "team": billing, "expected_minutes": 8 * 60},
        {"key": "transport", "name": "运输配送 Transport", "team": billing, "expected_minutes": 48 * 60},
        {"key": "delivery", "name": "客户签收 Delivery", "team": field, "expected_minutes": 24 * 60},
    ]
    return chains.template_save(
        actor=SYSTEM,
        workspace=world.workspace,
        name=ORDER_CHAIN,
        mode="sequence",
        stages=stages,
        description="下单 → 仓储拣货 → 运输配送 → 客户签收：上一环节解决后开启下一环节 — each stage opens when the "
        "previous one is solved.",
    )


def _solve_stage(world: DemoWorld, chain: Chain, key: str) -> None:
    """A billing agent takes the stage's ticket and solves it; the chain opens the next stage."""
    row = ChainStage.objects.filter(chain=chain, key=key).select_related("ticket").first()
    if row is None or row.ticket is None:
        return
    ticket = row.ticket
    if ticket.status not in (Status.SOLVED, Status.CLOSED):
        agent = world.agents["sun.li"]
        ticket_services.ticket_update(
            ticket=ticket, actor=Actor.for_agent(agent), changes={"assignee": agent, "status": Status.SOLVED}
        )
        ticket.refresh_from_db()
    chains.on_ticket_solved(actor=SYSTEM, ticket=ticket)


def _order_chain(world: DemoWorld) -> None:
    customers = _zh_customers(world)
    chain = chains.chain_start(
        actor=SYSTEM,
        template=_order_template(world),
        key=CHAIN_KEY,
        requester=customers[2],
        subject=f"订单 {ORDER_NO}：工业扫码枪 ×20 履约跟踪",
        values={"order.number": ORDER_NO, "order.items": "工业扫码枪 ×20", "order.carrier": "顺丰"},
    )
    for key in ("order", "picking"):
        _solve_stage(world, chain, key)
    _shipment_delayed(world)


def _shipment_delayed(world: DemoWorld) -> None:
    """The order system reports the delay; the rules run for it now (no worker runs while the demo is seeded)."""
    row, _new = business_event_receive(actor=SYSTEM, workspace=world.workspace, body=json.dumps(DELAY_EVENT))
    if row.ticket_id is None:
        return
    record = (
        EventRecord.objects.filter(name=BusinessEventReceived.name, payload__business_event_id=row.pk)
        .order_by("-pk")
        .first()
    )
    triggers.run_for_event(actor=SYSTEM, event=_event_for(row, record))


def _event_for(row: BusinessEvent, record: EventRecord | None) -> dict[str, Any]:
    """The domain event the subscriber would receive: the stored one when events are dispatched (so the relay's
    later delivery is the same event and fires nothing twice), else one with an id derived from the business
    event's (the seed holds events back)."""
    if record is not None:
        return record.as_domain_event().as_dict()
    published = BusinessEventReceived(
        workspace_id=row.workspace_id,
        business_event_id=row.pk,
        type=row.type,
        key=row.key,
        ticket_id=row.ticket_id,
        chain_id=row.chain_id,
    )
    return {
        "id": f"demo:{row.event_id}",
        "name": published.name,
        "workspace_id": row.workspace_id,
        "payload": published.payload(),
    }
