"""Actions that start something bigger than one change: apply a macro, start an approval flow, start a chain.
Kept apart from `actions` because they call the macro, approval and chain services, which call `actions` back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import F
from django.utils.translation import gettext

from pivotdesk.common.errors import NotFound, ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.tickets.models import Ticket

from ..errors import AutomationErrorCode
from ..models import Macro
from .actions import Context, execute


def _apply_macro(ticket: Ticket, action: Mapping[str, Any], ctx: Context) -> str:
    macro = Macro.objects.filter(workspace_id=ticket.workspace_id, pk=int(action["macro"]), active=True).first()
    if macro is None:
        raise NotFound(gettext("The macro no longer exists."), code=AutomationErrorCode.NOT_FOUND)
    inner = [a for a in macro.actions or [] if a.get("type") != "apply_macro"]  # a macro never applies a macro
    results = execute(ticket, inner, ctx)
    Macro.objects.filter(pk=macro.pk).update(usage_count=F("usage_count") + 1, last_used_at=now())
    failed = [r for r in results if not r.get("ok")]
    if failed:
        raise ValidationFailed(str(failed[0].get("detail") or ""), code=AutomationErrorCode.INVALID_ACTIONS)
    return macro.name


def _start_approval(ticket: Ticket, action: Mapping[str, Any], ctx: Context) -> str:
    from .approvals import approval_start_for_rule

    return approval_start_for_rule(ticket=ticket, flow_id=int(action["flow"]), actor=ctx.actor)


def _start_chain(ticket: Ticket, action: Mapping[str, Any], ctx: Context) -> str:
    from .chains import chain_start_for_rule

    return chain_start_for_rule(
        ticket=ticket,
        template_id=int(action["template"]),
        key=str(action.get("key") or ""),
        actor=ctx.actor,
        values=ctx.values,
    )


def _appease(ticket: Ticket, action: Mapping[str, Any], ctx: Context) -> str:
    from .appeasement import run

    return run(ticket, action, ctx)


RUN = {
    "apply_macro": _apply_macro,
    "start_approval": _start_approval,
    "start_chain": _start_chain,
    "appease": _appease,
}


def run_action(kind: str, ticket: Ticket, action: Mapping[str, Any], ctx: Context) -> str:
    return RUN[kind](ticket, action, ctx)
