"""`manage.py screenshots` (`make screenshots`): PNGs of the main screens of the demo workspace — the queue, a ticket,
the admin's settings pages, the customer portal and the help centre — in zh-Hans and English, at 1440×900 and
390×844, into `var/screenshots/<lang>/<width>x<height>/<name>.png` with an `index.html` listing them.

It drives Debian's Chromium (`/usr/bin/chromium`, as the browser tests do; no browser is downloaded) through
Playwright, a development dependency. Without `--base` it serves the database itself on a free local port (Django's
runserver with the static files of the apps); with `--base http://127.0.0.1:8000` it shoots a running `make run`."""

from __future__ import annotations

import html
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import NoReverseMatch, get_resolver, reverse

from pivotdesk.cli.demo import DEMO_PASSWORD, DEMO_SLUG
from pivotdesk.cli.management.commands._common import workspace_by_slug

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]  # fmt: skip
LANGUAGES = {"zh-hans": "zh-CN", "en": "en-US"}  # the page language → the browser's locale
SIZES = ((1440, 900), (390, 844))


@dataclass(frozen=True)
class Shot:
    """One screen to photograph: its file name, its path, and who sees it (agent, customer or anyone)."""

    name: str
    path: str
    audience: str = "agent"


class Command(BaseCommand):
    help = "Screenshots of the main pages (zh-Hans and en, 1440×900 and 390×844) into var/screenshots/."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--base", default="", help="A running server (e.g. http://127.0.0.1:8000); default: start one."
        )
        parser.add_argument(
            "--out", default=str(Path(settings.BASE_DIR) / "var" / "screenshots"), help="Output folder."
        )
        parser.add_argument("--workspace", default=DEMO_SLUG, help="The workspace slug (default: demo).")
        parser.add_argument("--user", default="admin", help="The agent who signs in (default: the demo admin).")
        parser.add_argument("--password", default=DEMO_PASSWORD, help="Their password (default: the demo's).")
        parser.add_argument("--only", default="", help="Comma-separated shot names (default: all).")
        parser.add_argument("--full-page", action="store_true", help="The whole page, not the first screen.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError as exc:
            raise CommandError("Playwright is a development dependency: run `make install-dev` first.") from exc
        if not Path(CHROMIUM).exists():
            raise CommandError(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium fonts-noto-cjk).")
        workspace = workspace_by_slug(options["workspace"])
        shots, contact_email = self._shots(workspace)
        if options["only"]:
            wanted = {n.strip() for n in options["only"].split(",")}
            shots = [s for s in shots if s.name in wanted]
        if "portal_link" not in get_commands() or not contact_email:
            self.stdout.write("Note: no `portal_link` command or no customer with an e-mail: portal screens skipped.")
            shots = [s for s in shots if s.audience != "customer"]
            contact_email = ""
        # One single-use magic link, made before Playwright's event loop starts (the ORM refuses to run inside it);
        # the first context follows it, the others reuse its cookies.
        portal = {"link": _portal_link(contact_email, workspace.slug, self.stdout.write)}
        out = Path(options["out"])
        written: list[Path] = []
        with self._server(options["base"]) as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for language, locale in LANGUAGES.items():
                    for width, height in SIZES:
                        folder = out / language / f"{width}x{height}"
                        folder.mkdir(parents=True, exist_ok=True)
                        session = _Session(
                            browser,
                            base,
                            language=language,
                            locale=locale,
                            width=width,
                            height=height,
                            full=options["full_page"],
                        )
                        try:
                            written += session.run(shots, options, portal, self.stdout.write)
                        finally:
                            session.close()
            finally:
                browser.close()
        index = _write_index(out, written)
        self.stdout.write(self.style.SUCCESS(f"{len(written)} screenshots in {out} (open {index})."))

    def _shots(self, workspace: Any) -> tuple[list[Shot], str]:
        """The screens of this workspace: its ids looked up in the database."""
        from pivotdesk.knowledge.models import Article
        from pivotdesk.tickets.models import Ticket

        tickets = Ticket.objects.filter(workspace=workspace, merged_into__isnull=True)
        ticket = (
            tickets.filter(status__in=("open", "pending", "new"), messages__isnull=False).order_by("-number").first()
            or tickets.order_by("-number").first()
        )
        if ticket is None:
            raise CommandError(f"Workspace '{workspace.slug}' has no tickets: seed it first (`make seed-data`).")
        article = Article.objects.filter(workspace=workspace, status="published").order_by("pk").first()
        public = Article.objects.filter(workspace=workspace, status="published", visibility="public")
        public_article = public.order_by("pk").first()
        shots = [
            Shot("login", "/login/", "anyone"),
            Shot("queue", "/queue/"),
            Shot("ticket", f"/tickets/{ticket.number}/"),
            Shot("new-ticket", "/tickets/new/"),
            Shot("contact", f"/contacts/{ticket.requester_id}/"),
            Shot("notifications", "/notifications/"),
            Shot("knowledge", "/knowledge/"),
            Shot("sla-report", "/sla/report/"),
            Shot("dispatch", "/dispatch/"),
            Shot("workforce", "/workforce/"),
            Shot("automation", "/automation/rules/"),
            Shot("channels", "/settings/channels/"),
        ]
        if article is not None:
            shots.insert(7, Shot("knowledge-editor", f"/knowledge/articles/{article.pk}/edit/"))
        shots += [Shot(name.replace("_", "-"), path) for name, path in _settings_pages()]
        shots.append(Shot("help-centre", f"/help/{workspace.slug}/", "anyone"))
        if public_article is not None:
            shots.append(Shot("help-article", f"/help/{workspace.slug}/a/{public_article.pk}/", "anyone"))
        email = ticket.requester.email if ticket.requester_id and ticket.requester.email else ""
        shots += [
            Shot("portal", "", "customer"),  # where the magic link lands
            Shot("portal-requests", f"/portal/{workspace.slug}/requests/", "customer"),
            Shot("portal-request", f"/portal/{workspace.slug}/requests/{ticket.number}/", "customer"),
        ]
        return shots, email

    @contextmanager
    def _server(self, base: str) -> Iterator[str]:
        """The base URL to shoot: the given one, else a runserver of this database on a free port, stopped after."""
        if base:
            _wait_until_up(base.rstrip("/"), seconds=10)
            yield base.rstrip("/")
            return
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        manage = Path(settings.BASE_DIR) / "manage.py"
        server = subprocess.Popen(  # noqa: S603 - our own manage.py with fixed arguments
            [sys.executable, str(manage), "runserver", "--noreload", "--insecure", f"127.0.0.1:{port}"],
            env={**os.environ, "PIVOTDESK_BIND": f"127.0.0.1:{port}"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            self.stdout.write(f"Serving the database at {base} for the screenshots…")
            _wait_until_up(base, seconds=90)
            yield base
        finally:
            server.terminate()
            server.wait(timeout=20)


def _settings_pages() -> list[tuple[str, str]]:
    """Every `web:settings*` page that needs no argument (the in-app admin), by URL name."""
    _, resolver = get_resolver().namespace_dict["web"]
    found = []
    for name in sorted(n for n in resolver.reverse_dict if isinstance(n, str) and n.startswith("settings")):
        try:
            found.append((name, reverse(f"web:{name}")))
        except NoReverseMatch:
            continue
    return found


def _wait_until_up(base: str, *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{base}/login/", timeout=5) as response:  # noqa: S310 - a local URL we built
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise CommandError(f"No PivotDesk answers at {base}.")
        time.sleep(0.5)


class _Session:
    """One browser context (language, window size): signed in as the agent, and as the customer when asked."""

    def __init__(
        self, browser: Any, base: str, *, language: str, locale: str, width: int, height: int, full: bool
    ) -> None:
        self.base, self.language, self.full = base, language, full
        self.size = f"{width}x{height}"
        self.contexts: list[Any] = []
        self.agent = self._context(browser, locale, width, height)
        self.anyone = self._context(browser, locale, width, height)
        self.customer = self._context(browser, locale, width, height)

    def _context(self, browser: Any, locale: str, width: int, height: int) -> Any:
        context = browser.new_context(
            locale=locale,
            viewport={"width": width, "height": height},
            extra_http_headers={"Accept-Language": self.language},
        )
        context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": self.language, "url": self.base}])
        self.contexts.append(context)
        return context.new_page()

    def close(self) -> None:
        for context in self.contexts:
            context.close()

    def run(self, shots: list[Shot], options: dict[str, Any], portal: dict[str, Any], say: Any) -> list[Path]:
        out = Path(options["out"]) / self.language / self.size
        written: list[Path] = []
        signed_in = customer_in = False
        for shot in shots:
            if shot.audience == "agent" and not signed_in:
                self._sign_in(options["user"], options["password"])
                signed_in = True
            if shot.audience == "customer" and not customer_in:
                if portal.get("cookies"):
                    self.customer.context.add_cookies(portal["cookies"])
                    self.customer.goto(f"{self.base}{urlsplit(portal['landed']).path}")
                elif portal.get("link"):
                    link = urlsplit(portal["link"])
                    self.customer.goto(f"{self.base}{link.path}{'?' + link.query if link.query else ''}")
                    confirm = self.customer.locator("form[action*='/m/'] button[type=submit]")
                    if confirm.count():  # the link asks for a click (mail scanners only GET), then signs in
                        with self.customer.expect_navigation():
                            confirm.first.click()
                    portal["cookies"], portal["landed"] = self.customer.context.cookies(), self.customer.url
                else:
                    continue
                customer_in = True
            page = {"agent": self.agent, "customer": self.customer}.get(shot.audience, self.anyone)
            if shot.path and not self._open(page, shot, say):
                continue
            _settle(page)
            path = out / f"{shot.name}.png"
            page.screenshot(path=str(path), full_page=self.full)
            written.append(path)
        say(f"{self.language} {self.size}: {len(written)} screenshots")
        return written

    def _open(self, page: Any, shot: Shot, say: Any) -> bool:
        """Open the shot's page; a page that answers with an error (a POST-only URL, a 404) is skipped with a note."""
        from playwright.sync_api import Error as PlaywrightError

        try:
            response = page.goto(f"{self.base}{shot.path}")
        except PlaywrightError as exc:
            say(f"Note: {shot.name} ({shot.path}) skipped: {str(exc).splitlines()[0]}")
            page.wait_for_timeout(500)  # let the browser's error page finish before the next navigation
            page.goto("about:blank")
            return False
        if response is not None and response.status >= 400:
            say(f"Note: {shot.name} ({shot.path}) skipped: HTTP {response.status}")
            return False
        return True

    def _sign_in(self, username: str, password: str) -> None:
        page = self.agent
        page.goto(f"{self.base}/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        try:
            page.wait_for_url(f"{self.base}/queue/**", timeout=20_000)
        except Exception as exc:
            raise CommandError(f"Could not sign in as {username!r} at {self.base}/login/.") from exc


def _portal_link(email: str, slug: str, say: Any) -> str:
    """A fresh single-use magic link of `portal_link` for the customer, or "" (with a note) when there is none."""
    if not email:
        return ""
    buffer = StringIO()
    try:
        call_command("portal_link", email, workspace=slug, stdout=buffer)
    except CommandError as exc:
        say(f"Note: portal screens skipped ({exc}).")
        return ""
    lines = buffer.getvalue().strip().splitlines()
    return lines[-1] if lines else ""


def _settle(page: Any) -> None:
    """Wait for the page and its HTMX parts (a few seconds at most: some parts poll for ever)."""
    page.wait_for_load_state("load")
    for _ in range(24):
        page.wait_for_timeout(250)
        if not page.evaluate("() => !!document.querySelector('.htmx-request')"):
            break
    page.wait_for_timeout(200)


def _write_index(out: Path, written: list[Path]) -> Path:
    """`index.html`: every screenshot, grouped by language and size, linking the full images."""
    rows: dict[str, list[Path]] = {}
    for path in written:
        rows.setdefault(str(path.parent.relative_to(out)), []).append(path)
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>PivotDesk screenshots</title></head><body>"]
    parts.append("<h1>PivotDesk screenshots</h1>")
    for group, paths in rows.items():
        parts.append(f"<h2>{html.escape(group)}</h2><div>")
        for path in paths:
            rel = html.escape(str(path.relative_to(out)))
            parts.append(
                f"<figure style='display:inline-block;margin:6px'><a href='{rel}'><img src='{rel}' width='240' "
                f"alt='{html.escape(path.stem)}'></a><figcaption>{html.escape(path.stem)}</figcaption></figure>"
            )
        parts.append("</div>")
    parts.append("</body></html>")
    index = out / "index.html"
    index.write_text("\n".join(parts), encoding="utf-8")
    return index
