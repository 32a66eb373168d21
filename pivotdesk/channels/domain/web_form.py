"""The public web form (pure): which fields a form shows, and checking a submission against them.

A form's ChannelAccount config names its fields in order: the built-in ones (name, email, phone, subject,
description) and the keys of the workspace's custom ticket fields. Errors come back as codes per field; the view
words them in the visitor's language.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any

from pivotdesk.customers.domain.identity import IdentityError, normalize_email, normalize_phone
from pivotdesk.tickets.domain.custom_fields import FieldSpec, FieldValueError, validate_values

BUILTIN = ("name", "email", "phone", "subject", "description")
DEFAULT_FIELDS = BUILTIN
ALWAYS_REQUIRED = frozenset({"email"})
DEFAULT_REQUIRED = frozenset({"email", "description"})
MAX_LENGTH = {"name": 200, "email": 254, "phone": 40, "subject": 250, "description": 20_000}


@dataclass(frozen=True)
class FormField:
    """One field of the form: a built-in one or a custom ticket field (`custom` then holds its spec)."""

    key: str
    required: bool
    custom: FieldSpec | None = None
    label: str = ""
    label_zh: str = ""

    @property
    def input_type(self) -> str:
        if self.custom is not None:
            return self.custom.field_type
        return {"email": "email", "phone": "tel", "description": "textarea"}.get(self.key, "text")

    @property
    def options(self) -> tuple[str, ...]:
        return self.custom.options if self.custom is not None else ()


@dataclass(frozen=True)
class AttachmentRules:
    enabled: bool = True
    max_files: int = 5
    max_bytes: int = 10 * 1024 * 1024
    accept: tuple[str, ...] = ()  # MIME patterns (image/*) or extensions (.pdf); empty: anything not blocked
    blocked_extensions: tuple[str, ...] = ()


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content_type: str
    content: bytes


@dataclass
class CheckedSubmission:
    """A submission after checking: cleaned built-in values, typed custom values, files, and errors by field."""

    values: dict[str, str] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    files: list[UploadedFile] = field(default_factory=list)
    errors: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # field → [(code, detail)]

    def fail(self, key: str, code: str, detail: str = "") -> None:
        self.errors.setdefault(key, []).append((code, detail))


def form_fields(config: dict[str, Any], custom_fields: list[FormField]) -> list[FormField]:
    """The fields a form shows, in its configured order; unknown keys are skipped, email is always present."""
    wanted = config.get("fields")
    keys = [str(k) for k in wanted] if isinstance(wanted, list) and wanted else list(DEFAULT_FIELDS)
    if "email" not in keys:
        keys.insert(0, "email")
    raw_required = config.get("required")
    required = set(map(str, raw_required)) if isinstance(raw_required, list) else set(DEFAULT_REQUIRED)
    required |= ALWAYS_REQUIRED
    custom_by_key = {f.key: f for f in custom_fields}
    out: list[FormField] = []
    for key in dict.fromkeys(keys):
        if key in BUILTIN:
            out.append(FormField(key=key, required=key in required))
        elif key in custom_by_key:
            spec = custom_by_key[key]
            out.append(FormField(key, key in required, spec.custom, spec.label, spec.label_zh))
    return out


def attachment_rules(config: dict[str, Any], *, max_bytes: int, blocked: list[str]) -> AttachmentRules:
    """The form's attachment limits: its own, never above the workspace-wide size limit."""
    raw = config.get("attachments")
    own = raw if isinstance(raw, dict) else {}
    limit = max_bytes
    if isinstance(own.get("max_mb"), int | float) and own["max_mb"] > 0:
        limit = min(limit, int(own["max_mb"] * 1024 * 1024))
    accept = own.get("accept")
    return AttachmentRules(
        enabled=bool(own.get("enabled", True)),
        max_files=int(own.get("max_files", 5)) if isinstance(own.get("max_files", 5), int) else 5,
        max_bytes=limit,
        accept=tuple(str(a).lower() for a in accept) if isinstance(accept, list) else (),
        blocked_extensions=tuple(e.lower().lstrip(".") for e in blocked),
    )


def _extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def _accepted(rules: AttachmentRules, upload: UploadedFile) -> bool:
    if _extension(upload.filename) in rules.blocked_extensions:
        return False
    if not rules.accept:
        return True
    ext = "." + _extension(upload.filename)
    ctype = upload.content_type.lower()
    return any(ext == a if a.startswith(".") else fnmatch.fnmatch(ctype, a) for a in rules.accept)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def check_submission(
    fields: list[FormField], rules: AttachmentRules, data: dict[str, Any], files: list[UploadedFile]
) -> CheckedSubmission:
    """Check posted values and files against the form; every problem is reported, not just the first."""
    result = CheckedSubmission()
    custom_specs: dict[str, FieldSpec] = {}
    custom_raw: dict[str, Any] = {}
    for f in fields:
        raw = data.get(f.key)
        if f.custom is not None:
            custom_specs[f.key] = f.custom
            if raw not in (None, "", []):
                custom_raw[f.key] = raw
            elif f.required:
                result.fail(f.key, "required")
            continue
        value = _CONTROL.sub("", raw if isinstance(raw, str) else "").strip()
        if not value:
            if f.required:
                result.fail(f.key, "required")
            continue
        if len(value) > MAX_LENGTH[f.key]:
            result.fail(f.key, "too_long", str(MAX_LENGTH[f.key]))
            continue
        try:
            if f.key == "email":
                value = normalize_email(value)
            elif f.key == "phone":
                value = normalize_phone(value)
        except IdentityError:
            result.fail(f.key, "invalid_email" if f.key == "email" else "invalid_phone")
            continue
        result.values[f.key] = value
    if custom_raw:
        try:
            result.custom = validate_values(custom_specs, {}, custom_raw)
        except FieldValueError as exc:
            for key, reason in exc.errors.items():
                result.fail(key, "invalid_value", reason)
    if files and not rules.enabled:
        result.fail("attachments", "not_allowed")
    elif len(files) > rules.max_files:
        result.fail("attachments", "too_many", str(rules.max_files))
    else:
        for upload in files:
            if len(upload.content) > rules.max_bytes:
                result.fail("attachments", "too_large", upload.filename)
            elif not _accepted(rules, upload):
                result.fail("attachments", "type_not_allowed", upload.filename)
            else:
                result.files.append(upload)
    return result
