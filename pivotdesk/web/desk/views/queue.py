"""The queue: scopes (mine, unassigned, my teams, all), filters, sort, saved views, bulk actions, live rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.cache import cache
from django.db.models import F
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from pivotdesk.accounts.permissions import Perm, can
from pivotdesk.common.choices import Channel
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.common.pagination import paginate
from pivotdesk.tickets import selectors as ticket_selectors
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Priority, QueueLayout, Status
from pivotdesk.tickets.services.queue_layout import DEFAULT_COLUMNS, QUEUE_COLUMNS
from pivotdesk.web.base import PAGE_SIZE, Desk, agent_view, int_or_none, redirect_next
from pivotdesk.web.desk import statuses
from pivotdesk.web.selectors import queue_filter_choices

FILTER_KEYS = ("scope", "status", "priority", "assignee", "team", "tag", "channel", "q")
SCOPES = (
    ("mine", gettext_lazy("Mine")),
    ("unassigned", gettext_lazy("Unassigned")),
    ("my_teams", gettext_lazy("My teams")),
    ("open", gettext_lazy("All open")),
    ("all", gettext_lazy("All")),
)
DEFAULT_SCOPE = "open"
COLUMNS = (
    ("number", gettext_lazy("#"), "number"),
    ("subject", gettext_lazy("Subject"), "subject"),
    ("requester", gettext_lazy("Requester"), None),
    ("status", gettext_lazy("Status"), "status"),
    ("priority", gettext_lazy("Priority"), "priority"),
    ("assignee", gettext_lazy("Assignee"), None),
    ("team", gettext_lazy("Team"), None),
    ("channel", gettext_lazy("Channel"), None),
    ("sla", gettext_lazy("SLA"), "sla_due_at"),
    ("updated", gettext_lazy("Updated"), "updated_at"),
)
# The highest page number read from the query string (page × PAGE_SIZE must stay a 64-bit offset).
MAX_PAGE = 1_000_000
# Sorts the queue adds on top of the ticket selector's: the next SLA deadline, soonest first, tickets without one last.
DEADLINE_SORT = "sla_due_at"


@dataclass(frozen=True)
class QueueState:
    """The queue's parameters as read from the query string."""

    filters: dict[str, str]
    sort: str
    page: int

    @classmethod
    def from_request(cls, request: HttpRequest) -> QueueState:
        filters = {k: request.GET.get(k, "").strip() for k in FILTER_KEYS}
        filters = {k: v for k, v in filters.items() if v}
        filters.setdefault("scope", DEFAULT_SCOPE)
        # Past the last page shows an empty page; the cap keeps the offset within the database's integers.
        page = min(MAX_PAGE, max(1, int_or_none(request.GET.get("page")) or 1))
        # A search without a chosen sort shows the best matches first.
        default = ticket_selectors.RELEVANCE if filters.get("q") else ticket_selectors.DEFAULT_SORT
        return cls(filters=filters, sort=request.GET.get("sort", "").strip() or default, page=page)

    @property
    def form_sort(self) -> str:
        """The sort the filter form carries: a chosen column sort, not the default (so a new search ranks)."""
        return "" if self.sort in (ticket_selectors.DEFAULT_SORT, ticket_selectors.RELEVANCE) else self.sort

    def query(self, **overrides: Any) -> str:
        """This state as a query string, with some parameters replaced (None drops one)."""
        params: dict[str, Any] = {**self.filters, "sort": self.sort}
        if self.page > 1:
            params["page"] = self.page
        params.update(overrides)
        return urlencode({k: v for k, v in params.items() if v not in (None, "")})

    def ticket_filters(self) -> ticket_selectors.TicketFilters:
        data = dict(self.filters)
        if data.get("scope") == "all":
            data.pop("scope")
        return ticket_selectors.TicketFilters.from_dict(data)


def shown_columns(desk: Desk) -> list[str]:
    """The columns this agent chose (the column chooser), else all of them."""
    chosen = QueueLayout.objects.filter(agent=desk.agent).values_list("columns", flat=True).first()
    return [c for c in QUEUE_COLUMNS if c in chosen] if chosen else list(DEFAULT_COLUMNS)


