"""Ticket import/export: rows become tickets through the services, bad rows are reported, re-imports are no-ops."""

from __future__ import annotations

import io
import json

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.customers.models import Contact
from pivotdesk.tickets import services
from pivotdesk.tickets.models import Message, Ticket, TicketEvent
from pivotdesk.tickets.services.transfer import decode_text, tickets_export, tickets_import
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

CSV = """external_id,subject,body,requester_email,requester_name,status,priority,type,tags,created_at,cf_device_model
A-1,打印机卡纸,"第一行
第二行",wang.wei@example.cn,王伟,open,high,incident,"打印机, vip",2026-03-01T09:30:00+08:00,PD-200
A-2,Refund please,Order 123 refund,emily@example.com,Emily,solved,normal,question,refund,2026-03-02T10:00:00,
A-3,No requester,There is nobody here,,,new,normal,question,,,
A-4,Bad priority,Body,bob@example.com,Bob,new,sky-high,question,,,
A-5,Closed one,Done,bob@example.com,Bob,closed,low,task,,2026-03-03T08:00:00Z,
"""


@pytest.fixture
def device_field(workspace):
    return services.custom_field_create(
        actor=Actor.system(),
        workspace=workspace,
        key="device_model",
        label="Device",
        field_type="select",
        options=["PD-100", "PD-200"],
    )


def test_csv_rows_become_tickets_and_bad_rows_are_reported_with_their_line(workspace, device_field):
    report = tickets_import(actor=Actor.system(), workspace=workspace, data=CSV.encode(), fmt="csv")
    assert len(report.created) == 3
    # the quoted two-line body of A-1 occupies lines 2-3, so A-3 is on line 5 and A-4 on line 6
    assert [(e.line, "requester" in e.reason or "priority" in e.reason) for e in report.errors] == [
        (5, True),
        (6, True),
    ]
    first = Ticket.objects.get(workspace=workspace, external_id="A-1")
    assert first.subject == "打印机卡纸" and first.status == "open" and first.priority == "high"
    assert first.channel == "import" and first.custom_fields == {"device_model": "PD-200"}
    assert sorted(first.tags.values_list("name", flat=True)) == ["vip", "打印机"]
    assert first.created_at.isoformat() == "2026-03-01T01:30:00+00:00"
    assert first.messages.get().body_text == "第一行\n第二行"
    assert first.requester.email == "wang.wei@example.cn" and first.requester.name == "王伟"
    solved = Ticket.objects.get(workspace=workspace, external_id="A-2")
    assert solved.status == "solved" and solved.solved_at is not None
    closed = Ticket.objects.get(workspace=workspace, external_id="A-5")
    assert closed.status == "closed"
    assert TicketEvent.objects.filter(ticket=closed, verb="status_changed", new_value="closed").exists()


def test_importing_the_same_file_twice_creates_nothing_new(workspace, device_field):
    tickets_import(actor=Actor.system(), workspace=workspace, data=CSV.encode(), fmt="csv")
    before = (Ticket.objects.count(), Contact.objects.count(), Message.objects.count())
    again = tickets_import(actor=Actor.system(), workspace=workspace, data=CSV.encode(), fmt="csv")
    assert again.created == [] and len(again.duplicates) == 3
    assert (Ticket.objects.count(), Contact.objects.count(), Message.objects.count()) == before


def test_rows_without_an_id_are_keyed_by_their_content(workspace):
    data = b"subject,body,email\nHello,World,a@example.com\nHello,World,b@example.com\n"
    assert len(tickets_import(actor=Actor.system(), workspace=workspace, data=data).created) == 2
    assert len(tickets_import(actor=Actor.system(), workspace=workspace, data=data).duplicates) == 2


def test_requester_resolves_to_the_existing_contact(workspace, contact):
    data = f"subject,body,requester_email\nHi,Body,{contact.email.upper()}\n".encode()
    report = tickets_import(actor=Actor.system(), workspace=workspace, data=data)
    assert Ticket.objects.get(pk=report.created[0]).requester_id == contact.pk


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig"])
def test_gb18030_and_utf8_bom_csv_with_chinese_headers_are_read(workspace, encoding):
    services.custom_field_create(
        actor=Actor.system(),
        workspace=workspace,
        key="order_number",
        label="Order",
        label_zh="订单号",
        field_type="text",
    )
    text = "主题,内容,邮箱,客户,优先级,标签,订单号\n发票抬头错误,请重开发票,li.na@example.cn,李娜,紧急,发票,PD-9\n"
    report = tickets_import(actor=Actor.system(), workspace=workspace, data=text.encode(encoding), filename="工单.csv")
    assert report.errors == [] and len(report.created) == 1
    ticket = Ticket.objects.get(pk=report.created[0])
    assert (ticket.subject, ticket.priority, ticket.requester.name) == ("发票抬头错误", "urgent", "李娜")
    assert list(ticket.tags.values_list("name", flat=True)) == ["发票"]
    assert ticket.custom_fields == {"order_number": "PD-9"}


def test_decode_text_refuses_binary():
    with pytest.raises(ValidationFailed):
        decode_text(b"subject\nabc\xffdef\n")
    assert decode_text("退款".encode("gb18030")) == "退款"


