"""The invitation link (public: the link's secret is the authority). A new person chooses a username and a
password; someone who already has an account signs in as the invited address and joins with one click."""

from __future__ import annotations

from typing import cast

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from pivotdesk.accounts import services as account_services
from pivotdesk.accounts.api_auth import SESSION_WORKSPACE_KEY
from pivotdesk.accounts.models import Role, User
from pivotdesk.common.errors import DomainError, NotFound, ValidationFailed
from pivotdesk.web.base import error_response
from pivotdesk.web.settings_admin import forms


@never_cache
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Show the invitation (workspace, role, who sent it) and accept it; a used, withdrawn or expired link says so
    plainly (410), an unknown one is a 404."""
    try:
        invitation = account_services.invitation_for_token(token)
    except DomainError as exc:
        return error_response(request, exc.message, status=exc.status_code)
    signed_in = request.user if request.user.is_authenticated else None
    has_account = User.objects.filter(email__iexact=invitation.email).exists()
    matches = signed_in is not None and (signed_in.email or "").strip().lower() == invitation.email.lower()
    error = ""
    status = 200
    values = {"username": invitation.email.split("@", 1)[0][:150], "display_name": ""}
    if request.method == "POST" and signed_in is not None and not matches:
        error, status = (
            _("This invitation is for %(email)s: sign in with that account.") % {"email": invitation.email},
            403,
        )
    elif request.method == "POST":
        try:
            if matches:
                profile = account_services.invitation_accept(token=token, user=cast(User, signed_in))
            else:
                values = {
                    "username": forms.text(request.POST, "username", limit=150, required=True, label=_("Username")),
                    "display_name": forms.text(request.POST, "display_name", limit=150, label=_("Your name")),
                }
                password = request.POST.get("password", "")
                if password != request.POST.get("password2", ""):
                    raise ValidationFailed(_("The two passwords differ."), details={"password2": "mismatch"})
                profile = account_services.invitation_accept(
                    token=token,
                    username=values["username"],
                    password=password.replace("\x00", ""),
                    display_name=values["display_name"],
                    language=(get_language() or "")[:16],
                )
                user = profile.user
                login(request, user, backend="pivotdesk.accounts.login_throttle.ThrottledModelBackend")
            request.session[SESSION_WORKSPACE_KEY] = profile.workspace_id
            return redirect("web:queue")
        except NotFound:
            return error_response(request, _("This invitation link is not valid."), status=404)
        except DomainError as exc:
            if exc.status_code == 410:
                return error_response(request, exc.message, status=410)
            error, status = exc.message, exc.status_code
    login_url = f"{reverse('web:login')}?{urlencode({'next': request.path})}"
    return render(
        request,
        "web/settings_admin/invite_accept.html",
        {
            "invitation": invitation,
            "role": Role(invitation.role).label,
            "signed_in": signed_in,
            "matches": matches,
            "has_account": has_account,
            "login_url": login_url,
            "error": error,
            "values": values,
        },
        status=status,
    )
