"""The knowledge manager's tools: importing articles (an upload kept as a job, run in the background, with a
progress bar that polls the job), exporting them, the root-cause tree with each code's solution template, and the
graph's catalogue of products, models, fault codes and solutions. Every change goes through the knowledge services,
which hold the gate; their refusals come back on the form."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from pivotdesk.common.errors import DomainError, NotFound
from pivotdesk.common.user_files import download_disposition, protect_user_content
from pivotdesk.knowledge.models import Article, EntityKind, GraphEntity, ImportJob, ImportStatus, RootCause
from pivotdesk.knowledge.services import graph, rootcause, transfer
from pivotdesk.web.base import Desk, agent_view, int_or_none
from pivotdesk.web.knowledge.views.common import must_manage, status_of

MAX_UPLOAD = 20 * 1024 * 1024


# --------------------------------------------------------------------------------------------------- imports


def _job(desk: Desk, job_id: int) -> ImportJob:
    job = ImportJob.objects.filter(workspace=desk.workspace, pk=int_or_none(job_id) or 0).first()
    if job is None:
        raise NotFound(_("Not found."))
    return job


def _import_context(desk: Desk, error: str = "") -> dict[str, Any]:
    jobs = ImportJob.objects.filter(workspace=desk.workspace).defer("payload").order_by("-created_at", "-pk")[:20]
    return {"section": "import", "jobs": jobs, "error": error}


@require_http_methods(["GET", "POST"])
@agent_view
def import_page(request: HttpRequest, desk: Desk) -> HttpResponse:
    must_manage(desk)
    if request.method == "GET":
        return render(request, "web/knowledge/import.html", _import_context(desk))
    upload = request.FILES.get("file")
    if upload is None:
        return render(request, "web/knowledge/import.html", _import_context(desk, _("Choose a file.")), status=400)
    if upload.size is not None and upload.size > MAX_UPLOAD:
        error = _("The file is larger than %(mb)d MB.") % {"mb": MAX_UPLOAD // (1024 * 1024)}
        return render(request, "web/knowledge/import.html", _import_context(desk, error), status=400)
    try:
        job = transfer.import_start(
            actor=desk.actor, workspace=desk.workspace, filename=upload.name or "upload", payload=upload.read()
        )
    except DomainError as exc:
        return render(request, "web/knowledge/import.html", _import_context(desk, exc.message), status=status_of(exc))
    return HttpResponseRedirect(reverse("web:knowledge_import_job", args=[job.pk]))


@require_GET
@agent_view
def import_job(request: HttpRequest, desk: Desk, job_id: int) -> HttpResponse:
    """The job's progress (the partial alone when HTMX polls it, every second while it runs)."""
    must_manage(desk)
    job = _job(desk, job_id)
    percent = int(100 * job.done / job.total) if job.total else (100 if job.status == ImportStatus.DONE else 0)
    context = {
        "section": "import",
        "job": job,
        "percent": percent,
        "running": job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING),
        "problems": [transfer.problem_text(row) for row in (job.problems or [])[:200]],
        "error": transfer.error_text(job),
    }
    if getattr(request, "htmx", False):
        return render(request, "web/knowledge/_import_progress.html", context)
    return render(request, "web/knowledge/import_job.html", context)


@require_GET
@agent_view
def export(request: HttpRequest, desk: Desk) -> HttpResponse:
    must_manage(desk)
    fmt = request.GET.get("format") or "md"
    try:
        data = transfer.export_articles(workspace=desk.workspace, fmt=fmt, actor=desk.actor)
    except DomainError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("web:knowledge_import"))
    name, kind = ("knowledge.zip", "application/zip") if fmt == "md" else ("knowledge.csv", "text/csv; charset=utf-8")
    response = HttpResponse(data, content_type=kind)
    response["Content-Disposition"] = download_disposition(name)
    return protect_user_content(response=response)


# ----------------------------------------------------------------------------------------------- root causes


def _cause_rows(desk: Desk) -> list[dict[str, Any]]:
    causes = list(RootCause.objects.filter(workspace=desk.workspace).select_related("template", "parent"))
    children: dict[int | None, list[RootCause]] = {}
    for cause in causes:
        children.setdefault(cause.parent_id, []).append(cause)
    rows: list[dict[str, Any]] = []

    def walk(parent: int | None, depth: int) -> None:
        for cause in sorted(children.get(parent, []), key=lambda c: c.code):
            rows.append({"cause": cause, "name": rootcause.cause_name(cause), "depth": min(depth, 4)})
            if depth < 10:
                walk(cause.pk, depth + 1)

    walk(None, 0)
    return rows


