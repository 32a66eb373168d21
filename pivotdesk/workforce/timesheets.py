"""Reads of the time spent on tickets (issue 18): a ticket's entries and totals, and the report of hours per agent
and per category over a period. Always scoped to a workspace (or to a ticket the caller already may see)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext

from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.common.errors import NotFound
from pivotdesk.tickets.models import Ticket
from pivotdesk.workforce.time_models import TimeEntry, TimeSource


@dataclass(frozen=True)
class TicketTime:
    """A ticket's time: the total, the reader's own share, and the entries (newest first)."""

    total: int
    mine: int
    entries: list[TimeEntry]


def ticket_time(*, ticket: Ticket, agent: AgentProfile, limit: int = 50) -> TicketTime:
    """The time spent on a ticket (two queries: the sums, the latest entries with their agents)."""
    qs = TimeEntry.objects.filter(workspace_id=ticket.workspace_id, ticket=ticket)
    sums = qs.aggregate(total=Sum("seconds"), mine=Sum("seconds", filter=Q(agent=agent)))
    entries = list(qs.select_related("agent__user").order_by("-started_at", "-pk")[:limit])
    return TicketTime(total=sums["total"] or 0, mine=sums["mine"] or 0, entries=entries)


def access_time_entry(*, ticket: Ticket, entry_id: int) -> TimeEntry:
    """An entry of this ticket (which the caller already may see) by id, else NotFound."""
    entry = TimeEntry.objects.filter(workspace_id=ticket.workspace_id, ticket=ticket, pk=entry_id).first()
    if entry is None:
        raise NotFound(gettext("Time entry not found."))
    return entry


def time_entries(*, workspace: Workspace, since: dt.datetime, until: dt.datetime) -> QuerySet[TimeEntry]:
    """The workspace's entries that started in [since, until)."""
    return TimeEntry.objects.filter(workspace=workspace, started_at__gte=since, started_at__lt=until)


@dataclass(frozen=True)
class TimeRow:
    """Seconds of one agent (or category, or agent × category): manual, automatic, and the tickets they cover."""

    key: int | None
    label: str
    manual: int
    automatic: int
    entries: int
    tickets: int

    @property
    def seconds(self) -> int:
        return self.manual + self.automatic

    @property
    def hours(self) -> float:
        return round(self.seconds / 3600, 2)

    @property
    def manual_hours(self) -> float:
        return round(self.manual / 3600, 2)

    @property
    def automatic_hours(self) -> float:
        return round(self.automatic / 3600, 2)


@dataclass
class TimeReport:
    """Hours per agent, per category, and per agent and category, over a period."""

    total: TimeRow
    by_agent: list[TimeRow] = field(default_factory=list)
    by_category: list[TimeRow] = field(default_factory=list)
    by_agent_category: list[tuple[TimeRow, TimeRow]] = field(default_factory=list)  # (agent, category) pairs


_SUMS = {
    "manual": Sum("seconds", filter=Q(source=TimeSource.MANUAL)),
    "automatic": Sum("seconds", filter=Q(source=TimeSource.AUTOMATIC)),
    "n": Count("pk"),
    "t": Count("ticket", distinct=True),
}


def _row(key: int | None, label: str, values: dict[str, Any]) -> TimeRow:
    return TimeRow(
        key=key,
        label=label,
        manual=values["manual"] or 0,
        automatic=values["automatic"] or 0,
        entries=values["n"] or 0,
        tickets=values["t"] or 0,
    )


def time_report(*, workspace: Workspace, since: dt.datetime, until: dt.datetime, chinese: bool = False) -> TimeReport:
    """Sums over the entries that started in [since, until): by agent and by category (most time first) and by
    both. Labels are the agent's name and the category's name (its Chinese name when `chinese` and one is set;
    empty: no category). Six queries."""
    qs = time_entries(workspace=workspace, since=since, until=until).order_by()
    report = TimeReport(total=_row(None, "", qs.aggregate(**_SUMS)))
    agents = {
        a.pk: a.name
        for a in AgentProfile.objects.filter(workspace=workspace, pk__in=qs.values("agent")).select_related("user")
    }
    names = {
        pk: (zh if chinese and zh else name)
        for pk, name, zh in qs.filter(category__isnull=False)
        .values_list("category_id", "category__name", "category__name_zh")
        .distinct()
    }
    per_agent = cast(Iterable[dict[str, Any]], qs.values("agent_id").annotate(**_SUMS))
    for r in per_agent:
        report.by_agent.append(_row(r["agent_id"], agents.get(r["agent_id"], ""), r))
    per_category = cast(Iterable[dict[str, Any]], qs.values("category_id").annotate(**_SUMS))
    for r in per_category:
        report.by_category.append(_row(r["category_id"], names.get(r["category_id"], ""), r))
    per_pair = cast(Iterable[dict[str, Any]], qs.values("agent_id", "category_id").annotate(**_SUMS))
    for r in per_pair:
        agent_row = TimeRow(r["agent_id"], agents.get(r["agent_id"], ""), 0, 0, 0, 0)
        report.by_agent_category.append((agent_row, _row(r["category_id"], names.get(r["category_id"], ""), r)))
    report.by_agent.sort(key=lambda row: (-row.seconds, row.label))
    report.by_category.sort(key=lambda row: (-row.seconds, row.key is None, row.label))
    report.by_agent_category.sort(key=lambda pair: (pair[0].label, -pair[1].seconds, pair[1].label))
    return report


def time_csv_rows(*, report: TimeReport, headers: list[str], no_category: str) -> Iterator[list[str]]:
    """The agent × category rows of a report, for a CSV export (hours with two decimals)."""
    yield headers
    for agent, category in report.by_agent_category:
        yield [
            agent.label,
            category.label or no_category,
            str(category.entries),
            str(category.tickets),
            f"{category.manual / 3600:.2f}",
            f"{category.automatic / 3600:.2f}",
            f"{category.seconds / 3600:.2f}",
        ]
