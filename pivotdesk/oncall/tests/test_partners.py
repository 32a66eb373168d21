"""Partner providers' scoped ticket links: the link shows and lets the partner act on its one ticket only.

The isolation tests follow the workspace isolation suite: two workspaces full of tickets, messages and files, and
every object id the link could be pointed at is tried; only what the agent shared answers.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Role, TicketAccess
from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from pivotdesk.common.tests.zh_crawl import english_words, visible_texts
from pivotdesk.common.time import now
from pivotdesk.oncall import partner_views
from pivotdesk.oncall.models import Partner, PartnerAccess
from pivotdesk.oncall.services import partners
from pivotdesk.tickets.models import Attachment, Message, MessageKind, Ticket, TicketEvent
from pivotdesk.tickets.services import attachment_add, message_create, ticket_set_status
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def _partner(workspace, name: str = "Night Parts Depot", language: str = "en") -> Partner:
    return partners.partner_save(
        actor=Actor.system("test"),
        workspace=workspace,
        fields={"name": name, "emails": ["night@depot.example"], "language": language},
    )


def _reply(ticket: Ticket, agent, body: str, kind: str = MessageKind.PUBLIC, file: bytes | None = None) -> Message:
    actor = Actor.for_agent(agent)
    message = message_create(ticket=ticket, actor=actor, body=body, kind=kind)
    if file is not None:
        attachment_add(ticket=ticket, actor=actor, message=message, filename=f"{body[:8]}.txt", content=file)
    return message


@pytest.fixture
def scene(workspace, other_workspace, agent, ticket):
    """The invited ticket (shared reply with a file, unshared reply with a file, a note with a file), another ticket
    of the workspace and a ticket of another workspace, each with a file."""
    shared = _reply(ticket, agent, "shared-reply-alpha", file=b"shared file")
    unshared = _reply(ticket, agent, "unshared-reply-beta", file=b"unshared file")
    note = _reply(ticket, agent, "internal-note-gamma", kind=MessageKind.NOTE, file=b"note file")
    other = make_ticket(workspace=workspace, subject="Other-ticket-delta")
    _reply(other, agent, "other-ticket-reply", file=b"other ticket file")
    foreign_agent = AgentFactory(workspace=other_workspace, role=Role.ADMIN)
    foreign = make_ticket(workspace=other_workspace, subject="Foreign-ticket-epsilon")
    _reply(foreign, foreign_agent, "foreign-reply", file=b"foreign file")
    partner = _partner(workspace)
    access, token = partners.partner_invite(
        actor=Actor.for_agent(agent), ticket=ticket, partner=partner, message_ids=[shared.pk]
    )
    return {
        "ticket": ticket,
        "shared": shared,
        "unshared": unshared,
        "note": note,
        "other": other,
        "foreign": foreign,
        "partner": partner,
        "access": access,
        "token": token,
    }


def _url(name: str, token: str, *args: int) -> str:
    return reverse(f"partner:{name}", args=[token, *args])


# --- what the link shows ------------------------------------------------------------------------------------------


def test_invite_shows_the_tickets_shared_messages_only(scene):
    page = Client().get(_url("page", scene["token"]))
    assert page.status_code == 200
    html = page.content.decode()
    assert scene["ticket"].subject in html
    assert "shared-reply-alpha" in html
    for hidden in ("unshared-reply-beta", "internal-note-gamma", "It is on fire", "Other-ticket-delta", "Foreign"):
        assert hidden not in html
    assert page["Referrer-Policy"] == "no-referrer"
    assert "no-store" in page["Cache-Control"]


def test_share_all_shows_every_public_message_and_no_note(scene, agent):
    _, token = partners.partner_invite(
        actor=Actor.for_agent(agent), ticket=scene["ticket"], partner=scene["partner"], share_all=True
    )
    html = Client().get(_url("page", token)).content.decode()
    assert "shared-reply-alpha" in html and "unshared-reply-beta" in html and "It is on fire" in html
    assert "internal-note-gamma" not in html
    for elsewhere in ("other-ticket-reply", "Other-ticket-delta", "foreign-reply"):
        assert elsewhere not in html


@settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture])  # a ticket per example
@given(chosen=st.sets(st.integers(min_value=0, max_value=4)))
def test_the_view_shows_exactly_the_chosen_messages(chosen, workspace, agent):
    ticket = make_ticket(workspace=workspace, subject="Chosen")
    messages = [
        _reply(ticket, agent, f"m{i}", kind=MessageKind.NOTE if i == 4 else MessageKind.PUBLIC) for i in range(5)
    ]
    partner = Partner.objects.filter(workspace=workspace).first() or _partner(workspace)
    _, token = partners.partner_invite(
        actor=Actor.for_agent(agent), ticket=ticket, partner=partner, message_ids=[messages[i].pk for i in chosen]
    )
    shown = {m.id for m in partners.partner_view(token).messages}
    assert shown == {messages[i].pk for i in chosen}


def test_only_the_hash_of_the_token_is_kept(scene):
    access, token = scene["access"], scene["token"]
    assert access.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not PartnerAccess.objects.filter(token_hash=token).exists()
    event = TicketEvent.objects.get(ticket=scene["ticket"], verb="partner_invited")
    assert token not in str(event.data) and event.data["message_ids"] == [scene["shared"].pk]


# --- what the partner does ----------------------------------------------------------------------------------------


def test_reply_with_a_file_and_a_note_land_on_the_ticket_and_show_on_the_link(scene):
    client, token = Client(), scene["token"]
    upload = SimpleUploadedFile("photo-of-part.txt", b"serial 42", content_type="text/plain")
    answer = client.post(_url("reply", token), {"body": "On my way, ETA 40 min", "kind": "public", "files": upload})
    assert answer.status_code == 303
    answer = client.post(_url("reply", token), {"body": "Needs a new fuser", "kind": "note"})
    assert answer.status_code == 303
    posted = list(Message.objects.filter(ticket=scene["ticket"], metadata__partner_access_id=scene["access"].pk))
    assert [(m.kind, m.author_label, m.body_text) for m in posted] == [
        ("public", "Night Parts Depot", "On my way, ETA 40 min"),
        ("note", "Night Parts Depot", "Needs a new fuser"),
    ]
    assert [a.filename for a in posted[0].attachments.all()] == ["photo-of-part.txt"]
    html = client.get(_url("page", token) + "?done=reply").content.decode()
    assert "On my way, ETA 40 min" in html and "Needs a new fuser" in html and "photo-of-part.txt" in html


def test_a_reply_is_sanitised_text_and_checked(scene):
    token = scene["token"]
    message = partners.partner_reply(token, "<script>alert(1)</script><b>hi</b>")
    assert "<script>" not in message.body_html
    with pytest.raises(ValidationFailed):
        partners.partner_reply(token, "   ")
    with pytest.raises(ValidationFailed):
        partners.partner_reply(token, "x", kind="system")
    with pytest.raises(ValidationFailed):
        partners.partner_reply(token, "x" * (partners.MAX_REPLY_CHARS + 1))
    with pytest.raises(ValidationFailed):
        partners.partner_reply(token, "files", files=[("a.txt", b"a", "")] * (partners.MAX_FILES + 1))
    with pytest.raises(ValidationFailed):
        partners.partner_reply(token, "blocked type", files=[("run.exe", b"MZ", "")])
    html = Client().get(_url("page", token)).content.decode()
    assert "<script>alert" not in html


def test_a_closed_ticket_takes_no_reply(scene):
    ticket_set_status(ticket=scene["ticket"], status="solved", actor=Actor.system("test"))
    Ticket.objects.filter(pk=scene["ticket"].pk).update(status="closed")  # what auto-close does after solved
    with pytest.raises(Conflict):
        partners.partner_reply(scene["token"], "late")
    answer = Client().post(_url("reply", scene["token"]), {"body": "late"})
    assert answer.status_code == 409


def test_parts_dispatched_is_recorded_once(scene):
    client, token = Client(), scene["token"]
    assert client.post(_url("parts", token)).status_code == 303
    first = PartnerAccess.objects.get(pk=scene["access"].pk).parts_dispatched_at
    assert first is not None
    assert client.post(_url("parts", token)).status_code == 303
    assert PartnerAccess.objects.get(pk=scene["access"].pk).parts_dispatched_at == first
    events = TicketEvent.objects.filter(ticket=scene["ticket"], verb="partner_parts_dispatched")
    assert events.count() == 1 and events.get().actor_label == "Night Parts Depot"


def test_acknowledge_records_a_timeline_entry(scene):
    assert Client().post(_url("ack", scene["token"])).status_code == 303
    event = TicketEvent.objects.get(ticket=scene["ticket"], verb="partner_acknowledged")
    assert event.data["partner"]["id"] == scene["partner"].pk


def test_forms_need_the_csrf_token_the_page_sets(scene):
    client, token = Client(enforce_csrf_checks=True), scene["token"]
    assert client.post(_url("ack", token)).status_code == 403
    client.get(_url("page", token))
    csrf = client.cookies["csrftoken"].value
    assert client.post(_url("ack", token), {"csrfmiddlewaretoken": csrf}).status_code == 303


def test_posts_are_rate_limited_per_link(scene, monkeypatch):
    monkeypatch.setattr(partner_views, "POSTS_PER_LINK_HOUR", 2)
    client = Client()
    assert [client.post(_url("ack", scene["token"])).status_code for _ in range(3)] == [303, 303, 429]


# --- dead links ---------------------------------------------------------------------------------------------------


def _every_url(token: str, attachment_id: int) -> list[tuple[str, str]]:
    return [
        ("get", _url("page", token)),
        ("post", _url("reply", token)),
        ("post", _url("parts", token)),
        ("post", _url("ack", token)),
        ("get", _url("file", token, attachment_id)),
    ]


@pytest.mark.parametrize("how", ["expired", "revoked", "unknown", "partner_off"])
def test_a_dead_link_is_404_everywhere(scene, agent, how):
    token = scene["token"]
    access = scene["access"]
    if how == "expired":
        PartnerAccess.objects.filter(pk=access.pk).update(expires_at=now() - dt.timedelta(seconds=1))
    elif how == "revoked":
        partners.partner_revoke(actor=Actor.for_agent(agent), access=access)
        assert TicketEvent.objects.filter(ticket=scene["ticket"], verb="partner_revoked").count() == 1
    elif how == "partner_off":
        partners.partner_save(
            actor=Actor.system("test"), workspace=scene["ticket"].workspace, partner=scene["partner"],
            fields={"is_active": False},
        )  # fmt: skip
    else:
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    shared_file = Attachment.objects.get(message=scene["shared"])
    client = Client()
    before = Message.objects.count()
    for method, url in _every_url(token, shared_file.pk):
        assert getattr(client, method)(url, {"body": "x"} if method == "post" else None).status_code == 404, url
    assert Message.objects.count() == before
    assert PartnerAccess.objects.get(pk=access.pk).parts_dispatched_at is None


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])  # read only
@given(token=st.text(min_size=1, max_size=200))
def test_any_other_token_resolves_to_nothing(token, scene):
    if token == scene["token"]:
        return
    with pytest.raises(NotFound):
        partners.partner_view(token)


# --- the link reaches nothing else --------------------------------------------------------------------------------


@pytest.mark.parametrize("share_all", [False, True])
def test_of_every_attachment_in_every_workspace_only_the_shared_ones_download(scene, agent, share_all):
    client, token = Client(), scene["token"]
    allowed = set(Attachment.objects.filter(message=scene["shared"]).values_list("pk", flat=True))
    if share_all:
        _, token = partners.partner_invite(
            actor=Actor.for_agent(agent), ticket=scene["ticket"], partner=scene["partner"], share_all=True
        )
        allowed.add(Attachment.objects.get(message=scene["unshared"]).pk)
    assert len(allowed) == 1 + share_all
    ids = list(Attachment.objects.values_list("pk", flat=True))
    assert len(ids) >= 5  # shared, unshared, note, the other ticket's, the other workspace's
    for attachment_id in [*ids, max(ids) + 1, 0]:
        response = client.get(_url("file", token, attachment_id))
        assert response.status_code == (200 if attachment_id in allowed else 404), attachment_id
    response = client.get(_url("file", token, Attachment.objects.get(message=scene["shared"]).pk))
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"shared file"


def test_active_content_is_a_download_never_a_page(scene, agent):
    message = _reply(scene["ticket"], agent, "html-file")
    attachment_add(
        ticket=scene["ticket"], actor=Actor.for_agent(agent), message=message, filename="x.html",
        content=b"<script>alert(1)</script>", content_type="text/html",
    )  # fmt: skip
    _, token = partners.partner_invite(
        actor=Actor.for_agent(agent), ticket=scene["ticket"], partner=scene["partner"], message_ids=[message.pk]
    )
    file_id = Attachment.objects.get(message=message).pk
    response = Client().get(_url("file", token, file_id))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert "sandbox" in response["Content-Security-Policy"]


def test_the_token_is_neither_a_session_nor_an_api_token(scene):
    token, ticket = scene["token"], scene["ticket"]
    browser = Client()
    browser.cookies["sessionid"] = token
    browser.cookies["csrftoken"] = token
    for url in ("/", reverse("web:ticket", args=[ticket.number]), "/oncall/", "/admin/"):
        response = browser.get(url)
        assert response.status_code in (302, 401, 403, 404), url
        assert ticket.subject not in response.content.decode(errors="replace")
        if response.status_code == 302:
            landed = browser.get(url, follow=True)
            assert "login" in landed.request["PATH_INFO"], url
            assert ticket.subject not in landed.content.decode(errors="replace")
    for header in ({"HTTP_AUTHORIZATION": f"Bearer {token}"}, {"HTTP_AUTHORIZATION": f"Token {token}"}):
        for url in ("/api/v1/tickets", f"/api/v1/tickets/{ticket.pk}"):
            response = Client().get(url, **header)
            assert response.status_code == 401, (url, response.status_code)


def test_other_tickets_and_workspaces_are_not_reachable_through_the_link_path(scene):
    token = scene["token"]
    client = Client()
    for path in (
        f"/partner/{token}/tickets/{scene['other'].pk}/",
        f"/partner/{token}/{scene['foreign'].pk}/",
        f"/partner/{token}/files/{scene['other'].pk}/x/",
        f"/partner/{token}/../tickets/{scene['other'].number}/",
    ):
        response = client.get(path)
        assert response.status_code in (302, 404), path
        assert "Other-ticket-delta" not in response.content.decode(errors="replace")


# --- who may bring a partner in -----------------------------------------------------------------------------------


def test_a_light_agent_cannot_invite(scene, light_agent):
    with pytest.raises(PermissionDenied):
        partners.partner_invite(actor=Actor.for_agent(light_agent), ticket=scene["ticket"], partner=scene["partner"])


def test_an_agent_who_cannot_see_the_ticket_cannot_invite(scene, workspace):
    limited = AgentFactory(workspace=workspace, role=Role.AGENT, ticket_access=TicketAccess.ASSIGNED)
    with pytest.raises(NotFound):
        partners.partner_invite(actor=Actor.for_agent(limited), ticket=scene["ticket"], partner=scene["partner"])


def test_invites_cross_no_workspace(scene, agent, other_workspace):
    foreign_partner = _partner(other_workspace, name="Elsewhere")
    with pytest.raises(NotFound):
        partners.partner_invite(actor=Actor.for_agent(agent), ticket=scene["ticket"], partner=foreign_partner)
    stranger = AgentFactory(workspace=other_workspace, role=Role.ADMIN)
    with pytest.raises(PermissionDenied):
        partners.partner_invite(actor=Actor.for_agent(stranger), ticket=scene["ticket"], partner=scene["partner"])
    foreign_message = Message.objects.filter(ticket=scene["foreign"]).first()
    assert foreign_message is not None
    with pytest.raises(ValidationFailed):
        partners.partner_invite(
            actor=Actor.for_agent(agent), ticket=scene["ticket"], partner=scene["partner"],
            message_ids=[foreign_message.pk],
        )  # fmt: skip
    with pytest.raises(ValidationFailed):
        partners.partner_invite(actor=Actor.for_agent(agent), ticket=scene["ticket"], partner=scene["partner"], hours=0)


def test_partner_configuration_is_for_supervisors_and_checked(workspace, supervisor, agent):
    boss = Actor.for_agent(supervisor)
    with pytest.raises(PermissionDenied):
        partners.partner_save(actor=Actor.for_agent(agent), workspace=workspace, fields={"name": "X"})
    saved = partners.partner_save(
        actor=boss,
        workspace=workspace,
        fields={
            "name": "AR Guide",
            "emails": " Ops@AR.example , ops@ar.example",
            "targets": ["json://example.com/hook"],
        },
    )
    assert saved.emails == ["ops@ar.example"] and saved.targets == ["json://example.com/hook"]
    stored = Partner.objects.filter(pk=saved.pk).values_list("targets_secret", flat=True).get()
    assert stored and "example.com" not in stored  # the URLs (they hold keys) are encrypted at rest
    assert Partner.objects.get(pk=saved.pk).targets == ["json://example.com/hook"]
    for bad in (
        {"name": ""},
        {"name": "B", "emails": ["not-an-address"]},
        {"name": "B", "targets": ["nonsense"]},
        {"name": "B", "targets": ["json://10.1.2.3/hook"]},
        {"name": "B", "language": "fr"},
        {"name": "B", "secret": "x"},
        {"name": "AR Guide"},
    ):
        with pytest.raises(ValidationFailed):
            partners.partner_save(actor=boss, workspace=workspace, fields=bad)
    partners.partner_delete(actor=boss, partner=saved)
    assert not Partner.objects.filter(pk=saved.pk).exists()


# --- bilingual ----------------------------------------------------------------------------------------------------


def test_the_page_in_chinese_has_no_english_words(scene, agent):
    partner = _partner(scene["ticket"].workspace, name="夜间备件库", language="zh-hans")
    _, token = partners.partner_invite(
        actor=Actor.for_agent(agent), ticket=scene["ticket"], partner=partner, message_ids=[scene["shared"].pk]
    )
    partners.partner_parts_dispatched(token)
    client = Client(headers={"accept-language": "zh-hans"})
    for url in (_url("page", token) + "?done=parts", "/partner/no-such-link/"):
        html = client.get(url).content.decode()
        assert 'lang="zh-hans"' in html or url.endswith("no-such-link/")
        assert english_words(url, visible_texts(html)) == []
    error = client.post(_url("reply", token), {"body": ""})
    assert error.status_code == 422
    assert english_words("reply error", visible_texts(error.content.decode())) == []
    english = Client().get(_url("page", scene["token"])).content.decode()
    assert "Conversation" in english
