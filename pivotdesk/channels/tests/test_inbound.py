"""Inbound mail through the raw store: threading, noise, duplicates, CCs, merged and closed tickets, failures."""

from __future__ import annotations

import csv
import pathlib

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.models import InboundPayload
from pivotdesk.channels.services.inbound import inbound_process, inbound_store
from pivotdesk.customers.models import Contact
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Message, Ticket

CORPUS = pathlib.Path(__file__).resolve().parents[3].parent / "shared" / "data" / "email"


def mail(
    *,
    subject="打印机卡纸",
    sender="王芳 <wangfang@example.cn>",
    mid="<m1@example.cn>",
    body="打印机卡纸了，急！",
    extra="",
) -> bytes:
    head = f"From: {sender}\r\nTo: support@pivot.test\r\nSubject: {subject}\r\nMessage-ID: {mid}\r\n{extra}"
    return (head + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body).encode()


def deliver(workspace, raw: bytes) -> InboundPayload:
    payload = inbound_store(
        actor=Actor.system(), workspace=workspace, channel="email", raw=raw, content_type="message/rfc822"
    )
    return inbound_process(actor=Actor.system(), payload=payload)


def test_new_mail_opens_ticket_for_resolved_contact(workspace):
    p = deliver(workspace, mail())
    assert p.status == "processed" and p.ticket_id
    ticket = Ticket.objects.get(pk=p.ticket_id)
    assert ticket.channel == "email" and ticket.subject == "打印机卡纸"
    assert ticket.requester.email == "wangfang@example.cn" and ticket.requester.name == "王芳"
    msg = ticket.messages.get()
    assert msg.external_id == "<m1@example.cn>" and msg.body_text == "打印机卡纸了，急！"


def test_token_in_subject_threads(workspace):
    first = deliver(workspace, mail())
    number = Ticket.objects.get(pk=first.ticket_id).number
    reply = deliver(workspace, mail(subject=f"Re: 其他主题 [#{number}]", mid="<m2@example.cn>", body="还是不行"))
    assert reply.ticket_id == first.ticket_id


def test_in_reply_to_threads_and_quote_is_stripped_but_kept(workspace):
    first = deliver(workspace, mail())
    body = "还是不行\n\n在 2026年3月1日 10:00，客服 <support@pivot.test> 写道：\n> 请重启"
    p = deliver(
        workspace, mail(subject="完全不同", mid="<m3@example.cn>", extra="In-Reply-To: <m1@example.cn>\r\n", body=body)
    )
    assert p.ticket_id == first.ticket_id
    msg = Message.objects.get(pk=p.message_id)
    assert msg.body_text == "还是不行" and "请重启" in msg.metadata["full_text"]


def test_same_sender_and_subject_within_window_threads(workspace):
    first = deliver(workspace, mail())
    p = deliver(workspace, mail(subject="回复：打印机卡纸", mid="<m4@example.cn>"))
    assert p.ticket_id == first.ticket_id
    other = deliver(workspace, mail(subject="发票", mid="<m5@example.cn>"))
    assert other.ticket_id != first.ticket_id


def test_duplicate_delivery_creates_one_message(workspace):
    a = deliver(workspace, mail())
    b = deliver(workspace, mail())
    assert b.status == "duplicate" and b.message_id == a.message_id
    assert Message.objects.filter(external_id="<m1@example.cn>").count() == 1
    assert inbound_process(actor=Actor.system(), payload=a).status == "processed"  # processing twice is harmless


def test_two_different_mails_sharing_a_message_id_are_both_kept(workspace):
    """Issue 12: a mailer that reuses Message-IDs must not lose the second mail as a "duplicate"; deduplication is
    on the id and the content, and each mail's own repeats are still one message."""
    first = deliver(workspace, mail(subject="打印机卡纸", body="打印机卡纸了，急！"))
    second = deliver(workspace, mail(subject="发票抬头错误", body="发票抬头写错了，请重开。"))
    again = deliver(workspace, mail(subject="发票抬头错误", body="发票抬头写错了，请重开。"))
    assert first.status == "processed" and second.status == "processed"
    assert second.message_id != first.message_id
    assert again.status == "duplicate" and again.message_id == second.message_id
    bodies = set(Message.objects.filter(external_id__startswith="<m1@example.cn>").values_list("body_text", flat=True))
    assert bodies == {"打印机卡纸了，急！", "发票抬头写错了，请重开。"}


def test_bounce_and_auto_reply_open_nothing(workspace):
    bounce = mail(sender="MAILER-DAEMON@mx.example.cn", subject="Undelivered Mail Returned to Sender", mid="<b@x>")
    auto = mail(subject="自动回复：我正在休假", mid="<a@x>", extra="Auto-Submitted: auto-replied\r\n")
    for raw in (bounce, auto):
        p = deliver(workspace, raw)
        assert p.status == "ignored" and p.ticket_id is None and p.classification
    assert not Ticket.objects.filter(workspace=workspace).exists()


def test_cc_addresses_become_ccs_and_agents_followers(workspace, agent):
    agent.user.email = "agent@pivot.test"
    agent.user.save()
    p = deliver(workspace, mail(extra="Cc: Boss <boss@example.cn>, agent@pivot.test\r\n"))
    ticket = Ticket.objects.get(pk=p.ticket_id)
    assert list(ticket.cc_contacts.values_list("email", flat=True)) == ["boss@example.cn"]
    assert list(ticket.followers.all()) == [agent]


