"""A workspace that has set up nothing to deliver replies says so (banner, reply box); demo delivery is labelled
wherever it shows (channel list and edit page, a sent reply's status, the banner). Issue 12."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.models import ChannelAccount
from pivotdesk.customers.tests.factories import ContactFactory
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

WARNING = "No email account is set up: this reply will not be delivered."
WARNING_ZH = "没有设置邮件账号：此回复不会送达。"


@pytest.fixture(autouse=True)
def _var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def _email_ticket(workspace):
    return make_ticket(workspace=workspace, requester=ContactFactory(workspace=workspace), channel="email")


def _page(client, ticket) -> str:
    return client.get(reverse("web:ticket", args=[ticket.number])).content.decode()


def test_the_reply_box_warns_when_the_reply_channel_has_no_active_account(workspace, agent_client, admin_agent_client):
    ticket = _email_ticket(workspace)
    ChannelAccount.objects.create(workspace=workspace, kind="sms", name="SMS", config={})  # not this channel's

    page = _page(agent_client, ticket)
    assert WARNING in page
    assert "?kind=email" not in page  # only admins are sent to the settings
    assert "?kind=email" in _page(admin_agent_client, ticket)

    with translation.override("zh-hans"):
        page = agent_client.get(reverse("web:ticket", args=[ticket.number]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert WARNING_ZH in page.content.decode()


def test_no_warning_once_the_channel_has_an_active_account(workspace, agent_client):
    ticket = _email_ticket(workspace)
    account = ChannelAccount.objects.create(workspace=workspace, kind="email", name="Mail", config={}, active=False)
    assert WARNING in _page(agent_client, ticket)  # an inactive account delivers nothing either

    account.active = True
    account.save()
    assert WARNING not in _page(agent_client, ticket)
    # a chat ticket is answered in the widget: no warning without a chat account
    chat = make_ticket(workspace=workspace, channel="chat")
    assert "reply-undelivered" not in _page(agent_client, chat)


def test_the_banner_names_a_workspace_with_no_channel_and_the_demo_delivery(workspace, other_workspace):
    ChannelAccount.objects.create(workspace=other_workspace, kind="email", name="Demo", config={"delivery": "demo"})
    out = StringIO()
    call_command("demo_banner", stdout=out)
    text = out.getvalue()
    assert f"{workspace.slug}: no active channel account — replies will not be delivered" in text
    assert f"{other_workspace.slug}: no active channel" not in text
    assert f"Demo delivery ({other_workspace.slug}): nothing is sent" in text
    assert "演示投递——不会真正发出" in text


def test_demo_delivery_is_labelled_on_the_channel_pages_and_on_a_sent_reply(
    workspace, agent, admin_agent_client, django_capture_on_commit_callbacks
):
    demo = ChannelAccount.objects.create(workspace=workspace, kind="email", name="Demo", config={"delivery": "demo"})
    real = ChannelAccount.objects.create(workspace=workspace, kind="sms", name="Real", config={})
    listing = admin_agent_client.get(reverse("web:channels")).content.decode()
    assert listing.count("Demo delivery — nothing is sent") == 1
    assert (
        "Demo delivery — nothing is sent"
        in admin_agent_client.get(reverse("web:channel_edit", args=[demo.pk])).content.decode()
    )
    assert "Demo delivery" not in admin_agent_client.get(reverse("web:channel_edit", args=[real.pk])).content.decode()
    with translation.override("zh-hans"):
        zh = admin_agent_client.get(reverse("web:channels"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "演示投递——不会真正发出" in zh

    ticket = _email_ticket(workspace)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.message_create(ticket=ticket, actor=Actor.for_agent(agent), body="On it.")
    page = _page(admin_agent_client, ticket)
    assert 'class="delivery sent" title="Demo delivery — nothing is sent"' in page
