"""Django's admin, for the operators of the installation only (issue 11, finding 3).

The admin acts across every workspace as the system does (`Actor.for_site_admin`), so it belongs to superusers:
`is_staff` alone opens nothing, and no workspace role does either — a workspace admin configures their workspace in
the agent UI, where the permission gate decides by their role in that workspace.
"""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django.http import HttpRequest


class OperatorAdminSite(AdminSite):
    """The admin site that only active superusers may open (its login form, set in `accounts/admin.py`, admits
    only them too: `login_throttle.ThrottledAdminAuthenticationForm`)."""

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_superuser)
