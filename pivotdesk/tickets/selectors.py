"""Reads of tickets: always scoped to the workspace and the agent's ticket access."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from django.db import connections
from django.db.models import Case, F, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.utils.translation import gettext

from pivotdesk.accounts.models import AgentProfile, TicketAccess, Workspace
from pivotdesk.common.errors import NotFound, ValidationFailed
from pivotdesk.common.text import without_nul
from pivotdesk.customers.models import Contact
from pivotdesk.tickets import search
from pivotdesk.tickets.models import (
    PRIORITY_RANK,
    Attachment,
    AuthorType,
    Category,
    CustomField,
    Message,
    MessageKind,
    ReplyDraft,
    SavedView,
    Status,
    Tag,
    Ticket,
    TicketEvent,
    TicketLink,
)

# What a queue row shows besides the ticket (joined in the list's page query).
LIST_RELATED = ("requester", "organization", "assignee__user", "team", "custom_status", "category")
SEARCH_ID_LIST_LIMIT = 5_000  # more matches than this are filtered by a subquery instead of a list of ids
SORTS = {
    "created_at": ("created_at", "pk"),
    "updated_at": ("updated_at", "pk"),
    "number": ("number",),
    "priority": ("priority_rank", "updated_at"),
    "status": ("status", "updated_at"),
    "subject": ("subject", "pk"),
}
DEFAULT_SORT = "-updated_at"
RELEVANCE = "relevance"  # with a search: the ticket whose number was typed, then the best word matches, then the rest


@dataclass
class TicketFilters:
    """Queue filters understood by the list API, the UI and saved views."""

    status: list[str] = field(default_factory=list)  # categories, or workspace labels as "label:<id>"
    priority: list[str] = field(default_factory=list)
    assignee: str | None = None  # an agent id, "me" or "none"
    team: int | None = None
    tag: str | None = None
    channel: str | None = None
    requester: int | None = None
    organization: int | None = None
    ticket_type: str | None = None
    category: int | None = None
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    updated_after: dt.datetime | None = None
    updated_before: dt.datetime | None = None
    q: str = ""
    scope: str = ""  # mine | unassigned | my_teams | open | all

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TicketFilters:
        names = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names and v not in (None, "", [])}
        for key in ("status", "priority"):
            if isinstance(kwargs.get(key), str):
                kwargs[key] = [s for s in kwargs[key].split(",") if s]
        for key in ("team", "requester", "organization", "category"):
            if key in kwargs:
                try:
                    kwargs[key] = int(kwargs[key])
                except (TypeError, ValueError) as exc:
                    raise ValidationFailed(gettext("Filter '%(key)s' must be an id.") % {"key": key}) from exc
                if not 1 <= kwargs[key] <= 2**63 - 1:  # beyond 64 bits the database driver overflows (a 500)
                    raise ValidationFailed(gettext("Filter '%(key)s' must be an id.") % {"key": key})
        for key in ("created_after", "created_before", "updated_after", "updated_before"):
            if isinstance(kwargs.get(key), str):
                try:
                    kwargs[key] = dt.datetime.fromisoformat(kwargs[key])
                except ValueError as exc:
                    raise ValidationFailed(
                        gettext("Filter '%(key)s' must be an ISO date or date-time.") % {"key": key}
                    ) from exc
        if "assignee" in kwargs:
            kwargs["assignee"] = str(kwargs["assignee"])
        return cls(**kwargs)


STATUS_LABEL_PREFIX = "label:"  # a status filter naming one of the workspace's labels (StatusDefinition id)


def _label_id(value: str) -> int:
    """The id in a "label:<id>" status filter; 0 for a malformed one (and for a category, which has none)."""
    if not value.startswith(STATUS_LABEL_PREFIX):
        return -1
    raw = value.removeprefix(STATUS_LABEL_PREFIX)
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) <= 2**63 - 1 else 0


def visible_tickets(*, workspace: Workspace, agent: AgentProfile | None) -> QuerySet[Ticket]:
    """The tickets of the workspace this agent may see (all, their teams', or only their own)."""
    qs = Ticket.objects.filter(workspace=workspace)
    if agent is None:
        return qs.none()
    if agent.workspace_id != workspace.pk:
        return qs.none()
    if agent.ticket_access == TicketAccess.TEAMS:
        qs = qs.filter(Q(team__in=agent.teams.all()) | Q(assignee=agent) | Q(followers=agent)).distinct()
    elif agent.ticket_access == TicketAccess.ASSIGNED:
        qs = qs.filter(Q(assignee=agent) | Q(followers=agent)).distinct()
    return qs


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def ticket_list(
    *, workspace: Workspace, agent: AgentProfile, filters: TicketFilters | None = None, sort: str = DEFAULT_SORT
) -> QuerySet[Ticket]:
    """Filtered, sorted tickets with everything a queue row shows loaded in a constant number of queries."""
    f = filters or TicketFilters()
    qs = visible_tickets(workspace=workspace, agent=agent)
    categories = [s for s in f.status if not s.startswith(STATUS_LABEL_PREFIX)]
    labels = [_label_id(s) for s in f.status if s.startswith(STATUS_LABEL_PREFIX)]
    bad = [s for s in categories if s not in Status.values] + [s for s in f.status if _label_id(s) == 0]
    if bad:
        raise ValidationFailed(gettext("Unknown status %(bad)s.") % {"bad": bad}, details={"status": Status.values})
    if f.status:
        qs = qs.filter(Q(status__in=categories) | Q(custom_status_id__in=labels))
    if f.priority:
        qs = qs.filter(priority__in=f.priority)
    if f.assignee == "me":
        qs = qs.filter(assignee=agent)
    elif f.assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif f.assignee:
        try:
            qs = qs.filter(assignee_id=int(f.assignee))
        except ValueError as exc:
            raise ValidationFailed(gettext("Filter 'assignee' is an id, 'me' or 'none'.")) from exc
    if f.team is not None:
        qs = qs.filter(team_id=f.team)
    if f.tag:
        qs = qs.filter(tags__name=f.tag.lower())
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.requester is not None:
        qs = qs.filter(requester_id=f.requester)
    if f.organization is not None:
        qs = qs.filter(organization_id=f.organization)
    if f.ticket_type:
        qs = qs.filter(ticket_type=f.ticket_type)
    if f.category is not None:
        qs = qs.filter(category_id=f.category)
    if f.created_after:
        qs = qs.filter(created_at__gte=_aware(f.created_after))
    if f.created_before:
        qs = qs.filter(created_at__lt=_aware(f.created_before))
    if f.updated_after:
        qs = qs.filter(updated_at__gte=_aware(f.updated_after))
    if f.updated_before:
        qs = qs.filter(updated_at__lt=_aware(f.updated_before))
    if f.scope == "mine":
        qs = qs.filter(assignee=agent).exclude(status__in=[Status.SOLVED, Status.CLOSED])
    elif f.scope == "unassigned":
        qs = qs.filter(assignee__isnull=True).exclude(status__in=[Status.SOLVED, Status.CLOSED])
    elif f.scope == "my_teams":
        qs = qs.filter(team__in=agent.teams.all()).exclude(status__in=[Status.SOLVED, Status.CLOSED])
    elif f.scope == "open":
        qs = qs.exclude(status__in=[Status.SOLVED, Status.CLOSED])
    q = without_nul(f.q.strip())
    if q:
        qs = _search(qs, q, workspace)
    if sort.lstrip("-") == RELEVANCE:
        qs = _by_relevance(qs, q, workspace) if q else _sorted(qs, DEFAULT_SORT)
    else:
        qs = _sorted(qs, sort)
    qs = qs.select_related(*LIST_RELATED)
    if q:
        qs = _PageIdsFirst(model=Ticket, query=qs.query.chain(), using=qs.db)
    return qs.prefetch_related("tags")


class _PageIdsFirst(QuerySet[Ticket]):
    """A search's tickets whose page, when sliced on PostgreSQL, is read ids first: the page's ids (filtered,
    ordered and limited without the row's joins), then only those rows joined with their related tables and
    ordered the same way. In one statement PostgreSQL joined every matching ticket with eight tables before cutting
    the page; a sliced `IN (subquery)` was planned no better (a narrow search went from 58 to 242 ms), so the ids
    are read by a query of their own. SQLite plans the one statement well and keeps it (bench/README.md)."""

    def __getitem__(self, k: Any) -> Any:
        if (
            not isinstance(k, slice)
            or self.query.values_select
            or self.query.distinct
            or connections[self.db].vendor != "postgresql"
        ):
            return super().__getitem__(k)
        return self._rows(list(self.values_list("pk", flat=True)[k]))

    def _rows(self, page_ids: Any) -> QuerySet[Ticket]:
        """Only the page's rows (the ids are already scoped and filtered: the search's filters are not repeated),
        with the same ordering annotations, order, joins and prefetches."""
        rows = Ticket.objects.filter(pk__in=page_ids).annotate(**self.query.annotations)
        rows = rows.order_by(*self.query.order_by).select_related(*LIST_RELATED)
        return rows.prefetch_related(*getattr(self, "_prefetch_related_lookups", ()))


def _typed_number(q: str) -> int | None:
    """The ticket number a search asks for ("10234", "#10234"); ASCII digits only (not ¹ or ①, which isdigit()
    accepts and int() refuses)."""
    number = q.lstrip("#")
    return int(number) if number.isascii() and number.isdigit() and len(number) < 12 else None


def _search(qs: QuerySet[Ticket], q: str, workspace: Workspace) -> QuerySet[Ticket]:
    """Full-text search: a ticket number (#10234); the requester's name or address; or words in the subject, the
    messages and the text read from attachments (OCR of a photo, a voice message's transcript), through the
    full-text index (`tickets.search`: every word, each as a prefix; Chinese cut into words by jieba)."""
    requesters = Contact.objects.filter(workspace=workspace).filter(Q(name__icontains=q) | Q(email__icontains=q))
    ids = Ticket.objects.filter(workspace=workspace, requester__in=requesters).values_list("pk")
    number = _typed_number(q)
    if number is not None:
        ids = ids.union(Ticket.objects.filter(workspace=workspace, number=number).values_list("pk"))
    words = search.matching_ids(workspace_id=workspace.pk, query=q)
    if words is not None:
        ids = ids.union(words)
    # The matching ids first, as a list when there are not too many: a list lets the database fetch the page by id;
    # with a subquery beside the list's joins, PostgreSQL joined every ticket of the workspace before filtering.
    found = [row[0] for row in ids[: SEARCH_ID_LIST_LIMIT + 1]]
    if len(found) <= SEARCH_ID_LIST_LIMIT:
        return qs.filter(pk__in=found)
    return qs.filter(pk__in=ids.values_list("pk", flat=True))


def _by_relevance(qs: QuerySet[Ticket], q: str, workspace: Workspace) -> QuerySet[Ticket]:
    ranked = search.ranked_ids(workspace_id=workspace.pk, query=q)
    number = _typed_number(q)
    if number is not None:
        typed = Ticket.objects.filter(workspace=workspace, number=number).values_list("pk", flat=True).first()
        if typed is not None:
            ranked = [typed, *(pk for pk in ranked if pk != typed)]
    position = search.rank_position(ranked)
    if position is None:
        return _sorted(qs, DEFAULT_SORT)
    # One function call per row (a position in the ranked list), not a CASE of up to 1,000 branches.
    qs = qs.annotate(relevance_position=position)
    return qs.order_by(F("relevance_position").asc(nulls_last=True), "-updated_at", "-pk")


def _sorted(qs: QuerySet[Ticket], sort: str) -> QuerySet[Ticket]:
    descending = sort.startswith("-")
    key = sort.lstrip("-") or "updated_at"
    if key not in SORTS:
        known = [*SORTS, *(f"-{s}" for s in SORTS), RELEVANCE]
        raise ValidationFailed(gettext("Unknown sort '%(sort)s'.") % {"sort": sort}, details={"sort": known})
    if key == "priority":
        qs = qs.annotate(
            priority_rank=Case(
                *(When(priority=p, then=Value(r)) for p, r in PRIORITY_RANK.items()), output_field=IntegerField()
            )
        )
    order = [f"-{c}" if descending else c for c in SORTS[key]]
    return qs.order_by(*order)


def access_ticket(*, workspace: Workspace, agent: AgentProfile | None, ticket_id: int) -> Ticket:
    """A ticket by id that this agent may see, else NotFound (other workspaces look the same as missing)."""
    ticket = (
        visible_tickets(workspace=workspace, agent=agent)
        .select_related(
            "requester__organization", "assignee__user", "team", "custom_status", "category", "merged_into", "parent"
        )
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None:
        raise NotFound(gettext("Ticket not found."))
    return ticket


def access_ticket_by_number(*, workspace: Workspace, agent: AgentProfile | None, number: int) -> Ticket:
    """A ticket by its workspace number that this agent may see, else NotFound."""
    ticket = visible_tickets(workspace=workspace, agent=agent).filter(number=number).first()
    if ticket is None:
        raise NotFound(gettext("Ticket not found."))
    return access_ticket(workspace=workspace, agent=agent, ticket_id=ticket.pk)


def ticket_by_external_id(*, workspace: Workspace, agent: AgentProfile | None, external_id: str) -> Ticket | None:
    """The ticket this agent may see that a client opened with this idempotency key (`external_id`), if any."""
    if not external_id:
        return None
    found = visible_tickets(workspace=workspace, agent=agent).filter(external_id=external_id).first()
    return None if found is None else access_ticket(workspace=workspace, agent=agent, ticket_id=found.pk)


def message_list(*, ticket: Ticket, include_notes: bool = True) -> QuerySet[Message]:
    """A ticket's conversation in order, with authors and attachments loaded."""
    qs = Message.objects.filter(ticket=ticket).select_related("author_agent__user", "author_contact")
    if not include_notes:
        qs = qs.filter(kind="public")
    return qs.prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("pk")))


