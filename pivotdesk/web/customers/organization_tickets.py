"""An organization's tickets and service levels for its page: read through the tickets selectors (the agent's
ticket access applies) and the SLA report's own query (`sla.reports.outcomes`), never a copy of either."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from pivotdesk.accounts.models import AgentProfile, Workspace
from pivotdesk.customers.models import CustomerOrganization
from pivotdesk.sla import reports
from pivotdesk.sla.models import SLAOutcome
from pivotdesk.tickets import selectors as ticket_selectors
from pivotdesk.tickets.models import SlaState, Status, Ticket

OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)
SLA_DAYS = 30


def organization_tickets(
    *, workspace: Workspace, agent: AgentProfile, organization: CustomerOrganization
) -> QuerySet[Ticket]:
    """The tickets of the organization this agent may see: filed under it, or asked by one of its contacts."""
    visible = ticket_selectors.visible_tickets(workspace=workspace, agent=agent)
    return visible.filter(Q(organization=organization) | Q(requester__organization=organization))


@dataclass
class OrganizationSla:
    """The SLA picture of an organization: its open tickets by SLA state now, and the targets whose cycle ended in
    the last 30 days (achieved or breached), with the latest breaches."""

    period: reports.DateRange
    open_by_state: dict[str, int]
    share: reports.Share
    breaches: list[SLAOutcome] = field(default_factory=list)

    @property
    def open_total(self) -> int:
        return sum(self.open_by_state.values())


def organization_sla(
    *, workspace: Workspace, agent: AgentProfile, organization: CustomerOrganization, breach_limit: int = 10
) -> OrganizationSla:
    """Three queries: open tickets per SLA state, the 30-day counts, the latest breaches."""
    tickets = organization_tickets(workspace=workspace, agent=agent, organization=organization)
    states = dict.fromkeys(SlaState.values, 0)
    states[""] = 0
    for row in tickets.filter(status__in=OPEN_STATUSES).order_by().values("sla_state").annotate(n=Count("pk")):
        states[row["sla_state"] or ""] += row["n"]
    period = reports.DateRange.parse(None, None, time_zone=workspace.time_zone)
    outcomes = reports.outcomes(workspace=workspace, period=period).filter(ticket_id__in=tickets.values("pk"))
    counts: dict[str, Any] = outcomes.aggregate(total=Count("pk"), achieved_n=Count("pk", filter=Q(achieved=True)))
    share = reports.Share(key="organization", total=counts["total"] or 0, achieved=counts["achieved_n"] or 0)
    latest = list(
        outcomes.filter(achieved=False).select_related("ticket").order_by("-finished_at", "-pk")[:breach_limit]
    )
    return OrganizationSla(period=period, open_by_state=states, share=share, breaches=latest)
