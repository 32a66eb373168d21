"""What the automation screens share: the permission check, finding a rule of this workspace, the saved message."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _

from pivotdesk.accounts.permissions import Perm, require
from pivotdesk.automation.errors import AutomationErrorCode
from pivotdesk.automation.models import Rule
from pivotdesk.common.errors import NotFound
from pivotdesk.web.base import Desk, int_or_none


def manage(desk: Desk) -> None:
    """The rule screens show only to those the rules services accept (supervisors and admins)."""
    require(desk.agent, Perm.AUTOMATION_MANAGE)


def get_rule(desk: Desk, rule_id: Any) -> Rule:
    """A rule of the desk's workspace, or 404 (another workspace's rule is not told apart from none)."""
    rule = Rule.objects.filter(pk=int_or_none(rule_id) or 0, workspace=desk.workspace).first()
    if rule is None:
        raise NotFound(_("Not found."), code=AutomationErrorCode.NOT_FOUND)
    return rule


def saved(request: HttpRequest, url: str, message: str = "") -> HttpResponse:
    messages.success(request, message or _("Saved."))
    return HttpResponseRedirect(url)