def test_json_rows_with_conversation(workspace, agent):
    rows = [
        {
            "id": "zd-1",
            "subject": "API 500",
            "body": "Our ERP gets HTTP 500",
            "requester_email": "dev@example.com",
            "status": "pending",
            "channel": "api",
            "assignee": agent.user.email,
            "messages": [
                {
                    "author_type": "agent",
                    "author_email": agent.user.email,
                    "body": "Which endpoint?",
                    "created_at": "2026-03-01T10:00:00+08:00",
                },
                {"author_type": "contact", "body": "/api/v1/orders", "created_at": "2026-03-01T11:00:00+08:00"},
                {"author_type": "agent", "kind": "note", "author": "Someone gone", "body": "pool exhausted"},
            ],
        },
        {"id": "zd-2", "subject": "no one", "body": "x"},
    ]
    report = tickets_import(actor=Actor.system(), workspace=workspace, data=json.dumps(rows, indent=2).encode())
    assert len(report.created) == 1
    assert len(report.errors) == 1 and report.errors[0].line > 10
    ticket = Ticket.objects.get(external_id="zd-1")
    assert ticket.status == "pending" and ticket.channel == "api" and ticket.assignee_id == agent.pk
    kinds = list(ticket.messages.values_list("author_type", "kind"))
    assert kinds == [("contact", "public"), ("agent", "public"), ("contact", "public"), ("agent", "note")]
    assert ticket.first_response_at is not None and ticket.first_response_at.isoformat().startswith("2026-03-01T02")


def test_json_lines_report_the_bad_line(workspace):
    data = b'{"id": "1", "subject": "a", "body": "b", "email": "x@example.com"}\n{not json}\n'
    report = tickets_import(actor=Actor.system(), workspace=workspace, data=data, fmt="json")
    assert len(report.created) == 1 and report.errors[0].line == 2


def test_unknown_references_are_warnings_not_failures(workspace):
    data = b"subject,body,email,assignee,team,category,cf_nope\nS,B,x@example.com,ghost,Nobody,Nowhere,1\n"
    report = tickets_import(actor=Actor.system(), workspace=workspace, data=data)
    assert len(report.created) == 1
    reasons = " ".join(w.reason for w in report.warnings)
    assert "ghost" in reasons and "Nobody" in reasons and "Nowhere" in reasons and "nope" in reasons


def _history(workspace, agent, contact):
    """Three tickets with conversations, tags, a custom field, statuses and a category."""
    category = services.category_create(actor=Actor.system(), workspace=workspace, name="Refunds", name_zh="退款")
    services.custom_field_create(
        actor=Actor.system(), workspace=workspace, key="order_number", label="Order", field_type="text"
    )
    actor = Actor.for_agent(agent)
    a = make_ticket(
        workspace=workspace,
        requester=contact,
        subject="退款申请",
        body="请退款",
        tags=["退款"],
        custom_fields={"order_number": "PD-1"},
        category=category,
    )
    services.message_create(ticket=a, actor=actor, body="好的，已处理", status_after="solved")
    b = make_ticket(workspace=workspace, requester=contact, subject="Printer", body="Broken", priority="high")
    services.message_create(ticket=b, actor=actor, body="internal", kind="note")
    services.ticket_update(ticket=b, actor=actor, changes={"status": "on_hold"})
    make_ticket(workspace=workspace, requester=contact, subject="New one", body="Hello")


def _shape(workspace):
    return sorted(
        (
            t.subject,
            t.status,
            t.priority,
            tuple(sorted(t.tags.values_list("name", flat=True))),
            json.dumps(t.custom_fields, sort_keys=True),
            tuple(t.messages.values_list("author_type", "kind", "body_text")),
            t.requester.email,
            t.created_at,
        )
        for t in Ticket.objects.filter(workspace=workspace)
    )


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_export_then_import_round_trips(workspace, other_workspace, agent, contact, fmt):
    _history(workspace, agent, contact)
    services.custom_field_create(
        actor=Actor.system(), workspace=other_workspace, key="order_number", label="Order", field_type="text"
    )
    out = io.StringIO()
    assert tickets_export(workspace=workspace, out=out, fmt=fmt) == 3
    report = tickets_import(actor=Actor.system(), workspace=other_workspace, data=out.getvalue().encode(), fmt=fmt)
    assert report.errors == [] and len(report.created) == 3
    original, copy = _shape(workspace), _shape(other_workspace)
    if fmt == "csv":  # CSV carries the first message only
        original = [(*row[:5], row[5][:1], *row[6:]) for row in original]
        copy = [(*row[:5], row[5][:1], *row[6:]) for row in copy]
    assert copy == original
    # importing an export again, or into its own workspace, changes nothing
    assert (
        len(
            tickets_import(
                actor=Actor.system(), workspace=other_workspace, data=out.getvalue().encode(), fmt=fmt
            ).duplicates
        )
        == 3
    )
    assert (
        len(tickets_import(actor=Actor.system(), workspace=workspace, data=out.getvalue().encode(), fmt=fmt).duplicates)
        == 3
    )


def test_export_streams_valid_json_and_csv_headers(workspace, contact):
    make_ticket(workspace=workspace, requester=contact, subject="一")
    out = io.StringIO()
    tickets_export(workspace=workspace, out=out, fmt="json", chunk_size=1)
    rows = json.loads(out.getvalue())
    assert rows[0]["subject"] == "一" and rows[0]["external_id"] == f"pivotdesk:{workspace.slug}#{rows[0]['number']}"
    out = io.StringIO()
    tickets_export(workspace=workspace, out=out, fmt="csv")
    assert out.getvalue().splitlines()[0].startswith("external_id,number,subject,body,status")


def test_export_only_covers_its_workspace(workspace, other_workspace, contact):
    make_ticket(workspace=workspace, requester=contact, subject="mine")
    make_ticket(workspace=other_workspace, subject="theirs")
    out = io.StringIO()
    tickets_export(workspace=workspace, out=out, fmt="json")
    assert [r["subject"] for r in json.loads(out.getvalue())] == ["mine"]


def test_an_agent_needs_the_import_permission(workspace, agent):
    from pivotdesk.common.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        tickets_import(workspace=workspace, data=b"subject\nx\n", actor=Actor.for_agent(agent))
