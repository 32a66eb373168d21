"""Page notifications, rendered in the reader's language when shown or sent (rule 14)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from pivotdesk.notifications.models import Notification
from pivotdesk.notifications.render import Rendered, register


def _render_page(n: Notification) -> Rendered | None:
    data: dict[str, Any] = n.data or {}
    number = data.get("number")
    if not isinstance(number, int):
        return None
    values = {"number": number, "subject": str(data.get("subject") or ""), "level": int(data.get("level", 0)) + 1}
    if data.get("exhausted"):
        title = gettext("Nobody acknowledged the page for #%(number)s: %(subject)s") % values
    else:
        title = gettext("On-call page (level %(level)s): #%(number)s %(subject)s") % values
    body = gettext("Open the link to acknowledge (the ticket becomes yours) or resolve.")
    return Rendered(title=title, body=body)


register("oncall.page", _render_page)