def customer_language(ticket: Ticket) -> str:
    """The language the customer reads, "zh-hans" or "en": the ticket's, else the contact's, else the workspace's
    default; Chinese for any Chinese variant, English for anything else."""
    language = (ticket.language or "").lower()
    if not language and ticket.requester_id is not None:
        language = str(getattr(ticket.requester, "language", "") or "").lower()
    if not language:
        language = str(ticket.workspace.default_language or "zh-hans").lower()
    return "zh-hans" if language.startswith("zh") else "en"


def last_agent_replies(ticket_ids: Sequence[int]) -> dict[int, str]:
    """Per ticket, the text of the agent's last public reply (tickets without one are absent): one statement."""
    out: dict[int, str] = {}
    rows = (
        Message.objects.filter(ticket_id__in=list(ticket_ids), author_type=AuthorType.AGENT, kind=MessageKind.PUBLIC)
        .order_by("ticket_id", "created_at", "pk")
        .values_list("ticket_id", "body_text")
    )
    for ticket_id, body in rows:
        out[ticket_id] = body or ""  # the last one wins
    return out


def draft_of(*, ticket: Ticket, agent: AgentProfile) -> ReplyDraft | None:
    """The agent's unsent reply on the ticket, if they left one."""
    return ReplyDraft.objects.filter(ticket=ticket, agent=agent).first()


