"""Login and logout, the workspace switcher, the agent's presence, and the agent's API tokens."""

from __future__ import annotations

import time
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from pivotdesk.accounts import services as account_services
from pivotdesk.accounts import two_factor
from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.api_auth import SESSION_WORKSPACE_KEY
from pivotdesk.accounts.login_throttle import ThrottledAuthenticationForm
from pivotdesk.accounts.models import TokenScope, User
from pivotdesk.accounts.permissions import Perm, can
from pivotdesk.accounts.selectors import memberships_for_user, token_list
from pivotdesk.common.errors import NotFound, PermissionDenied, ValidationFailed
from pivotdesk.common.ratelimit import client_ip
from pivotdesk.web import selectors as web_selectors
from pivotdesk.web.base import Desk, agent_view, int_or_none, redirect_next

# The password step of a user with two-factor sign-in leaves this in the session for the code step (user id, when,
# where to go, which backend); it is good for PENDING_SECONDS.
PENDING_KEY = "pd_2fa_pending"
PENDING_SECONDS = 5 * 60


class LoginView(auth_views.LoginView):
    """The login form; a logged-in user goes straight to the queue. A user with two-factor sign-in is not logged in
    by the password: the code step (`login_verify`) finishes the sign-in."""

    template_name = "web/account/login.html"
    redirect_authenticated_user = True
    authentication_form = ThrottledAuthenticationForm

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if not two_factor.two_factor_enabled(user):
            return super().form_valid(form)
        self.request.session.cycle_key()
        self.request.session[PENDING_KEY] = {
            "user": user.pk,
            "at": time.time(),
            "next": self.get_success_url(),
            "backend": getattr(user, "backend", ""),
        }
        return redirect("web:login_verify")


login_view = LoginView.as_view()


@never_cache
def login_verify(request: HttpRequest) -> HttpResponse:
    """The second step of a sign-in with two-factor: a code from the authenticator app or a recovery code."""
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        messages.info(request, _("Please sign in again."))
        return redirect("web:login")
    user = User.objects.filter(pk=int(pending.get("user") or 0), is_active=True).first()
    if user is None:
        request.session.pop(PENDING_KEY, None)
        return redirect("web:login")
    error = ""
    if request.method == "POST":
        try:
            ok = two_factor.two_factor_verify(
                actor=Actor.system("login"), user=user, code=request.POST.get("code", ""), address=client_ip(request)
            )
        except PermissionDenied as exc:
            ok, error = False, str(exc)
        if ok:
            request.session.pop(PENDING_KEY, None)
            login(request, user, backend=str(pending.get("backend") or "") or None)
            target = str(pending.get("next") or "")
            safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
            return HttpResponseRedirect(target if safe and target else reverse("web:home"))
        error = error or _("That code is not right. Type the 6-digit code your app shows now.")
    status = 400 if error else 200
    return render(
        request, "web/account/login_verify.html", {"error": error, "username": user.get_username()}, status=status
    )


def _setup_context(user: User, secret: str) -> dict[str, Any]:
    uri = two_factor.provisioning_uri(user, secret)
    # An SVG drawing made by segno (paths only, no script); the otpauth URI is in the picture, not in the markup.
    svg = segno.make(uri, error="m").svg_inline(scale=5, dark="#111827")
    return {
        "qr_svg": mark_safe(svg),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "confirming": True,
    }


@agent_view
def security(request: HttpRequest, desk: Desk) -> HttpResponse:
    """The agent's two-factor sign-in: set up an authenticator app (QR code, confirm with a code, recovery codes
    shown once) or turn it off with a code."""
    user = desk.agent.user
    context: dict[str, Any] = {"enabled": two_factor.two_factor_enabled(user)}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "begin":
                _device, secret = two_factor.two_factor_begin(actor=desk.actor, user=user)
                context.update(_setup_context(user, secret))
            elif action == "confirm":
                context["recovery_codes"] = two_factor.two_factor_confirm(
                    actor=desk.actor, user=user, code=request.POST.get("code", "")
                )
                context["enabled"] = True
                messages.success(request, _("Two-factor sign-in is on."))
            elif action == "disable":
                two_factor.two_factor_disable(actor=desk.actor, user=user, code=request.POST.get("code", ""))
                context["enabled"] = False
                messages.success(request, _("Two-factor sign-in is off."))
        except ValidationFailed as exc:
            context["error"], status = str(exc), 400
            pending = two_factor.pending_secret(user) if action == "confirm" else None
            if pending:
                context.update(_setup_context(user, pending))
    response = render(request, "web/account/security.html", context, status=status)
    response["Cache-Control"] = "no-store"  # the secret and the recovery codes are shown once
    return response


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
