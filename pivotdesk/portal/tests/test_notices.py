"""Customer notices through the one outbox: sent over real SMTP on loopback through the workspace's mailbox, failed
with a reason when the server is away, once per event, never to a customer who opted out; every e-mail reply
carries the signed "Follow your request" link, which opens that request only."""

from __future__ import annotations

import re
import time
from email.header import decode_header, make_header
from email.message import Message as MimeMessage

import pytest
from django.test import Client

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.adapters import email_send
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.common.delivery_errors import parse
from pivotdesk.customers.models import ChannelIdentity
from pivotdesk.notifications.tests.conftest import _free_port
from pivotdesk.portal import links, tasks
from pivotdesk.portal.models import CustomerNotice, CustomerPreference, NoticeKind
from pivotdesk.portal.services import customer as customer_services
from pivotdesk.portal.services import notices, progress
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


def _mailbox(workspace, port: int):
    return channel_account_create(
        actor=SYSTEM,
        workspace=workspace,
        kind="email",
        name="Support",
        config={
            "address": "support@acme.test",
            "from_name": "Acme 客服",
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_security": "none",
            "smtp_timeout": 5,
        },
    )


def _text(mime: MimeMessage) -> str:
    part = next(p for p in mime.walk() if p.get_content_type() == "text/plain")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(part.get_content_charset() or "utf-8")


def _event(ticket, old: str, new: str, event_id: str = "evt-1") -> dict:
    return {
        "id": event_id,
        "name": "ticket.status_changed",
        "workspace_id": ticket.workspace_id,
        "payload": {"ticket_id": ticket.pk, "old": old, "new": new},
    }


def test_a_progress_notice_goes_through_the_mailbox_over_smtp_in_the_customers_language(
    workspace,
    contact,
    agent,
    smtp_server,
    django_capture_on_commit_callbacks,
):
    # given a mailbox on a real SMTP server, and a Chinese-speaking customer's request
    _mailbox(workspace, smtp_server.port)
    contact.language = "zh-hans"
    contact.save()
    ticket = make_ticket(workspace=workspace, requester=contact, subject="打印机卡纸")
    # when an agent sets it to "waiting on the customer" (events dispatched as the relay would)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.ticket_set_status(ticket=ticket, status="pending", actor=Actor.for_agent(agent))
    # then one notice went out by mail, from the mailbox, in Chinese, with the signed link and the opt-out link
    notice = CustomerNotice.objects.get(kind=NoticeKind.PROGRESS)
    assert notice.status == "sent" and notice.channel == "email" and notice.data["change"] == "waiting"
    [(recipients, mime)] = smtp_server.messages
    assert recipients == [contact.email] and "support@acme.test" in mime["From"]
    assert mime["Auto-Submitted"] == "auto-generated"
    body = _text(mime)
    assert "我们正在等待您的答复" in body and "打印机卡纸" in str(make_header(decode_header(mime["Subject"])))
    assert f"/portal/{workspace.slug}/t/" in body and f"/portal/{workspace.slug}/stop/" in body


def test_a_redelivered_event_sends_one_notice(workspace, contact, ticket, django_capture_on_commit_callbacks):
    event = _event(ticket, "open", "solved")
    with django_capture_on_commit_callbacks(execute=True):
        tasks.progress_on_event(event)
        tasks.progress_on_event(event)
    assert CustomerNotice.objects.filter(kind=NoticeKind.PROGRESS).count() == 1
    # a change not worth a message (new → open) sends none
    tasks.progress_on_event(_event(ticket, "new", "open", "evt-2"))
    assert CustomerNotice.objects.filter(kind=NoticeKind.PROGRESS).count() == 1


def test_a_customer_who_opted_out_gets_no_progress_notice(workspace, contact, ticket):
    customer_services.preference_save(actor=Actor.for_contact(contact.pk), contact=contact, progress_notices=False)
    tasks.progress_on_event(_event(ticket, "open", "pending"))
    assert not CustomerNotice.objects.exists()


def test_the_opt_out_link_turns_notices_off_on_post(workspace, contact, ticket):
    url = links.opt_out_link(workspace=workspace, contact_id=contact.pk)
    path = url[url.index("/portal/") :]
    client = Client()
    assert client.get(path).status_code == 200
    assert not CustomerPreference.objects.filter(contact=contact, progress_notices=False).exists()
    assert client.post(path).status_code == 200
    assert CustomerPreference.objects.get(contact=contact).progress_notices is False
    # a tampered link changes nothing
    assert client.post(path[:-3] + "xx/").status_code == 404


def test_the_notice_settings_page_saves_the_choice(workspace, contact, portal_client):
    client = portal_client(contact)
    response = client.post(
        f"/portal/{workspace.slug}/settings/", {"survey_notices": "1", "channel": "auto", "language": "en"}
    )
    assert response.status_code == 302
    pref = CustomerPreference.objects.get(contact=contact)
    assert (pref.progress_notices, pref.survey_notices, pref.language) == (False, True, "en")


