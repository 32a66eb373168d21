"""The customer screens (issue 18): editing contacts and organizations, the organization page (tickets, SLA numbers
on known data), another workspace's objects, and a ticket for a customer known only by phone or WeChat."""

from __future__ import annotations

import datetime as dt

import pytest

from pivotdesk.common.time import now
from pivotdesk.customers.models import ChannelIdentity, Contact, CustomerOrganization
from pivotdesk.sla.models import SLAOutcome
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.tests.factories import make_ticket
from pivotdesk.web.tests.helpers import new_contact, new_organization

pytestmark = pytest.mark.django_db


def test_an_agent_edits_a_contact_and_its_identities(client_as, agent, workspace):
    org = new_organization(workspace=workspace, name="星河科技")
    person = new_contact(workspace=workspace, name="Li", email="li@example.com")
    client = client_as(agent)
    assert client.get(f"/contacts/{person.pk}/edit/").status_code == 200
    response = client.post(
        f"/contacts/{person.pk}/edit/",
        {
            "name": "李娜",
            "organization": org.pk,
            "tier": "vip",
            "language": "zh-hans",
            "time_zone": "Asia/Shanghai",
            "notes": "只接电话",
            "tags": "退款, 大客户",
        },
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.name, person.organization_id, person.tier, person.tags) == (
        "李娜",
        org.pk,
        "vip",
        ["退款", "大客户"],
    )
    assert (
        client.post(f"/contacts/{person.pk}/identities/add/", {"kind": "phone", "value": "138 0013 8000"}).status_code
        == 302
    )
    assert (
        client.post(f"/contacts/{person.pk}/identities/add/", {"kind": "wechat", "value": "wx_lina"}).status_code == 302
    )
    bad = client.post(f"/contacts/{person.pk}/identities/add/", {"kind": "phone", "value": "12"})
    assert bad.status_code == 422 and b"phone number" in bad.content
    page = client.get(f"/contacts/{person.pk}/").content.decode()
    assert "+8613800138000" in page and "wx_lina" in page and f"/organizations/{org.pk}/" in page
    wechat = ChannelIdentity.objects.get(contact=person, kind="wechat")
    assert client.post(f"/contacts/{person.pk}/identities/remove/", {"identity": wechat.pk}).status_code == 302
    assert not ChannelIdentity.objects.filter(pk=wechat.pk).exists()


def test_bad_contact_input_is_a_readable_422(client_as, agent, workspace):
    person = new_contact(workspace=workspace)
    response = client_as(agent, "zh-hans").post(f"/contacts/{person.pk}/edit/", {"time_zone": "Mars/Olympus"})
    assert response.status_code == 422
    assert "不是时区" in response.content.decode()


def test_an_organization_is_created_and_edited_with_account_rows(client_as, agent, workspace):
    client = client_as(agent)
    response = client.post(
        "/organizations/new/",
        {
            "name": "蓝海物流",
            "tier": "strategic",
            "domains": "lanhai.cn, @LanHai.com",
            "tags": "物流, 试点",
            "notes": "每季度复盘",
            "account_key": ["合同", "续约", ""],
            "account_value": ["战略", "2027-06-30", ""],
        },
    )
    assert response.status_code == 302
    org = CustomerOrganization.objects.get(workspace=workspace, name="蓝海物流")
    assert (org.tier, org.domains, org.tags) == ("strategic", ["lanhai.cn", "lanhai.com"], ["物流", "试点"])
    assert org.account == {"合同": "战略", "续约": "2027-06-30"}
    form = client.get(f"/organizations/{org.pk}/edit/").content.decode()
    assert 'value="续约"' in form and "<textarea" in form and "account_key" in form
    client.post(
        f"/organizations/{org.pk}/edit/",
        {"name": "蓝海物流", "tier": "vip", "account_key": ["合同"], "account_value": ["标准"]},
    )
    org.refresh_from_db()
    assert org.tier == "vip" and org.account == {"合同": "标准"}


