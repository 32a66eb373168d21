"""@mentions in internal notes tell the colleagues they name: once per note, only those who can open the ticket,
never for a public reply, in the reader's language."""

from __future__ import annotations

import pytest
from django.utils import translation

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.tests.factories import AgentFactory as new_agent
from pivotdesk.accounts.tests.factories import UserFactory as new_user
from pivotdesk.notifications.models import Notification
from pivotdesk.notifications.render import render
from pivotdesk.notifications.services import notify_mentions
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(workspace, other_workspace):
    author = new_agent(workspace=workspace, user=new_user(username="zhaolei", display_name="赵磊"))
    li = new_agent(workspace=workspace, user=new_user(username="li.na", display_name="李娜"))
    wang = new_agent(
        workspace=workspace, user=new_user(username="wangwei", display_name="王伟"), ticket_access="assigned"
    )
    stranger = new_agent(workspace=other_workspace, user=new_user(username="chen", display_name="陈"))
    ticket = make_ticket(workspace=workspace, subject="Order 88231 is late")
    return {"author": author, "li": li, "wang": wang, "stranger": stranger, "ticket": ticket}


@pytest.fixture
def note(desk, django_capture_on_commit_callbacks):
    """Post as the author; the committed message.created event reaches its subscribers."""

    def post(body, kind="note"):
        with django_capture_on_commit_callbacks(execute=True):
            return ticket_services.message_create(
                ticket=desk["ticket"], actor=Actor.for_agent(desk["author"]), body=body, kind=kind
            )

    return post


def test_a_note_tells_the_colleagues_it_names_once(desk, note):
    # @wangwei sees only tickets assigned to them; @chen is in another workspace; @zhaolei is the author
    posted = note("@Li.Na @wangwei @chen @zhaolei 请确认物流单号")
    told = Notification.objects.filter(kind="ticket.mentioned")
    assert [n.recipient_id for n in told] == [desk["li"].pk]  # through the message.created subscriber
    assert notify_mentions(actor=Actor.system("test"), message_id=posted.pk) == 0  # once per note and colleague
    n = told.get()
    assert n.url == f"/tickets/{desk['ticket'].number}/" and "请确认物流单号" in n.body
    with translation.override("zh-hans"):
        assert render(n).title == f"赵磊 在工单 #{desk['ticket'].number} 中提到了您：Order 88231 is late"
    with translation.override("en"):
        assert render(n).title == f"赵磊 mentioned you on #{desk['ticket'].number}: Order 88231 is late"


def test_a_public_reply_mentions_nobody(desk, note):
    note("Thanks @li.na for the tip", kind="public")
    assert not Notification.objects.filter(kind="ticket.mentioned").exists()


def test_an_assigned_colleague_with_narrow_access_is_told(desk, note):
    ticket_services.ticket_assign(ticket=desk["ticket"], assignee=desk["wang"], actor=Actor.system("test"))
    note("@wangwei this one is yours")
    assert Notification.objects.filter(kind="ticket.mentioned", recipient=desk["wang"]).exists()
