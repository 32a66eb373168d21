"""API authentication: per-user tokens (Bearer pd_…) or the UI session; both yield an ApiContext.

Every endpoint reads `request.auth` (an ApiContext): the workspace, the acting agent and the Actor to record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext
from ninja.security import APIKeyCookie, HttpBearer

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.errors import AccountErrorCode
from pivotdesk.accounts.models import AgentProfile, ApiToken, TokenScope, Workspace
from pivotdesk.accounts.selectors import memberships_for_user
from pivotdesk.accounts.services import api_token_authenticate
from pivotdesk.common import ratelimit
from pivotdesk.common.errors import PermissionDenied, RateLimited

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_WORKSPACE_KEY = "pivotdesk_workspace_id"


@dataclass(frozen=True)
class ApiContext:
    """Who is calling, in which workspace, and how to record their changes."""

    workspace: Workspace
    agent: AgentProfile
    actor: Actor
    token: ApiToken | None = None

    @property
    def can_write(self) -> bool:
        return self.token is None or self.token.scope in (TokenScope.WRITE, TokenScope.ADMIN)

    @property
    def has_admin_scope(self) -> bool:
        return self.token is None or self.token.scope == TokenScope.ADMIN


def context(request: HttpRequest) -> ApiContext:
    """The ApiContext of an authenticated API request."""
    auth: Any = getattr(request, "auth", None)
    if not isinstance(auth, ApiContext):
        raise PermissionDenied(gettext("Not authenticated."), code=AccountErrorCode.NOT_AUTHENTICATED)
    return auth


def require_admin_scope(ctx: ApiContext) -> None:
    """Configuration endpoints need a token with the admin scope (sessions pass; roles are checked separately)."""
    if not ctx.has_admin_scope:
        raise PermissionDenied(
            gettext("This endpoint needs a token with the 'admin' scope."), code=AccountErrorCode.INSUFFICIENT_SCOPE
        )


def _check_rate(token: ApiToken) -> None:
    """Requests per token in a sliding minute, counted by the one rate limiter (shared across processes with Redis)."""
    limit = token.rate_limit_per_minute or settings.PIVOTDESK_API_RATE_LIMIT_PER_MINUTE
    verdict = ratelimit.hit(scope="api-token", key=str(token.pk), limit=limit, window_seconds=60)
    if not verdict.allowed:
        raise RateLimited(
            gettext("Rate limit of %(limit)s requests per minute exceeded; retry in %(retry_after)s s.")
            % {"limit": limit, "retry_after": verdict.retry_after},
            details={"limit_per_minute": limit, "retry_after": verdict.retry_after},
        )


class TokenAuth(HttpBearer):
    """`Authorization: Bearer pd_<prefix>_<secret>`."""

    openapi_scheme = "bearer"

    def authenticate(self, request: HttpRequest, token: str) -> ApiContext | None:
        row = api_token_authenticate(raw=token)
        if row is None:
            return None
        _check_rate(row)
        if request.method not in SAFE_METHODS and row.scope == TokenScope.READ:
            raise PermissionDenied(gettext("This token is read-only."), code=AccountErrorCode.INSUFFICIENT_SCOPE)
        return ApiContext(workspace=row.workspace, agent=row.agent, actor=Actor.for_api(row.agent, row.name), token=row)


def workspace_for_session(request: HttpRequest) -> AgentProfile | None:
    """The agent profile of a logged-in user in their current workspace (X-Workspace header, session, or first)."""
    user = request.user
    if not user.is_authenticated:
        return None
    return choose_membership(request, list(memberships_for_user(user=user)))


def choose_membership(request: HttpRequest, profiles: Sequence[AgentProfile]) -> AgentProfile | None:
    """Of a user's active profiles (`memberships_for_user`, one query), the current one: the X-Workspace header's
    workspace, else the session's, else the first. Takes the loaded list so a page that also shows the workspace
    switcher reads the memberships once."""
    wanted = request.headers.get("X-Workspace")
    if wanted:
        return next((p for p in profiles if p.workspace.slug == wanted), None)
    session_ws = request.session.get(SESSION_WORKSPACE_KEY)
    if session_ws:
        found = next((p for p in profiles if str(p.workspace_id) == str(session_ws)), None)
        if found is not None:
            return found
    return profiles[0] if profiles else None


class SessionAuth(APIKeyCookie):
    """The agent UI's session (with CSRF on unsafe methods)."""

    param_name = settings.SESSION_COOKIE_NAME

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiContext | None:
        agent = workspace_for_session(request)
        if agent is None:
            return None
        return ApiContext(workspace=agent.workspace, agent=agent, actor=Actor.for_agent(agent))
