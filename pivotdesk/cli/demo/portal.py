"""The demo's customer portal: a theme, two portal-ready customers of one organization (one of them its manager)
with requests in every state — new, open, waiting on the customer, on hold, solved, closed — each with a public
conversation and an internal note the customer must never see. Sign in as them with
`manage.py portal_link lin.xiao@hdjm.com.cn` (prints a magic link)."""

from __future__ import annotations

from dataclasses import dataclass

from pivotdesk.accounts.actors import Actor
from pivotdesk.cli.demo.setup import DemoWorld
from pivotdesk.customers import services as customer_services
from pivotdesk.customers.models import Contact, CustomerOrganization
from pivotdesk.portal.services import admin as portal_admin
from pivotdesk.portal.services.customer import preference_save
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import MessageKind, Status, Ticket

SYSTEM = Actor.system("demo")
MANAGER_EMAIL = "lin.xiao@hdjm.com.cn"
COLLEAGUE_EMAIL = "zhou.min@hdjm.com.cn"


@dataclass(frozen=True)
class PortalRequest:
    subject: str
    question: str
    answer: str
    status: str
    team: str = ""


REQUESTS = (
    PortalRequest("打印机无法连接 Wi-Fi", "三楼的打印机从昨天起连不上 Wi-Fi，重启过也不行。", "", Status.NEW),
    PortalRequest(
        "发票抬头需要修改",
        "上个月的发票抬头写错了，需要改成“华信科技（上海）有限公司”。",
        "您好，我们已收到，正在和财务核对。",
        Status.OPEN,
        "billing",
    ),
    PortalRequest(
        "VPN 登录后经常掉线",
        "VPN 每隔十分钟左右断开一次。",
        "请问您使用的是哪个版本的客户端？方便的话请发一张错误截图。",
        Status.PENDING,
        "tech",
    ),
    PortalRequest(
        "Replacement laptop for a new hire",
        "We need a laptop for a colleague starting next Monday.",
        "We have ordered the laptop; we are waiting for the supplier's delivery date.",
        Status.ON_HOLD,
    ),
    PortalRequest(
        "无法重置密码",
        "点了“忘记密码”以后一直收不到邮件。",
        "已为您手动重置，临时密码已通过短信发送，请登录后修改。",
        Status.SOLVED,
        "tech",
    ),
    PortalRequest(
        "Invoice copy for Q3", "Could you send us a copy of the Q3 invoice?", "Attached, as requested.", Status.CLOSED
    ),
)


def configure_portal(world: DemoWorld) -> None:
    """Theme, customers, an organization manager and their requests."""
    workspace = world.workspace
    portal_admin.theme_save(
        actor=SYSTEM,
        workspace=workspace,
        title="Acme Support",
        title_zh="Acme 客户服务中心",
        primary_color="#0b5cad",
        accent_color="#0e7a3d",
    )
    organization = world.organizations[0] if world.organizations else None
    manager = _customer(
        world, name="林晓", email=MANAGER_EMAIL, phone="+8613800138001", language="zh-hans", organization=organization
    )
    colleague = _customer(
        world, name="周敏", email=COLLEAGUE_EMAIL, phone="+8613800138002", language="zh-hans", organization=organization
    )
    if organization is not None:
        portal_admin.organization_manager_add(actor=SYSTEM, contact=manager, organization=organization)
    agent = next(iter(world.agents.values()), None)
    for index, spec in enumerate(REQUESTS):
        requester = manager if index % 3 != 2 else colleague
        _request(world, requester, spec, agent_actor=Actor.for_agent(agent) if agent else SYSTEM)


def _customer(
    world: DemoWorld, *, name: str, email: str, phone: str, language: str, organization: CustomerOrganization | None
) -> Contact:
    existing = Contact.objects.filter(workspace=world.workspace, email=email).first()
    contact = existing or customer_services.contact_create(
        workspace=world.workspace,
        actor=SYSTEM,
        name=name,
        email=email,
        phone=phone,
        organization=organization,
        language=language,
    )
    preference_save(actor=Actor.for_contact(contact.pk, contact.display_name), contact=contact, language=language)
    return contact


def _request(world: DemoWorld, requester: Contact, spec: PortalRequest, *, agent_actor: Actor) -> Ticket:
    customer = Actor.for_contact(requester.pk, requester.display_name)
    ticket = ticket_services.ticket_create(
        workspace=world.workspace, requester=requester, subject=spec.subject, body=spec.question, actor=customer
    )
    team = world.teams.get(spec.team) if spec.team else None
    if team is not None:
        ticket = ticket_services.ticket_update(ticket=ticket, actor=SYSTEM, changes={"team": team})
    if spec.answer:
        ticket_services.message_create(
            ticket=ticket,
            actor=agent_actor,
            body="内部：客户是组织管理员，处理时请抄送客户经理。 Internal: keep the account manager in the loop.",
            kind=MessageKind.NOTE,
        )
        ticket_services.message_create(ticket=ticket, actor=agent_actor, body=spec.answer)
    if spec.status == Status.CLOSED:
        ticket = ticket_services.ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=SYSTEM)
    if spec.status != ticket.status:
        ticket = ticket_services.ticket_set_status(ticket=ticket, status=spec.status, actor=SYSTEM)
    return ticket
