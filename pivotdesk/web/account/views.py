"""Login and logout, the workspace switcher, the agent's presence, and the agent's API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pivotdesk.accounts import services as account_services
from pivotdesk.accounts.api_auth import SESSION_WORKSPACE_KEY
from pivotdesk.accounts.login_throttle import ThrottledAuthenticationForm
from pivotdesk.accounts.models import TokenScope
from pivotdesk.accounts.permissions import Perm, can
from pivotdesk.accounts.selectors import memberships_for_user, token_list
from pivotdesk.common.errors import NotFound, ValidationFailed
from pivotdesk.web import selectors as web_selectors
from pivotdesk.web.base import Desk, agent_view, int_or_none, redirect_next


class LoginView(auth_views.LoginView):
    """The login form; a logged-in user goes straight to the queue."""

    template_name = "web/account/login.html"
    redirect_authenticated_user = True
    authentication_form = ThrottledAuthenticationForm


login_view = LoginView.as_view()
logout_view = auth_views.LogoutView.as_view()


@require_POST
@agent_view
def switch_workspace(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Make another of the user's workspaces the current one."""
    wanted = int_or_none(request.POST.get("workspace"))
    memberships = memberships_for_user(user=desk.agent.user)
    membership = memberships.filter(workspace_id=wanted).first() if wanted is not None else None
    if membership is None:
        raise NotFound("Workspace not found.")
    request.session[SESSION_WORKSPACE_KEY] = membership.workspace_id
    messages.success(request, _("Switched to %(name)s.") % {"name": membership.workspace.name})
    return redirect_next(request, reverse("web:queue"))


@require_POST
@agent_view
def set_presence(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Set the agent's presence (online / away / offline); HTMX gets the header widget back."""
    agent = account_services.agent_set_status(actor=desk.actor, agent=desk.agent, status=request.POST.get("status", ""))
    if getattr(request, "htmx", False):
        return render(request, "web/partials/presence.html", {"current_agent": agent})
    return redirect_next(request, reverse("web:queue"))


@agent_view
def tokens(request: HttpRequest, desk: Desk) -> HttpResponse:
    """The agent's API tokens; creating one shows its secret once."""
    secret = ""
    created = None
    status = 200
    admin_scope = can(desk.agent, Perm.TOKEN_ADMIN_SCOPE)  # offered only to those the service would allow
    if request.method == "POST":
        name = request.POST.get("name", "").strip()
        if not name:
            raise ValidationFailed(_("A token needs a name."))
        created, secret = account_services.api_token_create(
            actor=desk.actor, agent=desk.agent, name=name, scope=request.POST.get("scope", TokenScope.WRITE)
        )
        status = 201
    context = {
        "tokens": list(token_list(agent=desk.agent)),
        "scopes": [(v, label) for v, label in TokenScope.choices if v != TokenScope.ADMIN or admin_scope],
        "secret": secret,
        "created": created,
    }
    return render(request, "web/account/tokens.html", context, status=status)


@require_POST
@agent_view
def token_revoke(request: HttpRequest, desk: Desk, token_id: int) -> HttpResponse:
    """Revoke one of the agent's own tokens (others' are 404)."""
    token = web_selectors.access_own_token(agent=desk.agent, token_id=token_id)
    account_services.api_token_revoke(actor=desk.actor, token=token)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect_next(request, reverse("web:tokens"))
