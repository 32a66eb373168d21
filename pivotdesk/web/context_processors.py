"""Template context shared by every page of the agent workspace."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from pivotdesk.accounts.models import AgentStatus


def workspace(request: HttpRequest) -> dict[str, Any]:
    """The current workspace and agent (set by the agent_view decorator), and the user's other workspaces."""
    desk = getattr(request, "desk", None)
    if desk is None:
        return {"current_workspace": None, "current_agent": None, "desk": None}
    return {
        "desk": desk,
        "current_workspace": desk.workspace,
        "current_agent": desk.agent,
        "memberships": list(desk.memberships),
        "agent_statuses": AgentStatus.choices,
        # Live updates (web/live): on unless PIVOTDESK_LIVE_UPDATES is off (the browser suites that wait for an idle
        # network turn it off; an open event stream never lets the network go idle).
        "live_updates": getattr(settings, "PIVOTDESK_LIVE_UPDATES", True),
    }
