"""Notifications in the reader's language (issue 12): the bell's dropdown, the list, the delivery log and the API
render titles, kinds, statuses and delivery reasons at display time, whatever language the notification was
created in."""

from __future__ import annotations

import datetime as dt
import html
import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import translation

from pivotdesk.accounts.actors import Actor
from pivotdesk.notifications import services
from pivotdesk.notifications.tests.factories import set_channels
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

ALLOWED = {"SLA"}


class _ClassText(HTMLParser):
    """Collects the text inside elements carrying a CSS class (nested elements included)."""

    def __init__(self, css_class: str) -> None:
        super().__init__()
        self.css_class, self.depth = css_class, 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if self.depth or self.css_class in classes:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.parts.append(data)


def _text_of(page: str, css_class: str) -> str:
    """The text of every element with this class, joined."""
    parser = _ClassText(css_class)
    parser.feed(page)
    return " ".join(parser.parts)


def _english_words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z]{2,}", text)) - ALLOWED


def _breach_created_in_english(workspace, agent):
    ticket = make_ticket(workspace=workspace, subject="打印机无法连接")
    with translation.override("en"):
        n = services.notify(
            workspace=workspace,
            actor=Actor.system("sla"),
            recipient=agent,
            kind="sla.breach",
            title=f"SLA breached: resolution of #{ticket.number} (due 14:00)",
            ticket=ticket,
            urgent=True,
            data={
                "metric": "resolution",
                "label": "breach",
                "due_at": dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC).isoformat(),
                "time_zone": "Asia/Shanghai",
            },
        )
    assert n is not None
    return n, ticket


@pytest.mark.parametrize("where", ["web:notifications_dropdown", "web:notifications"])
def test_a_notification_created_in_english_shows_in_chinese_to_a_chinese_reader(workspace, agent, client_as, where):
    _n, ticket = _breach_created_in_english(workspace, agent)
    zh = client_as(agent, "zh-hans").get(reverse(where)).content.decode()
    title = _text_of(zh, "notif-title")
    assert f"SLA 违约：#{ticket.number} 的解决已超时（到期 03-02 14:00）" in title
    assert not _english_words(title + _text_of(zh, "notif-body") + _text_of(zh, "notif-kind"))
    assert "SLA breached" not in zh

    en = client_as(agent, "en").get(reverse(where)).content.decode()
    assert f"SLA breached: resolution of #{ticket.number} (due 03-02 14:00)" in html.unescape(en)


def test_the_delivery_log_shows_kinds_statuses_and_reasons_in_the_readers_language(
    workspace, agent, supervisor, client_as
):
    agent.user.email = ""
    agent.user.save(update_fields=["email"])
    set_channels(agent, {"sla.breach": ["email"]})
    _n, ticket = _breach_created_in_english(workspace, agent)
    url = reverse("web:notification_deliveries")

    zh = html.unescape(client_as(supervisor, "zh-hans").get(url).content.decode())
    row = zh[zh.index('<tr class="dl-suppressed">') :]
    row = row[: row.index("</tr>")]
    cells = re.sub(r"<[^>]+>", " ", re.sub(r'title="[^"]*"', "", row))
    assert "该客服没有邮箱地址" in cells and "未发送" in cells and "SLA 违约：已超出目标时间" in cells
    assert f"SLA 违约：#{ticket.number}" in cells
    assert not _english_words(cells.replace(agent.name, "")), cells
    assert '{"code"' not in zh

    en = html.unescape(client_as(supervisor, "en").get(url).content.decode())
    assert "The agent has no email address" in en and "Suppressed" in en


def test_the_api_renders_titles_in_the_requests_language(workspace, agent, api_client_for):
    _n, ticket = _breach_created_in_english(workspace, agent)
    client = api_client_for(agent, scope="read")
    zh = client.get("/api/v1/notifications/", headers={"accept-language": "zh-hans"}).json()
    en = client.get("/api/v1/notifications/", headers={"accept-language": "en"}).json()
    assert zh["items"][0]["title"] == f"SLA 违约：#{ticket.number} 的解决已超时（到期 03-02 14:00）"
    assert en["items"][0]["title"] == f"SLA breached: resolution of #{ticket.number} (due 03-02 14:00)"
    assert zh["items"][0]["kind"] == "sla.breach" and zh["items"][0]["data"]["metric"] == "resolution"
