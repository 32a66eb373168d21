"""A notification's title and body in the reader's language, rendered when it is shown or sent (rule 14).

A notification stores its kind and its facts (`data`: SLA metric, warning label, due time, escalation level; the
ticket by reference) and, as a fallback, the text its sender gave. The web UI renders in the request's language;
email and apprise messages in the recipient's (`recipient_language`). A kind without a renderer here, or a row
without the facts its renderer needs (written before facts were stored, and not parsed by the data migration),
shows its stored text. Apps above may add kinds with `register`.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from pivotdesk.accounts.models import AgentProfile
    from pivotdesk.notifications.models import Notification


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str


Renderer = Callable[["Notification"], Rendered | None]
_RENDERERS: dict[str, Renderer] = {}

METRICS: dict[str, Promise] = {
    "first_reply": _("first reply"),
    "next_reply": _("next reply"),
    "periodic_update": _("periodic update"),
    "resolution": _("resolution"),
}
_MINUTES_BEFORE = re.compile(r"^(\d+) min before$")


def register(kind: str, renderer: Renderer) -> None:
    """Render notifications of `kind` with `renderer` (returns None to fall back to the stored text)."""
    _RENDERERS[kind] = renderer


def render(n: Notification) -> Rendered:
    """The notification's title and body in the active language (the stored text when it cannot be rendered)."""
    renderer = _RENDERERS.get(n.kind)
    rendered = renderer(n) if renderer is not None else None
    return rendered or Rendered(title=n.title or n.kind, body=n.body)


def render_in(n: Notification, language: str) -> Rendered:
    """The notification in the given language (email and IM messages: the recipient's)."""
    with translation.override(language):
        return render(n)


def recipient_language(agent: AgentProfile | None) -> str:
    """The language an agent reads messages in: their own preference, else their workspace's, else Chinese."""
    known = {code for code, _name in settings.LANGUAGES}
    candidates: list[str] = []
    if agent is not None:
        candidates.append(str(getattr(agent.user, "preferred_language", "") or ""))
        candidates.append(str(getattr(agent.workspace, "default_language", "") or ""))
    for candidate in candidates:
        code = candidate.strip().lower().replace("_", "-")
        if code in known:
            return code
        if code.startswith("zh"):
            return "zh-hans"
        if code.startswith("en"):
            return "en"
    return "zh-hans"


# --- the built-in kinds -----------------------------------------------------------------------------------------


def _ticket_facts(n: Notification) -> tuple[int, str] | None:
    data: dict[str, Any] = n.data or {}
    ticket = n.ticket if n.ticket_id is not None else None
    if ticket is not None:
        return ticket.number, ticket.subject
    number = data.get("number")
    if isinstance(number, int):
        return number, str(data.get("subject") or "")
    return None


def _metric(code: object) -> str:
    label = METRICS.get(str(code))
    return str(label) if label is not None else str(code)


def _warning_label(label: object) -> str:
    text = str(label or "")
    match = _MINUTES_BEFORE.match(text)
    if match:
        return gettext("%(minutes)s min before") % {"minutes": match.group(1)}
    return text


def _due(n: Notification) -> str:
    """The due time as "14:00" (same day as the notification) or "03-02 14:00", in the stored time zone."""
    data: dict[str, Any] = n.data or {}
    raw = data.get("due_at")
    if isinstance(raw, str) and raw:
        try:
            at = dt.datetime.fromisoformat(raw)
        except ValueError:
            return str(data.get("due_text") or "—")
        zone_name = str(data.get("time_zone") or "")
        if not zone_name and n.recipient_id is not None and n.recipient is not None:
            zone_name = n.recipient.time_zone
        try:
            zone = zoneinfo.ZoneInfo(zone_name or settings.TIME_ZONE)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo("UTC")
        local = at.astimezone(zone)
        created = n.created_at.astimezone(zone) if n.created_at else None
        return local.strftime("%H:%M") if created and created.date() == local.date() else local.strftime("%m-%d %H:%M")
    return str(data.get("due_text") or "—")


def _sla(n: Notification) -> Rendered | None:
    data: dict[str, Any] = n.data or {}
    facts = _ticket_facts(n)
    if facts is None or not data.get("metric"):
        return None
    number, subject = facts
    values = {
        "metric": _metric(data["metric"]),
        "number": number,
        "label": _warning_label(data.get("label")),
        "due": _due(n),
        "level": data.get("level") or "?",
    }
    if n.kind == "sla.warning":
        title = gettext("SLA warning (%(label)s): %(metric)s of #%(number)s due %(due)s") % values
    elif n.kind == "sla.breach":
        title = gettext("SLA breached: %(metric)s of #%(number)s (due %(due)s)") % values
    else:
        title = gettext("SLA escalation level %(level)s: %(metric)s of #%(number)s breached (due %(due)s)") % values
    return Rendered(title=title, body=f"#{number} {subject}")


def _assigned(n: Notification) -> Rendered | None:
    facts = _ticket_facts(n)
    if facts is None:
        return None
    number, subject = facts
    title = gettext("Ticket #%(number)s was assigned to you: %(subject)s") % {"number": number, "subject": subject}
    return Rendered(title=title, body=n.body)


def _mentioned(n: Notification) -> Rendered | None:
    facts = _ticket_facts(n)
    by = (n.data or {}).get("by")
    if facts is None or not isinstance(by, str):
        return None
    number, subject = facts
    title = gettext("%(name)s mentioned you on #%(number)s: %(subject)s") % {
        "name": by,
        "number": number,
        "subject": subject,
    }
    return Rendered(title=title, body=n.body)


def _test(n: Notification) -> Rendered | None:
    label = (n.data or {}).get("target")
    if not isinstance(label, str):
        return None
    return Rendered(
        title=gettext("PivotDesk test notification"),
        body=gettext("If you can read this, %(label)s receives PivotDesk notifications.") % {"label": label},
    )


for _kind in ("sla.warning", "sla.breach", "sla.escalation"):
    register(_kind, _sla)
register("routing.assigned", _assigned)
register("ticket.mentioned", _mentioned)
register("system.test", _test)
