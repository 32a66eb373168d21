"""The customer portal in real Chromium: a customer asks for a sign-in link, follows it from the mail, reads the
plain-language timeline (no internal note), replies, and — when the surveys app offers its interface — rates the
solved request; the same pages fit a 390×844 phone without sideways scrolling."""

from __future__ import annotations

import os
import re
from typing import Any, cast

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, Page, expect

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Role
from pivotdesk.accounts.tests.factories import AgentFactory, TeamFactory
from pivotdesk.customers.models import Contact
from pivotdesk.customers.tests.factories import ContactFactory
from pivotdesk.portal.services.signin import magic_link_path, signin_request
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Message, MessageKind, Ticket
from pivotdesk.tickets.tests.factories import make_ticket

expect.set_options(timeout=15_000)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def request_waiting(workspace: Any) -> Ticket:
    agent = cast(AgentProfile, AgentFactory(workspace=workspace, role=Role.AGENT))
    customer = cast(Contact, ContactFactory(workspace=workspace, name="Emma Clarke", email="emma@example.com"))
    ticket = make_ticket(workspace=workspace, requester=customer, subject="Order 88231 is late", channel="email")
    actor = Actor.for_agent(agent)
    ticket_services.ticket_update(
        ticket=ticket, actor=actor, changes={"team": TeamFactory(workspace=workspace, name="Logistics")}
    )
    ticket_services.message_create(ticket=ticket, actor=actor, body="INTERNAL: carrier lost it", kind=MessageKind.NOTE)
    ticket_services.message_create(
        ticket=ticket, actor=actor, body="Could you send us the order confirmation?", status_after="pending"
    )
    return ticket


def _no_sideways_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def test_a_customer_signs_in_by_magic_link_reads_the_timeline_and_replies(
    chromium: Browser, live_server: Any, workspace: Any, request_waiting: Ticket, mailoutbox: list[Any]
) -> None:
    base = f"{live_server.url}/portal/{workspace.slug}"
    context = chromium.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # the customer asks for a link …
    page.goto(f"{base}/requests/")
    page.fill("#address", "emma@example.com")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    # … and follows it from the mail
    assert mailoutbox, "no sign-in mail was sent"
    found = re.search(r"(/portal/[\w-]+/m/[\w-]+/)", mailoutbox[-1].body)
    assert found is not None, mailoutbox[-1].body
    path = found.group(1)
    page.goto(f"{live_server.url}{path}")
    page.locator("#magic-continue").click()
    page.wait_for_url(f"{base}/requests/**")
    # the list shows the request waiting on them; the request page its timeline, without the internal note
    expect(page.locator(".request-row")).to_contain_text("Order 88231 is late")
    expect(page.locator(".request-row .chip")).to_have_text("Waiting for your reply")
    page.locator(".request-row").click()
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("We received your request.")
    expect(timeline).to_contain_text("Your request was assigned to the Logistics team.")
    expect(timeline).to_contain_text("We are waiting for your answer.")
    expect(page.locator(".conversation")).to_contain_text("Could you send us the order confirmation?")
    assert "INTERNAL" not in page.content()
    # the customer replies; the request is back in progress
    page.fill("#reply-body", "Confirmation number 5521, attached.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".conversation .msg.mine").last).to_contain_text("Confirmation number 5521")
    expect(page.locator("#request-status")).to_have_text("In progress")
    message = Message.objects.filter(ticket=request_waiting).order_by("-pk").first()
    assert message is not None and message.author_type == "contact"
    # rating a solved request
    ticket_services.ticket_set_status(ticket=request_waiting, status="solved", actor=Actor.system("test"))
    from pivotdesk.surveys import services as survey_services

    survey = survey_services.csat_invite(ticket=Ticket.objects.get(pk=request_waiting.pk), actor=Actor.system("test"))
    if survey is not None and survey.status == "scheduled":  # the workspace's delay: its beat job sends it
        survey_services.surveys_send_due(actor=Actor.system("test"), at=survey.send_at)
    page.reload()
    page.locator(".score", has_text="5").click()
    page.get_by_role("button", name="Send rating").click()
    expect(page.locator("#rating")).to_contain_text("Thank you!")
    assert survey is not None
    survey.refresh_from_db()
    assert (survey.status, survey.score) == ("answered", 5)
    assert errors == []
    context.close()


def test_the_portal_fits_a_phone(chromium: Browser, live_server: Any, workspace: Any, request_waiting: Ticket) -> None:
    secret = signin_request(
        actor=Actor.system("test"), workspace=workspace, address="emma@example.com", deliver=False
    ).secret
    context = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{live_server.url}{magic_link_path(workspace, secret)}")
    page.locator("#magic-continue").click()
    page.wait_for_url(f"{live_server.url}/portal/{workspace.slug}/requests/**")
    expect(page.get_by_role("heading", name="我的请求")).to_be_visible()
    assert _no_sideways_scroll(page)
    page.locator(".request-row").click()
    expect(page.locator("#timeline")).to_contain_text("我们正在等待您的答复。")
    assert _no_sideways_scroll(page)
    # the reply box and its button are reachable and large enough to tap
    box = page.get_by_role("button", name="发送", exact=True).bounding_box()
    assert box is not None and box["height"] >= 40 and box["x"] + box["width"] <= 390
    page.goto(f"{live_server.url}/portal/{workspace.slug}/settings/")
    assert _no_sideways_scroll(page)
    context.close()
