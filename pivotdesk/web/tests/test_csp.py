"""The Content-Security-Policy (issue 11, finding 6): every page is sent with a policy that runs our own static
scripts and styles only, and no template carries inline code the policy would refuse (or that would need
'unsafe-inline' / 'unsafe-eval' to work). The same pages in real Chromium: test_csp_browser.py."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

import pivotdesk
from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile
from pivotdesk.channels.models import ChannelAccount
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.common.csp import POLICY
from pivotdesk.common.user_files import USER_CONTENT_CSP
from pivotdesk.routing.tests.factories import policy as routing_policy
from pivotdesk.sla.tests.factories import CalendarFactory
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.services import attachment_add

EXPECTED = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; font-src 'self'; "
    "connect-src 'self'; frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'self'; "
    "object-src 'none'"
)
_PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


def _directives(header: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (part.strip() for part in header.split(";")) if d}


def _routes(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern)


def page_urls(values: dict[str, Any]) -> list[str]:
    """Every GET-able route of the URL conf with its parameters filled from the seed (an unknown id stays 1: its
    404 page is a page too). The Django admin is walked only at its index; the API's JSON operations are not pages."""
    urls = []
    for route in dict.fromkeys(_routes(get_resolver().url_patterns)):
        if route.startswith("^") or (route.startswith("admin/") and route != "admin/"):
            continue
        if route.startswith("api/v1/"):
            continue
        urls.append("/" + _PARAM.sub(lambda m: str(values.get(m["name"], 1)), route))
    return urls


@pytest.fixture
def seeded(admin_agent: AgentProfile, ticket: Ticket) -> dict[str, Any]:
    """The ids the URL conf names, so that most pages answer 200 with their real content."""
    actor = Actor.for_agent(admin_agent)
    form = channel_account_create(workspace=admin_agent.workspace, actor=actor, kind="web_form", name="Support form")
    attachment = attachment_add(actor=actor, ticket=ticket, filename="note.txt", content=b"hello")
    return {
        "number": ticket.number,
        "contact_id": ticket.requester_id,
        "account_id": form.pk,
        "attachment_id": attachment.pk,
        "key": form.webhook_key,
        "policy_id": routing_policy(admin_agent.workspace).pk,
        "calendar_id": CalendarFactory.create(workspace=admin_agent.workspace).pk,
        "token": "x",
    }


@pytest.mark.django_db
def test_every_html_page_of_the_url_conf_carries_the_policy(seeded, admin_agent_client: Client):
    # given every GET-able route, filled with seeded ids, as the workspace's admin
    checked_ok = []
    for url in page_urls(seeded):
        # when the page is fetched
        response = admin_agent_client.get(url)
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        # then it is sent with exactly our policy (a user file keeps its own, stricter sandbox policy)
        header = response.get("Content-Security-Policy")
        assert header in (EXPECTED, USER_CONTENT_CSP), (url, response.status_code, header)
        if response.status_code == 200:
            checked_ok.append(url)
    # the walk saw the real screens, not only 404s
    for must in ("/queue/", f"/tickets/{seeded['number']}/", "/settings/channels/", "/settings/sla/policies/"):
        assert must in checked_ok, must
    assert "/api/docs" in checked_ok and f"/channels/form/{seeded['key']}/" in checked_ok
    assert len(checked_ok) >= 30, checked_ok


@pytest.mark.django_db
def test_anonymous_pages_and_error_pages_carry_the_policy(client: Client):
    for url in ("/login/", "/tickets/999999/", "/no-such-page/", "/channels/form/unknown/"):
        response = client.get(url)
        assert response["Content-Security-Policy"] == EXPECTED, url


@pytest.mark.django_db
def test_the_policy_allows_no_inline_code_no_eval_and_no_foreign_script():
    policy = _directives(EXPECTED)
    for directive in ("script-src", "style-src", "default-src"):
        assert policy[directive] == ["'self'"], directive
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'self'"]
    assert "'unsafe-inline'" not in EXPECTED and "'unsafe-eval'" not in EXPECTED
    assert _directives(EXPECTED) == {k: [str(v) for v in vs] for k, vs in POLICY.items()}


