"""`pivotdesk kb import|export|eval`: the knowledge base from and to files, and how well retrieval finds it.

pivotdesk kb import PATH [--workspace SLUG]
    PATH is a folder of Markdown files, a .zip of them, a .csv, or a Zendesk Guide / Zammad .json export. Runs the
    import as the system (an `ImportJob`, like an upload in the web UI), printing progress, the problems and a summary.

pivotdesk kb export PATH [--format md|csv] [--workspace SLUG]
    Writes the articles (archived ones left out) as a zip of Markdown files or as CSV (default: from PATH's suffix).

pivotdesk kb eval QUERIES.csv [--workspace SLUG] [--mode hybrid|keyword|semantic|all] [--k 5] [--include-drafts]
    QUERIES.csv has the columns query,expected_article: an article's id or its exact title (any case), several
    acceptable answers separated by "|". Prints per mode recall@1, recall@k, MRR, latency p50/p95 (ms) and the number
    of queries. A row whose expected article does not exist is reported and counted as a miss.

Without --workspace, the only workspace is used (several: --workspace is required).
"""

from __future__ import annotations

import csv
import io
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.common.errors import DomainError
from pivotdesk.knowledge import retrieval
from pivotdesk.knowledge.domain import ranking
from pivotdesk.knowledge.domain.drafts import decode_text
from pivotdesk.knowledge.domain.transfer import MARKDOWN_SUFFIXES
from pivotdesk.knowledge.models import Article, ImportStatus
from pivotdesk.knowledge.services import transfer

MODES = (*retrieval.MODES, "all")
QUERY_COLUMNS = ("query", "question", "问题")
EXPECTED_COLUMNS = ("expected_article", "expected", "article", "答案")
MISSING = -1  # an expected id no search returns: a row whose article does not exist counts as a miss


def workspace_for(slug: str | None) -> Workspace:
    """The workspace named by --workspace, else the only one; CommandError otherwise."""
    if slug:
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            raise CommandError(gettext("No workspace with the slug “%(slug)s”.") % {"slug": slug})
        return workspace
    workspaces = list(Workspace.objects.order_by("pk")[:2])
    if len(workspaces) == 1:
        return workspaces[0]
    if not workspaces:
        raise CommandError(gettext("There is no workspace yet."))
    known = ", ".join(Workspace.objects.order_by("slug").values_list("slug", flat=True)[:20])
    raise CommandError(
        gettext("There are several workspaces: name one with --workspace (%(known)s).") % {"known": known}
    )


def folder_as_zip(folder: Path) -> tuple[bytes, int]:
    """The Markdown files under `folder` as a zip (paths relative to it), and how many other files were left out."""
    buffer = io.BytesIO()
    skipped = 0
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder)
            if not path.is_file() or any(part.startswith(".") for part in relative.parts):
                continue
            if path.suffix.lower() not in MARKDOWN_SUFFIXES:
                skipped += 1
                continue
            archive.write(path, relative.as_posix())
    return buffer.getvalue(), skipped


@dataclass(frozen=True)
class LabelledQuery:
    line: int
    query: str
    expected: frozenset[int]


def _column(columns: list[str], names: tuple[str, ...]) -> int | None:
    lowered = [c.strip().lower() for c in columns]
    return next((lowered.index(name) for name in names if name in lowered), None)


def _resolve(workspace: Workspace, answer: str) -> set[int]:
    """The ids of the articles an expected answer names: its id, or its exact title in any case."""
    answer = answer.strip()
    if not answer:
        return set()
    articles = Article.objects.filter(workspace=workspace)
    if answer.isdigit() and articles.filter(pk=int(answer)).exists():
        return {int(answer)}
    return set(articles.filter(title__iexact=answer).values_list("pk", flat=True))


