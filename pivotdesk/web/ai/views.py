"""The AI panel on the ticket page (what the AI set, with confidence and model; correct / confirm) and the
supervisor's AI page (/insights/ai/)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from pivotdesk.accounts.permissions import Perm, can
from pivotdesk.accounts.selectors import team_list
from pivotdesk.ai import selectors as ai_selectors
from pivotdesk.ai.models import Prediction
from pivotdesk.ai.services import overrides
from pivotdesk.ai.services import settings as ai_settings
from pivotdesk.ai.services import topics as topic_services
from pivotdesk.common.errors import Conflict, ValidationFailed
from pivotdesk.tickets import selectors as ticket_selectors
from pivotdesk.tickets.models import Priority, Ticket, TicketType
from pivotdesk.web import selectors as web_selectors
from pivotdesk.web.ai import labels
from pivotdesk.web.base import Desk, agent_view, error_response
from pivotdesk.web.templatetags.desk import local


def field_names() -> dict[str, str]:
    return {
        "language": _("Language"),
        "category": _("Category"),
        "priority": _("Priority"),
        "team": _("Team"),
        "ticket_type": _("Type"),
        "sentiment": _("Sentiment"),
    }


def sentiment_names() -> dict[str, str]:
    return {
        "positive": _("Positive"),
        "neutral": _("Neutral"),
        "negative": _("Negative"),
        "angry": _("Angry"),
    }


def source_names() -> dict[str, str]:
    return {"text": _("text"), "ocr": _("image text (OCR)"), "asr": _("speech (ASR)"), "llm": _("LLM")}


def _ticket(desk: Desk, number: int) -> Ticket:
    return ticket_selectors.access_ticket_by_number(workspace=desk.workspace, agent=desk.agent, number=number)


def _options(desk: Desk) -> dict[str, list[tuple[str, str]]]:
    """The values a person may pick per field when correcting the AI."""
    workspace = desk.workspace
    return {
        "language": [
            (code, labels.language_label(code)) for code in (workspace.languages or [workspace.default_language])
        ],
        "category": [(str(c.pk), local(c, "name")) for c in web_selectors.categories(workspace_id=workspace.pk)],
        "priority": [(str(v), str(label)) for v, label in Priority.choices],
        "team": [(str(t.pk), t.name) for t in team_list(workspace=workspace)],
        "ticket_type": [(str(v), str(label)) for v, label in TicketType.choices],
        "sentiment": list(sentiment_names().items()),
    }


def _display(p: Prediction, options: dict[str, list[tuple[str, str]]], value: Any) -> str:
    if value is None or value == "":
        return "—"
    for key, label in options.get(p.field, []):
        if key == str(value):
            return label
    return p.label if value == p.value and p.label else str(value)


def panel_context(desk: Desk, ticket: Ticket) -> dict[str, Any]:
    """Everything the AI panel template needs."""
    panel = ai_selectors.ai_panel(ticket=ticket)
    options = _options(desk)
    names = field_names()
    rows = []
    for p in panel.fields:
        current = p.value
        rows.append(
            {
                "p": p,
                "name": names.get(p.field, p.field),
                "display": _display(p, options, current),
                "human_display": _display(p, options, p.human_value) if p.reviewed_at else "",
                "percent": round((p.confidence or 0) * 100),
                "options": options.get(p.field, []),
                "selected": str(p.human_value if p.reviewed_at else p.value),
                "can_confirm": p.status != "overridden",
            }
        )
    sources = source_names()
    entities = [
        {"e": e, "source": sources.get(e.source, e.source), "facts": _facts(e.enrichment)} for e in panel.entities
    ]
    return {
        "ticket": ticket,
        "panel": panel,
        "rows": rows,
        "entities": entities,
        "can_edit": can(desk.agent, Perm.TICKET_UPDATE),
    }


def _facts(enrichment: dict[str, Any]) -> list[tuple[str, str]]:
    if not isinstance(enrichment, dict):
        return []
    if enrichment.get("summary"):
        return [("", str(enrichment["summary"]))]
    skip = {"kind", "value", "connector", "ok"}
    return [(str(k), str(v)) for k, v in enrichment.items() if k not in skip and not isinstance(v, (dict, list))][:6]


def _panel_response(request: HttpRequest, desk: Desk, ticket: Ticket, *, changed: bool = False) -> HttpResponse:
    response = render(request, "web/ticket/_ai_panel.html", panel_context(desk, ticket))
    if changed:
        response["HX-Trigger"] = "props-changed, timeline-changed"
    return response


@require_GET
@agent_view
def ai_panel(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    """The AI panel alone (loaded by the ticket page, refreshed when the ticket changes)."""
    return _panel_response(request, desk, _ticket(desk, number))


def _after_write(request: HttpRequest, desk: Desk, number: int) -> HttpResponse:
    if not getattr(request, "htmx", False):
        return HttpResponseRedirect(reverse("web:ticket", args=[number]))
    return _panel_response(request, desk, _ticket(desk, number), changed=True)


@require_POST
@agent_view
def ai_correct(request: HttpRequest, desk: Desk, number: int, prediction_id: int) -> HttpResponse:
    """One-click correction: the agent picks another value; the ticket changes as the agent; override recorded."""
    ticket = _ticket(desk, number)
    prediction = ai_selectors.access_prediction(ticket=ticket, prediction_id=prediction_id)
    value: Any = request.POST.get("value", "")
    if prediction.field in ("category", "team") and value == "":
        value = None
    overrides.prediction_correct(prediction=prediction, value=value, actor=desk.actor)
    return _after_write(request, desk, number)


@require_POST
@agent_view
def ai_confirm(request: HttpRequest, desk: Desk, number: int, prediction_id: int) -> HttpResponse:
    """The agent confirms what the AI set (or proposed)."""
    ticket = _ticket(desk, number)
    prediction = ai_selectors.access_prediction(ticket=ticket, prediction_id=prediction_id)
    overrides.prediction_confirm(prediction=prediction, actor=desk.actor)
    return _after_write(request, desk, number)


def _insights_page(
    request: HttpRequest, desk: Desk, *, errors: dict[str, str] | None = None, status: int = 200, posted: str = ""
) -> HttpResponse:
    """The AI page; `errors` ("rate", "topic-<id>") are shown at the form that caused them."""
    try:
        weeks = min(52, max(1, int(request.GET.get("weeks", 12))))
    except ValueError:
        weeks = 12
    insights = ai_selectors.ai_insights(workspace=desk.workspace, weeks=weeks)
    names = field_names()
    fields = [{"s": s, "name": names.get(s.field, s.field)} for s in insights.fields]
    errors = errors or {}
    rate = ai_settings.out_of_scope_rate(desk.workspace)
    topics = [
        {"t": t, "error": errors.get(f"topic-{t.pk}", ""), "name": posted if f"topic-{t.pk}" in errors else t.label}
        for t in topic_services.emerging_topics(workspace=desk.workspace)
    ]
    return render(
        request,
        "web/insights/ai.html",
        {
            "insights": insights,
            "fields": fields,
            "weeks": weeks,
            "field_names": names,
            "topics": topics,
            "topic_days": topic_services.DEFAULT_DAYS,
            "can_decide_topics": can(desk.agent, Perm.CATEGORY_MANAGE),
            "can_configure_ai": can(desk.agent, Perm.AI_CONFIGURE),
            "oos_rate": f"{rate:g}",
            "oos_rate_input": posted if "rate" in errors else f"{rate:g}",
            "rate_error": errors.get("rate", ""),
            "rate_min": ai_settings.OUT_OF_SCOPE_RATE_MIN,
            "rate_max": ai_settings.OUT_OF_SCOPE_RATE_MAX,
        },
        status=status,
    )


@require_GET
@agent_view
def ai_insights(request: HttpRequest, desk: Desk) -> HttpResponse:
    """The supervisor's AI page: model versions, accuracy over time, overrides, abstentions, step health, emerging
    topics (with "make it a category" and "dismiss" for those allowed) and the out-of-scope setting."""
    if not can(desk.agent, Perm.REPORTS_VIEW):
        return error_response(request, _("Your role may not do this."), status=403)
    return _insights_page(request, desk)


def _back_to_insights() -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("web:ai_insights") + "#ai-topics")


@require_POST
@agent_view
def ai_topic_promote(request: HttpRequest, desk: Desk, topic_id: int) -> HttpResponse:
    """Make an emerging topic a category (the name as edited in the form)."""
    name = request.POST.get("name")
    try:
        _topic, category = topic_services.topic_promote(
            actor=desk.actor, workspace=desk.workspace, topic_id=topic_id, name=name
        )
    except ValidationFailed as exc:
        return _insights_page(
            request, desk, errors={f"topic-{topic_id}": exc.message}, status=exc.status_code, posted=name or ""
        )
    except Conflict as exc:  # decided meanwhile (another tab, a colleague): the topic is no longer listed
        messages.error(request, exc.message)
        return _back_to_insights()
    messages.success(request, _("Category “%(name)s” created.") % {"name": local(category, "name")})
    return _back_to_insights()


@require_POST
@agent_view
def ai_topic_dismiss(request: HttpRequest, desk: Desk, topic_id: int) -> HttpResponse:
    """Dismiss an emerging topic."""
    try:
        topic_services.topic_dismiss(actor=desk.actor, workspace=desk.workspace, topic_id=topic_id)
    except Conflict as exc:
        messages.error(request, exc.message)
        return _back_to_insights()
    messages.success(request, _("Topic dismissed."))
    return _back_to_insights()


@require_POST
@agent_view
def ai_settings_save(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Save the out-of-scope share ("flag at most X % of normal traffic")."""
    rate = request.POST.get("out_of_scope_rate", "")
    try:
        ai_settings.ai_settings_update(actor=desk.actor, workspace=desk.workspace, out_of_scope_rate=rate)
    except ValidationFailed as exc:
        return _insights_page(request, desk, errors={"rate": exc.message}, status=exc.status_code, posted=rate)
    messages.success(request, _("AI settings saved."))
    return HttpResponseRedirect(reverse("web:ai_insights") + "#ai-settings")
