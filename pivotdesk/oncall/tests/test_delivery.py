"""A page really leaves the building: over SMTP to a real local server and through apprise to a local json://
receiver, both at once when the person chose nothing for pages (quiet hours never hold a page back); a channel that
fails leaves the others delivered; when the person ticked channels for pages, the others stand by and the next one
goes out when one fails, every attempt on the ticket's timeline."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.notifications.models import Delivery, DeliveryStatus
from pivotdesk.notifications.tests.factories import make_target, set_channels
from pivotdesk.oncall.services import paging, policies
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def servers(smtp_server, receiver, settings):
    return smtp_server, receiver, settings


@pytest.fixture
def engineer(workspace, supervisor, receiver):
    person = AgentFactory(workspace=workspace)
    person.user.email = "night.engineer@example.com"
    person.user.save()
    set_channels(person, {"*": []})  # chose nothing external: a page still goes everywhere
    make_target(person, receiver.url("/dingtalk"), label="钉钉")
    boss = Actor.for_agent(supervisor)
    policy = policies.policy_save(actor=boss, workspace=workspace, name="Urgent", conditions={"priorities": ["urgent"]})
    policies.policy_steps_set(actor=boss, policy=policy, steps=[{"level": 0, "agent": person.pk}])
    return person


def test_a_page_is_delivered_by_email_and_apprise(workspace, engineer, servers, django_capture_on_commit_callbacks):
    smtp_server, receiver, settings = servers
    settings.PIVOTDESK_BASE_URL = "https://desk.example.com"
    ticket = make_ticket(workspace=workspace, subject="冷库压缩机停机 compressor down", priority="urgent")
    with django_capture_on_commit_callbacks(execute=True):
        page = paging.page_ticket(actor=paging.SYSTEM, ticket=ticket)
    assert page is not None
    sent = {d.channel: d.status for d in Delivery.objects.filter(notification__recipient=engineer)}
    assert sent == {"email": DeliveryStatus.SENT, "apprise": DeliveryStatus.SENT}
    ((rcpts, mail),) = smtp_server.messages
    assert rcpts == ["night.engineer@example.com"]
    body = mail.get_payload(decode=True).decode(mail.get_content_charset() or "utf-8")
    assert "https://desk.example.com/oncall/a/" in body  # the one-click acknowledge link
    path, payload = receiver.requests[0]
    assert path == "/dingtalk" and f"#{ticket.number}" in payload["title"]
    assert "https://desk.example.com/oncall/a/" in payload["message"]


def test_a_failing_channel_leaves_the_other_delivered(workspace, engineer, servers, django_capture_on_commit_callbacks):
    smtp_server, receiver, _settings = servers
    receiver.default = 500
    ticket = make_ticket(workspace=workspace, subject="停机 down", priority="urgent")
    with django_capture_on_commit_callbacks(execute=True):
        paging.page_ticket(actor=paging.SYSTEM, ticket=ticket)
    deliveries = {d.channel: d for d in Delivery.objects.filter(notification__recipient=engineer)}
    assert deliveries["email"].status == DeliveryStatus.SENT and len(smtp_server.messages) == 1
    assert deliveries["apprise"].status in (DeliveryStatus.QUEUED, DeliveryStatus.FAILED)  # retried with back-off
    assert deliveries["apprise"].attempts >= 1


# --- fallback: the channels the person ticked for pages go first, the others stand by ----------------------------


def _page(workspace, capture, subject="停机 down"):
    ticket = make_ticket(workspace=workspace, subject=subject, priority="urgent")
    with capture(execute=True):
        paging.page_ticket(actor=paging.SYSTEM, ticket=ticket)
    return ticket


def _sentences(ticket, language):
    from django.utils import translation

    from pivotdesk.oncall.timeline import oncall_sentence

    with translation.override(language):
        return [str(oncall_sentence(e, "system")) for e in ticket.events.filter(verb="oncall_delivery").order_by("pk")]


def test_a_failing_first_channel_falls_back_to_the_next(
    workspace, engineer, servers, django_capture_on_commit_callbacks
):
    smtp_server, receiver, _settings = servers
    set_channels(engineer, {"oncall.page": ["apprise"]})  # DingTalk first; e-mail only if it fails
    receiver.default = 500
    ticket = _page(workspace, django_capture_on_commit_callbacks)
    deliveries = {d.channel: d for d in Delivery.objects.filter(notification__recipient=engineer)}
    assert deliveries["apprise"].attempts == 1 and deliveries["apprise"].status != DeliveryStatus.SENT
    assert deliveries["email"].status == DeliveryStatus.SENT and len(smtp_server.messages) == 1
    failed, sent = ticket.events.filter(verb="oncall_delivery").order_by("pk")
    assert failed.data["ok"] is False and failed.data["fallback"]["channel"] == "email"
    assert sent.data["ok"] is True and sent.data["channel"] == "email"
    zh, en = _sentences(ticket, "zh-hans"), _sentences(ticket, "en")
    assert "失败" in zh[0] and "改用" in zh[0] and "送达" in zh[1]
    assert "failed (attempt 1)" in en[0] and "falling back to Email" in en[0] and en[1].startswith("The page reached")


def test_the_fallback_stands_by_while_the_first_channel_works(
    workspace, engineer, servers, django_capture_on_commit_callbacks
):
    smtp_server, receiver, _settings = servers
    set_channels(engineer, {"oncall.page": ["apprise"]})
    ticket = _page(workspace, django_capture_on_commit_callbacks)
    deliveries = {d.channel: d for d in Delivery.objects.filter(notification__recipient=engineer)}
    assert deliveries["apprise"].status == DeliveryStatus.SENT and len(receiver.requests) == 1
    assert deliveries["email"].status == DeliveryStatus.STANDBY and deliveries["email"].attempts == 0
    assert smtp_server.messages == []
    assert [e.data["channel"] for e in ticket.events.filter(verb="oncall_delivery")] == ["apprise"]


def test_a_person_whose_first_choice_cannot_work_gets_the_fallback_at_once(
    workspace, engineer, servers, django_capture_on_commit_callbacks
):
    smtp_server, _receiver, _settings = servers
    engineer.notification_targets.all().delete()  # chose "SMS / IM / push" for pages but has no target left
    set_channels(engineer, {"oncall.page": ["apprise"]})
    _page(workspace, django_capture_on_commit_callbacks)
    deliveries = {d.channel: d for d in Delivery.objects.filter(notification__recipient=engineer)}
    assert deliveries["apprise"].status == DeliveryStatus.SUPPRESSED
    assert deliveries["email"].status == DeliveryStatus.SENT and len(smtp_server.messages) == 1
