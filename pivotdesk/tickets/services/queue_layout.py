"""The queue's columns per agent (the column chooser)."""

from __future__ import annotations

from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.common.errors import PermissionDenied, ValidationFailed
from pivotdesk.tickets.models import QueueLayout

#: Every column the queue can show, in their order; the subject is always shown.
QUEUE_COLUMNS = (
    "number",
    "subject",
    "requester",
    "status",
    "priority",
    "assignee",
    "team",
    "channel",
    "sla",
    "updated",
)
ALWAYS = ("subject",)
DEFAULT_COLUMNS = QUEUE_COLUMNS


def queue_columns_save(*, actor: Actor, agent: AgentProfile, columns: list[str]) -> QueueLayout:
    """Keep the columns the agent chose (known names, in the queue's order, the subject always among them)."""
    authorize(actor, Perm.TICKET_VIEW, workspace_id=agent.workspace_id)
    if actor.agent is not None and not actor.is_agent(agent.pk):
        raise PermissionDenied(gettext("An agent chooses their own queue columns."))
    unknown = sorted(set(columns) - set(QUEUE_COLUMNS))
    if unknown:
        raise ValidationFailed(
            gettext("Unknown column: %(names)s.") % {"names": ", ".join(unknown)}, details={"columns": QUEUE_COLUMNS}
        )
    chosen = [c for c in QUEUE_COLUMNS if c in set(columns) | set(ALWAYS)]
    layout, _ = QueueLayout.objects.update_or_create(
        agent=agent, defaults={"workspace_id": agent.workspace_id, "columns": chosen}
    )
    return layout
