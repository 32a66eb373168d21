"""Parsing an external contact history (CSV `timestamp,count[,queue]`) into rows, with errors by line.

Errors are codes with parameters, not sentences, so the Django layer can translate them. When any row is bad the
parse returns no rows at all: an import is all or nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

MAX_ERRORS = 200  # a wholly wrong file would otherwise produce one error per line

# Error codes (the Django layer maps them to translated messages).
BAD_ENCODING = "bad_encoding"
EMPTY = "empty"
WRONG_COLUMN_COUNT = "wrong_column_count"
BAD_TIMESTAMP = "bad_timestamp"
BAD_COUNT = "bad_count"
NEGATIVE_COUNT = "negative_count"
DUPLICATE_TIMESTAMP = "duplicate_timestamp"


@dataclass(frozen=True)
class HistoryRow:
    ts: datetime  # aware, in the parse's time zone
    count: int
    queue: str = ""


@dataclass(frozen=True)
class RowError:
    line: int  # 1-based physical line of the file
    code: str
    value: str = ""
    params: dict[str, int | str] = field(default_factory=dict)


@dataclass(frozen=True)
class HistoryParse:
    rows: list[HistoryRow]  # empty whenever `errors` is not
    errors: list[RowError]
    encoding: str
    has_queue: bool
    truncated: bool = False  # more than MAX_ERRORS errors; only the first are listed

    @property
    def ok(self) -> bool:
        return not self.errors


def decode(data: bytes) -> tuple[str, str] | None:
    """UTF-8 (BOM or not) first, since GB18030 would also accept most UTF-8 byte strings as mojibake."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            return None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        return None


def parse_timestamp(text: str, tz: tzinfo) -> datetime | None:
    """ISO 8601 (with `T` or a space, `Z` or an offset, or none) or `YYYY/MM/DD HH:MM[:SS]`; naive means `tz`."""
    text = text.strip()
    if not text:
        return None
    if len(text) >= 10 and text[4] == "/" and text[7] == "/":
        text = text.replace("/", "-", 2)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=tz)
    return value.astimezone(tz)


def _parse_count(text: str) -> int | None:
    text = text.strip()
    if not text or not text.lstrip("+-").isdigit():
        return None
    return int(text)


def _is_header(cells: list[str], tz: tzinfo) -> bool:
    return len(cells) >= 2 and parse_timestamp(cells[0], tz) is None and _parse_count(cells[1]) is None


def parse_history_csv(data: bytes, *, tz: tzinfo) -> HistoryParse:
    """Rows of `timestamp,count[,queue]`; an optional header line (any names) is recognised and skipped."""
    decoded = decode(data)
    if decoded is None:
        return HistoryParse(rows=[], errors=[RowError(line=1, code=BAD_ENCODING)], encoding="", has_queue=False)
    text, encoding = decoded
    lines = [(number, cells) for number, cells in _records(text) if any(c.strip() for c in cells)]
    if lines and _is_header(lines[0][1], tz):
        lines = lines[1:]
    if not lines:
        return HistoryParse(rows=[], errors=[RowError(line=1, code=EMPTY)], encoding=encoding, has_queue=False)
    width = len(lines[0][1]) if len(lines[0][1]) in (2, 3) else 2
    rows: list[HistoryRow] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, datetime], int] = {}
    for number, cells in lines:
        error = None
        if len(cells) != width:
            error = RowError(
                line=number,
                code=WRONG_COLUMN_COUNT,
                value=",".join(cells)[:80],
                params={"expected": width, "found": len(cells)},
            )
        else:
            error, row = _parse_row(number, cells, tz)
            if row is not None:
                key = (row.queue, row.ts)
                if key in seen:
                    error = RowError(
                        line=number, code=DUPLICATE_TIMESTAMP, value=cells[0].strip(), params={"first_line": seen[key]}
                    )
                else:
                    seen[key] = number
                    rows.append(row)
        if error is not None:
            errors.append(error)
            if len(errors) >= MAX_ERRORS:
                return HistoryParse(rows=[], errors=errors, encoding=encoding, has_queue=width == 3, truncated=True)
    return HistoryParse(rows=[] if errors else rows, errors=errors, encoding=encoding, has_queue=width == 3)


def _records(text: str) -> list[tuple[int, list[str]]]:
    """csv records with the physical line each starts on (a quoted field may span lines)."""
    reader = csv.reader(io.StringIO(text))
    out: list[tuple[int, list[str]]] = []
    start = 1
    for cells in reader:
        out.append((start, cells))
        start = reader.line_num + 1
    return out


def _parse_row(number: int, cells: list[str], tz: tzinfo) -> tuple[RowError | None, HistoryRow | None]:
    ts = parse_timestamp(cells[0], tz)
    if ts is None:
        return RowError(line=number, code=BAD_TIMESTAMP, value=cells[0].strip()[:80]), None
    count = _parse_count(cells[1])
    if count is None:
        return RowError(line=number, code=BAD_COUNT, value=cells[1].strip()[:80]), None
    if count < 0:
        return RowError(line=number, code=NEGATIVE_COUNT, value=cells[1].strip()[:80]), None
    queue = cells[2].strip() if len(cells) == 3 else ""
    return None, HistoryRow(ts=ts, count=count, queue=queue)


def describe_error(error: RowError) -> str:
    """A plain English rendering for the command line (the web layer translates the code instead)."""
    what = {
        BAD_ENCODING: "the file is neither UTF-8 nor GB18030",
        EMPTY: "no data rows",
        WRONG_COLUMN_COUNT: "expected {expected} columns, found {found}",
        BAD_TIMESTAMP: "bad timestamp",
        BAD_COUNT: "count is not a whole number",
        NEGATIVE_COUNT: "count is negative",
        DUPLICATE_TIMESTAMP: "duplicate timestamp (first on line {first_line})",
    }.get(error.code, error.code)
    text = what.format(**error.params) if error.params else what
    return f"line {error.line}: {text}" + (f": {error.value!r}" if error.value else "")
