"""The known notification kinds, their labels (bilingual) and default external channels.

Kinds are free-form strings: anything may be sent. These are the ones the preferences page lists.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

KNOWN_KINDS: dict[str, Promise] = {
    "sla.warning": _("SLA warning: a target is about to be missed"),
    "sla.breach": _("SLA breach: a target was missed"),
    "sla.escalation": _("SLA escalation to you"),
    "routing.assigned": _("A ticket was assigned to you"),
    "ticket.mentioned": _("You were mentioned on a ticket"),
    "workforce.roster": _("Your schedule was published"),
    "workforce.request": _("Shift swaps, leave and overtime requests"),
    "oncall.page": _("On-call pages (quiet hours ignored; the channels you tick go first, the rest are the fallback)"),
    "system.test": _("Test notifications"),
}

# Pages wake someone up: never held back by quiet hours. They go out at once on the channels the person chose for
# pages (every channel when they chose none), and fall back to their other channels one by one when one fails
# (`services.page_first_channels`, `services._fall_back`).
PAGE_KINDS = frozenset({"oncall.page"})

GROUPS: dict[str, Promise] = {
    "sla.*": _("All SLA notifications"),
    "routing.*": _("All routing notifications"),
    "workforce.*": _("All schedule notifications"),
    "oncall.*": _("All on-call notifications"),
    "*": _("Everything else"),
}

# External channels used when an agent has not chosen: email for what is urgent by nature, in-app for the rest.
DEFAULT_CHANNELS: dict[str, list[str]] = {
    "sla.breach": ["email"],
    "sla.escalation": ["email"],
    "*": [],
}


def kind_label(kind: str) -> str:
    label = KNOWN_KINDS.get(kind) or GROUPS.get(kind)
    return str(label) if label is not None else kind
