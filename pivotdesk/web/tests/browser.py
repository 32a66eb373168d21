"""Shared steps of the browser tests: a fresh browser context signed in as one agent."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Browser, Page

PASSWORD = "pivotdesk-test"  # the factories' password


def signed_in(
    chromium: Browser,
    base: str,
    username: str,
    *,
    locale: str = "en-US",
    width: int = 1440,
    height: int = 900,
    timeout_ms: float | None = None,
    navigation_timeout_ms: float | None = None,
) -> tuple[Any, Page, list[str]]:
    """A new context (locale, viewport, and patient timeouts when given: the first page of a live server on a busy
    machine may take a while) signed in as `username`, on the queue; the page's script errors collect in the
    returned list."""
    context = chromium.new_context(locale=locale, viewport={"width": width, "height": height})
    if timeout_ms is not None:
        context.set_default_timeout(timeout_ms)
    if navigation_timeout_ms is not None:
        context.set_default_navigation_timeout(navigation_timeout_ms)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/queue/**")
    return context, page, errors
