"""Configuring enrichment connectors: per-workspace HTTP lookups of what an extracted number refers to.

A connector calls `url_template` with `{value}` (the URL-quoted entity value) for entities of its `entity_kind`,
sends `headers` plus its secret headers (stored encrypted in `secret_config`, never shown again), picks `fields`
(dotted paths into the JSON answer) and renders `summary_template` with them, e.g. "物流: {status}, 最后节点
{last_node}". Everything is validated here, so a saved connector can always be called.
"""

from __future__ import annotations

import re
import string
from typing import Any
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.ai.errors import AIErrorCode
from pivotdesk.ai.models import Connector
from pivotdesk.common import config_cache
from pivotdesk.common.crypto import decrypt_json, encrypt_json
from pivotdesk.common.errors import Conflict, ValidationFailed

METHODS = ("GET", "POST")
MIN_TIMEOUT_S = 0.5
MAX_TIMEOUT_S = 30.0
MAX_FIELDS = 20
# `{entity}` in a summary template is the looked-up value itself (unless the answer has a field of that name).
ENTITY_PLACEHOLDER = "entity"
UPDATABLE = frozenset(
    {
        "name",
        "entity_kind",
        "url_template",
        "method",
        "headers",
        "fields",
        "summary_template",
        "timeout_seconds",
        "active",
    }
)
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_PATH = re.compile(r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def _require(actor: Actor) -> None:
    authorize(actor, Perm.WORKSPACE_CONFIGURE)


def _connectors_changed(workspace_id: int) -> None:
    """Triage reads the connectors from the per-process configuration cache: reload them once this commits."""
    transaction.on_commit(lambda: config_cache.invalidate(workspace_id))


def _template_fields(template: str, what: str) -> list[str]:
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValidationFailed(
            gettext("The template %(what)s has an unmatched brace.") % {"what": what},
            code=AIErrorCode.INVALID_TEMPLATE,
            details={what: str(exc)},
        ) from exc
    names: list[str] = []
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name or spec or conversion or "[" in name:
            raise ValidationFailed(
                gettext("The template %(what)s may only use plain {name} placeholders.") % {"what": what},
                code=AIErrorCode.INVALID_TEMPLATE,
                details={what: f"bad placeholder {{{name}}}"},
            )
        names.append(name)
    return names


def clean_url_template(url_template: str) -> str:
    """An absolute http(s) URL whose only placeholder is {value} (used once or more), else ValidationFailed."""
    url_template = (url_template or "").strip()
    if not url_template or len(url_template) > 500 or any(c.isspace() for c in url_template):
        raise ValidationFailed(
            gettext("The URL is empty, too long or has spaces."),
            code=AIErrorCode.INVALID_URL,
            details={"url_template": "1..500 chars"},
        )
    names = _template_fields(url_template, "url_template")
    if set(names) != {"value"}:
        raise ValidationFailed(
            gettext("The URL must contain {value} and no other placeholder."),
            code=AIErrorCode.INVALID_URL,
            details={"url_template": "e.g. …/orders/{value}"},
        )
    try:
        parts = urlsplit(url_template.replace("{value}", "x"))
        _ = parts.port
    except ValueError as exc:
        raise ValidationFailed(
            gettext("The URL is not valid."), code=AIErrorCode.INVALID_URL, details={"url_template": str(exc)}
        ) from exc
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValidationFailed(
            gettext("Only http(s) URLs with a host are allowed."),
            code=AIErrorCode.INVALID_URL,
            details={"url_template": "http(s)://host/…"},
        )
    return url_template


def clean_headers(headers: Any, *, what: str = "headers") -> dict[str, str]:
    """A dict of HTTP header names to string values (no line breaks)."""
    if headers is None:
        return {}
    if not isinstance(headers, dict):
        raise ValidationFailed(
            gettext("Headers are a JSON object of name → value."),
            code=AIErrorCode.INVALID_HEADERS,
            details={what: "an object"},
        )
    out: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name) or not isinstance(value, (str, int, float)):
            raise ValidationFailed(
                gettext("Bad header “%(name)s”.") % {"name": name},
                code=AIErrorCode.INVALID_HEADERS,
                details={what: "token names, string values"},
            )
        text = str(value)
        if "\r" in text or "\n" in text:
            raise ValidationFailed(
                gettext("Header %(name)s contains a line break.") % {"name": name},
                code=AIErrorCode.INVALID_HEADERS,
                details={what: "no line breaks"},
            )
        out[name] = text
    return out


def clean_fields(fields: Any) -> list[str]:
    """Dotted paths into the JSON answer (`status`, `tracking.last_node`, `items.0.sku`), without duplicates."""
    if fields is None:
        return []
    if not isinstance(fields, list) or len(fields) > MAX_FIELDS:
        raise ValidationFailed(
            gettext("Fields are a list of at most %(count)s dotted paths.") % {"count": MAX_FIELDS},
            code=AIErrorCode.INVALID_FIELDS,
            details={"fields": "list"},
        )
    out: list[str] = []
    for path in fields:
        if not isinstance(path, str) or not _PATH.match(path.strip()):
            raise ValidationFailed(
                gettext("Bad field path “%(path)s”.") % {"path": path},
                code=AIErrorCode.INVALID_FIELDS,
                details={"fields": "e.g. tracking.last_node"},
            )
        if path.strip() not in out:
            out.append(path.strip())
    return out


