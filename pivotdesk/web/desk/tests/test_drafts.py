"""Reply drafts: kept on the server per agent and ticket, restored with their mode, dropped when sent, shown to
colleagues as an unsent reply (never their text), and nobody else's to read or write."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.errors import PermissionDenied, ValidationFailed
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import ReplyDraft
from pivotdesk.tickets.services.drafts import MAX_DRAFT
from pivotdesk.tickets.tests.factories import make_ticket
from pivotdesk.web.tests.helpers import new_agent

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def test_a_draft_is_kept_replaced_and_dropped_when_emptied(agent, ticket):
    me = Actor.for_agent(agent)
    first = ticket_services.draft_save(actor=me, ticket=ticket, agent=agent, body="Dear customer,")
    again = ticket_services.draft_save(actor=me, ticket=ticket, agent=agent, body="Dear customer, we", kind="note")
    assert first is not None and again is not None and first.pk == again.pk
    assert (again.body, again.kind) == ("Dear customer, we", "note")
    assert ticket_services.draft_save(actor=me, ticket=ticket, agent=agent, body="  \n ") is None
    assert not ReplyDraft.objects.exists()


def test_a_draft_is_its_author_s_alone(agent, ticket, workspace, other_workspace):
    colleague = new_agent(workspace=workspace)
    with pytest.raises(PermissionDenied):
        ticket_services.draft_save(actor=Actor.for_agent(agent), ticket=ticket, agent=colleague, body="as you")
    stranger = new_agent(workspace=other_workspace)
    with pytest.raises(PermissionDenied):
        ticket_services.draft_save(actor=Actor.for_agent(stranger), ticket=ticket, agent=stranger, body="x")
    with pytest.raises(ValidationFailed):
        ticket_services.draft_save(actor=Actor.for_agent(agent), ticket=ticket, agent=agent, body="x", kind="shout")
    with pytest.raises(ValidationFailed):
        ticket_services.draft_save(actor=Actor.for_agent(agent), ticket=ticket, agent=agent, body="x" * (MAX_DRAFT + 1))
    assert not ReplyDraft.objects.exists()


def test_the_page_restores_the_draft_with_its_mode_and_sending_drops_it(agent, ticket, client_as):
    client = client_as(agent)
    response = client.post(f"/tickets/{ticket.number}/draft/", {"body": "Checking with <b>billing</b>", "kind": "note"})
    assert response.status_code == 204
    html = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert (
        'value="Checking with &lt;b&gt;billing&lt;/b&gt;"' in html
    )  # escaped into the editor's input, never raw markup
    assert 'data-mode="note"' in html and '<input type="hidden" name="kind" value="note">' in html
    assert "Draft restored" in html
    client.post(f"/tickets/{ticket.number}/reply/", {"body": "Checking with billing", "kind": "note"}, headers=HTMX)
    assert not ReplyDraft.objects.exists()
    html = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert 'data-mode="public"' in html and "Draft restored" not in html


def test_colleagues_see_an_unsent_reply_but_not_its_text(agent, workspace, ticket, client_as):
    colleague = new_agent(workspace=workspace, user__display_name="李伟")
    client_as(colleague).post(f"/tickets/{ticket.number}/draft/", {"body": "secret wording", "kind": "public"})
    page = client_as(agent).get(f"/tickets/{ticket.number}/").content.decode()
    assert "李伟 has an unsent reply here" in page and "secret wording" not in page
    zh = client_as(agent, "zh-hans").post(f"/tickets/{ticket.number}/pulse/", {"state": "viewing"}, headers=HTMX)
    assert "李伟 在此工单有未发送的回复" in zh.content.decode()
    # while the colleague is on the page, they are shown as present, not twice
    client_as(colleague).post(f"/tickets/{ticket.number}/pulse/", {"state": "replying"}, headers=HTMX)
    pulse = client_as(agent).post(f"/tickets/{ticket.number}/pulse/", {"state": "viewing"}, headers=HTMX)
    assert "李伟 is replying" in pulse.content.decode() and "unsent reply" not in pulse.content.decode()


def test_a_light_agent_keeps_note_drafts_only(workspace, ticket, client_as):
    light = new_agent(workspace=workspace, role="light_agent")
    client = client_as(light)
    refused = client.post(f"/tickets/{ticket.number}/draft/", {"body": "to the customer", "kind": "public"})
    assert refused.status_code == 403 and not ReplyDraft.objects.exists()
    assert client.post(f"/tickets/{ticket.number}/draft/", {"body": "a note", "kind": "note"}).status_code == 204


def test_another_workspace_s_ticket_is_not_found(agent, other_workspace, client_as):
    foreign = make_ticket(workspace=other_workspace)
    response = client_as(agent).post(f"/tickets/{foreign.number}/draft/", {"body": "x"})
    assert response.status_code == 404  # the agent's own workspace has no ticket of that number
    assert not ReplyDraft.objects.exists()
