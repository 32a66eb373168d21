"""The notifications UI: the live bell, the list and read state, preferences (with readable errors), targets with a
test send to a real local receiver, and the supervisor's delivery log with retry."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.urls import reverse

from pivotdesk.accounts.actors import Actor
from pivotdesk.notifications import services
from pivotdesk.notifications.models import Delivery, DeliveryStatus, Notification, NotificationTarget
from pivotdesk.web.tests.helpers import new_agent

# The browser test drives Playwright's sync API (an event loop in this thread); its ORM calls stay synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook():
    """A local HTTP receiver for apprise json:// URLs; `status` is what it answers."""
    state: dict[str, Any] = {"status": 200, "bodies": []}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            state["bodies"].append(json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0))))
            self.send_response(state["status"])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["url"] = f"json://127.0.0.1:{server.server_address[1]}/hook"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    server.shutdown()
    server.server_close()


def _n(agent, **kw):
    args = {"kind": "routing.assigned", "title": "Ticket assigned to you"}
    args.update(kw)
    return services.notify(actor=Actor.system(), workspace=agent.workspace, recipient=agent, **args)


def test_bell_shows_unread_count_and_polls(agent, supervisor, client_as):
    _n(agent)
    _n(agent, title="Second")
    _n(supervisor)  # someone else's
    client = client_as(agent)
    body = client.get(reverse("web:notifications_bell")).content.decode()
    assert 'data-unread="2"' in body and ">2</span>" in body and 'hx-trigger="every 15s"' in body
    services.notifications_mark_all_read(actor=Actor.for_agent(agent), agent=agent)
    assert 'data-unread="0"' in client.get(reverse("web:notifications_bell")).content.decode()


def test_base_page_has_bell_and_preferences_link(agent, client_as):
    body = client_as(agent).get(reverse("web:queue")).content.decode()
    assert reverse("web:notifications_bell") in body and reverse("web:notification_preferences") in body


