"""One status vocabulary (issue 12): the workspace's own labels, in the reader's language, on every screen that
names a status — the timeline, the queue's filter and bulk bar, the customer panel, the ticket page's "Submit as" —
and the timeline's system and AI actors named in the reader's language too."""

from __future__ import annotations

import re
from typing import Any

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.common.time import now
from pivotdesk.customers.models import Contact
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import StatusDefinition, Ticket, TicketEvent
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def labels(workspace: Workspace) -> dict[str, StatusDefinition]:
    """Given a workspace that calls Open "In progress" and has two Pending labels, each with a Chinese name."""

    def create(category: str, label: str, label_zh: str, position: int, *, default: bool = False) -> StatusDefinition:
        return ticket_services.status_definition_create(
            workspace=workspace,
            actor=Actor.system(),
            category=category,
            label=label,
            label_zh=label_zh,
            position=position,
            is_default=default,
        )

    return {
        "progress": create("open", "In progress", "跟进中", 1, default=True),
        "customer": create("pending", "Waiting for customer", "待客户回复", 2, default=True),
        "parts": create("pending", "Waiting for parts", "等待配件", 3),
    }


def _timeline(client: Any, ticket: Ticket) -> str:
    html = client.get(f"/tickets/{ticket.number}/timeline/").content.decode()
    return re.sub(r"\s+", " ", html)


def test_the_timeline_names_status_changes_with_the_workspace_labels_in_the_readers_language(
    agent: AgentProfile, ticket: Ticket, labels: dict[str, StatusDefinition], client_as: Any
) -> None:
    actor = Actor.for_agent(agent)
    ticket_services.message_create(ticket=ticket, actor=actor, body="On it.", status_after="open")
    ticket_services.ticket_update(ticket=ticket, actor=actor, changes={"custom_status": labels["customer"].pk})
    ticket_services.ticket_update(ticket=ticket, actor=actor, changes={"custom_status": labels["parts"].pk})

    english = _timeline(client_as(agent), ticket)
    assert "changed status New → In progress" in english
    assert "changed status In progress → Waiting for customer" in english
    assert "changed status Waiting for customer → Waiting for parts" in english
    assert "New → Open" not in english and "Open → Pending" not in english

    chinese = _timeline(client_as(agent, "zh-hans"), ticket)
    assert "将状态从 跟进中 改为 待客户回复" in chinese and "将状态从 待客户回复 改为 等待配件" in chinese


def test_the_queue_filter_offers_the_labels_and_filters_by_one(
    agent: AgentProfile, workspace: Workspace, contact: Contact, labels: dict[str, StatusDefinition], client_as: Any
) -> None:
    actor = Actor.for_agent(agent)
    parts = make_ticket(workspace=workspace, requester=contact, subject="Needs a new drum unit")
    customer = make_ticket(workspace=workspace, requester=contact, subject="Asked for the serial number")
    ticket_services.ticket_update(ticket=parts, actor=actor, changes={"custom_status": labels["parts"].pk})
    ticket_services.ticket_update(ticket=customer, actor=actor, changes={"custom_status": labels["customer"].pk})
    client = client_as(agent)

    page = client.get("/queue/?scope=all").content.decode()
    status_filter = re.search(r'<select name="status" aria-label="Status">.*?</select>', page, re.S)
    assert status_filter is not None
    assert "Waiting for parts" in status_filter.group(0) and "In progress" in status_filter.group(0)

    filtered = client.get(f"/queue/?scope=all&status=label:{labels['parts'].pk}").content.decode()
    assert "Needs a new drum unit" in filtered and "Asked for the serial number" not in filtered
    whole_category = client.get("/queue/?scope=all&status=pending").content.decode()
    assert "Needs a new drum unit" in whole_category and "Asked for the serial number" in whole_category
    assert client.get("/queue/?scope=all&status=label:abc").status_code == 422


