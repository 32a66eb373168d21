"""Light agents see only the actions they can take (issue 12): the page asks the one gate (`permissions.can`) what
to draw; the services still refuse what is not drawn."""

from __future__ import annotations

import re
from typing import Any

import pytest

from pivotdesk.accounts.models import AgentProfile
from pivotdesk.tickets.models import Message, MessageKind, Ticket

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def _page(client: Any, ticket: Ticket) -> str:
    return re.sub(r"\s+", " ", client.get(f"/tickets/{ticket.number}/").content.decode())


def test_a_light_agent_sees_a_note_composer_and_read_only_properties(light_client: Any, ticket: Ticket) -> None:
    page = _page(light_client, ticket)

    composer = page[page.index('id="reply-form"') : page.index("</form>", page.index('id="reply-form"'))]
    assert 'data-kind="public"' not in composer and "Public reply" not in composer
    assert 'name="kind" value="note"' in composer and "as-note" in composer
    assert "Internal note — not visible to the customer" in composer
    assert ">Add internal note</button>" in composer and "Send to customer" not in composer.split("data-label-note")[1]
    assert 'name="status_after"' not in composer
    # Properties are read, not edited: no form, no status select, no "Take it".
    assert 'id="properties" class="panel props readonly"' in page
    assert 'id="prop-status"' not in page and 'name="priority"' not in page
    assert "Take it" not in page and "data-assign-url" not in page
    # Linking and merging are refused to the role: not offered.
    assert f"/tickets/{ticket.number}/links/" not in page and f"/tickets/{ticket.number}/merge/" not in page


def test_the_server_still_refuses_what_the_light_agent_is_not_shown(light_client: Any, ticket: Ticket) -> None:
    public = light_client.post(f"/tickets/{ticket.number}/reply/", {"body": "Hello", "kind": "public"}, headers=HTMX)
    take = light_client.post(f"/tickets/{ticket.number}/assign-me/", headers=HTMX)
    props = light_client.post(f"/tickets/{ticket.number}/properties/", {"priority": "urgent"}, headers=HTMX)

    assert (public.status_code, take.status_code, props.status_code) == (403, 403, 403)
    ticket.refresh_from_db()
    assert ticket.priority != "urgent" and ticket.assignee_id is None
    assert not Message.objects.filter(ticket=ticket, kind=MessageKind.PUBLIC, body_text="Hello").exists()
    # …and the note the page offers works.
    note = light_client.post(
        f"/tickets/{ticket.number}/reply/", {"body": "Checked stock", "kind": "note"}, headers=HTMX
    )
    assert note.status_code == 200
    assert Message.objects.filter(ticket=ticket, kind=MessageKind.NOTE).exists()


def test_a_light_agent_has_no_bulk_bar_and_no_row_checkboxes(light_client: Any, ticket: Ticket) -> None:
    page = light_client.get("/queue/?scope=all").content.decode()
    rows = light_client.get("/queue/rows/?scope=all").content.decode()

    assert "data-bulkbar" not in page and "row-check" not in page and "data-select-all" not in page
    assert "row-check" not in rows
    refused = light_client.post("/queue/bulk/", {"ids": [ticket.pk], "action": "status", "status": "pending"})
    assert refused.status_code == 403


def test_an_agent_keeps_every_control(agent_client: Any, agent: AgentProfile, ticket: Ticket) -> None:
    page = _page(agent_client, ticket)
    queue = agent_client.get("/queue/?scope=all").content.decode()

    assert 'data-kind="public"' in page and 'data-kind="note"' in page and "Send reply" in page
    assert 'name="status_after"' in page and 'id="prop-status"' in page and "Take it" in page
    assert "data-bulkbar" in queue and "row-check" in queue
