"""Downloading attachments through the API: a mail's hostile inline part never runs on our origin (issue 11, #1).

Before the fix an inline text/html or image/svg+xml part was served `inline` with its claimed type and no CSP.
"""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.tests.test_user_files import HTML, PNG, SVG
from pivotdesk.common.user_files import USER_CONTENT_CSP
from pivotdesk.tickets.services import attachment_add

pytestmark = pytest.mark.django_db


def _inline_part(ticket, filename: str, content: bytes, content_type: str):
    """An inline part of an inbound mail, stored as the intake stores it (claimed type kept, inline, a cid)."""
    return attachment_add(
        actor=Actor.system(),
        ticket=ticket,
        filename=filename,
        content=content,
        content_type=content_type,
        inline=True,
        content_id=f"{filename}@mail",
    )


@pytest.mark.parametrize(
    "part", [("part.html", HTML, "text/html"), ("logo.svg", SVG, "image/svg+xml"), ("photo.png", HTML, "image/png")]
)
def test_hostile_inline_mail_parts_download_as_sandboxed_attachments(api_client_for, agent, ticket, part):
    # given an inbound mail's inline part holding a script
    filename, content, content_type = part
    att = _inline_part(ticket, filename, content, content_type)
    # when an agent's client downloads it through the API
    response = api_client_for(agent).get(f"/api/v1/attachments/{att.pk}/download")
    # then it is a download of opaque bytes, never a page of our origin
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == USER_CONTENT_CSP
    assert b"".join(response.streaming_content) == content


def test_a_real_inline_png_is_still_shown_inline(api_client_for, agent, ticket):
    att = _inline_part(ticket, "screenshot.png", PNG, "image/png")
    response = api_client_for(agent).get(f"/api/v1/attachments/{att.pk}/download")
    assert response["Content-Disposition"] == 'inline; filename="screenshot.png"'
    assert response["Content-Type"] == "image/png"
    assert response["Content-Security-Policy"] == USER_CONTENT_CSP


def test_a_chinese_file_name_survives_the_download(api_client_for, agent, ticket):
    att = attachment_add(actor=Actor.system(), ticket=ticket, filename="发票.pdf", content=b"%PDF-1.7")
    response = api_client_for(agent).get(f"/api/v1/attachments/{att.pk}/download")
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''%E5%8F%91%E7%A5%A8.pdf"


def test_message_links_point_at_the_user_content_origin_when_set(api_client_for, agent, ticket, settings):
    # given a separate origin for user files
    settings.PIVOTDESK_USER_CONTENT_ORIGIN = "https://files.desk.example"
    att = _inline_part(ticket, "screenshot.png", PNG, "image/png")
    att.message = ticket.messages.first()
    att.save(update_fields=["message"])
    # when the conversation is read through the API
    page = api_client_for(agent).get(f"/api/v1/tickets/{ticket.pk}/messages").json()
    # then the attachment's link is on that origin
    urls = [a["url"] for m in page["items"] for a in m["attachments"]]
    assert urls == [f"https://files.desk.example/api/v1/attachments/{att.pk}/download"]