def test_a_light_agent_sees_customers_but_cannot_edit_them(client_as, light_agent, workspace):
    org = new_organization(workspace=workspace, name="ACME")
    client = client_as(light_agent)
    assert client.get(f"/organizations/{org.pk}/").status_code == 200
    assert client.post(f"/organizations/{org.pk}/edit/", {"tier": "vip"}).status_code == 403
    assert client.post("/organizations/new/", {"name": "X"}).status_code == 403
    org.refresh_from_db()
    assert org.tier == "standard"


def test_the_organization_list_searches_and_filters_by_tier(client_as, agent, workspace):
    new_organization(workspace=workspace, name="Alpha", tier="vip", tags=["pilot"])
    new_organization(workspace=workspace, name="Beta", tier="standard", domains=["beta.cn"])
    client = client_as(agent)
    assert "Alpha" in client.get("/organizations/?tier=vip").content.decode()
    assert "Beta" not in client.get("/organizations/?tier=vip").content.decode()
    assert "Beta" in client.get("/organizations/?q=beta.cn").content.decode()
    assert "Alpha" in client.get("/organizations/?q=pilot").content.decode()


def _outcome(ticket: Ticket, *, achieved: bool, days_ago: float, metric: str = "first_reply") -> SLAOutcome:
    finished = now() - dt.timedelta(days=days_ago)
    return SLAOutcome.objects.create(
        workspace_id=ticket.workspace_id,
        ticket=ticket,
        metric=metric,
        target_minutes=60,
        achieved=achieved,
        finished_at=finished,
        breached_at=None if achieved else finished,
    )


def test_the_organization_page_shows_its_tickets_and_sla_numbers(client_as, agent, workspace):
    # given an organization with two contacts, tickets in several states, and SLA outcomes in and out of 30 days
    org = new_organization(workspace=workspace, name="华东精密", tier="strategic", notes="重要客户")
    other_org = new_organization(workspace=workspace, name="Other")
    a = new_contact(workspace=workspace, name="甲", organization=org)
    b = new_contact(workspace=workspace, name="乙", organization=org)
    stranger = new_contact(workspace=workspace, name="丙", organization=other_org)
    open_ok = make_ticket(workspace=workspace, requester=a, subject="Open on track")
    open_late = make_ticket(workspace=workspace, requester=b, subject="Open breached")
    open_warn = make_ticket(workspace=workspace, requester=a, subject="Open warning")
    solved = make_ticket(workspace=workspace, requester=a, subject="Solved one")
    theirs = make_ticket(workspace=workspace, requester=stranger, subject="Not theirs")
    Ticket.objects.filter(pk=open_ok.pk).update(sla_state="ok")
    Ticket.objects.filter(pk=open_late.pk).update(sla_state="breached")
    Ticket.objects.filter(pk=open_warn.pk).update(sla_state="warning")
    Ticket.objects.filter(pk=solved.pk).update(status="solved", sla_state="")
    Ticket.objects.filter(pk=theirs.pk).update(sla_state="breached")
    _outcome(open_ok, achieved=True, days_ago=2)
    _outcome(solved, achieved=True, days_ago=5, metric="resolution")
    _outcome(solved, achieved=True, days_ago=6)
    _outcome(open_late, achieved=False, days_ago=1)
    _outcome(open_warn, achieved=False, days_ago=45)  # outside the 30 days
    _outcome(theirs, achieved=False, days_ago=1)  # another organization's
    # when an agent opens the organization page
    response = client_as(agent).get(f"/organizations/{org.pk}/")
    html = response.content.decode()
    # then its numbers are those of its own tickets
    assert response.status_code == 200
    sla = response.context["sla"]
    assert sla.open_by_state["ok"] == 1 and sla.open_by_state["breached"] == 1 and sla.open_by_state["warning"] == 1
    assert sla.open_total == 3
    assert (sla.share.total, sla.share.achieved, sla.share.breached, sla.share.percent) == (4, 3, 1, 75.0)
    assert [o.ticket_id for o in sla.breaches] == [open_late.pk]
    assert 'data-stat="percent">75.0%' in html and 'data-stat="breached">1<' in html
    # and its open and recent tickets link to the ticket page, its contacts to theirs
    assert [t.pk for t in response.context["open_tickets"]] == sorted(
        [open_ok.pk, open_late.pk, open_warn.pk], key=lambda pk: -Ticket.objects.get(pk=pk).updated_at.timestamp()
    )
    assert [t.pk for t in response.context["recent_tickets"]] == [solved.pk]
    assert f"/tickets/{open_late.number}/" in html and "Not theirs" not in html
    assert f"/contacts/{a.pk}/" in html and f"/contacts/{b.pk}/" in html and "重要客户" in html