def colleagues_drafting(
    *, ticket: Ticket, agent: AgentProfile, besides: Sequence[int] = ()
) -> list[tuple[str, dt.datetime]]:
    """Who else has an unsent reply on the ticket (name, when last typed), newest first, leaving out the agents in
    `besides` (those the page already shows as present); never the text."""
    rows = ReplyDraft.objects.filter(ticket=ticket).exclude(agent=agent).exclude(agent_id__in=list(besides))
    return [
        (draft.agent.name, draft.updated_at)
        for draft in rows.select_related("agent__user").order_by("-updated_at")[:10]
    ]


def timeline(*, ticket: Ticket) -> QuerySet[TicketEvent]:
    """The ticket's timeline events in order."""
    return TicketEvent.objects.filter(ticket=ticket).select_related("actor_agent__user").order_by("created_at", "pk")


def ticket_links(*, ticket: Ticket) -> dict[str, list[Ticket]]:
    """Linked tickets grouped by relation: parent, children, related, duplicates, duplicate_of."""
    out: dict[str, list[Ticket]] = {"parent": [], "children": [], "related": [], "duplicate_of": [], "duplicates": []}
    # Each ticket's status label is loaded with it: the chips name statuses as the workspace does.
    if ticket.parent_id:
        out["parent"] = list(Ticket.objects.filter(pk=ticket.parent_id).select_related("custom_status"))
    out["children"] = list(Ticket.objects.filter(parent=ticket).select_related("custom_status").order_by("number"))
    links = TicketLink.objects.filter(Q(source=ticket) | Q(target=ticket))
    for link in links.select_related("source__custom_status", "target__custom_status"):
        other = link.target if link.source_id == ticket.pk else link.source
        if link.kind == "related":
            out["related"].append(other)
        elif link.source_id == ticket.pk:
            out["duplicate_of"].append(other)
        else:
            out["duplicates"].append(other)
    return out