def test_reply_to_merged_ticket_goes_to_survivor(workspace, agent):
    a = Ticket.objects.get(pk=deliver(workspace, mail()).ticket_id)
    b = Ticket.objects.get(pk=deliver(workspace, mail(subject="发票", mid="<m9@x>")).ticket_id)
    ticket_services.ticket_merge(source=a, target=b, actor=Actor.for_agent(agent))
    p = deliver(workspace, mail(subject=f"Re: [#{a.number}]", mid="<m10@x>"))
    assert p.ticket_id == b.pk


def test_reply_to_closed_ticket_opens_linked_follow_up(workspace, agent):
    actor = Actor.for_agent(agent)
    t = Ticket.objects.get(pk=deliver(workspace, mail()).ticket_id)
    ticket_services.ticket_set_status(ticket=t, status="solved", actor=actor)
    ticket_services.ticket_set_status(ticket=t, status="closed", actor=actor)
    p = deliver(workspace, mail(subject=f"Re: [#{t.number}]", mid="<m11@x>"))
    assert p.ticket_id != t.pk
    assert t.links_in.filter(source_id=p.ticket_id, kind="related").exists()


def test_mail_without_sender_is_kept_as_a_tagged_ticket(workspace):
    p = deliver(workspace, b"\x00\x01 not a mail at all")
    assert p.status == "processed"
    ticket = Ticket.objects.get(pk=p.ticket_id)
    assert list(ticket.tags.values_list("name", flat=True)) == ["unknown_sender"]
    assert InboundPayload.objects.get(pk=p.pk).raw == b"\x00\x01 not a mail at all"


def test_parser_failure_is_a_visible_row_and_reprocessable(workspace, monkeypatch):
    from pivotdesk.channels import adapters

    def broken(payload):
        raise RuntimeError("boom")

    monkeypatch.setitem(adapters.PARSERS, "email", broken)
    p = deliver(workspace, mail())
    assert p.status == "failed" and "boom" in p.reason
    monkeypatch.undo()
    adapters.load()
    assert inbound_process(actor=Actor.system(), payload=p).status == "processed" and p.attempts == 2


def test_sender_rate_limit(workspace, settings):
    settings.PIVOTDESK_INBOUND_MAX_TICKETS_PER_SENDER_HOUR = 2
    results = [deliver(workspace, mail(subject=f"主题 {i}", mid=f"<r{i}@x>")).status for i in range(3)]
    assert results == ["processed", "processed", "failed"]


def _corpus_rows() -> list[dict[str, str]]:
    manifest = CORPUS / "MANIFEST.csv"
    if not manifest.exists():
        return []
    with manifest.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.skipif(not _corpus_rows(), reason=f"shared email corpus not found at {CORPUS}")
def test_every_corpus_mail_is_one_message_or_classified(workspace):
    outcomes: dict[str, list[str]] = {}
    for row in _corpus_rows():
        raw = (CORPUS / row["file"]).read_bytes()
        customer_messages = Message.objects.filter(workspace=workspace).exclude(kind="note")  # not intake notes
        before = customer_messages.count()
        p = deliver(workspace, raw)
        after = customer_messages.count()
        outcomes.setdefault(p.status, []).append(row["file"])
        if p.status == "processed":
            assert after == before + 1, row["file"]
        elif p.status == "duplicate":  # fixtures copied between suites share Message-IDs
            assert after == before
        elif p.status == "ignored":
            assert p.classification and after == before, row["file"]
        else:
            assert p.status == "failed" and p.reason, row["file"]
    assert not outcomes.get("failed"), outcomes.get("failed")
    assert Contact.objects.filter(workspace=workspace).exists()


@pytest.mark.django_db(transaction=True)
def test_raw_mail_endpoint_stores_then_processes(client):
    from pivotdesk.accounts.tests.factories import WorkspaceFactory
    from pivotdesk.channels.services.accounts import channel_account_create

    ws = WorkspaceFactory()
    account = channel_account_create(
        actor=Actor.system(), workspace=ws, kind="email", name="support", config={"address": "s@x"}
    )
    url = f"/channels/in/email/{account.webhook_key}/"
    resp = client.post(url, data=mail(), content_type="message/rfc822")
    assert resp.status_code == 202
    payload = InboundPayload.objects.get(pk=resp.json()["payload_id"])
    assert payload.status == "processed" and payload.ticket_id
    assert client.post("/channels/in/email/wrong-key/", data=mail(), content_type="message/rfc822").status_code == 404
    assert client.get(url).status_code == 405
    assert client.post(url, data=b"", content_type="message/rfc822").status_code == 400


def test_each_web_form_submission_opens_its_own_ticket(workspace):
    from pivotdesk.channels.domain.inbound import NormalizedInbound
    from pivotdesk.channels.services.inbound import inbound_deliver

    def form(i: int) -> NormalizedInbound:
        return NormalizedInbound(
            channel="web_form",
            identity_kind="email",
            identity_value="li@example.cn",
            subject=f"请求 {i}",
            text=f"第 {i} 个问题",
            external_id=f"form-{i}",
        )

    first, _ = inbound_deliver(actor=Actor.system(), workspace=workspace, inbound=form(1))
    second, _ = inbound_deliver(actor=Actor.system(), workspace=workspace, inbound=form(2))
    assert first.ticket_id != second.ticket_id
    assert first.ticket.requester_id == second.ticket.requester_id


def test_html_mail_keeps_its_html_when_nothing_was_stripped(workspace):
    raw = (
        b"From: a@example.cn\r\nSubject: html\r\nMessage-ID: <h1@x>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<p>Hello <b>bold</b></p>"
    )
    msg = Message.objects.get(pk=deliver(workspace, raw).message_id)
    assert "<b>bold</b>" in msg.body_html and msg.body_text == "Hello bold"