def clean_summary_template(template: str) -> str:
    """A summary template with plain {dotted.path} placeholders."""
    template = (template or "").strip()
    if len(template) > 500:
        raise ValidationFailed(
            gettext("The summary template is too long."),
            code=AIErrorCode.INVALID_TEMPLATE,
            details={"summary_template": "≤ 500 characters"},
        )
    for name in _template_fields(template, "summary_template"):
        if not _PATH.match(name):
            raise ValidationFailed(
                gettext("Bad placeholder {%(name)s}.") % {"name": name},
                code=AIErrorCode.INVALID_TEMPLATE,
                details={"summary_template": "{dotted.path}"},
            )
    return template


def clean_values(values: dict[str, Any]) -> dict[str, Any]:
    """The given connector settings, normalised and validated (ValidationFailed names the bad one)."""
    out = dict(values)
    if "name" in out:
        out["name"] = str(out["name"] or "").strip()
        if not out["name"] or len(out["name"]) > 120:
            raise ValidationFailed(
                gettext("A name of 1..120 characters is required."),
                code=AIErrorCode.INVALID_NAME,
                details={"name": "required"},
            )
    if "entity_kind" in out:
        out["entity_kind"] = str(out["entity_kind"] or "").strip().lower()
        if not _KIND.match(out["entity_kind"]):
            raise ValidationFailed(
                gettext("The entity kind is a short snake_case word."),
                code=AIErrorCode.INVALID_ENTITY_KIND,
                details={"entity_kind": "e.g. order"},
            )
    if "url_template" in out:
        out["url_template"] = clean_url_template(out["url_template"])
    if "method" in out:
        out["method"] = str(out["method"] or "GET").upper()
        if out["method"] not in METHODS:
            raise ValidationFailed(
                gettext("The method is GET or POST."),
                code=AIErrorCode.INVALID_METHOD,
                details={"method": list(METHODS)},
            )
    if "headers" in out:
        out["headers"] = clean_headers(out["headers"])
    if "fields" in out:
        out["fields"] = clean_fields(out["fields"])
    if "summary_template" in out:
        out["summary_template"] = clean_summary_template(out["summary_template"])
    if "timeout_seconds" in out:
        try:
            timeout = float(out["timeout_seconds"])
        except (TypeError, ValueError) as exc:
            raise ValidationFailed(
                gettext("The timeout is a number of seconds."),
                code=AIErrorCode.INVALID_TIMEOUT,
                details={"timeout_seconds": "number"},
            ) from exc
        if not MIN_TIMEOUT_S <= timeout <= MAX_TIMEOUT_S:
            raise ValidationFailed(
                gettext("The timeout is %(min)s..%(max)s seconds.")
                % {"min": f"{MIN_TIMEOUT_S:g}", "max": f"{MAX_TIMEOUT_S:g}"},
                code=AIErrorCode.INVALID_TIMEOUT,
                details={"timeout_seconds": "range"},
            )
        out["timeout_seconds"] = timeout
    if "active" in out:
        out["active"] = bool(out["active"])
    return out


def connector_secrets(connector: Connector) -> dict[str, str]:
    """The connector's secret headers, decrypted (e.g. {"Authorization": "Bearer …"})."""
    return {str(k): str(v) for k, v in decrypt_json(connector.secret_config).items()}


def connector_create(
    *,
    workspace: Workspace,
    actor: Actor,
    name: str,
    entity_kind: str,
    url_template: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    secret_headers: dict[str, str] | None = None,
    fields: list[str] | None = None,
    summary_template: str = "",
    timeout_seconds: float = 5.0,
    active: bool = True,
) -> Connector:
    """Add a connector to a workspace; secret headers are stored encrypted."""
    _require(actor)
    values = clean_values(
        {
            "name": name,
            "entity_kind": entity_kind,
            "url_template": url_template,
            "method": method,
            "headers": headers,
            "fields": fields,
            "summary_template": summary_template,
            "timeout_seconds": timeout_seconds,
            "active": active,
        }
    )
    secret_config = encrypt_json(clean_headers(secret_headers, what="secret_headers")) if secret_headers else ""
    try:
        with transaction.atomic():
            connector = Connector.objects.create(workspace=workspace, secret_config=secret_config, **values)
            _connectors_changed(workspace.pk)
            return connector
    except IntegrityError as exc:
        raise Conflict(
            gettext("A connector named “%(name)s” already exists.") % {"name": values["name"]},
            code=AIErrorCode.DUPLICATE,
        ) from exc


def connector_update(
    *,
    connector: Connector,
    actor: Actor,
    changes: dict[str, Any] | None = None,
    secret_headers: dict[str, str] | None = None,
) -> Connector:
    """Change a connector. `secret_headers`: None keeps the stored secrets, {} removes them, else replaces them."""
    _require(actor)
    changes = changes or {}
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValidationFailed(
            gettext("Cannot change: %(fields)s.") % {"fields": ", ".join(sorted(unknown))},
            code=AIErrorCode.UNKNOWN_FIELD,
            details={"changes": sorted(UPDATABLE)},
        )
    values = clean_values(changes)
    for key, value in values.items():
        setattr(connector, key, value)
    update_fields = [*values, "updated_at"]
    if secret_headers is not None:
        cleaned = clean_headers(secret_headers, what="secret_headers")
        connector.secret_config = encrypt_json(cleaned) if cleaned else ""
        update_fields.append("secret_config")
    try:
        with transaction.atomic():
            connector.save(update_fields=update_fields)
            _connectors_changed(connector.workspace_id)
    except IntegrityError as exc:
        raise Conflict(
            gettext("A connector named “%(name)s” already exists.") % {"name": connector.name},
            code=AIErrorCode.DUPLICATE,
        ) from exc
    return connector


def connector_delete(*, connector: Connector, actor: Actor) -> None:
    """Remove a connector (results already attached to entities stay)."""
    _require(actor)
    with transaction.atomic():
        connector.delete()
        _connectors_changed(connector.workspace_id)
