"""The settings home: every admin page of the product in one menu, as the gate lets this agent see it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from pivotdesk.common.errors import PermissionDenied
from pivotdesk.web.base import Desk, agent_view
from pivotdesk.web.settings_admin.menu import may_open_settings, visible_menu


@require_GET
@agent_view
def settings_home(request: HttpRequest, desk: Desk) -> HttpResponse:
    """The settings area's first page: the menu's sections as cards with what each page is for."""
    if not may_open_settings(desk.agent):
        raise PermissionDenied(_("Only admins and supervisors configure the workspace."))
    return render(request, "web/settings_admin/home.html", {"section": "home", "menu": visible_menu(desk.agent)})