def test_bulk_actions_offer_the_labels_and_set_one(
    agent: AgentProfile, ticket: Ticket, labels: dict[str, StatusDefinition], client_as: Any
) -> None:
    client = client_as(agent, "zh-hans")
    page = client.get("/queue/?scope=all").content.decode()
    bulk = re.search(r"<div class=\"bulkbar\".*?</div>", page, re.S)
    assert bulk is not None and "等待配件" in bulk.group(0) and "跟进中" in bulk.group(0)

    response = client.post(
        "/queue/bulk/", {"ids": [ticket.pk], "action": "status", "status": f"label:{labels['parts'].pk}"}
    )

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.custom_status_id) == ("pending", labels["parts"].pk)


def test_the_customer_panel_and_the_reply_box_name_the_workspace_labels(
    agent: AgentProfile, contact: Contact, ticket: Ticket, labels: dict[str, StatusDefinition], client_as: Any
) -> None:
    other = make_ticket(workspace=ticket.workspace, requester=contact, subject="Toner order")
    ticket_services.ticket_update(
        ticket=other, actor=Actor.for_agent(agent), changes={"custom_status": labels["parts"].pk}
    )

    page = re.sub(r"\s+", " ", client_as(agent).get(f"/tickets/{ticket.number}/").content.decode())

    panel = page[page.index('class="panel customer"') :]
    assert "Waiting for parts</span>" in panel[: panel.index("</section>")]
    submit_as = re.search(r'<select name="status_after".*?</select>', page, re.S)
    assert submit_as is not None
    assert ">In progress<" in submit_as.group(0) and ">Waiting for customer<" in submit_as.group(0)


def test_the_timeline_names_the_system_and_the_ai_in_the_readers_language(
    agent: AgentProfile, ticket: Ticket, client_as: Any
) -> None:
    ticket_services.ticket_update(ticket=ticket, actor=Actor.system("Routing"), changes={"priority": "high"})
    ai = Actor(kind="ai", label="pivotdesk-classify v3")
    ticket_services.ticket_update(ticket=ticket, actor=ai, changes={"priority": "urgent"})

    chinese = _timeline(client_as(agent, "zh-hans"), ticket)
    english = _timeline(client_as(agent), ticket)

    assert "自动分配" in chinese and "AI 分类 (v3)" in chinese
    assert "pivotdesk-classify" not in chinese and ">Routing " not in chinese
    assert "Routing changed priority" in english and "AI classification (v3) changed priority" in english


def test_linked_tickets_and_the_contact_page_name_the_workspace_labels(
    agent: AgentProfile, contact: Contact, ticket: Ticket, labels: dict[str, StatusDefinition], client_as: Any
) -> None:
    actor = Actor.for_agent(agent)
    related = make_ticket(workspace=ticket.workspace, requester=contact, subject="Same printer, other floor")
    child = make_ticket(workspace=ticket.workspace, requester=contact, subject="Replace the fuser")
    ticket_services.ticket_update(ticket=related, actor=actor, changes={"custom_status": labels["parts"].pk})
    ticket_services.ticket_update(ticket=child, actor=actor, changes={"custom_status": labels["customer"].pk})
    ticket_services.ticket_link(source=ticket, target=related, kind="related", actor=actor)
    ticket_services.ticket_set_parent(child=child, parent=ticket, actor=actor)
    client = client_as(agent, "zh-hans")

    page = re.sub(r"\s+", " ", client.get(f"/tickets/{ticket.number}/").content.decode())
    links = page[page.index('id="links"') :]
    links = links[: links.index("</section>")]
    contact_page = client.get(f"/contacts/{contact.pk}/").content.decode()

    assert "等待配件</span>" in links and "待客户回复</span>" in links
    assert "等待配件</span>" in contact_page and "待客户回复</span>" in contact_page


def test_a_status_change_recorded_before_label_ids_were_kept_still_shows_the_label(
    agent: AgentProfile, ticket: Ticket, labels: dict[str, StatusDefinition], client_as: Any
) -> None:
    # Given a timeline row as older code wrote it: the categories and the new label's English text only.
    TicketEvent.objects.create(
        workspace_id=ticket.workspace_id,
        ticket=ticket,
        created_at=now(),
        actor_type="system",
        actor_label="Routing",
        verb="status_changed",
        field="status",
        old_value="open",
        new_value="pending",
        data={"label": "Waiting for parts"},
    )

    chinese = _timeline(client_as(agent, "zh-hans"), ticket)

    assert "自动分配 将状态从 处理中 改为 等待配件" in chinese
