"""Approval notifications, rendered in the reader's language when shown or sent (rule 14)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from pivotdesk.notifications.models import Notification
from pivotdesk.notifications.render import Rendered, register


def _render_approval(n: Notification) -> Rendered | None:
    data: dict[str, Any] = n.data or {}
    number = data.get("number")
    if not isinstance(number, int):
        return None
    values = {
        "number": number,
        "subject": str(data.get("subject") or ""),
        "flow": str(data.get("flow") or ""),
        "stage": str(data.get("stage") or ""),
    }
    title = gettext("Approval needed: #%(number)s %(subject)s") % values
    body = gettext("“%(flow)s”, stage “%(stage)s”: open the link to approve, reject or request changes.") % values
    return Rendered(title=title, body=f"{body}\n{n.url}" if n.url else body)


register("automation.approval", _render_approval)
