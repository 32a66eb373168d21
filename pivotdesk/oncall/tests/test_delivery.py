"""A page really leaves the building: over SMTP to a real local server and through apprise to a local json://
receiver, both at once (quiet hours or the person's per-kind choices never hold a page back); a channel that fails
leaves the others delivered."""

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
