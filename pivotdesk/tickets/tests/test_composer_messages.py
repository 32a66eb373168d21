"""What the reply composer sends, as the messages service stores it (issue 18): sanitised HTML that keeps the
formatting and drops scripts, a text version for channels without HTML, inline images only from the agent's own
uploads of this ticket, and Cc / Bcc validated and kept on a public e-mail reply."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Role
from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.common.errors import PermissionDenied, ValidationFailed
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Attachment, MessageKind
from pivotdesk.tickets.services.messages import clean_copies, composed_text
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def test_formatting_is_kept_and_scripts_are_dropped(agent):
    ticket = make_ticket(workspace=agent.workspace)
    html = (
        "<div>Dear <strong>Emma</strong>, <em>sorry</em>:</div><ul><li>one</li><li>two</li></ul>"
        '<blockquote>you wrote</blockquote><pre>E-2047</pre><a href="https://docs.example/x" onclick="x()">guide</a>'
        '<script>alert(1)</script><img src="x" onerror="alert(2)"><iframe src="https://evil.example"></iframe>'
    )
    message = ticket_services.message_create(ticket=ticket, actor=Actor.for_agent(agent), body_html=html)
    stored = message.body_html
    for kept in ("<strong>Emma</strong>", "<em>sorry</em>", "<ul><li>one</li><li>two</li></ul>",
                 "<blockquote>you wrote</blockquote>", "<pre>E-2047</pre>", 'href="https://docs.example/x"'):  # fmt: skip
        assert kept in stored, (kept, stored)
    for dropped in ("<script", "alert(1)", "onclick", "onerror", "<iframe", 'src="x"'):
        assert dropped not in stored, (dropped, stored)
    assert "- one\n- two" in message.body_text
    assert "guide (https://docs.example/x)" in message.body_text


def test_the_text_version_keeps_lists_links_and_says_where_an_image_was():
    text = composed_text('<p>See <a href="https://a.example/">the page</a></p><ol><li>x</li></ol><img src="/a">')
    assert text == "See the page (https://a.example/)\n- x\n[🖼]"
    assert composed_text('<p>Label:</p><img src="/a" alt="label.png">') == "Label:\n[🖼 label.png]"


def test_an_inline_image_is_kept_only_for_the_agents_own_upload_of_this_ticket(agent, workspace):
    ticket = make_ticket(workspace=workspace)
    other_ticket = make_ticket(workspace=workspace)
    actor = Actor.for_agent(agent)
    mine = ticket_services.reply_upload(
        ticket=ticket, actor=actor, agent=agent, filename="label.png", content=PNG, content_type="image/png"
    )
    colleague = AgentFactory(workspace=workspace, role=Role.AGENT)
    theirs = ticket_services.reply_upload(
        ticket=ticket, actor=Actor.for_agent(colleague), agent=colleague, filename="x.png", content=PNG
    )
    elsewhere = ticket_services.reply_upload(
        ticket=other_ticket, actor=actor, agent=agent, filename="y.png", content=PNG
    )
    assert mine.inline and mine.message_id is None and mine.content_type == "image/png"
    base = f"/tickets/{ticket.number}/attachments/"
    html = (
        f'<div>Label:</div><img src="{base}{mine.pk}/" alt="label.png"><img src="{base}{theirs.pk}/">'
        f'<img src="/tickets/{other_ticket.number}/attachments/{elsewhere.pk}/"><img src="/notifications/1/open/">'
        f'<img src="{base}{mine.pk}/../../../../notifications/">'
    )
    message = ticket_services.message_create(
        ticket=ticket, actor=actor, body_html=html, kind=MessageKind.NOTE, uploads=[mine.pk, theirs.pk, elsewhere.pk]
    )
    assert message.body_html.count("<img") == 5
    assert message.body_html.count('src="') == 1
    assert f'src="{base}{mine.pk}/"' in message.body_html
    assert "cid:" not in message.body_html
    assert set(message.attachments.values_list("pk", flat=True)) == {mine.pk}
    theirs.refresh_from_db()
    elsewhere.refresh_from_db()
    assert theirs.message_id is None and elsewhere.message_id is None
    assert "[🖼 label.png]" in message.body_text


def test_an_upload_follows_the_attachment_rules(agent, settings):
    ticket = make_ticket(workspace=agent.workspace)
    actor = Actor.for_agent(agent)
    settings.PIVOTDESK_ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(ValidationFailed):
        ticket_services.reply_upload(ticket=ticket, actor=actor, agent=agent, filename="big.png", content=PNG)
    settings.PIVOTDESK_ATTACHMENT_MAX_BYTES = 10_000_000
    with pytest.raises(ValidationFailed):
        ticket_services.reply_upload(ticket=ticket, actor=actor, agent=agent, filename="run.exe", content=b"MZ")
    # A file named .png that is not an image is stored, but not as an inline image.
    fake = ticket_services.reply_upload(ticket=ticket, actor=actor, agent=agent, filename="a.png", content=b"<svg/>")
    assert not fake.inline and fake.content_type == "image/png"
    other = AgentFactory(workspace=agent.workspace, role=Role.AGENT)
    with pytest.raises(PermissionDenied):
        ticket_services.reply_upload(ticket=ticket, actor=actor, agent=other, filename="a.txt", content=b"x")
    assert Attachment.objects.filter(uploaded_by=other).count() == 0


def test_cc_and_bcc_are_validated_and_stored(agent, workspace):
    ticket = make_ticket(workspace=workspace, channel="email")
    actor = Actor.for_agent(agent)
    message = ticket_services.message_create(
        ticket=ticket, actor=actor, body="Copied", cc=["A@Example.com; b@example.com", "a@example.com"],
        bcc=["b@example.com", "audit@example.com"],
    )  # fmt: skip
    assert message.cc == ["a@example.com", "b@example.com"]
    assert message.bcc == ["audit@example.com"]  # b@ is in Cc already
    with pytest.raises(ValidationFailed) as bad:
        ticket_services.message_create(ticket=ticket, actor=actor, body="x", cc=["not an address"])
    assert "“not”" in str(bad.value) or "'not'" in str(bad.value)
    with pytest.raises(ValidationFailed):
        ticket_services.message_create(ticket=ticket, actor=actor, body="x", kind=MessageKind.NOTE, cc=["a@x.example"])
    chat = make_ticket(workspace=workspace, channel="chat")
    with pytest.raises(ValidationFailed):
        ticket_services.message_create(ticket=chat, actor=actor, body="x", bcc=["a@x.example"])
    with pytest.raises(ValidationFailed):
        ticket_services.message_create(ticket=ticket, actor=actor, body="x", cc=[f"p{i}@x.example" for i in range(21)])
    assert clean_copies([" ", ""], field="cc") == []
