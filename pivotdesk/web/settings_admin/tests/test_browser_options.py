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
from pivotdesk.web.tests.browser import signed_in
from pivotdesk.web.tests.helpers import new_agent, new_user

expect.set_options(timeout=60_000)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_edits_a_select_fields_options_as_rows(chromium: Browser, live_server: Any, workspace: Any) -> None:
    new_agent(workspace=workspace, role=Role.ADMIN, user=new_user(username="zhou.admin", display_name="周管理"))
    context, page, errors = signed_in(
        chromium, live_server.url, "zhou.admin", timeout_ms=60_000, navigation_timeout_ms=120_000
    )
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
