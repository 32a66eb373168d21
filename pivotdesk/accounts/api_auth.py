"""API authentication: per-user tokens (Bearer pd_…) or the UI session; both yield an ApiContext.

Every endpoint reads `request.auth` (an ApiContext): the workspace, the acting agent and the Actor to record.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, ApiToken, TokenScope, Workspace
from pivotdesk.accounts.selectors import memberships_for_user
from pivotdesk.accounts.services import api_token_authenticate
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
        raise PermissionDenied("Not authenticated.", code="not_authenticated")
    return auth


def require_admin_scope(ctx: ApiContext) -> None:
    """Configuration endpoints need a token with the admin scope (sessions pass; roles are checked separately)."""
    if not ctx.has_admin_scope:
        raise PermissionDenied("This endpoint needs a token with the 'admin' scope.", code="insufficient_scope")


def _check_rate(token: ApiToken) -> None:
    """A fixed one-minute window per token, counted in the cache (shared across processes with Redis)."""
    limit = token.rate_limit_per_minute or settings.PIVOTDESK_API_RATE_LIMIT_PER_MINUTE
    window = int(time.time() // 60)
    key = f"pd:rl:{token.pk}:{window}"
    if cache.add(key, 1, timeout=70):
        return
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=70)
        return
    if count > limit:
        raise RateLimited(
            f"Rate limit of {limit} requests per minute exceeded; retry in {60 - int(time.time()) % 60} s.",
            details={"limit_per_minute": limit},
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
            raise PermissionDenied("This token is read-only.", code="insufficient_scope")
        return ApiContext(workspace=row.workspace, agent=row.agent, actor=Actor.for_api(row.agent, row.name), token=row)


def workspace_for_session(request: HttpRequest) -> AgentProfile | None:
    """The agent profile of a logged-in user in their current workspace (X-Workspace header, session, or first)."""
    user = request.user
    if not user.is_authenticated:
        return None
    profiles = memberships_for_user(user=user)  # type: ignore[arg-type]
    wanted = request.headers.get("X-Workspace")
    if wanted:
        return profiles.filter(workspace__slug=wanted).first()
    session_ws = request.session.get(SESSION_WORKSPACE_KEY)
    if session_ws:
        found = profiles.filter(workspace_id=session_ws).first()
        if found is not None:
            return found
    return profiles.first()


class SessionAuth(APIKeyCookie):
    """The agent UI's session (with CSRF on unsafe methods)."""

    param_name = settings.SESSION_COOKIE_NAME

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiContext | None:
        agent = workspace_for_session(request)
        if agent is None:
            return None
        return ApiContext(workspace=agent.workspace, agent=agent, actor=Actor.for_agent(agent))
