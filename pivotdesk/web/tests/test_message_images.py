"""Images in a customer's mail, as the agent sees them on the ticket page (issue 11, finding 7): an image that points
at one of our URLs never reaches the page, remote images (tracking pixels) wait for "Show images", and inline
`cid:` images keep showing."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from pivotdesk.accounts.actors import Actor
from pivotdesk.channels.services.inbound import inbound_process, inbound_store
from pivotdesk.notifications import services as notification_services
from pivotdesk.notifications.models import Notification
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db


def _mail_with_images(html: str) -> bytes:
    return (
        b"From: Wang Fang <wangfang@example.cn>\r\nTo: support@pivot.test\r\nSubject: printer\r\n"
        b"Message-ID: <img-test@example.cn>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/related; boundary="b"\r\n\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n'
        + html.encode()
        + b"\r\n--b\r\nContent-Type: image/png\r\nContent-ID: <img1@x>\r\nContent-Disposition: inline; "
        b'filename="shot.png"\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b--\r\n'
    )


def _deliver(workspace, raw: bytes) -> Message:
    payload = inbound_store(
        actor=Actor.system(), workspace=workspace, channel="email", raw=raw, content_type="message/rfc822"
    )
    payload = inbound_process(actor=Actor.system(), payload=payload)
    return Message.objects.get(pk=payload.message_id)


def _message_box(page: str, message: Message) -> str:
    start = page.index(f'id="m{message.pk}"')
    return page[start : page.index("</article>", start)]


def test_customer_image_pointing_at_our_notification_url_does_not_reach_the_page(workspace, agent, client_as):
    """Given five unread alerts and a customer mail with `<img src="/notifications/…/open/">` for each, when the
    agent opens the ticket, then no image points there and all five alerts are still unread."""
    alerts = [
        notification_services.notify(
            actor=Actor.system(), workspace=workspace, recipient=agent, kind="routing.assigned", title=f"Alert {i}"
        )
        for i in range(5)
    ]
    pixels = "".join(f'<img src="/notifications/{n.pk}/open/">' for n in alerts)
    message = _deliver(workspace, _mail_with_images(f"<p>hello {pixels} <img src='cid:img1@x'></p>"))
    assert "/notifications/" not in message.body_html

    client = client_as(agent)
    page = client.get(reverse("web:ticket", args=[message.ticket.number])).content.decode()
    box = _message_box(page, message)
    assert "/notifications/" not in box
    for src in re.findall(r'<img[^>]*\ssrc="([^"]*)"', box):  # the images the browser fetches by itself
        client.get(src)
    assert Notification.objects.filter(recipient=agent, read_at__isnull=True).count() == 5


def test_inline_cid_image_still_shows(workspace, agent, client_as):
    message = _deliver(workspace, _mail_with_images('<p>see <img src="cid:img1@x" alt="shot"></p>'))
    inline = message.attachments.get(inline=True)
    box = _message_box(
        client_as(agent).get(reverse("web:ticket", args=[message.ticket.number])).content.decode(), message
    )
    assert "cid:" not in box
    assert re.search(r'<img src="[^"]+" alt="shot">', box), box
    assert inline.file.url in box or reverse("web:attachment", args=[message.ticket.number, inline.pk]) in box
    assert "data-show-images" not in box


def test_remote_image_in_customer_mail_is_blocked_until_the_agent_shows_it(workspace, agent, client_as):
    message = _deliver(
        workspace, _mail_with_images('<p>hi <img src="https://track.example.net/o.gif?u=42" alt="logo"></p>')
    )
    box = _message_box(
        client_as(agent).get(reverse("web:ticket", args=[message.ticket.number])).content.decode(), message
    )
    assert ' src="https://track.example.net' not in box
    assert 'data-blocked-src="https://track.example.net/o.gif?u=42"' in box
    assert "data-show-images" in box and "Show images" in box and "1 remote image is hidden" in box


def test_show_images_button_in_chinese(workspace, agent, client_as):
    message = _deliver(workspace, _mail_with_images('<p>hi <img src="https://track.example.net/o.gif"></p>'))
    page = client_as(agent, "zh-hans").get(reverse("web:ticket", args=[message.ticket.number])).content.decode()
    assert "显示图片" in _message_box(page, message)


def test_agent_reply_with_a_remote_image_is_shown_as_written(workspace, agent, client_as):
    ticket = Ticket.objects.get(pk=_deliver(workspace, _mail_with_images("<p>hi</p>")).ticket_id)
    reply = ticket_services.message_create(
        ticket=ticket,
        actor=Actor.for_agent(agent),
        body_html='<p>our logo <img src="https://cdn.example.org/logo.png"></p>',
    )
    box = _message_box(client_as(agent).get(reverse("web:ticket", args=[ticket.number])).content.decode(), reply)
    assert '<img src="https://cdn.example.org/logo.png">' in box and "data-show-images" not in box
