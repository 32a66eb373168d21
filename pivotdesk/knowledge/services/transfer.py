"""Importing and exporting the knowledge base (a Markdown folder as a zip, CSV, Zendesk Guide and Zammad exports).

`import_start` keeps the upload as an `ImportJob` before anything reads it (architecture rule 7) and runs it at once
or in a task (`tasks.import_run_task`); `import_run` parses it (`domain.transfer`) and saves each draft through
`services.article_save`, creating the categories of its path through `services.category_save`. Re-running a file
updates what the first run created rather than adding copies: an article is matched by (language, title) in the
workspace, else by the translation it belongs to. Drafts that share a translation key become one group of
translations. `done` of `total` moves every few items so a progress bar can poll the job; an item that fails is a row
of `problems` (`ref`, `code`, `params`), and a file that cannot be read fails the job with a coded `error`. Both are
facts, worded in the reader's language by `problem_text` / `error_text` (rule 14).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.common.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from pivotdesk.common.text import without_nul

from ..domain import transfer
from ..domain.drafts import ArticleDraft, ErrorCode, ProblemCode, TransferError, is_cjk
from ..errors import KnowledgeErrorCode
from ..models import Article, ArticleStatus, ImportJob, ImportStatus, KnowledgeCategory
from . import articles as services

log = logging.getLogger(__name__)

MAX_PAYLOAD = 50 * 1024 * 1024
PROGRESS_EVERY = 10  # items between two progress writes
MAX_ERROR = 500  # ImportJob.error's length

Progress = Callable[[int, int], None]  # (done, total), called as the import moves

# Codes the service adds to the parser's (ProblemCode / ErrorCode).
DUPLICATE_TRANSLATION = "duplicate_translation"
DUPLICATE_CATEGORY = "duplicate_category"
INVALID_VALUE = "invalid_value"
PERMISSION_DENIED = "permission_denied"
REJECTED = "rejected"
CRASHED = "crashed"
SAVE_PROBLEMS = frozenset({DUPLICATE_TRANSLATION, DUPLICATE_CATEGORY, INVALID_VALUE, PERMISSION_DENIED, REJECTED})

PROBLEM_MESSAGES: dict[str, Promise] = {
    ProblemCode.NO_TITLE: gettext_lazy("The article has no title."),
    ProblemCode.TITLE_TOO_LONG: gettext_lazy("The title is longer than %(n)s characters."),
    ProblemCode.BAD_LANGUAGE: gettext_lazy(
        "“%(value)s” is not a language of the knowledge base (Chinese zh-hans or English en)."
    ),
    ProblemCode.BAD_VISIBILITY: gettext_lazy("“%(value)s” is not a visibility (public or internal)."),
    ProblemCode.BAD_STATUS: gettext_lazy("“%(value)s” is not a status (draft or published)."),
    ProblemCode.NOT_MARKDOWN: gettext_lazy("Not a Markdown file (.md); skipped."),
    ProblemCode.UNREADABLE: gettext_lazy("The text is neither UTF-8 nor GB18030."),
    ProblemCode.TOO_LARGE: gettext_lazy("The file is too large to be an article."),
    ProblemCode.NOT_AN_OBJECT: gettext_lazy("This item is not an article."),
    ProblemCode.NO_BODY: gettext_lazy("The export holds no text for “%(title)s”."),
    ProblemCode.DUPLICATE: gettext_lazy("“%(title)s” is in the file twice in this language; the first was imported."),
    DUPLICATE_TRANSLATION: gettext_lazy("The article it translates has a translation in this language already."),
    DUPLICATE_CATEGORY: gettext_lazy("A category of this name exists already in that place."),
    INVALID_VALUE: gettext_lazy("The article was refused: its %(field)s is not valid."),
    PERMISSION_DENIED: gettext_lazy("Your role may not manage the knowledge base."),
    REJECTED: gettext_lazy("The article was refused (%(code)s)."),
}
ERROR_MESSAGES: dict[str, Promise] = {
    ErrorCode.UNKNOWN_FORMAT: gettext_lazy(
        "The file is not a Markdown folder (.zip), a CSV file, or a Zendesk Guide or Zammad knowledge-base export."
    ),
    ErrorCode.BAD_ZIP: gettext_lazy("The file is not a readable zip archive."),
    ErrorCode.BAD_JSON: gettext_lazy("The JSON cannot be read (%(detail)s)."),
    ErrorCode.BAD_CSV: gettext_lazy("The CSV cannot be read (%(detail)s)."),
    ErrorCode.NO_TITLE_COLUMN: gettext_lazy("The CSV file needs a header row with a title column."),
    ErrorCode.TOO_LARGE: gettext_lazy("The archive is too large to import."),
    ErrorCode.UNREADABLE: gettext_lazy("The text is neither UTF-8 nor GB18030."),
    PERMISSION_DENIED: gettext_lazy("Whoever started the import may not manage the knowledge base."),
    CRASHED: gettext_lazy("The import stopped on an unexpected error; the articles saved until then are kept."),
}


def _render(messages: Mapping[str, Promise], code: str, params: Mapping[str, Any]) -> str:
    message = messages.get(code)
    if message is None:
        return code
    try:
        return str(message) % dict(params)
    except (KeyError, TypeError, ValueError):
        return str(message)


def problem_text(row: Mapping[str, Any]) -> str:
    """One row of `ImportJob.problems` in the active language ("ref: reason")."""
    params = row.get("params") if isinstance(row.get("params"), dict) else {}
    reason = _render(PROBLEM_MESSAGES, str(row.get("code") or ""), params or {})
    return f"{row.get('ref')}: {reason}" if row.get("ref") else reason


def error_text(job: ImportJob) -> str:
    """Why the job failed, in the active language ("" when it did not)."""
    if not job.error:
        return ""
    try:
        data = json.loads(job.error)
    except ValueError:
        return job.error
    if not isinstance(data, dict):
        return job.error
    params = data.get("params") if isinstance(data.get("params"), dict) else {}
    return _render(ERROR_MESSAGES, str(data.get("code") or ""), params or {})


def unchanged_count(job: ImportJob) -> int:
    """How many of the items the job went through were already as the file says (neither created, updated, nor
    refused)."""
    refused = sum(1 for row in job.problems if isinstance(row, dict) and row.get("code") in SAVE_PROBLEMS)
    return max(0, job.done - job.created_count - job.updated_count - refused)


def _encode_error(code: str, params: Mapping[str, Any] | None = None) -> str:
    text = json.dumps({"code": str(code), "params": dict(params or {})}, ensure_ascii=False)
    return text if len(text) <= MAX_ERROR else json.dumps({"code": str(code), "params": {}})


# --------------------------------------------------------------------------------------------------- starting


def import_start(
    *,
    actor: Actor,
    workspace: Workspace,
    filename: str,
    payload: bytes,
    run_now: bool = False,
    on_progress: Progress | None = None,
) -> ImportJob:
    """Keep an upload as an import job (queued), then run it now (`run_now`, reporting to `on_progress`) or in a
    background task after commit. Refuses an empty or oversized file; a file of unknown format is kept and fails
    when it runs."""
    authorize(actor, Perm.KNOWLEDGE_MANAGE, workspace_id=workspace.pk)
    if not payload:
        raise ValidationFailed(gettext("The file is empty."), code=KnowledgeErrorCode.INVALID_VALUE)
    if len(payload) > MAX_PAYLOAD:
        raise ValidationFailed(
            gettext("The file is larger than %(n)s MB.") % {"n": MAX_PAYLOAD // (1024 * 1024)},
            code=KnowledgeErrorCode.INVALID_VALUE,
        )
    name = without_nul(filename or "").strip()[-255:] or "upload"
    try:
        fmt = transfer.detect_format(name, payload)
    except TransferError:
        fmt = ""  # kept all the same; running it records why it cannot be read
    job = ImportJob.objects.create(
        workspace=workspace, filename=name, format=fmt, payload=payload, started_by=actor.agent
    )
    if run_now:
        import_run(job_id=job.pk, on_progress=on_progress)
        job.refresh_from_db()
    else:
        from django.db import transaction

        from ..tasks import import_run_task

        job_id = job.pk
        transaction.on_commit(lambda: import_run_task.delay(job_id))
    return job


# ---------------------------------------------------------------------------------------------------- running


class _Importer:
    """Saves drafts into one workspace: categories by path (cached), articles matched by (language, title) or by
    their translation group, and the counts of what happened."""

    def __init__(self, actor: Actor, workspace: Workspace, note: str) -> None:
        self.actor, self.workspace, self.note = actor, workspace, note
        self.categories: dict[tuple[str, ...], KnowledgeCategory] = {}
        self.groups: dict[str, Article] = {}
        self.created = self.updated = 0

    def category(self, path: Sequence[str]) -> KnowledgeCategory | None:
        parent: KnowledgeCategory | None = None
        names = tuple(name[: services.MAX_NAME].strip() for name in path)
        for depth in range(1, len(names) + 1):
            key = names[:depth]
            if key not in self.categories:
                self.categories[key] = self._category(key[-1], parent)
            parent = self.categories[key]
        return parent

    def _category(self, name: str, parent: KnowledgeCategory | None) -> KnowledgeCategory:
        found = (
            KnowledgeCategory.objects.filter(workspace=self.workspace, parent=parent)
            .filter(Q(name_zh=name) | Q(name_en=name))
            .order_by("pk")
            .first()
        )
        if found is not None:
            return found
        return services.category_save(
            actor=self.actor,
            workspace=self.workspace,
            name_zh=name,
            name_en="" if is_cjk(name) else name,
            parent=parent,
        )

    def _match(self, draft: ArticleDraft, sibling: Article | None) -> Article | None:
        found = (
            Article.objects.filter(workspace=self.workspace, language=draft.language, title=draft.title)
            .order_by("pk")
            .first()
        )
        if found is None and sibling is not None:
            found = Article.objects.filter(
                workspace=self.workspace, group=sibling.group, language=draft.language
            ).first()
        return found

    def save(self, draft: ArticleDraft) -> None:
        category = self.category(draft.category)
        sibling = self.groups.get(draft.translation_key) if draft.translation_key else None
        existing = self._match(draft, sibling)
        if existing is None:
            article = services.article_save(
                actor=self.actor,
                workspace=self.workspace,
                title=draft.title,
                body=draft.body,
                language=draft.language,
                category=category,
                visibility=draft.visibility,
                status=draft.status,
                translation_of=sibling,
                note=self.note,
            )
            self.created += 1
        elif _unchanged(existing, draft, category):
            article = existing
        else:
            article = services.article_save(
                actor=self.actor,
                workspace=self.workspace,
                title=draft.title,
                body=draft.body,
                language=draft.language,
                category=category,
                visibility=draft.visibility,
                status=draft.status,
                owner=existing.owner,
                reviewer=existing.reviewer,
                review_due=existing.review_due,
                note=self.note,
                article=existing,
            )
            self.updated += 1
        if draft.translation_key and draft.translation_key not in self.groups:
            self.groups[draft.translation_key] = article


def _unchanged(article: Article, draft: ArticleDraft, category: KnowledgeCategory | None) -> bool:
    return (article.title, article.body, article.language, article.visibility, article.status) == (
        draft.title,
        draft.body,
        draft.language,
        draft.visibility,
        draft.status,
    ) and article.category_id == (category.pk if category is not None else None)


def _problem_of(exc: DomainError) -> tuple[str, dict[str, str]]:
    """A refused save as a problem code and its facts."""
    if isinstance(exc, PermissionDenied):
        return PERMISSION_DENIED, {}
    if exc.code == KnowledgeErrorCode.DUPLICATE_TRANSLATION:
        return DUPLICATE_TRANSLATION, {}
    if exc.code == KnowledgeErrorCode.DUPLICATE_NAME:
        return DUPLICATE_CATEGORY, {}
    if exc.code == KnowledgeErrorCode.INVALID_VALUE and exc.details:
        return INVALID_VALUE, {"field": str(next(iter(exc.details)))}
    return REJECTED, {"code": str(exc.code)}


def _actor_of(job: ImportJob) -> Actor:
    """Who the import acts as: the agent who started it, else the system (the command line)."""
    return Actor.for_agent(job.started_by) if job.started_by is not None else Actor.system("knowledge import")


def _fail(job: ImportJob, code: str, params: Mapping[str, Any] | None = None) -> ImportJob:
    job.status, job.error = ImportStatus.FAILED, _encode_error(code, params)
    job.save(update_fields=["status", "error", "updated_at"])
    return job


def _progress(
    job: ImportJob, importer: _Importer, problems: list[dict[str, Any]], done: int, on_progress: Progress | None
) -> None:
    if on_progress is not None:
        on_progress(done, job.total)
    job.done, job.created_count, job.updated_count, job.problems = done, importer.created, importer.updated, problems
    ImportJob.objects.filter(pk=job.pk).update(
        done=done, created_count=importer.created, updated_count=importer.updated, problems=problems
    )


def import_run(*, job_id: int, on_progress: Progress | None = None) -> ImportJob:
    """Parse the job's file and save its articles (see the module docstring). Safe to run again: a job already
    running is left alone, a finished one is imported again, which updates rather than duplicates."""
    claimed = (
        ImportJob.objects.filter(pk=job_id)
        .exclude(status=ImportStatus.RUNNING)
        .update(status=ImportStatus.RUNNING, done=0, total=0, created_count=0, updated_count=0, problems=[], error="")
    )
    job = ImportJob.objects.select_related("workspace", "started_by").filter(pk=job_id).first()
    if job is None:
        raise NotFound(gettext("No such import."), code=KnowledgeErrorCode.NOT_FOUND)
    if not claimed:
        return job
    try:
        return _run(job, on_progress)
    except Exception:
        log.exception("knowledge import %s stopped", job.pk)
        _fail(job, CRASHED)
        raise


def _run(job: ImportJob, on_progress: Progress | None) -> ImportJob:
    actor = _actor_of(job)
    try:
        authorize(actor, Perm.KNOWLEDGE_MANAGE, workspace_id=job.workspace_id)
    except PermissionDenied:
        return _fail(job, PERMISSION_DENIED)
    try:
        result = transfer.parse(job.filename, bytes(job.payload), job.format or None)
    except TransferError as exc:
        return _fail(job, exc.code, exc.params)
    problems = [p.as_row() for p in result.problems]
    job.format, job.total, job.problems = result.format, len(result.items), problems
    job.save(update_fields=["format", "total", "problems", "updated_at"])
    importer = _Importer(actor, job.workspace, gettext("Imported from %(file)s") % {"file": job.filename[-120:]})
    for done, (ref, draft) in enumerate(result.items, start=1):
        try:
            importer.save(draft)
        except DomainError as exc:
            code, params = _problem_of(exc)
            problems.append({"ref": ref, "code": code, "params": params})
        if done % PROGRESS_EVERY == 0:
            _progress(job, importer, problems, done, on_progress)
    if not result.items or len(result.items) % PROGRESS_EVERY:  # else written just now
        _progress(job, importer, problems, len(result.items), on_progress)
    job.status = ImportStatus.DONE
    job.save(update_fields=["status", "updated_at"])
    return job


# -------------------------------------------------------------------------------------------------- exporting


def _category_paths(workspace: Workspace) -> dict[int, tuple[str, ...]]:
    rows = {
        pk: (name, parent)
        for pk, name, parent in KnowledgeCategory.objects.filter(workspace=workspace).values_list(
            "pk", "name_zh", "parent_id"
        )
    }
    paths: dict[int, tuple[str, ...]] = {}
    for pk in rows:
        names: list[str] = []
        node: int | None = pk
        seen: set[int] = set()
        while node is not None and node in rows and node not in seen:
            seen.add(node)
            names.append(rows[node][0])
            node = rows[node][1]
        paths[pk] = tuple(reversed(names))
    return paths


def export_drafts(*, workspace: Workspace) -> list[ArticleDraft]:
    """The workspace's articles (archived ones left out) as drafts: category paths by Chinese name, and a
    translation key (the group) on articles that have translations."""
    articles = list(Article.objects.filter(workspace=workspace).exclude(status=ArticleStatus.ARCHIVED).order_by("pk"))
    paths = _category_paths(workspace)
    group_sizes = Counter(a.group for a in articles)
    return [
        ArticleDraft(
            title=a.title,
            body=a.body,
            language=a.language,
            category=paths.get(a.category_id, ()) if a.category_id else (),
            visibility=a.visibility,
            status=a.status,
            translation_key=str(a.group) if group_sizes[a.group] > 1 else None,
        )
        for a in articles
    ]


def export_articles(*, workspace: Workspace, fmt: str, actor: Actor | None = None) -> bytes:
    """The workspace's knowledge base as a zip of Markdown files (`md`) or as CSV (`csv`). Given an actor, it must
    hold knowledge.manage (internal articles are in the file); the command line passes none."""
    if actor is not None:
        authorize(actor, Perm.KNOWLEDGE_MANAGE, workspace_id=workspace.pk)
    if fmt not in transfer.EXPORT_FORMATS:
        raise ValidationFailed(
            gettext("Export as md (a zip of Markdown files) or csv."), code=KnowledgeErrorCode.INVALID_VALUE
        )
    drafts = export_drafts(workspace=workspace)
    return transfer.write_markdown_zip(drafts) if fmt == "md" else transfer.write_csv(drafts)