def test_dropdown_lists_mine_and_mark_read_via_htmx(agent, supervisor, ticket, client_as):
    mine = _n(agent, title="Breach on #1", ticket=ticket)
    _n(supervisor, title="Not for you")
    client = client_as(agent)
    body = client.get(reverse("web:notifications_dropdown")).content.decode()
    # routing.assigned with a ticket is rendered from its facts, not from the stored title
    assert f"Ticket #{ticket.number} was assigned to you" in body and "Not for you" not in body
    r = client.post(reverse("web:notification_read", args=[mine.pk]), headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'hx-swap-oob="true"' in r.content.decode()
    assert Notification.objects.get(pk=mine.pk).read_at is not None


def test_open_goes_to_ticket_without_marking_read_and_the_page_marks_it_by_post(agent, ticket, client_as):
    """A GET changes nothing (a customer's `<img src="/notifications/5/open/">` silenced five alerts): the link
    lands on the ticket with `from_notification`, and the landing page POSTs the read (desk.js)."""
    n = _n(agent, ticket=ticket, url="https://evil.example.com/phish")
    client = client_as(agent)
    for _ in range(3):
        r = client.get(reverse("web:notification_open", args=[n.pk]))
        assert r.status_code == 302
        assert r["Location"] == reverse("web:ticket", args=[ticket.number]) + f"?from_notification={n.pk}"
    assert Notification.objects.get(pk=n.pk).read_at is None
    page = client.get(r["Location"]).content.decode()
    assert f'data-notification-read-url="{reverse("web:notification_read", args=[0])}"' in page
    assert Notification.objects.get(pk=n.pk).read_at is None
    r = client.post(reverse("web:notification_read", args=[n.pk]), headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'hx-swap-oob="true"' in r.content.decode()
    assert Notification.objects.get(pk=n.pk).read_at is not None


def test_open_keeps_the_target_query_and_fragment(agent, ticket, client_as):
    n = _n(agent, url="/queue/?view=mine#top")
    r = client_as(agent).get(reverse("web:notification_open", args=[n.pk]))
    assert r["Location"] == f"/queue/?view=mine&from_notification={n.pk}#top"


def test_open_is_get_only_and_read_is_post_only(agent, client_as):
    n = _n(agent)
    client = client_as(agent)
    assert client.post(reverse("web:notification_open", args=[n.pk])).status_code == 405
    assert client.get(reverse("web:notification_read", args=[n.pk])).status_code == 405
    assert client.get(reverse("web:notifications_read_all")).status_code == 405
    assert Notification.objects.get(pk=n.pk).read_at is None


def test_mark_read_needs_the_csrf_token(agent, client_as):
    from django.test import Client

    n = _n(agent)
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent.user)
    assert client.post(reverse("web:notification_read", args=[n.pk])).status_code == 403
    assert Notification.objects.get(pk=n.pk).read_at is None


def test_other_agents_notification_is_404(agent, supervisor, client_as):
    theirs = _n(supervisor)
    client = client_as(agent)
    assert client.get(reverse("web:notification_open", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("web:notification_read", args=[theirs.pk])).status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_list_and_read_all(agent, client_as):
    for i in range(3):
        _n(agent, title=f"Item {i}")
    client = client_as(agent)
    body = client.get(reverse("web:notifications") + "?filter=unread").content.decode()
    assert all(f"Item {i}" in body for i in range(3))
    r = client.post(reverse("web:notifications_read_all"))
    assert r.status_code == 302
    assert not Notification.objects.filter(recipient=agent, read_at__isnull=True).exists()
    assert "Nothing unread" in client.get(reverse("web:notifications") + "?filter=unread").content.decode()


def test_preferences_save_and_bad_input_is_readable(agent, client_as):
    client = client_as(agent)
    url = reverse("web:notification_preferences")
    assert client.get(url).status_code == 200
    r = client.post(
        url,
        {
            "ch:sla.breach:email": "1",
            "ch:sla.*:apprise": "1",
            "quiet_hours_enabled": "1",
            "quiet_start": "25:99",
            "quiet_end": "07:00",
        },
    )
    assert r.status_code == 422
    body = r.content.decode()
    assert "is not a time" in body and "25:99" in body
    assert 'name="ch:sla.*:apprise" value="1" aria-label' in body and "checked" in body  # choices kept
    r = client.post(url, {"quiet_hours_enabled": "1", "quiet_start": "22:00", "quiet_end": ""})
    assert r.status_code == 422 and "need a start and an end" in r.content.decode()
    r = client.post(
        url,
        {
            "ch:sla.breach:email": "1",
            "ch:*:apprise": "1",
            "quiet_hours_enabled": "1",
            "quiet_start": "22:00",
            "quiet_end": "07:00",
            "urgent_overrides_quiet": "1",
        },
    )
    assert r.status_code == 302
    pref = services.preference_for(agent)
    assert pref.channels["sla.breach"] == ["email"] and pref.channels["*"] == ["apprise"]
    assert pref.channels["sla.warning"] == [] and pref.quiet_start.hour == 22 and pref.urgent_overrides_quiet


def test_preferences_in_chinese(agent, client_as):
    body = client_as(agent, "zh-hans").get(reverse("web:notification_preferences")).content.decode()
    assert "通知偏好" in body and "免打扰" in body


def test_add_target_with_bad_url_is_readable_then_test_send(agent, hook, client_as):
    client = client_as(agent)
    r = client.post(reverse("web:notification_target_add"), {"label": "Mine", "url": "nope://x"})
    assert r.status_code == 422 and "Apprise does not understand" in r.content.decode()
    assert not NotificationTarget.objects.exists()
    r = client.post(reverse("web:notification_target_add"), {"label": "Mine", "url": hook["url"], "kinds": "sla.*"})
    assert r.status_code == 302
    target = NotificationTarget.objects.get()
    assert (
        target.kinds == ["sla.*"]
        and hook["url"] not in client.get(reverse("web:notification_preferences")).content.decode()
    )
    r = client.post(reverse("web:notification_target_test", args=[target.pk]), headers={"HX-Request": "true"})
    assert r.status_code == 200 and "Test sent" in r.content.decode()
    assert hook["bodies"][0]["title"] == "PivotDesk test notification"
    hook["status"] = 500
    r = client.post(reverse("web:notification_target_test", args=[target.pk]), headers={"HX-Request": "true"})
    assert "Failed" in r.content.decode() and "500" in r.content.decode()


def test_someone_elses_target_is_404(agent, supervisor, hook, client_as):
    theirs = services.target_create(
        actor=Actor.for_agent(supervisor), agent=supervisor, label="Theirs", url=hook["url"]
    )
    client = client_as(agent)
    for name in ("web:notification_target_test", "web:notification_target_toggle", "web:notification_target_delete"):
        assert client.post(reverse(name, args=[theirs.pk])).status_code == 404
    assert NotificationTarget.objects.filter(pk=theirs.pk, active=True).exists() and hook["bodies"] == []


def test_delivery_log_for_supervisors_with_filter_and_retry(  # noqa: PLR0917
    agent, hook, settings, django_capture_on_commit_callbacks, agent_client, supervisor_client
):
    settings.PIVOTDESK_NOTIFICATION_MAX_ATTEMPTS = 1
    services.preference_save(
        actor=Actor.for_agent(agent),
        agent=agent,
        channels={"*": ["apprise"]},
        quiet_hours_enabled=False,
        quiet_start=None,
        quiet_end=None,
    )
    services.target_create(actor=Actor.for_agent(agent), agent=agent, label="Hook", url=hook["url"])
    hook["status"] = 500
    with django_capture_on_commit_callbacks(execute=True):
        n = _n(agent, title="Will fail")
    d = Delivery.objects.get(notification=n)
    assert d.status == DeliveryStatus.FAILED
    assert agent_client.get(reverse("web:notification_deliveries")).status_code == 403
    sup = supervisor_client
    body = sup.get(reverse("web:notification_deliveries") + "?status=failed").content.decode()
    assert "Will fail" in body and "500" in body and "Retry now" in body
    assert "Will fail" not in sup.get(reverse("web:notification_deliveries") + "?status=sent").content.decode()
    hook["status"] = 200
    with django_capture_on_commit_callbacks(execute=True):
        r = sup.post(reverse("web:notification_delivery_retry", args=[d.pk]))
    assert r.status_code == 302
    d.refresh_from_db()
    assert d.status == DeliveryStatus.SENT
    # Retrying a sent delivery is a readable 409.
    assert sup.post(reverse("web:notification_delivery_retry", args=[d.pk])).status_code == 409


def test_delivery_of_another_workspace_is_404(supervisor, other_workspace, client_as):
    stranger = new_agent(workspace=other_workspace)
    services.preference_save(
        actor=Actor.for_agent(stranger),
        agent=stranger,
        channels={"*": ["email"]},
        quiet_hours_enabled=False,
        quiet_start=None,
        quiet_end=None,
    )
    n = services.notify(actor=Actor.system(), workspace=other_workspace, recipient=stranger, kind="x.y", title="t")
    d = Delivery.objects.get(notification=n)
    assert client_as(supervisor).post(reverse("web:notification_delivery_retry", args=[d.pk])).status_code == 404


def test_shared_targets_need_a_supervisor(agent, supervisor, hook, client_as):
    r = client_as(agent).post(
        reverse("web:notification_target_add"), {"label": "Team", "url": hook["url"], "shared": "1"}
    )
    assert r.status_code == 403 and not NotificationTarget.objects.exists()
    r = client_as(supervisor).post(
        reverse("web:notification_target_add"),
        {"label": "Team", "url": hook["url"], "shared": "1", "kinds": "sla.breach"},
    )
    assert r.status_code == 302
    t = NotificationTarget.objects.get()
    assert t.agent is None and t.kinds == ["sla.breach"]
    assert "Team" in client_as(supervisor).get(reverse("web:notification_deliveries")).content.decode()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_bell_live_in_a_real_browser(chromium, live_server, workspace, ticket):
    """The bell fills in after load, opens its dropdown, and mark-all-read clears the count without a reload."""
    from pathlib import Path

    from playwright.sync_api import expect

    from pivotdesk.web.tests.helpers import new_user

    shots = Path(os.environ.get("PIVOTDESK_SCREENSHOTS", "/tmp/pivotdesk-shots"))  # noqa: S108 - never in the repo
    shots.mkdir(parents=True, exist_ok=True)
    agent = new_agent(workspace=workspace, user=new_user(username="zhaolei", display_name="赵磊"))
    _n(agent, kind="sla.breach", title=f"SLA 违约：#{ticket.number} 首次回复超时", ticket=ticket, urgent=True)
    _n(agent, title=f"工单 #{ticket.number} 已分配给你", body="客户：宏达科技", ticket=ticket)
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "zhaolei")
    page.fill("input[name=password]", "pivotdesk-test")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/queue/**")
    expect(page.locator("#notif-count")).to_have_text("2", timeout=15_000)
    page.click(".notif-bell button.bell")
    expect(page.locator("#notif-dropdown")).to_contain_text("首次回复超时")
    page.screenshot(path=str(shots / "notifications-bell-zh.png"))
    page.click("#notif-dropdown button:has-text('全部标为已读')")
    expect(page.locator("#notif-count")).to_have_attribute("data-unread", "0")
    expect(page.locator("#notif-dropdown .notif-item.unread")).to_have_count(0)
    page.goto(f"{live_server.url}/notifications/preferences/")
    page.screenshot(path=str(shots / "notifications-preferences-zh.png"), full_page=True)
    assert errors == []
    context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_opened_notification_is_read_by_the_page_and_images_wait_for_the_agent(
    chromium, live_server, workspace, ticket
):
    """Clicking a notification in the bell lands on the ticket, whose page marks it read by POST and drops the
    `from_notification` marker from the address; the customer's remote image shows only after "显示图片"."""
    from playwright.sync_api import expect

    from pivotdesk.tickets import services as ticket_services
    from pivotdesk.web.tests.helpers import new_user

    agent = new_agent(workspace=workspace, user=new_user(username="sunli", display_name="孙丽"))
    ticket_services.message_create(
        ticket=ticket,
        actor=Actor.for_contact(ticket.requester_id, "客户"),
        as_customer=True,
        body_html='<p>截图 <img src="https://pixel.invalid/o.gif?u=7" alt="pixel"></p>',
    )
    n = _n(agent, title=f"工单 #{ticket.number} 已分配给你", ticket=ticket)
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "sunli")
    page.fill("input[name=password]", "pivotdesk-test")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/queue/**")
    expect(page.locator("#notif-count")).to_have_text("1", timeout=15_000)
    page.click(".notif-bell button.bell")
    page.click(f"#notif-{n.pk} a.notif-link")
    page.wait_for_url(f"{live_server.url}/tickets/{ticket.number}/**")
    expect(page.locator("#notif-count")).to_have_attribute("data-unread", "0", timeout=15_000)
    assert "from_notification" not in page.url
    assert Notification.objects.get(pk=n.pk).read_at is not None
    pixel = page.locator("img[alt=pixel]")
    expect(pixel).to_have_attribute("data-blocked-src", "https://pixel.invalid/o.gif?u=7")
    assert pixel.get_attribute("src") is None
    page.click("button:has-text('显示图片')")
    expect(pixel).to_have_attribute("src", "https://pixel.invalid/o.gif?u=7")
    expect(page.locator("[data-images-blocked]")).to_be_hidden()
    assert errors == []
    context.close()