def test_another_workspaces_customers_are_not_found(client_as, agent, other_workspace):
    org = new_organization(workspace=other_workspace, name="Secret Org")
    person = new_contact(workspace=other_workspace, name="Secret Person")
    client = client_as(agent)
    for url in (f"/organizations/{org.pk}/", f"/organizations/{org.pk}/edit/", f"/contacts/{person.pk}/edit/"):
        assert client.get(url).status_code == 404
    assert client.post(f"/organizations/{org.pk}/edit/", {"tier": "vip"}).status_code == 404
    assert (
        client.post(f"/contacts/{person.pk}/identities/add/", {"kind": "phone", "value": "13800138000"}).status_code
        == 404
    )
    assert "Secret Org" not in client.get("/organizations/").content.decode()
    org.refresh_from_db()
    assert org.tier == "standard" and not person.identities.filter(kind="phone").exists()


def test_a_ticket_for_a_phone_only_customer_and_the_same_number_again(client_as, agent, workspace):
    client = client_as(agent)
    response = client.post(
        "/tickets/new/", {"phone": "138 0013 8000", "name": "王芳", "subject": "打不开机", "body": "来电说手机打不开机"}
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(workspace=workspace, subject="打不开机")
    assert ticket.channel == "voice"
    requester = ticket.requester
    assert (requester.name, requester.email, requester.phone) == ("王芳", "", "+8613800138000")
    # the same number written another way finds the same customer
    client.post("/tickets/new/", {"phone": "+86-138-0013-8000", "subject": "又来电"})
    again = Ticket.objects.get(workspace=workspace, subject="又来电")
    assert again.requester_id == requester.pk
    assert Contact.objects.filter(workspace=workspace, phone="+8613800138000").count() == 1
    # the customer card says how to reach them
    card = client.get(f"/tickets/{again.number}/").content.decode()
    assert "+8613800138000" in card and "Reachable on" in card


def test_a_ticket_for_a_wechat_only_customer(client_as, agent, workspace):
    client = client_as(agent)
    response = client.post(
        "/tickets/new/", {"im_kind": "wechat", "im_id": "oWx-123_abc", "subject": "发票", "body": "要开发票"}
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(workspace=workspace, subject="发票")
    assert ticket.channel == "wechat"
    assert list(ticket.requester.identities.values_list("kind", "value")) == [("wechat", "oWx-123_abc")]
    # an explicit channel wins; nothing typed at all is a readable refusal that creates nothing
    client.post("/tickets/new/", {"im_kind": "whatsapp", "im_id": "8613900000000", "subject": "WA", "channel": "chat"})
    assert Ticket.objects.get(workspace=workspace, subject="WA").channel == "chat"
    contacts = Contact.objects.count()
    refused = client.post("/tickets/new/", {"subject": "nobody"})
    assert refused.status_code == 422 and Contact.objects.count() == contacts
    assert client.post("/tickets/new/", {"phone": "12", "subject": "bad"}).status_code == 422
    assert not Ticket.objects.filter(subject__in=["nobody", "bad"]).exists()
