"""The XSS corpus through every entry point, rendered in real Chromium: no payload runs on any page an admin agent
or a visitor opens — with the Content-Security-Policy switched off (escaping and sanitising alone must hold) and,
on a second pass, with it on (no violation report names a payload).

Detection: `window.__pd_xss(id)` reports to the test from every frame; any dialog (`alert(id)` in a frame of its
own origin) fails; after each load the DOM is searched for live constructs a click would run (`javascript:` links,
event handlers and Alpine/HTMX directives carrying a payload, frames, `<base>`); held-back images are revealed with
the "Show images" button, as an agent would.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls of the test itself are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, BrowserContext, Page
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from pivotdesk.accounts.models import AgentProfile, Role
from pivotdesk.web.tests.helpers import new_agent, new_user
from pivotdesk.web.tests.security.entry_points import Seeded, seed_everywhere
from pivotdesk.web.tests.security.xss_corpus import CORPUS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pivotdesk-test"  # the user factory's

INIT = """
(() => {
  const report = (what) => { try { window.__pd_report(String(what)); } catch (e) { /* reported by the DOM scan */ } };
  window.__pd_xss = (id) => report("ran:" + id);
  document.addEventListener("securitypolicyviolation", (e) => {
    // the element that tried (an inline handler's or script's own markup) says whether a payload caused it
    const source = e.target && e.target.outerHTML ? e.target.outerHTML.slice(0, 300) : "";
    report("csp:" + e.violatedDirective + " " + (e.sample || "") + " " + (e.blockedURI || "") + " " + source);
  });
})();
"""

# Constructs a click (or a later script) would run, searched in the live DOM after each load.
DOM_SCAN = r"""
() => {
  const found = [];
  const marked = (v) => /__pd_xss|alert\(/.test(v || "");
  const urlAttr = /^(href|src|action|formaction|data|xlink:href|background|poster|srcset)$/;
  for (const el of document.querySelectorAll("*")) {
    if (["IFRAME", "FRAME", "OBJECT", "EMBED", "BASE"].includes(el.tagName)) found.push("element " + el.outerHTML.slice(0, 160));
    for (const a of el.attributes) {
      const n = a.name.toLowerCase(), v = a.value;
      if ((/^on/.test(n) || /^(hx-|data-hx-|x-|@|:)/.test(n)) && marked(v)) found.push(el.tagName + " " + n + "=" + v.slice(0, 120));
      if (n === "srcdoc") found.push(el.tagName + " srcdoc");
      if (urlAttr.test(n) && /^(javascript|vbscript|data:text\/html)/i.test(v.replace(/[\x00-\x20]/g, ""))) found.push(el.tagName + " " + n + "=" + v.slice(0, 120));
      if (n === "style" && /expression\(|javascript:/i.test(v)) found.push(el.tagName + " style=" + v.slice(0, 120));
    }
    if (el.tagName === "SCRIPT" && marked(el.textContent)) found.push("script " + el.textContent.slice(0, 120));
  }
  return found;
}
"""


def _names_payload(event: str) -> bool:
    return "pd_xss" in event or "alert(" in event


class Watch:
    """One browser context (with a few tabs) that records whatever a payload managed to do."""

    def __init__(self, context: BrowserContext, *, tabs: int = 4) -> None:
        self.context = context
        self.events: list[str] = []
        context.expose_binding("__pd_report", lambda source, what: self.events.append(f"{source['frame'].url}: {what}"))
        context.add_init_script(INIT)
        self.tabs = [self._tab() for _ in range(tabs)]
        self.page = self.tabs[0]

    def _tab(self) -> Page:
        page = self.context.new_page()

        def dialog(d: Any) -> None:
            self.events.append(f"{page.url}: dialog {d.type} {d.message}")
            d.dismiss()

        page.on("dialog", dialog)
        page.on("pageerror", lambda exc: self.events.append(f"pageerror: {exc}") if "pd_xss" in str(exc) else None)
        page.on("console", lambda msg: self.events.append(f"console: {msg.text}") if msg.type == "error" else None)
        return page

    def open_all(self, urls: list[str]) -> dict[str, list[str]]:
        """Load the pages a batch of tabs at a time, let HTMX fetch each page's partials, reveal held-back images;
        the live constructs found, by URL."""
        live: dict[str, list[str]] = {}
        for start in range(0, len(urls), len(self.tabs)):
            batch = list(zip(self.tabs, urls[start : start + len(self.tabs)], strict=False))
            aborted = []
            for tab, url in batch:
                try:
                    tab.goto(url, wait_until="commit")
                except PlaywrightError:  # the tab's previous page was still busy: load this one on its own below
                    aborted.append(url)
            for tab, url in batch:
                if url in aborted:
                    tab.goto(url)
                tab.wait_for_load_state("load")
                with contextlib.suppress(PlaywrightTimeoutError):  # a page that keeps polling is still checked
                    tab.wait_for_load_state("networkidle", timeout=10_000)
                buttons = tab.locator("[data-show-images]")
                for i in range(buttons.count()):
                    if buttons.nth(i).is_visible():
                        buttons.nth(i).click()
                found: list[str] = tab.evaluate(DOM_SCAN)
                if found:
                    live[url] = found
        return live

    def executed(self) -> list[str]:
        return [e for e in self.events if "ran:" in e or "dialog" in e or "pageerror" in e]

    def csp_reports_of_payloads(self) -> list[str]:
        """Violation reports whose element or sample is a payload's, and console errors naming a payload."""
        return [e for e in self.events if ("csp:" in e or e.startswith("console:")) and _names_payload(e)]


@pytest.fixture(autouse=True)
def _ai_off(settings: Any) -> None:
    """The corpus tests rendering, not the AI pipeline (which would classify every payload)."""
    settings.PIVOTDESK_AI_ENABLED = False


@pytest.fixture
def admin(workspace: Any) -> AgentProfile:
    return new_agent(workspace=workspace, role=Role.ADMIN, user=new_user(username="xss-admin"))


def _login(page: Page, base: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "xss-admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/queue/**")


@pytest.fixture
def watches(chromium: Browser) -> Iterator[list[Watch]]:
    opened: list[Watch] = []
    yield opened
    for watch in opened:
        watch.context.close()


def _browser_pages(seeded: Seeded) -> list[str]:
    """Every list page, every ticket page, and the contact pages of the mail tickets (those contacts were also renamed
    and given an organization through the API; the other entry points' contact pages are the twin's)."""
    entries = seeded.pages_by_entry
    return [*entries["lists"], *entries["mail"], *entries["mail_contacts"], *entries["chat"], *entries["generic"],
            *entries["web_form"]]  # fmt: skip


def test_the_watch_sees_a_payload_that_runs(chromium: Browser, watches):
    # given a page (served by Playwright itself) that shows the whole corpus raw
    page_html = "<!DOCTYPE html><html><body>" + "".join(f"<div>{p.text}</div>" for p in CORPUS) + "</body></html>"
    watch = Watch(chromium.new_context(bypass_csp=True), tabs=1)
    watches.append(watch)
    watch.context.route("http://raw.test/**", lambda route: route.fulfill(body=page_html, content_type="text/html"))
    # when it is opened
    live = watch.open_all(["http://raw.test/page"])
    # then the watch reports payloads that ran, and the DOM scan finds live ones waiting for a click
    ran = {e.rsplit("ran:", 1)[-1] for e in watch.executed() if "ran:" in e}
    assert len(ran) >= 10, watch.events
    assert len(live["http://raw.test/page"]) >= 20
    # and with a strict CSP enforced, nothing runs but the violation reports name the payloads that tried
    strict = Watch(chromium.new_context(), tabs=1)
    watches.append(strict)
    strict.context.route(
        "http://raw.test/**",
        lambda route: route.fulfill(
            body=page_html, content_type="text/html", headers={"Content-Security-Policy": "script-src 'self'"}
        ),
    )
    strict.open_all(["http://raw.test/page"])
    assert strict.executed() == [e for e in strict.executed() if "dialog" in e]  # (a data: frame has its own CSP)
    assert len(strict.csp_reports_of_payloads()) >= 10, strict.events


def test_no_payload_runs_on_any_page(chromium: Browser, live_server: Any, admin: AgentProfile, watches):
    base = live_server.url
    # given every payload put through every entry point
    seeded = seed_everywhere(workspace=admin.workspace, agent=admin, payloads=CORPUS)
    pages = _browser_pages(seeded)
    # when an admin agent opens every page that shows them with the CSP header ignored (escaping alone must
    # hold), then a sample with the CSP enforced; and a visitor opens the public form
    bypassed = Watch(chromium.new_context(locale="en-US", bypass_csp=True, viewport={"width": 1280, "height": 900}))
    enforced = Watch(chromium.new_context(locale="en-US", viewport={"width": 1280, "height": 900}), tabs=2)
    visitor = Watch(chromium.new_context(locale="en-US", bypass_csp=True), tabs=1)
    watches += [bypassed, enforced, visitor]
    _login(bypassed.page, base)
    _login(enforced.page, base)
    live = bypassed.open_all([f"{base}{url}" for url in pages])
    lists = seeded.pages_by_entry["lists"]
    live |= enforced.open_all([f"{base}{url}" for url in lists + [p for p in pages if p not in lists][::10]])
    live |= visitor.open_all([f"{base}{url}" for url in seeded.public_pages])
    # then no payload ran, no dialog opened, no CSP report names a payload, and nothing live waits for a click
    assert [*bypassed.executed(), *enforced.executed(), *visitor.executed()] == []
    assert [*bypassed.csp_reports_of_payloads(), *enforced.csp_reports_of_payloads()] == []
    assert live == {}
    assert len(pages) > 4 * len(CORPUS)