def test_smtp_away_is_retried_then_failed_with_the_reason(workspace, contact, ticket, settings):
    settings.PIVOTDESK_PORTAL_NOTICE_MAX_ATTEMPTS = 2
    _mailbox(workspace, _free_port())  # nothing listens there
    notice = progress.progress_notify(actor=SYSTEM, ticket=ticket, change="solved", event_id="evt-9")
    assert notice is not None
    notices.notice_send(actor=SYSTEM, notice=notice)
    notice.refresh_from_db()
    assert notice.status == "queued" and notice.attempts == 1 and parse(notice.last_error) is not None
    CustomerNotice.objects.filter(pk=notice.pk).update(next_attempt_at=notice.created_at)
    assert notice.pk in notices.notices_due()
    notices.notice_send(actor=SYSTEM, notice=notice)
    notice.refresh_from_db()
    assert notice.status == "failed" and notice.failed_at is not None
    assert parse(notice.last_error).code == "mail_connect"


def test_a_customer_with_no_address_gets_a_failed_row_not_silence(workspace, ticket):
    requester = ticket.requester
    requester.email = ""
    requester.save()
    ChannelIdentity.objects.filter(contact=requester).delete()
    notice = progress.progress_notify(actor=SYSTEM, ticket=ticket, change="solved", event_id="evt-3")
    assert notice is not None and notice.status == "failed" and "no_identity" in notice.last_error


def test_every_email_reply_carries_the_follow_link_which_opens_that_request_only(
    workspace,
    contact,
    agent,
    smtp_server,
    django_capture_on_commit_callbacks,
):
    # given a mailbox, and two requests of the same English-speaking customer
    _mailbox(workspace, smtp_server.port)
    contact.language = "en"
    contact.save()
    ticket = make_ticket(workspace=workspace, requester=contact, subject="Router broken", channel="email")
    other = make_ticket(workspace=workspace, requester=contact, subject="Second question", channel="email")
    # when an agent replies by e-mail
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.message_create(ticket=ticket, actor=Actor.for_agent(agent), body="We are on it.")
    # then the mail's footer has the signed link
    [(_rcpt, mime)] = smtp_server.messages
    body = _text(mime)
    match = re.search(r"Follow your request: \S*(/portal/[\w-]+/t/[^\s/]+/)", body)
    assert match, body
    # and following it opens that request, not the customer's other one, nor the list
    client = Client()
    response = client.get(match.group(1))
    assert response.status_code == 302 and response["Location"].endswith(f"/requests/{ticket.number}/")
    assert "Router broken" in client.get(response["Location"]).content.decode()
    assert client.get(f"/portal/{workspace.slug}/requests/{other.number}/").status_code == 404


def test_a_broken_footer_provider_does_not_stop_the_reply(workspace, contact, agent, monkeypatch):
    def boom(message):
        raise RuntimeError("broken")

    monkeypatch.setattr(email_send, "FOOTER_PROVIDERS", [boom, lambda m: "Line two"])
    ticket = make_ticket(workspace=workspace, requester=contact)
    message = ticket_services.message_create(ticket=ticket, actor=Actor.for_agent(agent), body="Hello")
    account = _mailbox(workspace, 25)
    mail = email_send.reply_mail(message=message, account=account, recipient=contact.email)
    assert mail.text.endswith("Line two") and "Line two" in mail.html


def test_an_expired_or_forged_ticket_link_opens_nothing(workspace, ticket, settings, monkeypatch):
    token = links.ticket_token(ticket)
    assert links.read_ticket_token(token) is not None
    assert links.read_ticket_token(token[:-2] + ("aa" if not token.endswith("aa") else "bb")) is None
    settings.PIVOTDESK_PORTAL_LINK_DAYS = 1
    later = time.time() + 2 * 86400
    monkeypatch.setattr(time, "time", lambda: later)
    assert links.read_ticket_token(token) is None


def test_a_survey_invitation_carries_one_click_scores_once_and_respects_the_opt_out(
    workspace, contact, ticket, django_capture_on_commit_callbacks
):
    scores = [(n, f"/surveys/a/token/{n}/") for n in range(1, 6)]
    with django_capture_on_commit_callbacks(execute=True):
        first = progress.survey_invite(
            actor=SYSTEM, contact=contact, ticket=ticket, survey_id=7, kind="csat", links_by_score=scores
        )
        again = progress.survey_invite(
            actor=SYSTEM, contact=contact, ticket=ticket, survey_id=7, kind="csat", links_by_score=scores
        )
    assert first is not None and again is None
    first.refresh_from_db()
    assert first.status == "sent"
    from pivotdesk.portal.render import render_notice

    rendered = render_notice(first)
    assert "/surveys/a/token/5/" in rendered.text and "/surveys/a/token/1/" in rendered.html
    customer_services.preference_save(actor=Actor.for_contact(contact.pk), contact=contact, survey_notices=False)
    assert progress.survey_invite(actor=SYSTEM, contact=contact, survey_id=8, kind="nps", links_by_score=scores) is None


def test_the_survey_invited_event_reaches_the_customer(workspace, contact, ticket, django_capture_on_commit_callbacks):
    from pivotdesk.surveys import services as survey_services

    ticket_services.ticket_set_status(ticket=ticket, status="solved", actor=SYSTEM)
    with django_capture_on_commit_callbacks(execute=True):
        survey = survey_services.csat_invite(ticket=ticket, actor=SYSTEM)
        assert survey is not None
        if survey.status == "scheduled":  # the workspace's delay: the beat job sends it when due
            survey_services.surveys_send_due(actor=SYSTEM, at=survey.send_at)
    survey.refresh_from_db()
    assert survey.status == "invited"
    notice = CustomerNotice.objects.get(kind=NoticeKind.SURVEY)
    assert notice.data["survey_id"] == survey.pk and len(notice.data["links"]) >= 2
