"""Chain templates: the list (mode, stages with their team and expected duration, how many chains run) and the
editor (name, mode, stages as rows: name, key, owning team, expected hours and minutes), saved through
`chains.template_save`. Rows are added, removed and moved by posting the form back (HTMX swaps it in place). A
refusal comes back with the service's message on top and, where it names a stage, beside that row. There is no
delete: the service has none; a template is switched off with its "Active" box."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from pivotdesk.accounts.models import Team
from pivotdesk.automation.errors import AutomationErrorCode
from pivotdesk.automation.models import Chain, ChainMode, ChainTemplate
from pivotdesk.automation.services import chains as chain_services
from pivotdesk.common.errors import Conflict, NotFound, ValidationFailed
from pivotdesk.web.automation import forms_flows as forms
from pivotdesk.web.automation.views.common import manage, saved
from pivotdesk.web.base import Desk, agent_view, int_or_none

REFUSED = 400
_STAGE_PATH = "stages."


def get_template(desk: Desk, template_id: Any) -> ChainTemplate:
    """A template of the desk's workspace, or 404 (another workspace's is not told apart from none)."""
    template = ChainTemplate.objects.filter(pk=int_or_none(template_id) or 0, workspace=desk.workspace).first()
    if template is None:
        raise NotFound(_("Not found."), code=AutomationErrorCode.NOT_FOUND)
    return template


def mode_choices() -> list[tuple[str, str]]:
    return [
        (ChainMode.SEQUENCE.value, _("Sequence: one stage after the other")),
        (ChainMode.PARALLEL.value, _("Parallel: all stages at once")),
    ]


def mode_label(mode: str) -> str:
    return _("Sequence") if mode == ChainMode.SEQUENCE else _("Parallel")


def duration_label(minutes: Any) -> str:
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        return "—"
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": rest}
    if hours:
        return _("%(hours)s h") % {"hours": hours}
    return _("%(minutes)s min") % {"minutes": rest}


@agent_view
def chain_template_list(request: HttpRequest, desk: Desk) -> HttpResponse:
    manage(desk)
    ws = desk.workspace
    templates = list(ChainTemplate.objects.filter(workspace=ws).order_by("name", "pk"))
    running = dict(
        Chain.objects.filter(workspace=ws, template__in=templates, done=False)
        .values("template")
        .annotate(n=Count("pk"))
        .values_list("template", "n")
    )
    teams = dict(Team.objects.filter(workspace=ws).values_list("pk", "name"))
    rows = []
    for template in templates:
        stages = [s for s in template.stages or [] if isinstance(s, Mapping)]
        rows.append(
            {
                "template": template,
                "mode": mode_label(template.mode),
                "stages": [
                    {
                        "name": str(s.get("name") or s.get("key") or ""),
                        "team": teams.get(s["team"], f"#{s['team']}") if s.get("team") is not None else "",
                        "duration": duration_label(s.get("expected_minutes")),
                    }
                    for s in stages
                ],
                "running": running.get(template.pk, 0),
            }
        )
    return render(request, "web/automation/chain_templates.html", {"section": "chains", "rows": rows})


# --- the editor ----------------------------------------------------------------------------------------------------


def _stage_errors(
    error: ValidationFailed | Conflict | None, rows: list[forms.ChainStageRow]
) -> tuple[list[str], list[str]]:
    """(each row's messages, the messages tied to no row). The service names a row by its path (`stages.2`,
    `stages.2.team`, counting only the stages it received) or, for the whole-chain checks, by the stage's key
    inside its message."""
    out = [""] * len(rows)
    loose: list[str] = []
    if error is None:
        return out, loose
    positions = [i for i, row in enumerate(rows) if row.filled]
    for path, message in error.details.items():
        if not path.startswith(_STAGE_PATH) or not isinstance(message, str):
            continue
        index = int_or_none(path[len(_STAGE_PATH) :].split(".", 1)[0])
        if index is not None and 0 <= index < len(positions):
            out[positions[index]] = message
    problems = error.details.get("stages")
    for problem in problems if isinstance(problems, list) else []:
        message = str(problem.get("message", "")) if isinstance(problem, Mapping) else ""
        tied = [i for i in positions if rows[i].key.strip() and f"“{rows[i].key.strip()}”" in message]
        for i in tied:
            out[i] = " ".join(filter(None, (out[i], message)))
        if message and not tied:
            loose.append(message)
    return out, loose


def _editor_page(
    request: HttpRequest,
    desk: Desk,
    form: forms.ChainForm,
    template: ChainTemplate | None,
    *,
    error: ValidationFailed | Conflict | None = None,
) -> HttpResponse:
    errors, loose = _stage_errors(error, form.stages)
    message = error.message if error is not None else ""
    last = len(form.stages) - 1
    context = {
        "section": "chains",
        "template": template,
        "form": form,
        "error": message,
        "more_errors": [m for m in dict.fromkeys(loose) if m != message],
        "name_error": error is not None and "name" in error.details,
        "rows": [
            {"i": i, "row": row, "error": errors[i], "up": i > 0, "down": i < last} for i, row in enumerate(form.stages)
        ],
        "teams": [
            (str(pk), name) for pk, name in Team.objects.filter(workspace=desk.workspace).values_list("pk", "name")
        ],
        "modes": mode_choices(),
        "action": reverse("web:automation_chain_template", args=[template.pk])
        if template
        else reverse("web:automation_chain_template_new"),
    }
    return render(request, "web/automation/chain_template_form.html", context, status=REFUSED if error else 200)


def _save(request: HttpRequest, desk: Desk, form: forms.ChainForm, template: ChainTemplate | None) -> HttpResponse:
    try:
        chain_services.template_save(
            actor=desk.actor,
            workspace=desk.workspace,
            name=form.name,
            mode=form.mode,
            stages=forms.chain_stages_of(form),
            description=form.description.strip(),
            active=form.active,
            template=template,
        )
    except (ValidationFailed, Conflict) as exc:
        return _editor_page(request, desk, form, template, error=exc)
    return saved(request, reverse("web:automation_chain_templates"))


@agent_view
def chain_template_edit(request: HttpRequest, desk: Desk, template_id: int | None = None) -> HttpResponse:
    """GET: the editor (a stored template's stages as rows); POST with `save`: save; any other POST (a row added,
    removed or moved): the form again with the change, nothing saved."""
    manage(desk)
    template = get_template(desk, template_id) if template_id is not None else None
    if request.method != "POST":
        if template is None:
            return _editor_page(request, desk, forms.new_chain_form(), None)
        initial = forms.chain_form_of(
            name=template.name,
            description=template.description,
            mode=template.mode,
            active=template.active,
            stages=template.stages,
        )
        return _editor_page(request, desk, initial, template)
    form = forms.chain_form_from_post(request.POST)
    if "save" in request.POST:
        return _save(request, desk, form, template)
    return _editor_page(request, desk, form, template)
