"""URLs of the account screens (joined into the `web` namespace by `pivotdesk.web.urls`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from pivotdesk.web.account import views as account

urlpatterns: list[URLPattern] = [
    path("login/", account.login_view, name="login"),
    path("login/verify/", account.login_verify, name="login_verify"),
    path("account/security/", account.security, name="security"),
    path("logout/", account.logout_view, name="logout"),
    path("workspace/switch/", account.switch_workspace, name="switch_workspace"),
    path("presence/", account.set_presence, name="presence"),
    path("tokens/", account.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", account.token_revoke, name="token_revoke"),
]
