"""Bilingual at display time (issue 12): a notification keeps its kind and facts and is rendered in the reader's
language — the request's in the app, the recipient's in email and IM — and a delivery's reason is a code rendered
the same way. Rows written before (English titles and reasons) are converted by the data migration."""

from __future__ import annotations

import datetime as dt
import importlib
import re
import socket
from email.header import decode_header, make_header

import pytest
from django.apps import apps
from django.utils import translation

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.delivery_errors import code_of, describe
from pivotdesk.notifications import services
from pivotdesk.notifications.models import Delivery, DeliveryChannel, DeliveryStatus, Notification
from pivotdesk.notifications.render import recipient_language, render_in
from pivotdesk.notifications.tests.factories import set_channels
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

ALLOWED = {"SLA", "SMTP", "HTTP"}  # acronyms, as the Chinese catalogue writes them


def english_words(text: str) -> set[str]:
    """Latin words in a text, but the allowed acronyms."""
    return set(re.findall(r"[A-Za-z]{2,}", text)) - ALLOWED


def _breach(workspace, agent, ticket, **kw):
    """A breach as the SLA scanner sends it: an English title (the fallback) plus the facts."""
    due = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)  # 14:00 in Shanghai
    with translation.override("en"):
        return services.notify(
            workspace=workspace,
            actor=Actor.system("sla"),
            recipient=agent,
            kind="sla.breach",
            title=f"SLA breached: resolution of #{ticket.number} (due 03-02 14:00)",
            body=f"#{ticket.number} {ticket.subject}",
            ticket=ticket,
            urgent=True,
            data={
                "metric": "resolution",
                "cycle": 1,
                "label": "breach",
                "due_at": due.isoformat(),
                "time_zone": "Asia/Shanghai",
                "level": None,
            },
            **kw,
        )


def test_an_sla_breach_is_rendered_in_each_readers_language(workspace, agent):
    ticket = make_ticket(workspace=workspace, subject="打印机无法连接")
    n = _breach(workspace, agent, ticket)
    assert n is not None
    en, zh = render_in(n, "en"), render_in(n, "zh-hans")
    assert en.title == f"SLA breached: resolution of #{ticket.number} (due 03-02 14:00)"
    assert zh.title == f"SLA 违约：#{ticket.number} 的解决已超时（到期 03-02 14:00）"
    assert not english_words(zh.title + zh.body)
    assert zh.body == f"#{ticket.number} 打印机无法连接"


def test_warning_and_escalation_titles_carry_their_label_and_level(workspace, agent):
    ticket = make_ticket(workspace=workspace, subject="退款")
    common = {"workspace": workspace, "actor": Actor.system("sla"), "recipient": agent, "ticket": ticket}
    due = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC).isoformat()
    warning = services.notify(
        kind="sla.warning",
        title="SLA warning (15 min before): first reply …",
        data={"metric": "first_reply", "label": "15 min before", "due_at": due, "time_zone": "Asia/Shanghai"},
        **common,
    )
    escalation = services.notify(
        kind="sla.escalation",
        title="SLA escalation level 2: …",
        data={"metric": "resolution", "label": "breach", "due_at": due, "time_zone": "Asia/Shanghai", "level": 2},
        **common,
    )
    assert warning is not None and escalation is not None
    assert (
        render_in(warning, "zh-hans").title
        == f"SLA 预警（提前 15 分钟）：#{ticket.number} 的首次响应将于 03-02 14:00 到期"
    )
    assert (
        render_in(warning, "en").title
        == f"SLA warning (15 min before): first reply of #{ticket.number} due 03-02 14:00"
    )
    zh = render_in(escalation, "zh-hans").title
    assert zh == f"SLA 第 2 级升级：#{ticket.number} 的解决已超时（到期 03-02 14:00）" and not english_words(zh)


def test_an_assignment_is_rendered_from_its_ticket(workspace, agent):
    ticket = make_ticket(workspace=workspace, subject="发票抬头错误")
    n = services.notify(
        workspace=workspace,
        actor=Actor.system("routing"),
        recipient=agent,
        kind="routing.assigned",
        title=f"#{ticket.number} {ticket.subject}",
        ticket=ticket,
    )
    assert n is not None
    assert render_in(n, "zh-hans").title == f"工单 #{ticket.number} 已分配给你：发票抬头错误"
    assert render_in(n, "en").title == f"Ticket #{ticket.number} was assigned to you: 发票抬头错误"


def test_an_unknown_kind_or_a_row_without_facts_shows_its_stored_text(workspace, agent):
    n = services.notify(workspace=workspace, actor=Actor.system(), recipient=agent, kind="custom.thing", title="Hi")
    assert n is not None and render_in(n, "zh-hans").title == "Hi"
    bare = services.notify(workspace=workspace, actor=Actor.system(), recipient=agent, kind="sla.breach", title="x")
    assert bare is not None and render_in(bare, "zh-hans").title == "x"


