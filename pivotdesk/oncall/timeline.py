"""The night-duty events of a ticket's timeline in words, in the reader's language (used by the desk's timeline)."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from pivotdesk.accounts.models import AgentProfile
from pivotdesk.tickets.models import TicketEvent


def _names(ids: object) -> str:
    if not isinstance(ids, list) or not ids:
        return "—"
    found = {a.pk: a.name for a in AgentProfile.objects.filter(pk__in=[i for i in ids if isinstance(i, int)])}
    return "、".join(found.get(i, "?") for i in ids if isinstance(i, int))


def oncall_sentence(event: TicketEvent, actor: str) -> SafeString | None:
    data = event.data or {}
    verb = event.verb
    if verb == "oncall_paged":
        partners = data.get("partners") or []
        return format_html(
            _("On-call page, level {level}: {people}{partners}"),
            level=data.get("level", 1),
            people=_names(data.get("agents")),
            partners=_(" and a partner provider") if partners else "",
        )
    if verb == "oncall_delivery":
        return _delivery_sentence(data)
    if verb == "oncall_acknowledged":
        if data.get("partner"):
            return format_html(_("Partner {partner} acknowledged the page"), partner=data["partner"])
        return format_html(_("{actor} acknowledged the page: the escalation stopped"), actor=actor)
    if verb == "oncall_resolved":
        return format_html(_("{actor} resolved the page"), actor=actor)
    if verb == "oncall_exhausted":
        return format_html(
            _("Nobody acknowledged the page after {cycles} rounds: the fallback team was told"),
            cycles=data.get("cycles", 1),
        )
    if verb.startswith("after_hours_"):
        return _after_hours_sentence(verb, data)
    if verb.startswith("partner_"):
        from pivotdesk.oncall.partner_views import timeline_sentence

        return timeline_sentence(event, actor)
    return None


def _channel(value: object) -> str:
    from pivotdesk.notifications.models import DeliveryChannel

    return str(DeliveryChannel(value).label) if value in DeliveryChannel.values else str(value or "—")


def _delivery_sentence(data: dict[str, object]) -> SafeString:
    """One delivery attempt of a page: sent, or failed with the reason and the channel it fell back to."""
    from pivotdesk.common.delivery_errors import describe

    person = _names([data.get("recipient")])
    where = format_html(
        "{channel} ({destination})", channel=_channel(data.get("channel")), destination=data.get("destination") or "—"
    )
    if data.get("ok"):
        return format_html(_("The page reached {person} by {where}"), person=person, where=where)
    sentence = format_html(
        _("The page to {person} by {where} failed (attempt {attempt}): {reason}"),
        person=person,
        where=where,
        attempt=data.get("attempt") or 1,
        reason=describe(str(data.get("error") or "")),
    )
    fallback = data.get("fallback")
    if isinstance(fallback, dict):
        sentence = format_html(
            _("{sentence}; falling back to {channel} ({destination})"),
            sentence=sentence,
            channel=_channel(fallback.get("channel")),
            destination=fallback.get("destination") or "—",
        )
    return sentence


def _after_hours_sentence(verb: str, data: dict[str, object]) -> SafeString | None:
    if verb == "after_hours_reply":
        if data.get("paged"):
            return format_html(_("The after-hours bot answered the customer and said the on-call engineer was paged"))
        return format_html(_("The after-hours bot answered the customer"))
    if verb == "after_hours_person":
        return format_html(
            _("The customer asked the after-hours bot for a person: tagged {tag} and told when a person answers"),
            tag="转人工",
        )
    return None
