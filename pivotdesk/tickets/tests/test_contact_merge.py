"""Contact merge as the tickets app sees it: the source's tickets move to the survivor, with timeline events."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.errors import Conflict
from pivotdesk.customers import services
from pivotdesk.customers.models import ChannelIdentity
from pivotdesk.tickets.models import TicketEvent
from pivotdesk.tickets.tests.factories import make_ticket


def test_merge_moves_identities_tickets_and_leaves_pointer(workspace, supervisor):
    actor = Actor.for_agent(supervisor)  # merging needs contact.merge
    source = services.contact_create(actor=Actor.system(), workspace=workspace, name="Wang", email="w@example.com")
    services.identity_attach(actor=Actor.system(), contact=source, kind="wechat", value="oABC123")
    target = services.contact_create(actor=Actor.system(), workspace=workspace, name="", phone="13900000000")
    ticket = make_ticket(workspace=workspace, requester=source)
    services.contact_merge(source=source, target=target, actor=actor)
    source.refresh_from_db()
    target.refresh_from_db()
    ticket.refresh_from_db()
    assert source.merged_into_id == target.pk
    assert target.name == "Wang" and target.email == "w@example.com"
    assert set(ChannelIdentity.objects.filter(contact=target).values_list("kind", flat=True)) == {
        "email",
        "phone",
        "wechat",
    }
    assert ticket.requester_id == target.pk
    assert TicketEvent.objects.filter(ticket=ticket, verb="requester_merged").exists()
    # the old identity now resolves to the survivor
    assert (
        services.contact_resolve(actor=Actor.system(), workspace=workspace, kind="wechat", value="oABC123").pk
        == target.pk
    )
    with pytest.raises(Conflict):
        services.contact_merge(source=source, target=target, actor=actor)
