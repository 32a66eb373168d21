"""The XSS corpus through every entry point, checked in the HTML (no browser): every page an agent or a visitor
opens shows the payloads only as text — no foreign script, handler, directive, dangerous URL, frame or srcdoc.
The real-browser twin is `test_xss_browser.py`."""

from __future__ import annotations

import pytest
from django.test import Client

from pivotdesk.accounts.models import Role
from pivotdesk.web.tests.helpers import new_agent
from pivotdesk.web.tests.security.entry_points import seed_everywhere, ticket_partials
from pivotdesk.web.tests.security.html_audit import executable_constructs
from pivotdesk.web.tests.security.xss_corpus import CORPUS, MARKERS, SECOND_STAGE

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _ai_off(settings):
    """The corpus tests rendering, not the AI pipeline (which would classify every payload)."""
    settings.PIVOTDESK_AI_ENABLED = False


def test_the_corpus_is_large_and_every_payload_would_run_if_shown_raw():
    # given the corpus, then it has at least 60 payloads and each one is an executable construct when raw
    assert len(CORPUS) >= 60
    assert len({p.text for p in CORPUS}) == len(CORPUS)
    inert = [p for p in CORPUS if not executable_constructs(f"<div>{p.text}</div>")]
    # (template strings, markdown, encodings, breakouts only run through a second interpreter or context)
    assert {p.family for p in inert} <= SECOND_STAGE, [(p.pid, p.text) for p in inert if p.family not in SECOND_STAGE]
    assert all(any(m in p.text for m in MARKERS) or "pd_xss" in p.text or "base64" in p.text for p in CORPUS)


def test_the_audit_sees_an_unescaped_payload_and_passes_an_escaped_one():
    from django.utils.html import escape

    # given a page that shows a payload raw, and one that escapes it
    raw = "<p>" + "".join(p.text for p in CORPUS[:12]) + "</p>"
    escaped = "<p>" + "".join(escape(p.text) for p in CORPUS) + "</p>"
    # then the audit finds the raw one and nothing in the escaped one
    assert executable_constructs(raw)
    assert executable_constructs(escaped) == []
    assert executable_constructs(f'<a title="x" href="{escape(CORPUS[22].text)}">x</a>') == []
    assert executable_constructs('<div x-init="{}"></div>'.format(escape("__pd_xss(1)")))


def test_the_sanitiser_keeps_no_data_link_but_keeps_raster_data_images():
    from pivotdesk.common.html import sanitize_html

    # given customer HTML with data: links (text/html, spelled with spaces and capitals) and a raster data image
    cleaned = sanitize_html(
        '<a href="data:text/html,<script>alert(31)</script>">a</a><a href=" DaTa:text/html;base64,PGI+">b</a>'
        '<img src="data:image/png;base64,AA">'
    )
    # then the links lose their href and the image stays
    assert "data:text" not in cleaned.lower() and "href" not in cleaned
    assert 'src="data:image/png;base64,AA"' in cleaned


def test_no_page_shows_a_payload_in_an_executable_place(workspace, django_capture_on_commit_callbacks):
    admin = new_agent(workspace=workspace, role=Role.ADMIN)
    # given every payload put through every entry point (mail, form, chat, webhook, API, agent UI, views)
    seeded = seed_everywhere(
        workspace=workspace, agent=admin, payloads=CORPUS, capture=django_capture_on_commit_callbacks
    )
    assert len(seeded.tickets["mail"]) == len(CORPUS)
    assert len(seeded.tickets["web_form"]) == len(CORPUS)
    assert len(seeded.tickets["generic"]) == len(CORPUS)
    # when the admin agent opens every page that shows them (and the partials a ticket page loads)
    client = Client()
    client.force_login(admin.user)
    findings: dict[str, list[str]] = {}
    opened = 0
    for page in seeded.agent_pages:
        for url in [page, *ticket_partials(page)]:
            response = client.get(url, headers={"hx-request": "true"} if url != page else {})
            assert response.status_code == 200, (url, response.status_code)
            opened += 1
            found = executable_constructs(response.content.decode())
            if found:
                findings[url] = [str(f) for f in found]
    for page in seeded.public_pages:
        response = Client().get(page)
        assert response.status_code == 200, page
        found = executable_constructs(response.content.decode())
        if found:
            findings[page] = [str(f) for f in found]
    # then no page holds an executable construct of a payload
    assert findings == {}
    assert opened > 4 * len(CORPUS)
