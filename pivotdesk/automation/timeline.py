"""The automation events of a ticket's timeline in words, in the reader's language (used by the desk's timeline)."""

from __future__ import annotations

from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pivotdesk.tickets.models import TicketEvent

ACTION_WORDS = {
    "set": gettext_lazy("set a field"),
    "add_tags": gettext_lazy("added tags"),
    "remove_tags": gettext_lazy("removed tags"),
    "assign": gettext_lazy("assigned"),
    "follow": gettext_lazy("added a follower"),
    "reply": gettext_lazy("replied to the customer"),
    "note": gettext_lazy("left a note"),
    "notify": gettext_lazy("notified"),
    "webhook": gettext_lazy("called the webhooks"),
    "create_linked": gettext_lazy("opened a linked ticket"),
    "start_approval": gettext_lazy("started an approval"),
    "start_chain": gettext_lazy("started a chain"),
    "apply_macro": gettext_lazy("applied a macro"),
    "appease": gettext_lazy("started appeasement"),
}


def _word(kind: Any) -> str:
    return str(ACTION_WORDS.get(str(kind), kind))


def automation_sentence(event: TicketEvent, actor: str) -> SafeString | None:
    data = event.data or {}
    if event.verb.startswith("approval_"):
        return approval_sentence(event.verb, data, actor)
    if event.verb.startswith("chain_"):
        return chain_sentence(event.verb, data)
    if event.verb != "automation_fired":
        return None
    results = [r for r in data.get("results") or [] if isinstance(r, dict)]
    done = [r for r in results if r.get("ok")]
    failed = [r for r in results if not r.get("ok")]
    sentence = format_html(
        _("Rule “{name}” fired: {actions}"),
        name=data.get("name", "?"),
        actions=format_html_join(", ", "{}{}", ((_word(r.get("type")), _detail(r)) for r in done)) or "—",
    )
    if failed:
        sentence = format_html(
            _("{sentence}; failed: {actions}"),
            sentence=sentence,
            actions=format_html_join("; ", "{} ({})", ((_word(r.get("type")), r.get("detail") or "") for r in failed)),
        )
    return sentence


def _detail(result: dict[str, Any]) -> str:
    detail = str(result.get("detail") or "")
    return f" {detail}" if detail else ""


VERDICTS = {
    "approve": gettext_lazy("approved"),
    "reject": gettext_lazy("rejected"),
    "changes": gettext_lazy("asked for changes"),
}


def _items(values: Any) -> str:
    return "、".join(str(v) for v in values) if isinstance(values, list) and values else ""


def approval_sentence(verb: str, data: dict[str, Any], actor: str) -> SafeString | None:
    """The approval flow's steps: started, each decision (who, for whom, reason, missing items), resubmitted."""
    stage = data.get("stage", "?")
    if verb == "approval_started":
        return format_html(_("Approval “{flow}” started at stage {stage}"), flow=data.get("flow", "?"), stage=stage)
    if verb == "approval_decided":
        who = data.get("agent_name") or actor
        if data.get("for_name"):
            who = format_html(_("{who} for {absent}"), who=who, absent=data["for_name"])
        sentence = format_html(
            _("{who} {verdict} at stage {stage}"),
            who=who,
            verdict=str(VERDICTS.get(str(data.get("verdict")), "?")),
            stage=stage,
        )
        if data.get("reason"):
            sentence = format_html(_("{sentence}: {reason}"), sentence=sentence, reason=data["reason"])
        if _items(data.get("missing_items")):
            sentence = format_html(
                _("{sentence} (missing: {items})"), sentence=sentence, items=_items(data["missing_items"])
            )
        return sentence
    if verb == "approval_resubmitted":
        return format_html(
            _("Resubmitted for approval at stage {stage} (round {round})"), stage=stage, round=data.get("round", 1)
        )
    if verb == "approval_cancelled":
        return format_html(_("The approval was cancelled at stage {stage}"), stage=stage)
    return None


def chain_sentence(verb: str, data: dict[str, Any]) -> SafeString | None:
    if verb == "chain_started":
        return format_html(_("Chain “{name}” started ({key})"), name=data.get("name", "?"), key=data.get("key", ""))
    if verb == "chain_stage_delayed":
        return format_html(_("Chain stage {stage} is late"), stage=data.get("stage_name") or data.get("stage", "?"))
    if verb == "chain_finished":
        return format_html(_("Chain “{name}” finished"), name=data.get("name", "?"))
    return None
