"""The customer portal's settings, for admins: the theme (title, colours, logo, custom domain) with a live
preview link, the organization managers (who sees their organization's requests), and the latest customer notices
with their delivery status and reason, and a retry for failed ones. One page, each form posting an `action`; no id
in the URL (ids in the form are looked up in the workspace, 404 otherwise)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from pivotdesk.accounts.permissions import Perm, require
from pivotdesk.common.errors import Conflict, ValidationFailed
from pivotdesk.customers import selectors as customer_selectors
from pivotdesk.portal import selectors as portal_selectors
from pivotdesk.portal.services import admin as portal_admin
from pivotdesk.portal.services import notices as portal_notices
from pivotdesk.web.base import Desk, agent_view, int_or_none

LOGO_FIELD_MAX = 2 * 1024 * 1024
NOTICES_SHOWN = 30


def _page(request: HttpRequest, desk: Desk, *, error: str = "", status: int = 200) -> HttpResponse:
    workspace = desk.workspace
    context: dict[str, Any] = {
        "theme": portal_selectors.theme_for(workspace=workspace),
        "managers": list(portal_selectors.organization_managers(workspace=workspace)),
        "organizations": list(customer_selectors.organization_list(workspace=workspace)[:500]),
        "notices": portal_selectors.recent_notices(workspace=workspace, limit=NOTICES_SHOWN),
        "portal_url": reverse("portal:home", args=[workspace.slug]),
        "error": error,
    }
    return render(request, "web/portal_settings/page.html", context, status=status)


@require_http_methods(["GET", "POST"])
@agent_view
def portal_settings(request: HttpRequest, desk: Desk) -> HttpResponse:
    """The portal's settings page; a POST saves the theme, adds or removes a manager, or retries a notice."""
    require(desk.agent, Perm.WORKSPACE_CONFIGURE)
    if request.method != "POST":
        return _page(request, desk)
    action = request.POST.get("action", "")
    try:
        if action == "theme":
            _save_theme(request, desk)
            messages.success(request, _("Portal theme saved."))
        elif action == "manager_add":
            _add_manager(request, desk)
            messages.success(request, _("Organization manager added."))
        elif action == "manager_remove":
            manager = portal_selectors.access_manager(
                workspace=desk.workspace, manager_id=int_or_none(request.POST.get("manager")) or 0
            )
            portal_admin.organization_manager_remove(actor=desk.actor, manager=manager)
            messages.success(request, _("Organization manager removed."))
        elif action == "notice_retry":
            notice = portal_selectors.access_notice(
                workspace=desk.workspace, notice_id=int_or_none(request.POST.get("notice")) or 0
            )
            portal_notices.notice_retry(actor=desk.actor, notice=notice)
            messages.success(request, _("Notice sent again."))
        else:
            raise ValidationFailed(_("Unknown action."))
    except (ValidationFailed, Conflict) as exc:
        return _page(request, desk, error=exc.message, status=exc.status_code)
    return HttpResponseRedirect(reverse("web:portal_settings"))


def _save_theme(request: HttpRequest, desk: Desk) -> None:
    upload = request.FILES.get("logo")
    logo = None
    if upload is not None:
        if (upload.size or 0) > LOGO_FIELD_MAX:
            raise ValidationFailed(_("The logo is larger than 512 KB."))
        logo = (upload.name or "logo", upload.read())
    portal_admin.theme_save(
        actor=desk.actor,
        workspace=desk.workspace,
        title=request.POST.get("title", "")[:120],
        title_zh=request.POST.get("title_zh", "")[:120],
        primary_color=request.POST.get("primary_color", "")[:20],
        accent_color=request.POST.get("accent_color", "")[:20],
        custom_domain=request.POST.get("custom_domain", "")[:253],
        logo=logo,
        remove_logo=request.POST.get("remove_logo") == "1",
    )


def _add_manager(request: HttpRequest, desk: Desk) -> None:
    organization = customer_selectors.access_organization(
        workspace=desk.workspace, organization_id=int_or_none(request.POST.get("organization")) or 0
    )
    address = request.POST.get("contact", "").strip()[:200]
    contact, _kind = portal_selectors.contact_for_address(workspace=desk.workspace, address=address)
    if contact is None:
        raise ValidationFailed(_("No customer has this e-mail address or phone number."))
    portal_admin.organization_manager_add(actor=desk.actor, contact=contact, organization=organization)