def test_the_recipients_language_is_their_own_else_their_workspaces(workspace, agent):
    workspace.default_language = "en"
    workspace.save(update_fields=["default_language"])
    agent.user.preferred_language = ""
    assert recipient_language(agent) == "en"
    agent.user.preferred_language = "zh-Hans"
    assert recipient_language(agent) == "zh-hans"
    assert recipient_language(None) == "zh-hans"


@pytest.mark.parametrize(
    "case",
    [
        ("zh-hans", "SLA 违约：#{n} 的解决已超时（到期 03-02 14:00）"),
        ("en", "SLA breached: resolution of #{n} (due 03-02 14:00)"),
    ],
)
def test_an_email_goes_out_in_the_recipients_language(
    workspace, agent, smtp_server, case, django_capture_on_commit_callbacks
):
    """Given a notification created while the code ran in English, the email is in the recipient's language."""
    language, subject = case
    agent.user.preferred_language = language
    agent.user.save(update_fields=["preferred_language"])
    set_channels(agent, {"sla.breach": ["email"]})
    ticket = make_ticket(workspace=workspace, subject="打印机无法连接")
    with django_capture_on_commit_callbacks(execute=True):
        n = _breach(workspace, agent, ticket)
    assert n is not None and n.deliveries.get().status == DeliveryStatus.SENT
    _rcpts, msg = smtp_server.messages[0]
    assert str(make_header(decode_header(msg["Subject"]))) == subject.format(n=ticket.number)


def test_a_suppressed_delivery_stores_a_code_and_reads_in_both_languages(workspace, agent):
    agent.user.email = ""
    agent.user.save(update_fields=["email"])
    set_channels(agent, {"sla.breach": ["email"]})
    ticket = make_ticket(workspace=workspace)
    n = _breach(workspace, agent, ticket)
    assert n is not None
    d = n.deliveries.get()
    assert d.status == DeliveryStatus.SUPPRESSED and code_of(d.last_error) == "no_email"
    assert d.last_error == '{"code":"no_email"}'  # a fact, not an English sentence
    with translation.override("zh-hans"):
        assert d.error_display == "该客服没有邮箱地址"
    with translation.override("en"):
        assert d.error_display == "The agent has no email address"


def test_a_mail_server_that_is_down_reads_as_such_in_chinese_with_the_raw_detail(
    workspace, agent, settings, django_capture_on_commit_callbacks
):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port
    set_channels(agent, {"sla.breach": ["email"]})
    with django_capture_on_commit_callbacks(execute=True):
        n = _breach(workspace, agent, make_ticket(workspace=workspace))
    assert n is not None
    d = n.deliveries.get()
    assert code_of(d.last_error) == "mail_connect"
    with translation.override("zh-hans"):
        assert d.error_display.startswith("无法连接邮件服务器：ConnectionRefusedError")
    with translation.override("en"):
        assert d.error_display.startswith("Could not connect to the mail server: ConnectionRefusedError")


def test_the_data_migration_gives_old_rows_their_facts_and_keeps_what_it_cannot_read(workspace, agent):
    migration = importlib.import_module("pivotdesk.notifications.migrations.0003_facts_not_sentences")
    ticket = make_ticket(workspace=workspace, subject="退款")
    old = Notification.objects.create(
        workspace=workspace,
        recipient=agent,
        kind="sla.breach",
        title=f"SLA breached: resolution of #{ticket.number} (due 03-02 14:00)",
        ticket=ticket,
        data={"metric": "resolution", "cycle": 1, "label": "breach"},
    )
    warning = Notification.objects.create(
        workspace=workspace,
        recipient=agent,
        kind="sla.warning",
        title=f"SLA warning (80%): next reply of #{ticket.number} due 14:00",
        ticket=ticket,
    )
    odd = Notification.objects.create(workspace=workspace, recipient=agent, kind="sla.breach", title="Something else")
    delivery = Delivery.objects.create(
        workspace=workspace,
        notification=old,
        channel=DeliveryChannel.EMAIL,
        destination="—",
        status=DeliveryStatus.SUPPRESSED,
        last_error="the agent has no email address",
    )
    failed = Delivery.objects.create(
        workspace=workspace,
        notification=warning,
        channel=DeliveryChannel.EMAIL,
        destination="a@example.com",
        status=DeliveryStatus.FAILED,
        last_error="ConnectionRefusedError: [Errno 111] Connection refused",
    )

    migration.forwards(apps, None)

    for row in (old, warning, odd, delivery, failed):
        row.refresh_from_db()
    assert render_in(old, "zh-hans").title == f"SLA 违约：#{ticket.number} 的解决已超时（到期 03-02 14:00）"
    assert render_in(warning, "zh-hans").title == f"SLA 预警（80%）：#{ticket.number} 的下次响应将于 14:00 到期"
    assert render_in(odd, "zh-hans").title == "Something else"
    with translation.override("zh-hans"):
        assert describe(delivery.last_error) == "该客服没有邮箱地址"
        assert describe(failed.last_error) == "发送失败：ConnectionRefusedError: [Errno 111] Connection refused"
    migration.forwards(apps, None)  # twice is harmless
    delivery.refresh_from_db()
    assert code_of(delivery.last_error) == "no_email"
