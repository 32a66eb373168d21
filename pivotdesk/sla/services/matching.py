"""Which policy and calendar apply to a ticket, and the configuration they are read from: a workspace's active
policies, targets, escalation levels and calendars, read once per `sla_apply` call or per due-scan batch."""

from __future__ import annotations

from functools import cached_property

from django.db.models import Model, QuerySet

from pivotdesk.accounts.models import AgentProfile, Team, Workspace
from pivotdesk.sla.domain.conditions import ConditionError, Conditions, TicketFacts
from pivotdesk.sla.models import BusinessCalendar, EscalationLevel, SLAPolicy, SLATarget, TeamCalendar
from pivotdesk.tickets.models import Category, Ticket


class WorkspaceConfig:
    """A workspace's SLA configuration as `sla_apply` needs it, each part read (lazily) with one query and then
    kept: active policies with their parsed conditions and calendars, every target of those policies, escalation
    levels, team calendars, the default calendar, and the category tree. One instance lives for one `sla_apply`
    call, or for one batch of the due-scan: a configuration change during a batch is seen by the next batch (the
    configuration services ask for a recheck of every open ticket anyway)."""

    def __init__(self, workspace_id: int) -> None:
        self.workspace_id = workspace_id

    @cached_property
    def policies(self) -> list[tuple[SLAPolicy, Conditions]]:
        """The active policies in order, with their parsed conditions (a malformed one is skipped)."""
        out: list[tuple[SLAPolicy, Conditions]] = []
        rows = SLAPolicy.objects.filter(workspace_id=self.workspace_id, active=True).select_related("calendar")
        for policy in rows.order_by("position", "pk"):
            try:
                out.append((policy, policy.parsed_conditions()))
            except ConditionError:
                continue
        return out

    @cached_property
    def needs_tags(self) -> bool:
        return any(c.tags_any or c.tags_all or c.tags_none for _, c in self.policies)

    @cached_property
    def needs_categories(self) -> bool:
        return any(c.category_ids for _, c in self.policies)

    @cached_property
    def _targets(self) -> dict[tuple[int, str], list[SLATarget]]:
        out: dict[tuple[int, str], list[SLATarget]] = {}
        ids = [p.pk for p, _ in self.policies]
        for target in SLATarget.objects.filter(policy_id__in=ids).order_by("metric"):
            out.setdefault((target.policy_id, target.priority), []).append(target)
        return out

    def targets(self, policy: SLAPolicy, priority: str) -> list[SLATarget]:
        """The policy's targets for a priority, by metric."""
        if all(p.pk != policy.pk for p, _ in self.policies):  # not an active policy of this workspace
            return list(SLATarget.objects.filter(policy=policy, priority=priority).order_by("metric"))
        return self._targets.get((policy.pk, priority), [])

    @cached_property
    def _levels(self) -> dict[int, list[EscalationLevel]]:
        out: dict[int, list[EscalationLevel]] = {}
        ids = [p.pk for p, _ in self.policies]
        for level in EscalationLevel.objects.filter(policy_id__in=ids).order_by("level", "metric"):
            out.setdefault(level.policy_id, []).append(level)
        return out

    def levels(self, policy: SLAPolicy) -> list[EscalationLevel]:
        """The policy's escalation levels, by level and metric."""
        if all(p.pk != policy.pk for p, _ in self.policies):
            return list(EscalationLevel.objects.filter(policy=policy).order_by("level", "metric"))
        return self._levels.get(policy.pk, [])

    @cached_property
    def team_calendars(self) -> dict[int, BusinessCalendar]:
        links = TeamCalendar.objects.filter(workspace_id=self.workspace_id).select_related("calendar")
        return {link.team_id: link.calendar for link in links}

    @cached_property
    def default_calendar(self) -> BusinessCalendar | None:
        return BusinessCalendar.objects.filter(workspace_id=self.workspace_id, is_default=True).first()

    @cached_property
    def category_parents(self) -> dict[int, int | None]:
        rows = Category.objects.filter(workspace_id=self.workspace_id).values_list("pk", "parent_id")
        return dict(rows)