def customer_tickets(
    *, workspace: Workspace, agent: AgentProfile, contact_id: int, exclude_id: int | None = None, limit: int = 20
) -> list[Ticket]:
    """The requester's other tickets across every channel, newest first."""
    qs = visible_tickets(workspace=workspace, agent=agent).filter(requester_id=contact_id)
    qs = qs.select_related("custom_status")  # the panel names each status as the workspace does
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return list(qs.order_by("-created_at")[:limit])


def custom_field_list(*, workspace: Workspace, active_only: bool = True) -> QuerySet[CustomField]:
    qs = CustomField.objects.filter(workspace=workspace)
    return qs.filter(active=True) if active_only else qs


def saved_views(*, workspace: Workspace, agent: AgentProfile) -> QuerySet[SavedView]:
    """Shared views and the agent's own."""
    return SavedView.objects.filter(workspace=workspace).filter(Q(owner__isnull=True) | Q(owner=agent))


def access_saved_view(*, workspace: Workspace, agent: AgentProfile, view_id: int) -> SavedView:
    view = saved_views(workspace=workspace, agent=agent).filter(pk=view_id).first()
    if view is None:
        raise NotFound(gettext("Saved view not found."))
    return view


def ticket_snapshot(*, workspace_id: int, ticket_id: int) -> dict[str, Any] | None:
    """A JSON-ready summary of a ticket for outgoing integrations (webhooks), or None when it no longer exists."""
    ticket = (
        Ticket.objects.filter(workspace_id=workspace_id, pk=ticket_id)
        .select_related("requester", "assignee__user", "team")
        .first()
    )
    if ticket is None:
        return None
    assignee = ticket.assignee
    team = ticket.team
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "assignee": {"id": assignee.pk, "name": assignee.name} if assignee is not None else None,
        "team": {"id": team.pk, "name": team.name} if team is not None else None,
        "requester_email": ticket.requester.email,
        "created_at": ticket.created_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
    }


