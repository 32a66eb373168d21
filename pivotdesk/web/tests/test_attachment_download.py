"""Opening attachments in the agent UI: raster images by their bytes inline, every other file a sandboxed download
(issue 11, finding 1), and the development media folder under the same rules."""

from __future__ import annotations

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.common.tests.test_user_files import HTML, PNG, SVG
from pivotdesk.common.user_files import USER_CONTENT_CSP
from pivotdesk.tickets.services import attachment_add

pytestmark = pytest.mark.django_db


def _stored(ticket, filename: str, content: bytes, content_type: str):
    return attachment_add(
        actor=Actor.system(), ticket=ticket, filename=filename, content=content, content_type=content_type, inline=True
    )


@pytest.mark.parametrize(
    ("filename", "content", "content_type"),
    [("part.html", HTML, "text/html"), ("logo.svg", SVG, "image/svg+xml"), ("photo.png", HTML, "image/png")],
)
def test_hostile_files_open_as_sandboxed_downloads(agent_client, ticket, filename, content, content_type):
    # given a stored file that claims to be a page, a vector image or a "png" but holds a script
    att = _stored(ticket, filename, content, content_type)
    # when the agent opens it from the conversation
    response = agent_client.get(f"/tickets/{ticket.number}/attachments/{att.pk}/")
    # then it downloads as opaque bytes with no script allowed
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == USER_CONTENT_CSP


def test_a_real_png_is_previewed_inline(agent_client, ticket):
    att = _stored(ticket, "screenshot.png", PNG, "image/png")
    response = agent_client.get(f"/tickets/{ticket.number}/attachments/{att.pk}/")
    assert response["Content-Disposition"] == 'inline; filename="screenshot.png"'
    assert response["Content-Type"] == "image/png"
    assert response["Content-Security-Policy"] == USER_CONTENT_CSP


@pytest.mark.parametrize(("filename", "content"), [("part.html", HTML), ("logo.svg", SVG), ("photo.png", HTML)])
def test_the_development_media_folder_serves_by_the_same_rules(client, ticket, settings, filename, content):
    # given a hostile file stored under the media folder that inline mail images point at (`file.url`)
    from pivotdesk.common.user_files import serve_media

    att = _stored(ticket, filename, content, "text/html")
    # when the development server's media view serves it
    response = serve_media(None, att.file.name, document_root=settings.MEDIA_ROOT)
    # then it is a sandboxed download too
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Security-Policy"] == USER_CONTENT_CSP


def test_the_development_media_view_refuses_paths_outside_the_folder(settings):
    from django.http import Http404

    from pivotdesk.common.user_files import serve_media

    with pytest.raises(Http404):
        serve_media(None, "../../etc/passwd", document_root=settings.MEDIA_ROOT)
