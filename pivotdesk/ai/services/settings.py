"""The AI settings a workspace's administrators change on screen (workspace.settings["ai"], the AI app's section).

Today: the out-of-scope operating point, "flag at most X % of normal traffic as out of scope", which the
out-of-scope detector reads as `out_of_scope_rate` (a percentage).
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.ai.errors import AIErrorCode
from pivotdesk.common.errors import ValidationFailed

# The detector's default operating point (pivotdesk.ai.domain.scope.DEFAULT_FLAG_RATE) in percent; not imported from
# there, which would load scikit-learn and scipy with the URLs (a test checks they agree).
OUT_OF_SCOPE_RATE_DEFAULT = 3.0
OUT_OF_SCOPE_RATE_MIN = 0.5
OUT_OF_SCOPE_RATE_MAX = 20.0


def out_of_scope_rate(workspace: Workspace) -> float:
    """The workspace's out-of-scope rate in percent (the default when unset or unreadable)."""
    return rate_from(workspace.settings or {})


def rate_from(workspace_settings: dict[str, Any]) -> float:
    """The out-of-scope rate in percent from a workspace's settings (or from their "ai" section itself)."""
    ai = workspace_settings.get("ai", workspace_settings)
    value = ai.get("out_of_scope_rate") if isinstance(ai, dict) else None
    try:
        rate = float(value) if value is not None else OUT_OF_SCOPE_RATE_DEFAULT
    except (TypeError, ValueError):
        return OUT_OF_SCOPE_RATE_DEFAULT
    if not math.isfinite(rate) or not OUT_OF_SCOPE_RATE_MIN <= rate <= OUT_OF_SCOPE_RATE_MAX:
        return OUT_OF_SCOPE_RATE_DEFAULT
    return rate


def _rate(value: Any) -> float:
    invalid = ValidationFailed(
        gettext("The out-of-scope share must be a percentage between %(min)s and %(max)s.")
        % {"min": "0.5", "max": "20"},
        code=AIErrorCode.INVALID_VALUE,
        details={"out_of_scope_rate": "out_of_range"},
    )
    if isinstance(value, bool):
        raise invalid
    try:
        number = Decimal(str(value).strip().rstrip("%").strip().replace(",", "."))
    except InvalidOperation:
        raise invalid from None
    if not number.is_finite() or not OUT_OF_SCOPE_RATE_MIN <= number <= OUT_OF_SCOPE_RATE_MAX:
        raise invalid
    return round(float(number), 2)


@transaction.atomic
def ai_settings_update(*, actor: Actor, workspace: Workspace, out_of_scope_rate: Any) -> Workspace:
    """Set the share of normal traffic the out-of-scope detector may flag (percent, 0.5–20). AI_CONFIGURE."""
    authorize(actor, Perm.AI_CONFIGURE, workspace_id=workspace.pk)
    rate = _rate(out_of_scope_rate)
    locked = Workspace.objects.select_for_update().get(pk=workspace.pk)
    settings = dict(locked.settings or {})
    ai = dict(settings.get("ai") or {}) if isinstance(settings.get("ai"), dict) else {}
    ai["out_of_scope_rate"] = rate
    settings["ai"] = ai
    locked.settings = settings
    locked.save(update_fields=["settings", "updated_at"])
    workspace.settings = settings
    return locked
