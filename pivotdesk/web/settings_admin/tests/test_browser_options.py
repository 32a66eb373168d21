"""The custom field option editor in real Chromium (issue 18): an admin makes a select field and edits its options
as rows — add, type, reorder, remove — without typing any JSON, and the field keeps exactly those options."""

from __future__ import annotations

import os
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, expect

from pivotdesk.accounts.models import Role
from pivotdesk.tickets.models import CustomField
from pivotdesk.web.tests.browser import PASSWORD
from pivotdesk.web.tests.helpers import new_agent, new_user

expect.set_options(timeout=60_000)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _signed_in(chromium: Browser, base: str, username: str) -> tuple[Any, Any, list[str]]:
    """`browser.signed_in`, with patient timeouts: the first page of a live server on a busy machine may take a while."""
    context = chromium.new_context(locale="en-US", viewport={"width": 1440, "height": 900})
    context.set_default_timeout(60_000)
    context.set_default_navigation_timeout(120_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/queue/**")
    return context, page, errors


def test_an_admin_edits_a_select_fields_options_as_rows(chromium: Browser, live_server: Any, workspace: Any) -> None:
    new_agent(workspace=workspace, role=Role.ADMIN, user=new_user(username="zhou.admin", display_name="周管理"))
    context, page, errors = _signed_in(chromium, live_server.url, "zhou.admin")
    # the settings area is reachable from the user menu
    page.click(".usermenu [data-dropdown-toggle]")
    page.click("#settings-link")
    page.click("a[href='/settings/fields/']")
    page.click("a[href='/settings/fields/new/']")
    # a new field: the options editor appears when a select type is chosen
    page.fill("#f-key", "plan")
    page.fill("#f-label", "Plan")
    page.select_option("#f-type", "text")
    expect(page.locator("[data-options-editor]")).to_be_hidden()
    page.select_option("#f-type", "select")
    editor = page.locator("[data-options-editor]")
    expect(editor).to_be_visible()
    rows = editor.locator("[data-row-list] input[name=option]")
    rows.nth(0).fill("Basic")
    rows.nth(0).press("Enter")  # Enter adds the next row instead of submitting
    expect(rows).to_have_count(2)
    page.keyboard.type("Pro")
    editor.locator("[data-row-add]").click()
    page.keyboard.type("Enterprise")
    page.click("#sa-field-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/settings/fields/*/")
    field = CustomField.objects.get(key="plan")
    assert field.options == ["Basic", "Pro", "Enterprise"]
    # edit: move Enterprise to the top, remove Basic, add Team
    editor = page.locator("[data-options-editor]")
    rows = editor.locator("[data-row-list] li")
    expect(rows).to_have_count(3)
    rows.nth(2).locator("[data-row-up]").click()
    rows.nth(1).locator("[data-row-up]").click()
    expect(editor.locator("input[name=option]").first).to_have_value("Enterprise")
    editor.locator("li", has=page.locator("input[value='Basic']")).locator("[data-row-remove]").click()
    editor.locator("[data-row-add]").click()
    page.keyboard.type("Team")
    page.click("#sa-field-form button[type=submit]")
    expect(page.locator(".toast")).to_be_visible()
    field.refresh_from_db()
    assert field.options == ["Enterprise", "Pro", "Team"]
    assert "<textarea" not in page.content()
    assert errors == []
    context.close()