class Command(BaseCommand):
    help = "Knowledge base: `import PATH`, `export PATH --format md|csv`, `eval QUERIES.csv` (recall, MRR, latency)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import a Markdown folder, a .zip, a .csv or a Zendesk/Zammad .json")
        imp.add_argument("path", type=Path)
        imp.add_argument("--workspace", help="workspace slug (default: the only workspace)")
        exp = sub.add_parser("export", help="write the articles as a zip of Markdown files or as CSV")
        exp.add_argument("path", type=Path)
        exp.add_argument("--format", choices=("md", "csv"), help="default: from the file's suffix")
        exp.add_argument("--workspace", help="workspace slug (default: the only workspace)")
        ev = sub.add_parser("eval", help="measure retrieval on a labelled CSV (query,expected_article)")
        ev.add_argument("path", type=Path)
        ev.add_argument("--workspace", help="workspace slug (default: the only workspace)")
        ev.add_argument("--mode", choices=MODES, default="all")
        ev.add_argument("--k", type=int, default=5, help="the cut-off of the second recall (default 5)")
        ev.add_argument("--include-drafts", action="store_true", help="search drafts too (default: published only)")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "import":
            self._import(options)
        elif action == "export":
            self._export(options)
        else:
            self._eval(options)

    # ------------------------------------------------------------------------------------------------ import

    def _read_source(self, path: Path) -> tuple[str, bytes]:
        if path.is_dir():
            payload, skipped = folder_as_zip(path)
            if skipped:
                self.stderr.write(gettext("%(n)s files that are not Markdown were left out.") % {"n": skipped})
            return f"{path.name or 'folder'}.zip", payload
        if not path.is_file():
            raise CommandError(gettext("No such file or folder: %(path)s") % {"path": path})
        return path.name, path.read_bytes()

    def _import(self, options: dict[str, Any]) -> None:
        workspace = workspace_for(options["workspace"])
        filename, payload = self._read_source(options["path"])
        quiet = options["verbosity"] == 0

        def progress(done: int, total: int) -> None:
            if not quiet:
                self.stderr.write(gettext("%(done)s of %(total)s articles") % {"done": done, "total": total})

        try:
            job = transfer.import_start(
                actor=Actor.system("cli"),
                workspace=workspace,
                filename=filename,
                payload=payload,
                run_now=True,
                on_progress=progress,
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        if job.status == ImportStatus.FAILED:
            raise CommandError(transfer.error_text(job))
        for row in job.problems:
            self.stderr.write(self.style.WARNING(transfer.problem_text(row)))
        failed = len(job.problems)
        summary = gettext(
            "%(created)s articles created, %(updated)s updated, %(unchanged)s unchanged, %(failed)s problems."
        ) % {
            "created": job.created_count,
            "updated": job.updated_count,
            "unchanged": transfer.unchanged_count(job),
            "failed": failed,
        }
        self.stdout.write(self.style.WARNING(summary) if failed else self.style.SUCCESS(summary))

    # ------------------------------------------------------------------------------------------------ export

    def _export(self, options: dict[str, Any]) -> None:
        workspace = workspace_for(options["workspace"])
        path: Path = options["path"]
        fmt = options["format"] or ("csv" if path.suffix.lower() == ".csv" else "md")
        data = transfer.export_articles(workspace=workspace, fmt=fmt)
        path.write_bytes(data)
        count = len(transfer.export_drafts(workspace=workspace))
        self.stdout.write(
            self.style.SUCCESS(gettext("%(n)s articles written to %(path)s.") % {"n": count, "path": path})
        )

    # -------------------------------------------------------------------------------------------------- eval

    def _read_queries(self, path: Path, workspace: Workspace) -> list[LabelledQuery]:
        if not path.is_file():
            raise CommandError(gettext("No such file or folder: %(path)s") % {"path": path})
        try:
            rows = list(csv.reader(io.StringIO(decode_text(path.read_bytes()), newline="")))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise CommandError(gettext("%(path)s cannot be read: %(error)s") % {"path": path, "error": exc}) from exc
        header = rows[0] if rows else []
        q_col, e_col = _column(header, QUERY_COLUMNS), _column(header, EXPECTED_COLUMNS)
        if q_col is None or e_col is None:
            raise CommandError(gettext("%(path)s needs a header row with query,expected_article.") % {"path": path})
        queries = []
        for line, row in enumerate(rows[1:], start=2):
            query = row[q_col].strip() if len(row) > q_col else ""
            answers = row[e_col] if len(row) > e_col else ""
            if query:
                queries.append(LabelledQuery(line, query, self._expected(workspace, line, answers)))
        return queries

    def _expected(self, workspace: Workspace, line: int, answers: str) -> frozenset[int]:
        expected: set[int] = set()
        for answer in answers.split("|"):
            found = _resolve(workspace, answer)
            if not found and answer.strip():
                self.stderr.write(
                    self.style.WARNING(
                        gettext("line %(line)s: no article “%(answer)s”; counted as a miss.")
                        % {"line": line, "answer": answer.strip()}
                    )
                )
            expected |= found
        return frozenset(expected or {MISSING})

    def _eval(self, options: dict[str, Any]) -> None:
        workspace = workspace_for(options["workspace"])
        k = options["k"]
        if k < 1:
            raise CommandError(gettext("--k must be at least 1."))
        queries = self._read_queries(options["path"], workspace)
        modes = retrieval.MODES if options["mode"] == "all" else (options["mode"],)
        self.stdout.write(f"{'mode':<10}{'recall@1':>10}{f'recall@{k}':>10}{'MRR':>8}{'p50 ms':>10}{'p95 ms':>10}  n")
        for mode in modes:
            self.stdout.write(self._eval_mode(workspace, queries, mode, k, not options["include_drafts"]))

    def _eval_mode(
        self, workspace: Workspace, queries: list[LabelledQuery], mode: str, k: int, published_only: bool
    ) -> str:
        results: list[tuple[list[int], frozenset[int]]] = []
        latencies: list[float] = []
        for item in queries:
            started = time.perf_counter()
            hits = retrieval.search_articles(
                workspace_id=workspace.pk,
                query=item.query,
                mode=mode,
                published_only=published_only,
                limit=max(k, 10),
            )
            latencies.append((time.perf_counter() - started) * 1000)
            results.append(([hit.object_id for hit in hits], item.expected))
        scores = ranking.evaluate(results, ks=(1, k))
        return (
            f"{mode:<10}{scores.recall[1]:>10.3f}{scores.recall[k]:>10.3f}{scores.mrr:>8.3f}"
            f"{ranking.percentile(latencies, 50):>10.1f}{ranking.percentile(latencies, 95):>10.1f}  {scores.n}"
        )
