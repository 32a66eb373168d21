"""The reply composer of the ticket page (issue 18): files pasted or dropped into the editor are stored at once,
and the addresses an e-mail reply may be copied to are offered from the ticket's earlier participants."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from pivotdesk.accounts.permissions import Perm, can
from pivotdesk.common.choices import Channel
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Message, MessageKind, Ticket
from pivotdesk.web.base import Desk, agent_view

MAX_PARTICIPANTS = 30


def participants(ticket: Ticket) -> list[str]:
    """Addresses seen on the ticket (its requester, its CC'd contacts, earlier replies' Cc and Bcc), for the Cc /
    Bcc fields' suggestions: two small queries."""
    seen: list[str] = []
    if ticket.requester and ticket.requester.email:
        seen.append(ticket.requester.email.lower())
    seen.extend(e.lower() for e in ticket.cc_contacts.exclude(email="").values_list("email", flat=True))
    rows = Message.objects.filter(ticket_id=ticket.pk, kind=MessageKind.PUBLIC).exclude(cc=[], bcc=[])
    for cc, bcc in rows.values_list("cc", "bcc")[:200]:
        seen.extend(str(a) for a in [*(cc or []), *(bcc or [])])
    out: list[str] = []
    for address in seen:
        if address and address not in out:
            out.append(address)
    return out[:MAX_PARTICIPANTS]


def composer_context(desk: Desk, ticket: Ticket) -> dict[str, Any]:
    """What the reply form needs besides the draft: whether it has Cc / Bcc and whom to suggest."""
    copies = ticket.channel == Channel.EMAIL and can(desk.agent, Perm.TICKET_REPLY_PUBLIC)
    return {"reply_copies": copies, "reply_participants": participants(ticket) if copies else []}


@require_POST
@agent_view
def upload(request: HttpRequest, desk: Desk, number: int) -> JsonResponse:
    """Store one file pasted or dropped into the composer; answers where it is (the editor shows an image inline
    from that URL, served by `common.user_files`: raster images by their bytes, anything else as a download)."""
    from pivotdesk.web.desk.views.ticket import _ticket

    ticket = _ticket(desk, number)
    given = request.FILES.get("file")  # none: the service says so, after the gate (a refused role gets 403)
    kind = MessageKind.NOTE if request.POST.get("kind") == "note" else MessageKind.PUBLIC
    attachment = ticket_services.reply_upload(
        ticket=ticket,
        actor=desk.actor,
        agent=desk.agent,
        filename=(given.name or "attachment") if given is not None else "",
        content=given.read() if given is not None else b"",
        content_type=(given.content_type or "") if given is not None else "",
        kind=kind,
    )
    return JsonResponse(
        {
            "id": attachment.pk,
            "url": reverse("web:attachment", args=[ticket.number, attachment.pk]),
            "filename": attachment.filename,
            "content_type": attachment.content_type,
            "inline": attachment.inline,
            "size": attachment.size,
        },
        status=201,
    )