class SlaCache:
    """What one batch of the due-scan reads once, not once per ticket: each workspace's WorkspaceConfig, and the
    workspaces, agents (with their users) and teams (with their leads) that its tickets point to. Joining those
    into every ticket's claim query cost more than the rest of the claim (PostgreSQL plans a nine-table join)."""

    def __init__(self) -> None:
        self._configs: dict[int, WorkspaceConfig] = {}
        self._workspaces: dict[int, Workspace | None] = {}
        self._agents: dict[int, AgentProfile | None] = {}
        self._teams: dict[int, Team | None] = {}

    def config(self, workspace_id: int) -> WorkspaceConfig:
        found = self._configs.get(workspace_id)
        if found is None:
            found = self._configs[workspace_id] = WorkspaceConfig(workspace_id)
        return found

    def attach(self, ticket: Ticket) -> Ticket:
        """Set the ticket's workspace, assignee and team from the cache (read on first use)."""
        workspace = _memo(self._workspaces, ticket.workspace_id, Workspace.objects.all())
        if workspace is not None:
            ticket.workspace = workspace
        agent = _memo(self._agents, ticket.assignee_id, AgentProfile.objects.select_related("user"))
        if agent is not None:
            ticket.assignee = agent
        team = _memo(self._teams, ticket.team_id, Team.objects.select_related("lead__user"))
        if team is not None:
            ticket.team = team
        return ticket


def _memo[M: Model](cache: dict[int, M | None], pk: int | None, rows: QuerySet[M]) -> M | None:
    """The row with this id from the cache, read from `rows` on first use (None stays None, and is cached)."""
    if pk is None:
        return None
    if pk not in cache:
        cache[pk] = rows.filter(pk=pk).first()
    return cache[pk]


def _category_chain(category_id: int | None, parents: dict[int, int | None] | None = None) -> frozenset[int]:
    ids: set[int] = set()
    while category_id is not None and category_id not in ids:
        ids.add(category_id)
        if parents is not None:
            category_id = parents.get(category_id)
        else:
            category_id = Category.objects.filter(pk=category_id).values_list("parent_id", flat=True).first()
    return frozenset(ids)


def condition_facts(ticket: Ticket, config: WorkspaceConfig | None = None) -> TicketFacts:
    """What policy conditions look at: priority, tier (contact override, else organization), organization,
    channel, category with its ancestors, type and tags. With a `config`, tags and categories are read only when
    a policy looks at them (the category tree once per config)."""
    requester = ticket.requester
    tier = requester.tier or (ticket.organization.tier if ticket.organization_id and ticket.organization else "")
    tier = tier or requester.effective_tier
    if config is None:
        categories = _category_chain(ticket.category_id)
        tags = frozenset(ticket.tags.values_list("name", flat=True))
    else:
        categories = (
            _category_chain(ticket.category_id, config.category_parents)
            if config.needs_categories and ticket.category_id is not None
            else frozenset()
        )
        tags = frozenset(ticket.tags.values_list("name", flat=True)) if config.needs_tags else frozenset()
    return TicketFacts(
        priority=ticket.priority,
        tier=tier,
        organization_id=ticket.organization_id,
        channel=ticket.channel,
        category_ids=categories,
        ticket_type=ticket.ticket_type,
        tags=tags,
    )


def match_policy(ticket: Ticket, config: WorkspaceConfig | None = None) -> SLAPolicy | None:
    """The first active policy (by position) whose conditions match the ticket, else None."""
    config = config or WorkspaceConfig(ticket.workspace_id)
    if not config.policies:
        return None
    facts = condition_facts(ticket, config)
    for policy, conditions in config.policies:
        if conditions.matches(facts):
            return policy
    return None


def calendar_row_for(
    *, ticket: Ticket, policy: SLAPolicy | None, config: WorkspaceConfig | None = None
) -> BusinessCalendar | None:
    """The policy's calendar, else the team's, else the workspace default (see the models' docstring)."""
    if policy is not None and policy.calendar_id is not None:
        return policy.calendar
    config = config or WorkspaceConfig(ticket.workspace_id)
    if ticket.team_id is not None:
        found = config.team_calendars.get(ticket.team_id)
        if found is not None:
            return found
    return config.default_calendar
