"""Reading and writing knowledge-base files, without Django: a Markdown folder (a zip of .md files), CSV, and the
JSON exports of Zendesk Guide and Zammad (`helpcentres`). `parse(filename, payload)` detects the format and gives the
drafts and the problems; `write_markdown_zip` and `write_csv` are the exports, and reading an export back gives the
drafts it was written from (property-tested).

Markdown: a file may begin with front matter between two `---` lines, one `key: value` a line (`title`, `language`,
`category`, `visibility`, `status`, `translation`, `id`; a value may be a JSON string, and a category a JSON list).
Without a title there, the first `# heading` is the title (and leaves the body), else the file name. Without a
category, the folder path is the category. Without a language, the share of CJK characters decides.

CSV: a header row is required, with at least `title` (Chinese column names are understood too); the other columns
(`body`, `language`, `category`, `visibility`, `status`, `translation_key`, `external_id`) default when absent.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from .drafts import (
    ArticleDraft,
    DraftRejected,
    ErrorCode,
    Problem,
    ProblemCode,
    TransferError,
    clean_line,
    decode_text,
    format_path,
    make_draft,
    parse_path,
    safe_name,
    without_duplicates,
)
from .helpcentres import is_zendesk, parse_zammad, parse_zendesk, zammad_tables

__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "ArticleDraft",
    "ErrorCode",
    "ParseResult",
    "Problem",
    "ProblemCode",
    "TransferError",
    "detect_format",
    "parse",
    "read_csv",
    "read_markdown_zip",
    "write_csv",
    "write_markdown_zip",
]

FORMATS = ("markdown", "csv", "zendesk", "zammad")
EXPORT_FORMATS = ("md", "csv")
CSV_COLUMNS = ("title", "body", "language", "category", "visibility", "status", "translation_key", "external_id")
MAX_ENTRIES = 20_000  # files in one zip
MAX_UNPACKED = 200 * 1024 * 1024  # bytes of all files in one zip, unpacked
MAX_FILE = 2 * 1024 * 1024  # bytes of one Markdown file
MARKDOWN_SUFFIXES = (".md", ".markdown")
_IGNORED_PARTS = ("__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini")
_UTF8_NAMES = 0x800  # the zip flag that says a name is UTF-8

_CSV_ALIASES = {
    "标题": "title",
    "题目": "title",
    "正文": "body",
    "内容": "body",
    "语言": "language",
    "分类": "category",
    "类别": "category",
    "可见性": "visibility",
    "状态": "status",
    "翻译": "translation_key",
    "翻译组": "translation_key",
    "translation": "translation_key",
    "编号": "external_id",
    "id": "external_id",
}
_FRONT_KEYS = {
    "title": "title",
    "language": "language",
    "lang": "language",
    "category": "category",
    "visibility": "visibility",
    "status": "status",
    "translation": "translation_key",
    "translation_key": "translation_key",
    "id": "external_id",
}


@dataclass
class ParseResult:
    """What a file holds: its format, the drafts in file order with where each is in the file (`items`), and the
    items that could not be read."""

    format: str
    items: list[tuple[str, ArticleDraft]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def drafts(self) -> list[ArticleDraft]:
        return [draft for _, draft in self.items]


# ------------------------------------------------------------------------------------------------- detection


def detect_format(filename: str, payload: bytes) -> str:
    """markdown | csv | zendesk | zammad, from the content first and the file name second; TransferError
    UNKNOWN_FORMAT when neither tells."""
    suffix = PurePosixPath(filename.lower()).suffix
    if payload.startswith(b"PK\x03\x04") or payload.startswith(b"PK\x05\x06"):
        return "markdown"
    head = payload[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"{", b"[")) or suffix == ".json":
        return _json_format(_load_json(payload))
    if suffix in MARKDOWN_SUFFIXES:
        return "markdown"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    raise TransferError(ErrorCode.UNKNOWN_FORMAT, filename=filename[-120:])


def _load_json(payload: bytes) -> object:
    try:
        return json.loads(decode_text(payload))
    except UnicodeDecodeError as exc:
        raise TransferError(ErrorCode.UNREADABLE) from exc
    except ValueError as exc:
        raise TransferError(ErrorCode.BAD_JSON, detail=str(exc)[:200]) from exc


def _json_format(data: object) -> str:
    if is_zendesk(data):
        return "zendesk"
    if isinstance(data, dict) and zammad_tables(data) is not None:
        return "zammad"
    raise TransferError(ErrorCode.UNKNOWN_FORMAT, filename="JSON")


def parse(filename: str, payload: bytes, fmt: str | None = None) -> ParseResult:
    """The drafts and problems of a file (format detected unless given); TransferError when it cannot be read."""
    fmt = fmt or detect_format(filename, payload)
    if fmt == "markdown":
        if payload.startswith(b"PK"):
            pairs, problems = read_markdown_zip(payload)
        else:
            pairs, problems = _read_markdown_files([(PurePosixPath(filename).name or "article.md", payload)])
    elif fmt == "csv":
        pairs, problems = read_csv(payload)
    elif fmt == "zendesk":
        data = _load_json(payload)
        if not is_zendesk(data):
            raise TransferError(ErrorCode.BAD_JSON, detail="articles")
        pairs, problems = parse_zendesk(data)
    elif fmt == "zammad":
        data = _load_json(payload)
        tables = zammad_tables(data) if isinstance(data, dict) else None
        if tables is None:
            raise TransferError(ErrorCode.BAD_JSON, detail="KnowledgeBaseAnswerTranslation")
        pairs, problems = parse_zammad(tables)
    else:
        raise TransferError(ErrorCode.UNKNOWN_FORMAT, filename=filename[-120:])
    items, duplicates = without_duplicates(pairs)
    return ParseResult(format=fmt, items=items, problems=[*problems, *duplicates])


# --------------------------------------------------------------------------------------------------------- CSV


def read_csv(payload: bytes) -> tuple[list[tuple[str, ArticleDraft]], list[Problem]]:
    """Drafts (ref "line N") and problems of a CSV file with a header row."""
    try:
        text = decode_text(payload)
    except UnicodeDecodeError as exc:
        raise TransferError(ErrorCode.UNREADABLE) from exc
    dialect: type[csv.Dialect] = csv.excel_tab if _looks_tabbed(text) else csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader, None)
        columns = [_CSV_ALIASES.get(clean_line(name).lower(), clean_line(name).lower()) for name in header or []]
        if "title" not in columns:
            raise TransferError(ErrorCode.NO_TITLE_COLUMN)
        drafts: list[tuple[str, ArticleDraft]] = []
        problems: list[Problem] = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            ref = f"line {reader.line_num}"
            values = dict(zip(columns, row, strict=False))
            try:
                drafts.append((ref, _csv_draft(values)))
            except DraftRejected as exc:
                problems.append(Problem(ref, exc.code, exc.params))
    except csv.Error as exc:
        raise TransferError(ErrorCode.BAD_CSV, detail=str(exc)[:200]) from exc
    return drafts, problems


def _looks_tabbed(text: str) -> bool:
    first = text.split("\n", 1)[0]
    return "\t" in first and "," not in first


def _csv_draft(values: dict[str, str]) -> ArticleDraft:
    return make_draft(
        title=values.get("title"),
        body=values.get("body", ""),
        language=values.get("language"),
        category=parse_path(values.get("category", "")),
        visibility=values.get("visibility"),
        status=values.get("status"),
        translation_key=values.get("translation_key"),
        external_id=values.get("external_id"),
    )


def write_csv(drafts: Iterable[ArticleDraft]) -> bytes:
    """The drafts as CSV (UTF-8 with a BOM, so spreadsheet programs read the Chinese right)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for d in drafts:
        writer.writerow(
            [
                d.title,
                d.body,
                d.language,
                format_path(d.category),
                d.visibility,
                d.status,
                d.translation_key or "",
                d.external_id or "",
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# ---------------------------------------------------------------------------------------------------- Markdown


def read_markdown_zip(payload: bytes) -> tuple[list[tuple[str, ArticleDraft]], list[Problem]]:
    """Drafts (ref: the path in the zip) and problems of a zip of Markdown files, in the archive's order."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(payload))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise TransferError(ErrorCode.BAD_ZIP) from exc
    with archive:
        entries = [info for info in archive.infolist() if not info.is_dir()]
        if len(entries) > MAX_ENTRIES or sum(info.file_size for info in entries) > MAX_UNPACKED:
            raise TransferError(ErrorCode.TOO_LARGE)
        files: list[tuple[str, bytes | None]] = []
        for info in entries:
            name = _entry_name(info)
            if any(part in _IGNORED_PARTS or part.startswith("._") for part in PurePosixPath(name).parts):
                continue
            files.append((name, _read_entry(archive, info)))
    return _read_markdown_files(files)


def _entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's path; names a Chinese Windows zip tool wrote in GBK (no UTF-8 flag) are read as GBK."""
    name = info.filename
    if not info.flag_bits & _UTF8_NAMES:
        try:
            raw = name.encode("cp437")
        except UnicodeEncodeError:
            return name
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("gb18030", errors="replace")
    return name


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | None:
    """The file's bytes, or None when it is larger than a Markdown file may be (read no further than that)."""
    if info.file_size > MAX_FILE:
        return None
    with archive.open(info) as handle:
        data = handle.read(MAX_FILE + 1)
    return None if len(data) > MAX_FILE else data


def _read_markdown_files(
    files: Iterable[tuple[str, bytes | None]],
) -> tuple[list[tuple[str, ArticleDraft]], list[Problem]]:
    drafts: list[tuple[str, ArticleDraft]] = []
    problems: list[Problem] = []
    for name, data in files:
        path = PurePosixPath(name)
        if path.suffix.lower() not in MARKDOWN_SUFFIXES:
            problems.append(Problem(name, ProblemCode.NOT_MARKDOWN))
            continue
        if data is None:
            problems.append(Problem(name, ProblemCode.TOO_LARGE))
            continue
        try:
            drafts.append((name, markdown_draft(path, decode_text(data))))
        except UnicodeDecodeError:
            problems.append(Problem(name, ProblemCode.UNREADABLE))
        except DraftRejected as exc:
            problems.append(Problem(name, exc.code, exc.params))
    return drafts, problems


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """The front matter's keys (lowercased) and values, and the rest of the text."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        return {}, text
    meta: dict[str, str] = {}
    for line in lines[1:end]:
        key, sep, value = line.partition(":")
        if sep and key.strip():
            meta[key.strip().lower()] = _front_value(value.strip())
    return meta, "\n".join(lines[end + 1 :])


def _front_value(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            loaded = json.loads(value)
        except ValueError:
            return value[1:-1]
        return loaded if isinstance(loaded, str) else value
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    return value


def _title_from_heading(body: str) -> tuple[str | None, str]:
    """The first level-1 heading (before any other text) and the body without it."""
    lines = body.split("\n")
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        if line.startswith("# "):
            return line[2:].strip(" #"), "\n".join(lines[index + 1 :])
        return None, body
    return None, body


def markdown_draft(path: PurePosixPath, text: str) -> ArticleDraft:
    """The draft of one Markdown file at `path` in the folder."""
    meta, body = split_front_matter(text)
    fields = {_FRONT_KEYS[key]: value for key, value in meta.items() if key in _FRONT_KEYS}
    title = fields.get("title")
    if not clean_line(title):
        title, body = _title_from_heading(body)
        title = title or path.stem
    category = parse_path(fields["category"]) if "category" in fields else tuple(path.parent.parts)
    return make_draft(
        title=title,
        body=body,
        language=fields.get("language"),
        category=category,
        visibility=fields.get("visibility"),
        status=fields.get("status"),
        translation_key=fields.get("translation_key"),
        external_id=fields.get("external_id"),
    )


def _front(key: str, value: str) -> str:
    """One front-matter line; a value that would not read back as written is a JSON string."""
    plain = value == value.strip() and not value.startswith(('"', "'", "[")) and "\n" not in value
    return f"{key}: {value if plain and value else json.dumps(value, ensure_ascii=False)}"


def markdown_text(draft: ArticleDraft) -> str:
    """One draft as a Markdown file with front matter."""
    lines = ["---", _front("title", draft.title), _front("language", draft.language)]
    if draft.category:
        lines.append(_front("category", format_path(draft.category)))
    lines += [_front("visibility", draft.visibility), _front("status", draft.status)]
    if draft.translation_key:
        lines.append(_front("translation", draft.translation_key))
    if draft.external_id:
        lines.append(_front("id", draft.external_id))
    lines.append("---")
    return "\n".join(lines) + "\n\n" + draft.body + ("\n" if draft.body else "")


def _unique_paths(drafts: Iterable[ArticleDraft]) -> Iterator[tuple[str, ArticleDraft]]:
    used: set[str] = set()
    for draft in drafts:
        folder = "/".join(safe_name(name, default="category") for name in draft.category)
        stem = safe_name(draft.title)
        if draft.translation_key:
            stem = f"{stem}.{draft.language}"
        candidate, n = stem, 1
        while (path := f"{folder}/{candidate}.md" if folder else f"{candidate}.md").casefold() in used:
            n += 1
            candidate = f"{stem}-{n}"
        used.add(path.casefold())
        yield path, draft


def write_markdown_zip(drafts: Iterable[ArticleDraft]) -> bytes:
    """The drafts as a zip of Markdown files, one folder per category (the front matter carries the exact path)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, draft in _unique_paths(drafts):
            archive.writestr(path, markdown_text(draft).encode("utf-8"))
    return buffer.getvalue()
