"""Customer isolation, generated over the portal's URL conf: a signed-in customer aims every portal URL that names
a request or a file at another customer's request, at another workspace's, at a file of an internal note, and at
their own request with someone else's file. Every answer is a 404 (or, for another workspace's address, the
sign-in page: the session is per workspace), never a page with the other's text, and nothing changes.

No URL is listed by hand: a new portal URL joins by existing; a parameter this file cannot aim fails
`test_every_portal_url_parameter_is_known`."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.urls import URLPattern

from pivotdesk.accounts.actors import Actor
from pivotdesk.customers.tests.factories import ContactFactory
from pivotdesk.portal import urls as portal_urls
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Attachment, Message, MessageKind, Ticket
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db
_PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
# ws: the workspace slug; number / attachment_id: what this matrix aims; secret / token: signed or hashed secrets
# (their own tests: test_signin.py, test_notices.py).
KNOWN = {"ws", "number", "attachment_id", "secret", "token"}
MARKER = "ZULU-SECRET"


@dataclass
class World:
    own: Ticket
    own_file: Attachment
    note_file: Attachment
    neighbour: Ticket  # another customer, same workspace
    neighbour_file: Attachment
    foreign: Ticket  # another workspace
    foreign_file: Attachment


def _with_file(ticket: Ticket, agent_actor: Actor, text: str, kind: str = MessageKind.PUBLIC) -> Attachment:
    message = ticket_services.message_create(
        ticket=ticket, actor=agent_actor, body=text, kind=kind, attachments=[("f.txt", text.encode(), "text/plain")]
    )
    return message.attachments.get()


@pytest.fixture
def world(workspace, other_workspace, contact, agent):
    from pivotdesk.accounts.tests.factories import AgentFactory

    actor = Actor.for_agent(agent)
    other_agent = Actor.for_agent(AgentFactory(workspace=other_workspace))
    neighbour = make_ticket(workspace=workspace, requester=ContactFactory(workspace=workspace), subject=MARKER)
    for _ in range(3):  # the foreign ticket's number lies beyond this workspace's numbers
        make_ticket(workspace=other_workspace)
    foreign = make_ticket(workspace=other_workspace, subject=MARKER)
    own = make_ticket(workspace=workspace, requester=contact, subject="Own request")
    assert foreign.number > max(own.number, neighbour.number)
    return World(
        own=own,
        own_file=_with_file(own, actor, "own file"),
        note_file=_with_file(own, actor, MARKER, kind=MessageKind.NOTE),
        neighbour=neighbour,
        neighbour_file=_with_file(neighbour, actor, MARKER),
        foreign=foreign,
        foreign_file=_with_file(foreign, other_agent, MARKER),
    )


def routes() -> list[tuple[str, tuple[str, ...]]]:
    out = []
    for pattern in portal_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        route = "portal/" + str(pattern.pattern)
        out.append((route, tuple(m["name"] for m in _PARAM.finditer(route))))
    return out


def fill(route: str, values: dict[str, object]) -> str:
    return "/" + _PARAM.sub(lambda m: str(values[m["name"]]), route)


def variants(w: World, slug: str, other_slug: str, params: tuple[str, ...]) -> list[tuple[str, dict[str, object]]]:
    """(label, values) aiming at what the customer must not reach."""
    out: list[tuple[str, dict[str, object]]] = []
    if "attachment_id" in params:
        out += [
            ("a note's file on my request", {"ws": slug, "number": w.own.number, "attachment_id": w.note_file.pk}),
            (
                "my request, a neighbour's file",
                {"ws": slug, "number": w.own.number, "attachment_id": w.neighbour_file.pk},
            ),
            ("my request, a foreign file", {"ws": slug, "number": w.own.number, "attachment_id": w.foreign_file.pk}),
            (
                "a neighbour's request and file",
                {"ws": slug, "number": w.neighbour.number, "attachment_id": w.neighbour_file.pk},
            ),
            (
                "a foreign request and file by number",
                {"ws": slug, "number": w.foreign.number, "attachment_id": w.foreign_file.pk},
            ),
            (
                "the foreign workspace's address",
                {"ws": other_slug, "number": w.foreign.number, "attachment_id": w.foreign_file.pk},
            ),
        ]
    elif "number" in params:
        out += [
            ("a neighbour's request", {"ws": slug, "number": w.neighbour.number}),
            ("a foreign request's number", {"ws": slug, "number": w.foreign.number}),
            ("the foreign workspace's address", {"ws": other_slug, "number": w.foreign.number}),
        ]
    return out


def _snapshot() -> tuple[int, int]:
    return Message.objects.count(), Attachment.objects.count()


def test_every_portal_url_parameter_is_known():
    unknown = [(route, p) for route, params in routes() for p in params if p not in KNOWN]
    assert not unknown, f"Teach test_isolation.py to aim these portal URL parameters: {unknown}"


def test_no_portal_url_reaches_another_customers_or_workspaces_request_or_file(
    world, workspace, other_workspace, contact, portal_client
):
    client = portal_client(contact)
    aimed = [(r, p) for r, p in routes() if "number" in p]
    assert len(aimed) >= 3, "the portal's URL conf walk found too few request URLs"
    failures: list[str] = []
    for route, params in aimed:
        for label, values in variants(world, workspace.slug, other_workspace.slug, params):
            url = fill(route, values)
            foreign_address = values["ws"] == other_workspace.slug
            allowed = {302} if foreign_address else {404}
            for method in ("get", "post"):
                before = _snapshot()
                response = getattr(client, method)(url, {"body": "sneaky reply", "score": "5"})
                content = b"".join(response.streaming_content) if response.streaming else response.content
                if response.status_code not in allowed | {405}:
                    failures.append(f"{method.upper()} {url} ({label}) → {response.status_code}")
                elif foreign_address and response.status_code == 302 and "/signin/" not in response["Location"]:
                    failures.append(f"{method.upper()} {url} ({label}) → redirected to {response['Location']}")
                if MARKER.encode() in content:
                    failures.append(f"{method.upper()} {url} ({label}) shows another's data")
                if _snapshot() != before:
                    failures.append(f"{method.upper()} {url} ({label}) changed something")
    assert not failures, "\n".join(failures)


def test_the_own_request_and_its_public_file_are_reachable(world, workspace, contact, portal_client):
    # the control: the same URLs with the customer's own ids answer (so the 404s above are about ownership)
    client = portal_client(contact)
    assert client.get(f"/portal/{workspace.slug}/requests/{world.own.number}/").status_code == 200
    url = f"/portal/{workspace.slug}/requests/{world.own.number}/files/{world.own_file.pk}/"
    assert client.get(url).status_code == 200


def test_a_ticket_link_visitor_reaches_that_request_only(world, workspace, contact):
    from django.test import Client

    from pivotdesk.portal import links

    client = Client()
    client.get(links.ticket_path(world.own))
    other_own = make_ticket(workspace=workspace, requester=contact, subject="Other own request")
    assert client.get(f"/portal/{workspace.slug}/requests/{world.own.number}/").status_code == 200
    assert client.get(f"/portal/{workspace.slug}/requests/{other_own.number}/").status_code == 404
    assert "Other own request" not in client.get(f"/portal/{workspace.slug}/requests/").content.decode()
    # nor can a link visitor open a new request or the settings: they must sign in
    assert client.get(f"/portal/{workspace.slug}/requests/new/").status_code == 302
    # a link for one workspace's ticket does not open under another workspace's address
    token = links.ticket_token(world.foreign)
    assert Client().get(f"/portal/{workspace.slug}/t/{token}/").status_code == 404