def _cause_form_context(desk: Desk, cause: RootCause | None, values: dict[str, Any], error: str = "") -> dict[str, Any]:
    templates = Article.objects.filter(workspace=desk.workspace).order_by("title").only("pk", "title", "language")
    return {
        "section": "root_causes",
        "rows": _cause_rows(desk),
        "cause": cause,
        "values": values,
        "error": error,
        "templates": templates[:500],
        "parents": [r for r in _cause_rows(desk) if cause is None or r["cause"].pk != cause.pk],
    }


def _cause_values(cause: RootCause | None) -> dict[str, Any]:
    if cause is None:
        return {"code": "", "name_zh": "", "name_en": "", "parent": None, "template": None, "is_active": True}
    return {
        "code": cause.code, "name_zh": cause.name_zh, "name_en": cause.name_en, "parent": cause.parent_id,
        "template": cause.template_id, "is_active": cause.is_active,
    }  # fmt: skip


def _save_cause(request: HttpRequest, desk: Desk, cause: RootCause | None) -> HttpResponse:
    post = request.POST
    code, name_zh = (post.get("code") or "").strip(), (post.get("name_zh") or "").strip()
    name_en, is_active = (post.get("name_en") or "").strip(), post.get("is_active") == "1"
    parent_id, template_id = int_or_none(post.get("parent")), int_or_none(post.get("template"))
    values: dict[str, Any] = {
        "code": code, "name_zh": name_zh, "name_en": name_en, "parent": parent_id, "template": template_id,
        "is_active": is_active,
    }  # fmt: skip
    parent = RootCause.objects.filter(workspace=desk.workspace, pk=parent_id).first() if parent_id else None
    template = Article.objects.filter(workspace=desk.workspace, pk=template_id).first() if template_id else None
    try:
        rootcause.root_cause_save(
            actor=desk.actor, workspace=desk.workspace, code=code, name_zh=name_zh, name_en=name_en, parent=parent,
            template=template, is_active=is_active, root_cause=cause,
        )  # fmt: skip
    except DomainError as exc:
        context = _cause_form_context(desk, cause, values, exc.message)
        return render(request, "web/knowledge/root_causes.html", context, status=status_of(exc))
    messages.success(request, _("Saved."))
    return HttpResponseRedirect(reverse("web:knowledge_root_causes"))


@require_http_methods(["GET", "POST"])
@agent_view
def root_causes(request: HttpRequest, desk: Desk) -> HttpResponse:
    must_manage(desk)
    if request.method == "POST":
        return _save_cause(request, desk, None)
    return render(request, "web/knowledge/root_causes.html", _cause_form_context(desk, None, _cause_values(None)))


@require_http_methods(["GET", "POST"])
@agent_view
def root_cause_edit(request: HttpRequest, desk: Desk, cause_id: int) -> HttpResponse:
    must_manage(desk)
    cause = RootCause.objects.filter(workspace=desk.workspace, pk=int_or_none(cause_id) or 0).first()
    if cause is None:
        raise NotFound(_("Not found."))
    if request.method == "POST":
        return _save_cause(request, desk, cause)
    return render(request, "web/knowledge/root_causes.html", _cause_form_context(desk, cause, _cause_values(cause)))


# ------------------------------------------------------------------------------------------------- catalogue


@require_http_methods(["GET", "POST"])
@agent_view
def catalogue(request: HttpRequest, desk: Desk) -> HttpResponse:
    must_manage(desk)
    error, status = "", 200
    values = {"kind": EntityKind.MODEL.value, "label": "", "aliases": ""}
    if request.method == "POST":
        values = {k: (request.POST.get(k) or "").strip() for k in values}
        aliases = [a.strip() for a in values["aliases"].replace("，", ",").split(",") if a.strip()]
        try:
            graph.catalogue_save(
                actor=desk.actor, workspace=desk.workspace, kind=values["kind"], label=values["label"], aliases=aliases
            )
        except DomainError as exc:
            error, status = exc.message, status_of(exc)
        else:
            messages.success(request, _("Saved."))
            return HttpResponseRedirect(reverse("web:knowledge_catalogue"))
    entries = GraphEntity.objects.filter(workspace=desk.workspace, catalogued=True).order_by("kind", "label")[:1000]
    context = {
        "section": "catalogue",
        "entries": entries,
        "kinds": EntityKind.choices,
        "values": values,
        "error": error,
    }
    return render(request, "web/knowledge/catalogue.html", context, status=status)
