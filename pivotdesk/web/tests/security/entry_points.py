"""Every way customer- or agent-controlled text reaches a page, driven for real with a list of payloads.

`seed_everywhere()` puts each payload through: inbound mail (subject, sender name, plain body, HTML body, attachment
file name — as raw RFC 822 POSTed to the mail intake URL), the public web form (name, subject, description), the chat
widget's API (visitor name and messages), the generic JSON webhook (sender name, subject, text, HTML, attachment file
name), the REST API (contact name and notes, organization name and account data, ticket subject, tags, custom field
value, API replies), the agent UI (replies and internal notes) and saved view names (API); notifications carry the
ticket subject and the payload, as routing writes them. It returns the agent and public pages that show that text.

The same seeding serves the HTML-level twin (`test_xss_rendering.py`) and the real-browser test
(`test_xss_browser.py`), so both check the same entry points.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.test import Client
from django.test.utils import override_settings

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.accounts.services import api_token_create
from pivotdesk.channels.domain.signatures import sha256_header
from pivotdesk.channels.models import InboundPayload
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.notifications.services import notify
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.services.configuration import custom_field_create
from pivotdesk.web.tests.security.xss_corpus import Payload

ORIGIN = "https://shop.example.cn"
GENERIC_SECRET = "xss-generic-secret"
CUSTOM_FIELD = "pd_note"

Capture = Callable[..., AbstractContextManager[Any]]


@dataclass
class Seeded:
    """What the seeding made: the pages to open as an agent and anonymously, and the tickets per entry point."""

    agent_pages: list[str] = field(default_factory=list)
    pages_by_entry: dict[str, list[str]] = field(default_factory=dict)
    public_pages: list[str] = field(default_factory=list)
    tickets: dict[str, list[int]] = field(default_factory=dict)


def clear_rate_limits() -> None:
    """Forget every rate-limit count (the limiter is not what the security suites test): every configured cache."""
    for alias in settings.CACHES:
        caches[alias].clear()


def _no_capture(**_: Any) -> AbstractContextManager[Any]:
    return nullcontext()


class Driver:
    """The HTTP clients of the seeding; `capture` runs after-commit work (events, processing) inside a test's
    transaction — pytest-django's `django_capture_on_commit_callbacks`, or nothing in a transactional test."""

    def __init__(self, *, agent: AgentProfile, capture: Capture | None = None) -> None:
        self.capture = capture or _no_capture
        _, secret = api_token_create(actor=Actor.system(), agent=agent, name="xss-suite")
        self.api = Client(headers={"authorization": f"Bearer {secret}"})
        self.ui = Client()
        self.ui.force_login(agent.user)
        self.public = Client()

    @contextmanager
    def committed(self) -> Iterator[None]:
        with self.capture(execute=True):
            yield

    def api_call(self, method: str, url: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.committed():
            response = getattr(self.api, method)(url, json.dumps(body), content_type="application/json")
        assert response.status_code < 300, (url, response.status_code, response.content[:500])
        return dict(response.json())


def raw_mail(payload: Payload, *, index: int) -> bytes:
    """A multipart mail whose sender name, subject, plain part, HTML part and attachment name are the payload."""
    text = payload.text
    mail = EmailMessage()
    mail["From"] = formataddr((text, f"xss{index}@customer.test"))
    mail["To"] = "support@pivot.test"
    mail["Subject"] = text
    mail["Message-ID"] = f"<xss-{index}@customer.test>"
    mail.set_content(f"plain: {text}")
    mail.add_alternative(f"<p>html: {text}</p>{text}", subtype="html")
    mail.add_attachment(b"just text", maintype="application", subtype="octet-stream", filename=text)
    return mail.as_bytes()


def _processed_ticket(payload_id: int) -> int:
    row = InboundPayload.objects.get(pk=payload_id)
    assert row.ticket_id is not None, (row.status, row.reason)
    return int(row.ticket_id)


def seed_mail(driver: Driver, workspace: Workspace, payloads: Sequence[Payload]) -> list[int]:
    """One mail per payload, POSTed raw to the mail intake URL; returns the tickets' ids."""
    account = channel_account_create(
        actor=Actor.system(), workspace=workspace, kind="email", name="support", config={"address": "s@pivot.test"}
    )
    url = f"/channels/in/email/{account.webhook_key}/"
    ids = []
    for i, payload in enumerate(payloads):
        with driver.committed():
            response = driver.public.post(url, raw_mail(payload, index=i), content_type="message/rfc822")
        assert response.status_code == 202, response.content
        ids.append(_processed_ticket(response.json()["payload_id"]))
    return ids


def seed_web_form(driver: Driver, workspace: Workspace, payloads: Sequence[Payload]) -> tuple[list[int], str]:
    """One public form submission per payload (name, subject, description); returns ticket ids and the form URL."""
    account = channel_account_create(
        actor=Actor.system(),
        workspace=workspace,
        kind="web_form",
        name="form",
        config={"fields": ["name", "email", "subject", "description"], "rate_limit_per_hour": 100_000},
    )
    url = f"/channels/form/{account.webhook_key}/"
    before = set(InboundPayload.objects.filter(account=account).values_list("pk", flat=True))
    for i, payload in enumerate(payloads):
        data = {
            "name": payload.text[:200],
            "email": f"form{i}@customer.test",
            "subject": payload.text[:200],
            "description": payload.text,
        }
        with driver.committed():
            response = driver.public.post(url, data)
        assert response.status_code in (302, 303), (response.status_code, response.content[:800])
    rows = InboundPayload.objects.filter(account=account).exclude(pk__in=before)
    return [int(r.ticket_id) for r in rows if r.ticket_id is not None], url


def seed_chat(driver: Driver, workspace: Workspace, payloads: Sequence[Payload]) -> list[int]:
    """A chat visitor named by the first payload sends every payload as a message (one session, one ticket)."""
    account = channel_account_create(
        actor=Actor.system(), workspace=workspace, kind="chat", name="chat", config={"allowed_origins": [ORIGIN]}
    )
    key = account.webhook_key
    session = Client(headers={"origin": ORIGIN}).post(f"/channels/chat/{key}/session/").json()
    visitor = Client(headers={"origin": ORIGIN, "x-pivotdesk-visitor": session["token"]})
    tickets: set[int] = set()
    for i, payload in enumerate(payloads):
        if i % 15 == 0:
            clear_rate_limits()  # the per-visitor limit (20 a minute) is not what this suite tests
        body = {"text": payload.text, "name": payloads[0].text[:100], "client_id": f"xss-{i}"}
        with driver.committed():
            response = visitor.post(
                f"/channels/chat/{key}/messages/", json.dumps(body), content_type="application/json"
            )
        assert response.status_code == 201, response.content
        tickets.add(response.json()["ticket"])
    return [t.pk for t in Ticket.objects.filter(workspace=workspace, number__in=tickets)]


def seed_generic_webhook(driver: Driver, workspace: Workspace, payloads: Sequence[Payload]) -> list[int]:
    """One signed generic-webhook message per payload: sender name, subject, text, HTML and an attachment name."""
    account = channel_account_create(
        actor=Actor.system(),
        workspace=workspace,
        kind="generic",
        name="generic",
        config={},
        secrets={"signing_secret": GENERIC_SECRET},
    )
    url = f"/channels/in/generic/{account.webhook_key}/"
    ids = []
    for i, payload in enumerate(payloads):
        body = json.dumps(
            {
                "id": f"xss-{i}",
                "from": {"id": f"xss-user-{i}", "name": payload.text[:200]},
                "subject": payload.text[:200],
                "text": payload.text,
                "html": payload.text,
                "attachments": [
                    {
                        "content_base64": base64.b64encode(b"note").decode(),
                        "filename": payload.text[:200],
                        "content_type": "text/plain",
                    }
                ],
            }
        ).encode()
        with driver.committed():
            response = driver.public.post(
                url,
                body,
                content_type="application/json",
                HTTP_X_PIVOTDESK_SIGNATURE=sha256_header(GENERIC_SECRET, body),
            )
        assert response.status_code == 202, response.content
        ids.append(_processed_ticket(response.json()["payload_id"]))
    return ids


def seed_api_and_agent(
    driver: Driver, workspace: Workspace, payloads: Sequence[Payload], ticket_ids: list[int]
) -> None:
    """On each payload's mail ticket: tags, custom field and a reply through the API, an agent reply and note
    through the UI; its contact gets an organization named by the payload; a saved view is named by it."""
    custom_field_create(
        workspace=workspace, actor=Actor.system(), key=CUSTOM_FIELD, label="Note <b>label</b>", field_type="text"
    )
    for payload, ticket_id in zip(payloads, ticket_ids, strict=True):
        text = payload.text
        org = driver.api_call(
            "post", "/api/v1/organizations", {"name": text[:200], "account": {"plan": text}, "notes": text}
        )
        ticket = Ticket.objects.select_related("requester").get(pk=ticket_id)
        driver.api_call(
            "patch",
            f"/api/v1/contacts/{ticket.requester_id}",
            {"organization_id": org["id"], "notes": text, "name": text[:200]},
        )
        driver.api_call(
            "patch",
            f"/api/v1/tickets/{ticket_id}",
            {"tags": [text[:100]], "custom_fields": {CUSTOM_FIELD: text}},
        )
        driver.api_call("post", f"/api/v1/tickets/{ticket_id}/messages", {"body": text, "body_html": text})
        driver.api_call(
            "post", f"/api/v1/tickets/{ticket_id}/messages", {"body": text, "body_html": text, "kind": "note"}
        )
        for kind in ("public", "note"):
            with driver.committed():
                response = driver.ui.post(f"/tickets/{ticket.number}/reply/", {"body": text, "kind": kind})
            assert response.status_code == 302, response.status_code
        driver.api_call("post", "/api/v1/saved-views", {"name": text[:120], "filters": {}, "shared": True})
    # One contact created through the API alone (not through a channel), named by each payload.
    for payload in payloads:
        driver.api_call("post", "/api/v1/contacts", {"name": payload.text[:200], "notes": payload.text})


def seed_notifications(workspace: Workspace, agent: AgentProfile, ticket_ids: list[int], payloads: Sequence[Payload]):
    """Notifications as routing writes them: the title is "#<number> <subject>", the body a customer's text."""
    for payload, ticket_id in zip(payloads, ticket_ids, strict=True):
        ticket = Ticket.objects.get(pk=ticket_id)
        notify(
            workspace=workspace,
            actor=Actor.system("routing"),
            recipient=agent,
            kind="routing.assigned",
            title=f"#{ticket.number} {ticket.subject}",
            body=payload.text,
            url=f"/tickets/{ticket.number}/",
            ticket=ticket,
        )


def seed_everywhere(
    *, workspace: Workspace, agent: AgentProfile, payloads: Sequence[Payload], capture: Capture | None = None
) -> Seeded:
    """Put every payload through every entry point; return the pages that show the results."""
    with override_settings(PIVOTDESK_API_RATE_LIMIT_PER_MINUTE=1_000_000):
        return _seed_everywhere(workspace=workspace, agent=agent, payloads=payloads, capture=capture)


def _seed_everywhere(
    *, workspace: Workspace, agent: AgentProfile, payloads: Sequence[Payload], capture: Capture | None
) -> Seeded:
    clear_rate_limits()
    driver = Driver(agent=agent, capture=capture)
    seeded = Seeded()
    seeded.tickets["mail"] = seed_mail(driver, workspace, payloads)
    form_tickets, form_url = seed_web_form(driver, workspace, payloads)
    seeded.tickets["web_form"] = form_tickets
    seeded.tickets["chat"] = seed_chat(driver, workspace, payloads)
    seeded.tickets["generic"] = seed_generic_webhook(driver, workspace, payloads)
    seed_api_and_agent(driver, workspace, payloads, seeded.tickets["mail"])
    seed_notifications(workspace, agent, seeded.tickets["mail"], payloads)
    clear_rate_limits()

    numbers = dict(Ticket.objects.filter(workspace=workspace).values_list("pk", "number"))
    pages = -(-len(numbers) // 50)
    lists = [f"/queue/?scope=all&page={n}" for n in range(1, pages + 1)]
    lists += [f"/queue/?scope=all&q={q}" for q in ("script", "xss", "img")]
    lists += ["/notifications/", "/notifications/dropdown/", "/contacts/search/?q=script"]
    seeded.pages_by_entry["lists"] = lists
    for entry, ids in seeded.tickets.items():
        seeded.pages_by_entry[entry] = [f"/tickets/{numbers[t]}/" for t in ids]
        contacts = Ticket.objects.filter(pk__in=ids).values_list("requester_id", flat=True).distinct()
        seeded.pages_by_entry[f"{entry}_contacts"] = [f"/contacts/{c}/" for c in sorted(set(contacts))]
    seeded.agent_pages = [page for pages_ in seeded.pages_by_entry.values() for page in pages_]
    seeded.public_pages.append(form_url)
    return seeded


def ticket_partials(page: str) -> list[str]:
    """The HTMX partials a ticket page loads (the twin fetches them as the browser would)."""
    if not page.startswith("/tickets/"):
        return []
    return [f"{page}conversation/", f"{page}sidebar/", f"{page}timeline/"]