# ---- lookups used by the REST API (added with it) ---------------------------------------------------------------


def access_custom_field(*, workspace: Workspace, field_id: int) -> CustomField:
    """A custom field of this workspace by id (active or not), else NotFound."""
    found = CustomField.objects.filter(workspace=workspace, pk=field_id).first()
    if found is None:
        raise NotFound(gettext("Custom field not found."))
    return found


def access_category(*, workspace: Workspace, category_id: int) -> Category:
    """A category of this workspace by id, else NotFound."""
    category = Category.objects.filter(workspace=workspace, pk=category_id).first()
    if category is None:
        raise NotFound(gettext("Category not found."))
    return category


def tag_list(*, workspace: Workspace, q: str = "") -> QuerySet[Tag]:
    """The workspace's tags by name, optionally those containing `q`."""
    qs = Tag.objects.filter(workspace=workspace)
    if q:
        qs = qs.filter(name__icontains=q.strip().lower())
    return qs.order_by("name")


def link_list(*, ticket: Ticket) -> QuerySet[TicketLink]:
    """The links touching a ticket, either direction, with both ends loaded."""
    return (
        TicketLink.objects.filter(workspace_id=ticket.workspace_id)
        .filter(Q(source=ticket) | Q(target=ticket))
        .select_related("source", "target")
        .order_by("pk")
    )


def access_ticket_link(*, ticket: Ticket, link_id: int) -> TicketLink:
    """A link of this (already accessed) ticket by id, else NotFound."""
    link = link_list(ticket=ticket).filter(pk=link_id).first()
    if link is None:
        raise NotFound(gettext("Link not found."))
    return link


def access_attachment(*, workspace: Workspace, agent: AgentProfile | None, attachment_id: int) -> Attachment:
    """An attachment on a ticket this agent may see, else NotFound."""
    attachment = (
        Attachment.objects.filter(
            workspace=workspace,
            pk=attachment_id,
            ticket__in=visible_tickets(workspace=workspace, agent=agent).values("pk"),
        )
        .select_related("ticket")
        .first()
    )
    if attachment is None:
        raise NotFound(gettext("Attachment not found."))
    return attachment
