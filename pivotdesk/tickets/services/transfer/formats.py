"""File formats of ticket import/export: decoding (UTF-8, GB18030, BOMs), CSV and JSON rows with their lines,
column names and their Chinese aliases."""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from django.utils.translation import gettext

from pivotdesk.common.errors import ValidationFailed

FORMATS = ("csv", "json")
CSV_COLUMNS = (
    "external_id",
    "number",
    "subject",
    "body",
    "status",
    "status_label",
    "priority",
    "type",
    "channel",
    "requester_email",
    "requester_name",
    "requester_phone",
    "organization",
    "assignee",
    "team",
    "category",
    "tags",
    "language",
    "created_at",
)
CUSTOM_PREFIX = "cf_"
LIST_SEPARATOR = "|"  # multi-select values in a CSV cell
EXPORT_KEY = re.compile(r"^pivotdesk:(?P<slug>[-\w]+)#(?P<number>\d+)$")
GB18030_BOM = b"\x84\x31\x95\x33"

# Column names as Chinese spreadsheets write them, and Chinese values of the fixed choices.
HEADER_ALIASES = {
    "编号": "external_id",
    "工单号": "external_id",
    "主题": "subject",
    "标题": "subject",
    "内容": "body",
    "描述": "body",
    "正文": "body",
    "邮箱": "requester_email",
    "客户邮箱": "requester_email",
    "电子邮件": "requester_email",
    "客户": "requester_name",
    "客户姓名": "requester_name",
    "姓名": "requester_name",
    "电话": "requester_phone",
    "手机": "requester_phone",
    "手机号": "requester_phone",
    "公司": "organization",
    "状态": "status",
    "状态标签": "status_label",
    "优先级": "priority",
    "类型": "type",
    "渠道": "channel",
    "处理人": "assignee",
    "负责人": "assignee",
    "团队": "team",
    "分类": "category",
    "标签": "tags",
    "语言": "language",
    "创建时间": "created_at",
}
VALUE_ALIASES = {
    "status": {
        "新建": "new",
        "处理中": "open",
        "待回复": "pending",
        "挂起": "on_hold",
        "已解决": "solved",
        "已关闭": "closed",
    },
    "priority": {"低": "low", "普通": "normal", "中": "normal", "高": "high", "紧急": "urgent"},
    "type": {
        "问题": "question",
        "咨询": "question",
        "事件": "incident",
        "故障": "problem",
        "任务": "task",
        "投诉": "complaint",
    },
}

Progress = Callable[[int], object]


def decode_text(data: bytes) -> str:
    """Text of an uploaded file: UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030 (Excel in China)."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8")
    if data.startswith(GB18030_BOM):
        return data[len(GB18030_BOM) :].decode("gb18030")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise ValidationFailed(gettext("The file is neither UTF-8 nor GB18030 text.")) from exc


def detect_format(text: str, filename: str = "") -> str:
    """csv or json, from the file name, else from the first character."""
    name = filename.lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".json", ".jsonl", ".ndjson")):
        return "json"
    return "json" if text.lstrip()[:1] in ("[", "{") else "csv"


def _csv_rows(text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    first_line = text.split("\n", 1)[0]
    delimiter = ","
    if "," not in first_line:
        delimiter = "\t" if "\t" in first_line else (";" if ";" in first_line else ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lstrip("\ufeff") for h in next(reader)]
    except StopIteration:
        return
    while True:
        line = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield line, f"unreadable CSV: {exc}"
            continue
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(header):
            yield line, f"{len(values)} values for {len(header)} columns"
            continue
        yield line, dict(zip(header, values, strict=False))


def _json_rows(text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    stripped = text.lstrip()
    if not stripped.startswith("["):  # JSON Lines: one object per line
        for number, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                yield number, f"invalid JSON: {exc.msg}"
                continue
            yield number, obj if isinstance(obj, dict) else "not a JSON object"
        return
    decoder = json.JSONDecoder()
    pos = text.index("[") + 1
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text):
            raise ValidationFailed(gettext("The JSON array is not closed."))
        if text[pos] == "]":
            return
        line = text.count("\n", 0, pos) + 1
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise ValidationFailed(
                gettext("Invalid JSON at line %(lineno)s: %(msg)s.") % {"lineno": exc.lineno, "msg": exc.msg}
            ) from exc
        yield line, obj if isinstance(obj, dict) else "not a JSON object"


def read_rows(text: str, fmt: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line, row) pairs of a CSV or JSON document; a row that cannot be read is (line, reason)."""
    if fmt not in FORMATS:
        raise ValidationFailed(gettext("Unknown format '%(fmt)s'.") % {"fmt": fmt}, details={"format": list(FORMATS)})
    return _csv_rows(text) if fmt == "csv" else _json_rows(text)