@pytest.mark.django_db
def test_a_user_file_keeps_its_own_sandbox_policy(admin_agent_client: Client, ticket: Ticket):
    att = attachment_add(actor=Actor.system(), ticket=ticket, filename="page.html", content=b"<script>x()</script>")
    response = admin_agent_client.get(f"/tickets/{ticket.number}/attachments/{att.pk}/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == USER_CONTENT_CSP


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("provider", "origin"),
    [("hcaptcha", "https://*.hcaptcha.com"), ("turnstile", "https://challenges.cloudflare.com")],
)
def test_the_public_form_allows_its_captcha_provider_and_nothing_more(workspace, client: Client, provider, origin):
    # given a public form with a captcha, and one without
    with_captcha = _form(workspace, "With captcha", {"captcha": {"provider": provider, "site_key": "k"}})
    plain = _form(workspace, "Plain", {})
    # when each is opened
    widened = _directives(client.get(f"/channels/form/{with_captcha.webhook_key}/")["Content-Security-Policy"])
    default = client.get(f"/channels/form/{plain.webhook_key}/")["Content-Security-Policy"]
    # then the captcha form's page allows the provider's script and frame, the other page only ours
    for directive in ("script-src", "frame-src", "style-src", "connect-src"):
        assert widened[directive][0] == "'self'" and origin in widened[directive], directive
    assert widened["default-src"] == ["'self'"] and widened["frame-ancestors"] == ["'self'"]
    assert default == EXPECTED


def _form(workspace: Any, name: str, config: dict[str, Any]) -> ChannelAccount:
    return channel_account_create(workspace=workspace, actor=Actor.system(), kind="web_form", name=name, config=config)


# ---- templates: nothing inline that the policy would refuse ------------------------------------------------------

TEMPLATES = sorted(Path(pivotdesk.__file__).parent.glob("*/templates/**/*.html"))
STATIC_JS = sorted(Path(pivotdesk.__file__).parent.glob("*/static/**/*.js"))
FORBIDDEN = {
    "inline <script> with code": re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),
    "<style> block": re.compile(r"<style[\s>]", re.I),
    "on* event handler": re.compile(r"\son[a-z]+\s*=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "hx-on (evaluates code)": re.compile(r"\b(data-)?hx-on", re.I),
    "hx-vals/hx-vars js: (evaluates code)": re.compile(r"\bhx-va(ls|rs)\s*=\s*['\"]\s*(js|javascript):", re.I),
    "hx-trigger filter [...] (evaluates code)": re.compile(r"hx-trigger\s*=\s*\"[^\"]*\[", re.I),
    "Alpine directive (needs eval; removed)": re.compile(r"\s(x-[a-z]+|@[a-z.]+|:[a-z]+)\s*=", re.I),
}


def test_the_templates_are_found():
    names = {p.name for p in TEMPLATES}
    assert {"base.html", "form.html", "page.html"} <= names and len(TEMPLATES) >= 60


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p).split("templates/")[-1])
def test_no_template_has_inline_code_or_inline_styles(path: Path):
    text = path.read_text(encoding="utf-8")
    found = [
        f"{what}: line {text.count(chr(10), 0, m.start()) + 1}: {text[m.start() : m.start() + 60]!r}"
        for what, pattern in FORBIDDEN.items()
        for m in pattern.finditer(text)
    ]
    assert found == [], "\n".join(found)


def test_the_forbidden_patterns_catch_what_they_name():
    samples = {
        "inline <script> with code": "<script>alert(1)</script>",
        "<style> block": "<style>.a{}</style>",
        "on* event handler": '<select onchange="this.form.submit()">',
        "javascript: URL": '<a href="javascript:history.back()">',
        "style attribute": '<span style="width: 5%">',
        "hx-on (evaluates code)": '<form hx-on::after-request="x()">',
        "hx-vals/hx-vars js: (evaluates code)": '<div hx-vals="js:{a: f()}">',
        "hx-trigger filter [...] (evaluates code)": '<tbody hx-trigger="every 10s [ok()]">',
        "Alpine directive (needs eval; removed)": '<div x-data="{open: false}" @click="open = true">',
    }
    for what, sample in samples.items():
        assert FORBIDDEN[what].search(sample), what
    harmless = '<script src="/static/web/desk.js" defer></script><select data-autosubmit><a href="/x">'
    assert not any(p.search(harmless) for p in FORBIDDEN.values())


def test_static_scripts_use_no_eval():
    # The policy has no 'unsafe-eval': our own scripts must not need it (vendored libraries are checked in Chromium).
    ours = [p for p in STATIC_JS if "vendor" not in p.parts]
    assert ours
    for path in ours:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\beval\(|new Function\(|setTimeout\(\s*['\"]", text), path


def test_htmx_is_told_not_to_inject_styles_or_evaluate_code():
    base = (Path(pivotdesk.__file__).parent / "web/templates/web/base.html").read_text(encoding="utf-8")
    assert '"includeIndicatorStyles": false' in base and '"allowEval": false' in base
    assert "pivotdesk.common.csp.ContentSecurityPolicyMiddleware" in settings.MIDDLEWARE


@pytest.mark.django_db
def test_the_api_schema_has_no_duplicate_keys_so_the_docs_page_renders(admin_agent_client: Client):
    # Swagger UI at /api/docs reads the schema as YAML and refuses all of it on a duplicated key (a response given
    # both as int 200 and as "200" once did that).
    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), keys
        return dict(pairs)

    json.loads(admin_agent_client.get("/api/openapi.json").content, object_pairs_hook=unique)
