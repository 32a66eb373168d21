"""REST endpoints of ticket configuration: tags, custom fields, saved views (split from tickets.api)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Query, Router
from ninja import Status as Reply

from pivotdesk.accounts.api_auth import ApiContext, context, require_admin_scope
from pivotdesk.accounts.schemas import MAX_ID, ErrorOut, Id
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.tickets import selectors, services
from pivotdesk.tickets.api import ERRORS
from pivotdesk.tickets.models import SavedView, Status
from pivotdesk.tickets.schemas import (
    CustomFieldIn,
    CustomFieldListQuery,
    CustomFieldOut,
    CustomFieldPatchIn,
    SavedViewIn,
    SavedViewOut,
    TagListQuery,
    TagOut,
)
from pivotdesk.tickets.selectors import TicketFilters

router = Router(tags=["tickets"])


def saved_view_out(v: SavedView) -> dict[str, Any]:
    return {
        "id": v.pk,
        "name": v.name,
        "filters": v.filters or {},
        "sort": v.sort,
        "shared": v.owner_id is None,
        "owner_id": v.owner_id,
        "position": v.position,
    }


# ---- tags, custom fields, saved views -----------------------------------------------------------------------------


@router.get("/tags", response={200: list[TagOut], 422: ErrorOut}, operation_id="list_tags")
def list_tags(request: HttpRequest, params: Query[TagListQuery]) -> list[Any]:
    """The workspace's tags (at most 1,000), optionally those containing q."""
    ctx = context(request)
    return list(selectors.tag_list(workspace=ctx.workspace, q=params.q)[:1000])


def _configure(ctx: ApiContext) -> None:
    """Configuration needs a token with the admin scope (the role is checked by the service)."""
    require_admin_scope(ctx)


@router.get("/custom-fields", response={200: list[CustomFieldOut], 422: ErrorOut}, operation_id="list_custom_fields")
def list_custom_fields(request: HttpRequest, params: Query[CustomFieldListQuery]) -> list[Any]:
    """The workspace's custom ticket fields (active ones unless include_inactive)."""
    ctx = context(request)
    return list(selectors.custom_field_list(workspace=ctx.workspace, active_only=not params.include_inactive))


@router.post("/custom-fields", response={201: CustomFieldOut, **ERRORS}, operation_id="create_custom_field")
def create_custom_field(request: HttpRequest, payload: CustomFieldIn) -> Reply[Any]:
    """Define a typed custom field (admins; select types need options)."""
    ctx = context(request)
    _configure(ctx)
    return Reply(201, services.custom_field_create(actor=ctx.actor, workspace=ctx.workspace, **payload.model_dump()))


@router.get("/custom-fields/{field_id}", response={200: CustomFieldOut, 404: ErrorOut}, operation_id="get_custom_field")
def get_custom_field(request: HttpRequest, field_id: Id) -> Any:
    """One custom field."""
    ctx = context(request)
    return selectors.access_custom_field(workspace=ctx.workspace, field_id=field_id)


@router.patch("/custom-fields/{field_id}", response={200: CustomFieldOut, **ERRORS}, operation_id="update_custom_field")
def update_custom_field(request: HttpRequest, field_id: Id, payload: CustomFieldPatchIn) -> Any:
    """Change a field's labels, options, required flag, position or active flag (its key and type stay)."""
    ctx = context(request)
    field = selectors.access_custom_field(workspace=ctx.workspace, field_id=field_id)
    _configure(ctx)
    changes = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    if "options" in changes and len(set(changes["options"])) != len(changes["options"]):
        raise ValidationFailed(gettext("Options must be unique."))
    return services.custom_field_update(actor=ctx.actor, field=field, **changes)


@router.get("/saved-views", response=list[SavedViewOut], operation_id="list_saved_views")
def list_saved_views(request: HttpRequest) -> list[dict[str, Any]]:
    """The shared saved views and the caller's own."""
    ctx = context(request)
    return [saved_view_out(v) for v in selectors.saved_views(workspace=ctx.workspace, agent=ctx.agent)]


def _check_view_filters(filters: dict[str, Any]) -> None:
    """Saved filters hold plain values the ticket list understands (checked now, not when the view is opened)."""
    for key, value in filters.items():
        ok = isinstance(value, str | int | bool) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value) and key in ("status", "priority")
        )
        if not ok or (isinstance(value, int) and not 0 <= value <= MAX_ID):
            raise ValidationFailed(
                gettext("Filter '%(key)s' has an unsupported value.") % {"key": key},
                details={"filters": {key: "invalid"}},
            )
    known = {k: v for k, v in filters.items() if k != "unassigned"}
    parsed = TicketFilters.from_dict(known) if set(known) <= _FILTER_NAMES else None
    if parsed is not None and any(s not in Status.values for s in parsed.status):
        raise ValidationFailed(gettext("Unknown status in filters."), details={"status": Status.values})


_FILTER_NAMES = frozenset(TicketFilters.__dataclass_fields__)


@router.post("/saved-views", response={201: SavedViewOut, **ERRORS}, operation_id="create_saved_view")
def create_saved_view(request: HttpRequest, payload: SavedViewIn) -> Reply[dict[str, Any]]:
    """Save a queue filter for yourself, or shared with the workspace (supervisors and admins)."""
    ctx = context(request)
    _check_view_filters(payload.filters)
    view = services.saved_view_create(
        actor=ctx.actor,
        workspace=ctx.workspace,
        name=payload.name,
        filters=payload.filters,
        sort=payload.sort,
        owner=None if payload.shared else ctx.agent,
    )
    return Reply(201, saved_view_out(view))


@router.get("/saved-views/{view_id}", response={200: SavedViewOut, 404: ErrorOut}, operation_id="get_saved_view")
def get_saved_view(request: HttpRequest, view_id: Id) -> dict[str, Any]:
    """One saved view (shared, or the caller's own)."""
    ctx = context(request)
    return saved_view_out(selectors.access_saved_view(workspace=ctx.workspace, agent=ctx.agent, view_id=view_id))


@router.delete("/saved-views/{view_id}", response={204: None, **ERRORS}, operation_id="delete_saved_view")
def delete_saved_view(request: HttpRequest, view_id: Id) -> Reply[None]:
    """Delete a saved view: your own, or a shared one (supervisors and admins)."""
    ctx = context(request)
    view = selectors.access_saved_view(workspace=ctx.workspace, agent=ctx.agent, view_id=view_id)
    services.saved_view_delete(actor=ctx.actor, view=view)
    return Reply(204, None)
