"""The mailbox form (issue 18) as an admin uses it: presets with their notes, the connection test (as a fragment
for htmx, a page without JavaScript), secrets never shown back, bad input a readable 4xx, admins only; and in real
Chromium, picking "163" fills the servers and shows the 授权码 hint."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, expect

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Role
from pivotdesk.channels.models import MailboxCheck
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.web.tests.browser import signed_in
from pivotdesk.web.tests.helpers import new_agent, new_user
from pivotdesk.web.tests.security.entry_points import clear_rate_limits

expect.set_options(timeout=15_000)


@pytest.fixture(autouse=True)
def _limits():
    clear_rate_limits()


def mailbox(workspace, **config):
    return channel_account_create(
        actor=Actor.system(),
        workspace=workspace,
        kind="email",
        name=f"Support {uuid.uuid4().hex[:6]}",
        config={"address": "support@163.com", "imap_host": "imap.163.com", "smtp_host": "smtp.163.com", **config},
        secrets={"password": "AUTHCODE-never-shown", "smtp_password": "SMTP-never-shown"},
    )


@pytest.mark.django_db
def test_the_add_form_offers_the_presets_with_their_notes(client_as, admin_agent):
    page = client_as(admin_agent, "zh-hans").get("/settings/channels/new/?kind=email").content.decode()
    assert 'id="f-preset"' in page and 'value="exmail"' in page and "腾讯企业邮箱（QQ 企业邮箱）" in page
    assert 'data-preset-notes="163"' in page and "授权码" in page
    assert 'id="mail-presets-data"' in page and "imap.163.com" in page
    assert "web/mailbox.js" in page and "<script>" not in page
    assert "测试连接" in page  # the test button, translated


@pytest.mark.django_db
def test_a_saved_mailbox_preselects_its_preset_and_never_shows_a_secret(client_as, admin_agent, workspace):
    account = mailbox(workspace)
    page = client_as(admin_agent).get(f"/settings/channels/{account.pk}/").content.decode()
    assert '<option value="163" selected>' in page
    assert "AUTHCODE-never-shown" not in page and "SMTP-never-shown" not in page
    assert "No connection test yet" in page


@pytest.mark.django_db
def test_the_test_button_answers_a_fragment_and_records_who_tested(client_as, admin_agent, workspace, settings):
    settings.PIVOTDESK_EGRESS_ALLOW = []  # as in production: loopback is refused by the guard
    account = mailbox(workspace)
    client = client_as(admin_agent, "zh-hans")
    form = {"name": account.name, "f_address": "support@163.com", "f_preset": "163", "f_imap_host": "127.0.0.1",
            "f_imap_port": "993", "f_smtp_host": "10.0.0.8", "f_smtp_port": "465", "f_smtp_security": "ssl"}  # fmt: skip
    response = client.post(f"/settings/channels/{account.pk}/probe/", form, headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and 'data-code="egress_refused"' in body and "不允许连接" in body
    check = MailboxCheck.objects.get(account=account)
    assert check.checked_by == admin_agent and not check.ok
    # the mailbox page now shows the last test, who ran it, in the reader's language
    page = client.get(f"/settings/channels/{account.pk}/").content.decode()
    assert "最近的连接测试" in page and admin_agent.name in page and "不允许连接" in page
    # nothing was saved
    account.refresh_from_db()
    assert account.config["imap_host"] == "imap.163.com"


@pytest.mark.django_db
def test_without_javascript_the_test_is_a_page_and_bad_input_a_readable_4xx(client_as, admin_agent):
    client = client_as(admin_agent)
    page = client.post("/settings/channels/probe/", {"f_imap_host": "", "f_smtp_host": ""})
    assert page.status_code == 200 and b"<html" in page.content and b"No server is configured." in page.content
    bad = client.post("/settings/channels/probe/", {"f_imap_port": "nine-nine-three"})
    assert bad.status_code == 422 and b"enter a whole number" in bad.content
    bad = client.post("/settings/channels/probe/", {"config_json": "[1"})
    assert bad.status_code == 422 and b"not valid JSON" in bad.content


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.AGENT, Role.LIGHT_AGENT])
def test_only_admins_may_test_or_sign_in(client_as, workspace, role):
    account = mailbox(workspace, preset="office365", oauth_client_id="cid")
    client = client_as(new_agent(workspace=workspace, role=role))
    assert client.post("/settings/channels/probe/", {"f_imap_host": "imap.163.com"}).status_code == 403
    assert client.post(f"/settings/channels/{account.pk}/oauth/start/").status_code == 403
    assert not MailboxCheck.objects.exists()


@pytest.mark.django_db
def test_another_workspaces_mailbox_is_a_404(client_as, admin_agent, other_workspace):
    foreign = mailbox(other_workspace)
    client = client_as(admin_agent)
    assert client.post(f"/settings/channels/{foreign.pk}/probe/", {}).status_code == 404
    assert client.post(f"/settings/channels/{foreign.pk}/oauth/start/").status_code == 404


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_picking_163_fills_the_servers_and_shows_the_hint(chromium: Browser, live_server: Any, workspace) -> None:
    new_agent(workspace=workspace, role=Role.ADMIN, user=new_user(username="liqiang", display_name="李强"))
    context, page, errors = signed_in(chromium, live_server.url, "liqiang")
    page.goto(f"{live_server.url}/settings/channels/new/?kind=email")
    expect(page.locator('[data-preset-notes="163"]')).to_be_hidden()
    page.select_option("#f-preset", "163")
    expect(page.locator("#f-imap_host")).to_have_value("imap.163.com")
    expect(page.locator("#f-imap_port")).to_have_value("993")
    expect(page.locator("#f-imap_ssl")).to_be_checked()
    expect(page.locator("#f-smtp_host")).to_have_value("smtp.163.com")
    expect(page.locator("#f-smtp_port")).to_have_value("465")
    expect(page.locator("#f-smtp_security")).to_have_value("ssl")
    expect(page.locator("#f-auth_method")).to_have_value("app_password")
    expect(page.locator('[data-preset-notes="163"]')).to_be_visible()
    expect(page.locator('[data-preset-notes="163"]')).to_contain_text("授权码")
    # an address on a known domain pre-selects its provider on a fresh form
    page.goto(f"{live_server.url}/settings/channels/new/?kind=email")
    page.fill("#f-address", "help@gmail.com")
    expect(page.locator("#f-preset")).to_have_value("gmail")
    expect(page.locator("#f-imap_host")).to_have_value("imap.gmail.com")
    assert errors == []
    context.close()
