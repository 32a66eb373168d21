"""The zh-Hans crawl in real Chromium (issue 12): the main pages of the demo — queue, a ticket with its AI panel and
timeline loaded by HTMX, dispatch, routing policies, channel settings — read as the demo's Chinese admin sees them
(`document.body.innerText` and the attributes a person reads, without `[data-user-content]` and `[translate=no]`),
with no English word outside the allowlist of `zh_crawl.py`. The full URL conf is crawled by test_zh_crawl.py."""

from __future__ import annotations

import os
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls of the test itself are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, Page, expect

from config.tests.test_zh_crawl import demo_world, people_names, workspace_names
from pivotdesk.cli.demo import DEMO_PASSWORD
from pivotdesk.common.tests.zh_crawl import english_words

expect.set_options(timeout=15_000)  # CI machines have 2 loaded cores

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What a person reads: the rendered text, and the attributes shown as tooltips, placeholders and labels.
READ_PAGE = """() => {
  document.querySelectorAll("[data-user-content], [translate=no]").forEach((e) => e.remove());
  const texts = document.body.innerText.split("\\n");
  document.querySelectorAll("[title], [placeholder], [aria-label], [alt]").forEach((e) => {
    for (const name of ["title", "placeholder", "aria-label", "alt"]) {
      if (e.getAttribute(name)) texts.push(e.getAttribute(name));
    }
  });
  return texts.filter((t) => t.trim());
}"""


def _login(page: Page, base: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/queue/**")


def test_a_chinese_admin_reads_no_english_in_chromium(chromium: Browser, live_server: Any):
    # given the demo workspace, and its admin signed in with a Chinese browser
    workspace, values = demo_world()
    phrases = workspace_names(workspace) + people_names(workspace)
    context = chromium.new_context(
        locale="zh-CN", extra_http_headers={"Accept-Language": "zh-hans"}, viewport={"width": 1440, "height": 900}
    )
    page = context.new_page()
    base = live_server.url
    _login(page, base)
    number = values["number"]
    pages = {
        "/queue/": "#queue-rows tr.qrow",
        f"/tickets/{number}/": "#ai-panel",  # the AI panel and the sidebar arrive by HTMX after the page
        "/dispatch/": ".rt-board",
        "/dispatch/policies/": "table.grid",
        f"/dispatch/policies/{values['policy_id']}/": "#rt-preview table",  # the preview, loaded by HTMX
        "/settings/channels/": "main table",
    }
    findings = []
    for url, ready in pages.items():
        # when each page is opened and its HTMX parts have arrived
        page.goto(f"{base}{url}")
        expect(page.locator(ready).first).to_be_visible()
        page.wait_for_load_state("networkidle")
        texts = page.evaluate(READ_PAGE)
        findings += english_words(url, texts, phrases=phrases)
    context.close()
    # then no page shows an English word outside the allowlist
    assert not findings, "\n".join(sorted({f"{f.page}: {f.word} in {f.line[:120]!r}" for f in findings}))