def _rows_context(desk: Desk, state: QueueState) -> dict[str, Any]:
    by_deadline = state.sort.lstrip("-") == DEADLINE_SORT
    qs = ticket_selectors.ticket_list(
        workspace=desk.workspace,
        agent=desk.agent,
        filters=state.ticket_filters(),
        sort=ticket_selectors.DEFAULT_SORT if by_deadline else state.sort,
    )
    if by_deadline:
        due = F(DEADLINE_SORT)
        qs = qs.order_by(due.desc(nulls_last=True) if state.sort.startswith("-") else due.asc(nulls_last=True), "pk")
    page = paginate(qs, limit=PAGE_SIZE, offset=(state.page - 1) * PAGE_SIZE)
    pages = max(1, -(-page.count // PAGE_SIZE))
    shown = shown_columns(desk)
    return {
        "may_bulk": can(desk.agent, Perm.TICKET_BULK),
        "shown": shown,
        "colspan": len(shown) + 1,
        "page": page,
        "tickets": page.items,
        "state": state,
        "query": state.query(),
        "page_number": state.page,
        "pages": pages,
        "prev_query": state.query(page=state.page - 1) if state.page > 1 else "",
        "next_query": state.query(page=state.page + 1) if page.next_offset is not None else "",
        "first_row": page.offset + 1 if page.items else 0,
        "last_row": page.offset + len(page.items),
    }


def _columns(state: QueueState, shown: list[str]) -> list[dict[str, Any]]:
    current = state.sort.lstrip("-")
    descending = state.sort.startswith("-")
    out = []
    for key, label, sort_key in COLUMNS:
        if key not in shown:
            continue
        col: dict[str, Any] = {"key": key, "label": label, "sortable": sort_key is not None, "direction": ""}
        if sort_key is not None:
            if sort_key == current:
                col["direction"] = "desc" if descending else "asc"
                new_sort = sort_key if descending else f"-{sort_key}"
            else:
                new_sort = f"-{sort_key}" if sort_key in ("updated_at", "priority", "number") else sort_key
            col["query"] = state.query(sort=new_sort, page=None)
        out.append(col)
    return out


def home(request: HttpRequest) -> HttpResponse:
    """Home is the queue."""
    return redirect("web:queue")


@agent_view
def queue(request: HttpRequest, desk: Desk) -> HttpResponse:
    """The queue page."""
    state = QueueState.from_request(request)
    context = _rows_context(desk, state)
    agents, teams = queue_filter_choices(workspace_id=desk.workspace.pk)
    context.update(
        scopes=[(key, label, state.query(scope=key, page=None)) for key, label in SCOPES],
        columns=_columns(state, context["shown"]),
        column_choices=[(key, label, key in context["shown"]) for key, label, _sort in COLUMNS if key != "subject"],
        filters=state.filters,
        saved_views=list(ticket_selectors.saved_views(workspace=desk.workspace, agent=desk.agent)),
        can_share_views=can(desk.agent, Perm.SAVED_VIEW_SHARE),
        current_view=int_or_none(request.GET.get("view")),
        agents=agents,
        teams=teams,
        status_filters=statuses.filter_choices(workspace_id=desk.workspace.pk),
        bulk_statuses=statuses.status_choices(workspace_id=desk.workspace.pk, exclude=(Status.NEW,)),
        priorities=Priority.choices,
        channels=Channel.choices,
        relevance_query=state.query(sort=ticket_selectors.RELEVANCE, page=None),
    )
    return render(request, "web/queue/page.html", context)


@agent_view
def queue_rows(request: HttpRequest, desk: Desk) -> HttpResponse:
    """The rows of the queue (polled every few seconds so new tickets show up without a reload)."""
    state = QueueState.from_request(request)
    return render(request, "web/queue/_rows.html", _rows_context(desk, state))


COUNTS_SECONDS = 15  # counts per agent are cached this long (and refreshed by live updates at most this often)
MAX_COUNTED_VIEWS = 30


def _count(desk: Desk, filters: dict[str, str]) -> int:
    state = QueueState(filters={"scope": DEFAULT_SCOPE, **filters}, sort=ticket_selectors.DEFAULT_SORT, page=1)
    return ticket_selectors.ticket_list(
        workspace=desk.workspace, agent=desk.agent, filters=state.ticket_filters()
    ).count()


@agent_view
def queue_counts(request: HttpRequest, desk: Desk) -> HttpResponse:
    """How many tickets each scope and saved view holds, as out-of-band swaps into the queue's side bar. Counted
    with the queue's own selector (so a count always matches its list) and cached per agent for 15 s."""
    key = f"queue-counts:{desk.workspace.pk}:{desk.agent.pk}"
    counts: dict[str, int] | None = cache.get(key)
    if counts is None:
        counts = {f"scope-{scope}": _count(desk, {"scope": scope}) for scope, _label in SCOPES}
        views = ticket_selectors.saved_views(workspace=desk.workspace, agent=desk.agent)[:MAX_COUNTED_VIEWS]
        for view in views:
            filters = {k: ",".join(v) if isinstance(v, list) else str(v) for k, v in (view.filters or {}).items()}
            filters = {k: v for k, v in filters.items() if k in FILTER_KEYS and v}
            try:
                counts[f"view-{view.pk}"] = _count(desk, filters)
            except ValidationFailed:  # a view saved before a filter's rules changed: no number rather than an error
                continue
        cache.set(key, counts, COUNTS_SECONDS)
    return render(request, "web/queue/_counts.html", {"counts": counts})


@require_POST
@agent_view
def queue_columns(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Save the columns the agent chose in the column chooser; the queue reloads with them."""
    ticket_services.queue_columns_save(actor=desk.actor, agent=desk.agent, columns=request.POST.getlist("columns"))
    return redirect_next(request, reverse("web:queue"))


@require_POST
@agent_view
def bulk_update(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Assign, change status or add a tag on the selected tickets."""
    ids = [i for i in (int_or_none(v) for v in request.POST.getlist("ids")) if i is not None]
    if not ids:
        raise ValidationFailed(_("Select at least one ticket."))
    action = request.POST.get("action", "")
    changes: dict[str, Any]
    if action == "assign":
        value = request.POST.get("assignee", "")
        changes = {"assignee": desk.agent.pk if value == "me" else (None if value in ("", "none") else value)}
    elif action == "status":
        # A workspace label ("label:<id>") or a category without labels.
        value = request.POST.get("status", "")
        if value.startswith(statuses.LABEL_PREFIX):
            changes = {"custom_status": value.removeprefix(statuses.LABEL_PREFIX)}
        else:
            changes = {"status": value}
    elif action == "tag":
        tag = request.POST.get("tag", "").strip()
        if not tag:
            raise ValidationFailed(_("Type a tag to add."))
        changes = {"add_tags": [tag]}
    else:
        raise ValidationFailed(_("Choose what to do with the selected tickets."))
    result = ticket_services.tickets_bulk_update(
        workspace=desk.workspace, ticket_ids=ids, actor=desk.actor, changes=changes
    )
    updated, failed = result["updated"], result["failed"]
    if updated:
        messages.success(request, _("Updated %(count)d ticket(s).") % {"count": len(updated)})
    for reason in list(dict.fromkeys(failed.values()))[:3]:
        messages.error(request, _("Not updated: %(reason)s") % {"reason": reason})
    return redirect_next(request, reverse("web:queue"))


@require_POST
@agent_view
def saved_view_create(request: HttpRequest, desk: Desk) -> HttpResponse:
    """Save the current filters and sort as a personal (or shared) view."""
    state = QueueState.from_request(request)
    filters = {k: v for k, v in state.filters.items() if k in FILTER_KEYS}
    shared = request.POST.get("shared") == "on"
    view = ticket_services.saved_view_create(
        actor=desk.actor,
        workspace=desk.workspace,
        name=request.POST.get("name", ""),
        filters=filters,
        sort=state.sort,
        owner=None if shared else desk.agent,
    )
    messages.success(request, _("Saved view “%(name)s”.") % {"name": view.name})
    return HttpResponseRedirect(reverse("web:saved_view", args=[view.pk]))


@agent_view
def saved_view_open(request: HttpRequest, desk: Desk, view_id: int) -> HttpResponse:
    """Open a saved view: the queue with its filters and sort."""
    view = ticket_selectors.access_saved_view(workspace=desk.workspace, agent=desk.agent, view_id=view_id)
    params = {k: ",".join(v) if isinstance(v, list) else v for k, v in (view.filters or {}).items()}
    params.update(sort=view.sort, view=view.pk)
    return HttpResponseRedirect(f"{reverse('web:queue')}?{urlencode(params)}")


@require_POST
@agent_view
def saved_view_delete(request: HttpRequest, desk: Desk, view_id: int) -> HttpResponse:
    """Delete a saved view (one's own; shared views need SAVED_VIEW_SHARE, checked by the service)."""
    view = ticket_selectors.access_saved_view(workspace=desk.workspace, agent=desk.agent, view_id=view_id)
    ticket_services.saved_view_delete(actor=desk.actor, view=view)
    messages.success(request, _("Deleted view “%(name)s”.") % {"name": view.name})
    return HttpResponseRedirect(reverse("web:queue"))
