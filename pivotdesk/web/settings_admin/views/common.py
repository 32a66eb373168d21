"""What the settings views share: the menu in every page's context, absolute links."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from pivotdesk.web.base import Desk
from pivotdesk.web.settings_admin.menu import visible_menu


def page(
    request: HttpRequest, desk: Desk, template: str, section: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """A settings page: the left menu (this agent's entries) and the page's own context."""
    context = {"section": section, "menu": visible_menu(desk.agent), **context}
    return render(request, f"web/settings_admin/{template}", context, status=status)


def absolute(request: HttpRequest, path: str) -> str:
    """A link for a mail: PIVOTDESK_BASE_URL when the operator set one, else the host the admin is using."""
    base = str(getattr(settings, "PIVOTDESK_BASE_URL", "") or "").rstrip("/")
    return f"{base}{path}" if base else request.build_absolute_uri(path)
