"""What every agent-workspace view shares: who is asking (the Desk), login, and domain errors shown readably."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Concatenate

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.api_auth import choose_membership
from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.accounts.permissions import Perm, can
from pivotdesk.accounts.selectors import memberships_for_user
from pivotdesk.common.errors import DomainError, NotFound

PAGE_SIZE = 50


@dataclass(frozen=True)
class Desk:
    """The logged-in agent in their current workspace, and the actor their changes are recorded under."""

    agent: AgentProfile
    workspace: Workspace
    actor: Actor
    memberships: tuple[AgentProfile, ...] = ()  # the user's active profiles (the workspace switcher)

    @property
    def is_admin(self) -> bool:
        """Whether the agent administers this workspace: its role here, never Django's `is_staff`/`is_superuser`."""
        return can(self.agent, Perm.WORKSPACE_CONFIGURE)


type DeskView = Callable[Concatenate[HttpRequest, Desk, ...], HttpResponseBase]


def agent_view(view: DeskView) -> Callable[..., HttpResponseBase]:
    """Require a logged-in agent of a workspace; pass the Desk; turn domain errors into readable 4xx responses."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            if getattr(request, "htmx", False):
                response = HttpResponse(status=401)
                response["HX-Redirect"] = reverse("web:login")
                return response
            return redirect_to_login(request.get_full_path(), reverse("web:login"))
        # One query for the current profile and the switcher's list; the profile's user is the request's user.
        memberships = tuple(memberships_for_user(user=request.user))
        for membership in memberships:
            membership.user = request.user
        agent = choose_membership(request, memberships)
        if agent is None:
            return error_response(request, _("You are not a member of any workspace."), status=403)
        desk = Desk(agent=agent, workspace=agent.workspace, actor=Actor.for_agent(agent), memberships=memberships)
        request.desk = desk  # type: ignore[attr-defined]  # read by the context processor
        try:
            return view(request, desk, *args, **kwargs)
        except DomainError as exc:
            return error_response(request, _translated_error(exc), status=exc.status_code)

    return wrapper


def _translated_error(exc: DomainError) -> str:
    """The message shown to the person, once: the domain's own (translated where it was raised). A missing object
    gets one wording that does not tell "another workspace's" from "none"; a permission's code is never shown
    (it stays in `details` for the API)."""
    if isinstance(exc, NotFound):
        return str(_("Not found: it does not exist, or it belongs to another workspace."))
    return exc.message


def error_response(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    """A full error page, or a toast fragment for HTMX requests, with the given 4xx status."""
    if getattr(request, "htmx", False):
        return render(request, "web/partials/toast.html", {"message": message, "level": "error"}, status=status)
    return render(request, "web/error.html", {"message": message, "status": status}, status=status)


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The `next` parameter if it is a local URL, else the fallback."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def redirect_next(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(safe_next(request, fallback))


# Ids and page numbers from form input stay within a signed 64-bit integer: the database driver overflows beyond.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def int_or_none(value: Any) -> int | None:
    """An int from form input, or None when empty, not a number, or beyond 64 bits (no database could hold it)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if INT64_MIN <= number <= INT64_MAX else None
