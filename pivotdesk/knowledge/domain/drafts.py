"""What an import reads out of a file before anything is saved: an `ArticleDraft` per article, a `Problem` per item
that could not be read, and `TransferError` when the file as a whole cannot be read.

Problems and errors carry facts (a stable code, the item, the offending value), never sentences: the service renders
them in the reader's language (architecture rule 14). `make_draft` is the one place where values are normalised
(whitespace, line ends, language and path spellings), so every format yields the same draft for the same article and
an export read back gives the drafts it was written from.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

LANGUAGES = ("zh-hans", "en")
VISIBILITIES = ("public", "internal")
STATUSES = ("draft", "published")
DEFAULT_VISIBILITY = "internal"
DEFAULT_STATUS = "draft"
CJK_SHARE = 0.3  # the share of CJK characters among letters above which a text is Chinese
PATH_SEPARATOR = "/"

_SPACE = re.compile(r"\s+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")

_LANGUAGE_ALIASES = {
    "zh": "zh-hans",
    "zh-hans": "zh-hans",
    "zh-cn": "zh-hans",
    "zh-sg": "zh-hans",
    "zh-hans-cn": "zh-hans",
    "zh_cn": "zh-hans",
    "cn": "zh-hans",
    "chinese": "zh-hans",
    "中文": "zh-hans",
    "简体中文": "zh-hans",
    "en": "en",
    "english": "en",
    "英文": "en",
    "英语": "en",
}
_VISIBILITY_ALIASES = {"public": "public", "公开": "public", "internal": "internal", "内部": "internal"}
_STATUS_ALIASES = {
    "draft": "draft",
    "草稿": "draft",
    "published": "published",
    "已发布": "published",
    "发布": "published",
}


class ProblemCode(StrEnum):
    """Why one item of a file was not imported (stable: the service words them)."""

    NO_TITLE = "no_title"
    TITLE_TOO_LONG = "title_too_long"
    BAD_LANGUAGE = "bad_language"
    BAD_VISIBILITY = "bad_visibility"
    BAD_STATUS = "bad_status"
    NOT_MARKDOWN = "not_markdown"
    UNREADABLE = "unreadable"
    TOO_LARGE = "too_large"
    NOT_AN_OBJECT = "not_an_object"
    NO_BODY = "no_body"
    DUPLICATE = "duplicate"


class ErrorCode(StrEnum):
    """Why a whole file could not be read."""

    UNKNOWN_FORMAT = "unknown_format"
    BAD_ZIP = "bad_zip"
    BAD_JSON = "bad_json"
    BAD_CSV = "bad_csv"
    NO_TITLE_COLUMN = "no_title_column"
    TOO_LARGE = "too_large"
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class ArticleDraft:
    """One article as a file describes it: Markdown body, language, category path, and the key that links it to its
    translations (drafts sharing a `translation_key` are one article in several languages)."""

    title: str
    body: str
    language: str
    category: tuple[str, ...] = ()
    visibility: str = DEFAULT_VISIBILITY
    status: str = DEFAULT_STATUS
    translation_key: str | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class Problem:
    """One item that was not imported: where it is in the file (`ref`), the code, and the facts the message needs."""

    ref: str
    code: str
    params: Mapping[str, str] = field(default_factory=dict)

    def as_row(self) -> dict[str, object]:
        """What the import job stores (JSON)."""
        return {"ref": self.ref, "code": self.code, "params": dict(self.params)}


class TransferError(Exception):
    """The file as a whole cannot be read (not a zip, broken JSON, a CSV without a title column, …)."""

    def __init__(self, code: str, **params: str) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class DraftRejected(Exception):
    """Raised by `make_draft` for a value no article can have; becomes a Problem of the item."""

    def __init__(self, code: str, **params: str) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


# ------------------------------------------------------------------------------------------------- normalising


def clean_text(value: object) -> str:
    """Text without NUL characters, with Unix line ends (None → "")."""
    text = "" if value is None else str(value)
    return text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")


def clean_line(value: object) -> str:
    """One line of text: whitespace collapsed, stripped."""
    return _SPACE.sub(" ", clean_text(value)).strip()


def detect_language(text: str) -> str:
    """zh-hans when CJK characters make up at least `CJK_SHARE` of the letters, else en (zh-hans with no letters)."""
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    if cjk + latin == 0:
        return "zh-hans"
    return "zh-hans" if cjk / (cjk + latin) >= CJK_SHARE else "en"


def language_of(value: object) -> str | None:
    """The language code for a spelling of it ("zh-CN", "中文", "en-US" …), None when it names another language."""
    key = clean_line(value).lower().replace("_", "-")
    if key in _LANGUAGE_ALIASES:
        return _LANGUAGE_ALIASES[key]
    if key.startswith("en-"):
        return "en"
    return None


def is_cjk(text: str) -> bool:
    """Whether the text holds any CJK character."""
    return _CJK.search(text) is not None


def format_path(path: Iterable[str]) -> str:
    """A category path as one value: "A/B", or a JSON list when a name holds a separator itself."""
    names = list(path)
    if any(name.startswith("[") or any(sep in name for sep in (PATH_SEPARATOR, ">", "›")) for name in names):
        return json.dumps(names, ensure_ascii=False)
    return PATH_SEPARATOR.join(names)


def parse_path(value: object) -> tuple[str, ...]:
    """The category path of "A/B", "A > B", "A › B" or a JSON list of names; empty names are dropped."""
    text = clean_line(value)
    if text.startswith("["):
        try:
            loaded = json.loads(text)
        except ValueError:
            loaded = None
        if isinstance(loaded, list):
            return tuple(n for n in (clean_line(x) for x in loaded) if n)
    for separator in (" > ", " › ", "›", ">"):
        if separator in text and PATH_SEPARATOR not in text:
            text = text.replace(separator, PATH_SEPARATOR)
    return tuple(n for n in (clean_line(x) for x in text.split(PATH_SEPARATOR)) if n)


def _choice(value: object, aliases: Mapping[str, str], default: str, code: str) -> str:
    key = clean_line(value).lower()
    if not key:
        return default
    if key not in aliases:
        raise DraftRejected(code, value=clean_line(value)[:80])
    return aliases[key]


def make_draft(
    *,
    title: object,
    body: object = "",
    language: object = None,
    category: Iterable[str] = (),
    visibility: object = None,
    status: object = None,
    translation_key: object = None,
    external_id: object = None,
    max_title: int = 255,
) -> ArticleDraft:
    """A normalised draft, or DraftRejected naming what is wrong. An empty language is detected from the text."""
    clean_title = clean_line(title)
    if not clean_title:
        raise DraftRejected(ProblemCode.NO_TITLE)
    if len(clean_title) > max_title:
        raise DraftRejected(ProblemCode.TITLE_TOO_LONG, n=str(max_title))
    clean_body = clean_text(body).strip()
    if clean_line(language):
        code = language_of(language)
        if code is None:
            raise DraftRejected(ProblemCode.BAD_LANGUAGE, value=clean_line(language)[:80])
    else:
        code = detect_language(f"{clean_title}\n{clean_body}")
    return ArticleDraft(
        title=clean_title,
        body=clean_body,
        language=code,
        category=tuple(n for n in (clean_line(name) for name in category) if n),
        visibility=_choice(visibility, _VISIBILITY_ALIASES, DEFAULT_VISIBILITY, ProblemCode.BAD_VISIBILITY),
        status=_choice(status, _STATUS_ALIASES, DEFAULT_STATUS, ProblemCode.BAD_STATUS),
        translation_key=clean_line(translation_key) or None,
        external_id=clean_line(external_id) or None,
    )


def without_duplicates(
    drafts: Iterable[tuple[str, ArticleDraft]],
) -> tuple[list[tuple[str, ArticleDraft]], list[Problem]]:
    """The drafts (with their refs) in order, the second of two with the same language and title (or the same language and
    translation key) reported as a duplicate: one file cannot say two things about one article."""
    kept: list[tuple[str, ArticleDraft]] = []
    problems: list[Problem] = []
    seen: set[tuple[str, str, str]] = set()
    for ref, draft in drafts:
        keys = {("title", draft.language, draft.title.casefold())}
        if draft.translation_key is not None:
            keys.add(("key", draft.language, draft.translation_key))
        if keys & seen:
            problems.append(Problem(ref, ProblemCode.DUPLICATE, {"title": draft.title}))
            continue
        seen |= keys
        kept.append((ref, draft))
    return kept, problems


def decode_text(data: bytes) -> str:
    """Bytes of a text file: UTF-8 (with or without a BOM), else GB18030 (Chinese Windows); UnicodeDecodeError when
    neither reads it."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def safe_name(text: str, *, default: str = "article", limit: int = 80) -> str:
    """A file or folder name made from a title: no path separators, control or reserved characters."""
    cleaned = "".join(
        "-" if ch in '/\\:*?"<>|' or unicodedata.category(ch).startswith("C") else ch for ch in clean_line(text)
    )
    cleaned = cleaned.strip(" .-")[:limit].strip(" .")
    return cleaned or default
