"""Automation (issue 16): rules (triggers on events, time rules on a sweep), macros, multi-stage approval flows,
linked ticket chains and the business events that drive them.

Definitions are versioned data: a rule keeps every saved version (`RuleVersion`) and each run records the version
it ran; an approval or a chain copies its definition when it starts (`snapshot`), so editing a flow or a template
never changes one that is running. The logic lives in `domain/` (conditions, the trigger cycle, approvals, chains);
these rows hold definitions, state and the execution log.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pivotdesk.common.models import WorkspaceScoped

# --- rules -------------------------------------------------------------------------------------------------------


class RuleKind(models.TextChoices):
    TRIGGER = "trigger", _("Trigger (on an event)")
    TIME = "time", _("Time rule (hourly sweep)")


class Rule(WorkspaceScoped):
    """A trigger or a time rule: `conditions` (an all/any tree, `domain.conditions`) and `actions` (a list of
    {"type": …, …}, `services.actions`). Triggers run in `position` order on each event; time rules are swept."""

    name = models.CharField(max_length=160)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=16, choices=RuleKind.choices, default=RuleKind.TRIGGER)
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    conditions = models.JSONField(default=dict, blank=True)
    actions = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=1)
    fired_count = models.PositiveIntegerField(default=0)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="automation_rule_unique_name")]
        indexes = [models.Index(fields=["workspace", "kind", "active", "position"], name="automation_rule_run_idx")]
        ordering = ["kind", "position", "pk"]

    def __str__(self) -> str:
        return self.name


class RuleVersion(WorkspaceScoped):
    """A saved version of a rule (what it was when a run recorded `version`)."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=160)
    conditions = models.JSONField(default=dict, blank=True)
    actions = models.JSONField(default=list, blank=True)
    saved_by = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "version"], name="automation_ruleversion_unique")]
        ordering = ["rule", "-version"]


class RuleRun(WorkspaceScoped):
    """One firing of a rule on a ticket: the execution log. `event_key` makes a rule fire at most once per event
    and ticket (the relay may deliver an event twice; two time sweeps may overlap)."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="runs")
    version = models.PositiveIntegerField()
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    event_key = models.CharField(max_length=120)
    event = models.CharField(max_length=64, blank=True)
    actions = models.JSONField(default=list, blank=True)
    results = models.JSONField(default=list, blank=True, help_text=_("Per action: ok and a reason code."))
    ok = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "ticket", "event_key"], name="automation_rulerun_once"),
        ]
        indexes = [models.Index(fields=["workspace", "ticket", "-created_at"], name="automation_rulerun_ticket_idx")]
        ordering = ["-created_at", "-pk"]


# --- macros ------------------------------------------------------------------------------------------------------


class MacroScope(models.TextChoices):
    PERSONAL = "personal", _("Personal")
    TEAM = "team", _("Team")
    SHARED = "shared", _("Shared")


class Macro(WorkspaceScoped):
    """A named, bilingual bundle of actions an agent applies from the ticket page (reply text with placeholders,
    field changes, tags). Personal macros belong to `owner`, team macros to `team`'s members."""

    name = models.CharField(max_length=160)
    name_en = models.CharField(max_length=160, blank=True)
    scope = models.CharField(max_length=16, choices=MacroScope.choices, default=MacroScope.SHARED)
    owner = models.ForeignKey(
        "accounts.AgentProfile", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey("tickets.Category", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actions = models.JSONField(default=list, blank=True)
    shortcut = models.CharField(max_length=16, blank=True)
    usage_count = models.PositiveIntegerField(default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "scope", "active"], name="automation_macro_scope_idx")]
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


# --- approvals ---------------------------------------------------------------------------------------------------


class ApprovalFlow(WorkspaceScoped):
    """A multi-stage approval definition. `stages`: [{"key", "name", "approvers": {"agents": [ids], "team": id,
    "role": "supervisor", "manager": true}, "rule": "any"|"all"|"n_of_m", "n", "sla_minutes", "required_items"}]."""

    name = models.CharField(max_length=160)
    description = models.TextField(blank=True)
    stages = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=1)
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="automation_flow_unique_name")]
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    REJECTED = "rejected", _("Rejected")
    APPROVED = "approved", _("Approved")
    CANCELLED = "cancelled", _("Cancelled")


class Approval(WorkspaceScoped):
    """One run of a flow on a ticket. `snapshot` is the flow as it was at the start (approvers resolved to agent
    ids), `state` the domain state (`domain.approvals`); `status`/`stage_key`/`stage_started_at` are copies for
    queries (what waits for me, what is overdue)."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    flow = models.ForeignKey(ApprovalFlow, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    flow_version = models.PositiveIntegerField(default=1)
    snapshot = models.JSONField(default=dict)
    state = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING)
    stage_key = models.CharField(max_length=64, blank=True)
    stage_started_at = models.DateTimeField(null=True, blank=True)
    stage_due_at = models.DateTimeField(null=True, blank=True)
    waiting_on = models.JSONField(default=list, blank=True, help_text=_("Agent ids expected to act now."))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(status__in=["pending", "changes_requested"]),
                name="automation_one_open_approval_per_ticket",
            )
        ]
        indexes = [models.Index(fields=["workspace", "status", "stage_due_at"], name="automation_approval_due_idx")]
        ordering = ["-created_at", "-pk"]


class Delegation(WorkspaceScoped):
    """ "While I am away, `delegate` approves for me" from `start` to `end` (an approver on approved leave in
    workforce without a delegation here is replaced by the lead of their first team)."""

    agent = models.ForeignKey("accounts.AgentProfile", on_delete=models.CASCADE, related_name="+")
    delegate = models.ForeignKey("accounts.AgentProfile", on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["workspace", "agent", "end"], name="automation_delegation_idx")]


class ApprovalLink(WorkspaceScoped):
    """A signed one-click link for one approver at one stage and round (hashed, single use, expiring)."""

    approval = models.ForeignKey(Approval, on_delete=models.CASCADE, related_name="links")
    agent = models.ForeignKey("accounts.AgentProfile", on_delete=models.CASCADE, related_name="+")
    stage_key = models.CharField(max_length=64)
    round = models.PositiveIntegerField(default=1)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


# --- chains ------------------------------------------------------------------------------------------------------


class ChainMode(models.TextChoices):
    PARALLEL = "parallel", _("All stages at once (parent and children)")
    SEQUENCE = "sequence", _("One after the other")


class ChainTemplate(WorkspaceScoped):
    """A chain of linked tickets: `stages` [{"key", "name", "team": id, "expected_minutes"}]."""

    name = models.CharField(max_length=160)
    description = models.TextField(blank=True)
    mode = models.CharField(max_length=16, choices=ChainMode.choices, default=ChainMode.SEQUENCE)
    stages = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=1)
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="automation_chaintpl_unique_name")]
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class Chain(WorkspaceScoped):
    """One running chain: its business `key` ("order:PD2026…") finds it from events; `parent` is the umbrella ticket;
    `snapshot` the template as it was at the start; `states` the domain stage states."""

    template = models.ForeignKey(ChainTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    key = models.CharField(max_length=200)
    name = models.CharField(max_length=200)
    parent = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    snapshot = models.JSONField(default=dict)
    states = models.JSONField(default=list)
    delays_reported = models.JSONField(default=list, blank=True, help_text=_("Stages whose delay was announced."))
    done = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "key"], name="automation_chain_unique_key")]
        ordering = ["-created_at", "-pk"]


class ChainStage(WorkspaceScoped):
    """The ticket of one stage of a chain (created when the stage opens)."""

    chain = models.ForeignKey(Chain, on_delete=models.CASCADE, related_name="stages")
    key = models.CharField(max_length=64)
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain", "key"], name="automation_chainstage_unique")]


# --- business events ---------------------------------------------------------------------------------------------


class BusinessEventStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    UNKNOWN_KEY = "unknown_key", _("No chain or ticket has this key")
    FAILED = "failed", _("Failed")


class BusinessEvent(WorkspaceScoped):
    """An external business event (`POST /api/v1/events/`): stored before it is processed, idempotent by
    (workspace, event_id); an event whose key matches nothing is kept with the reason, never dropped."""

    event_id = models.CharField(max_length=200)
    type = models.CharField(max_length=100)
    key = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)
    raw = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=BusinessEventStatus.choices, default=BusinessEventStatus.RECEIVED)
    reason = models.TextField(blank=True)
    chain = models.ForeignKey(Chain, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "event_id"], name="automation_bizevent_unique_id")]
        indexes = [models.Index(fields=["workspace", "status", "-created_at"], name="automation_bizevent_status_idx")]
        ordering = ["-created_at", "-pk"]


# --- appeasement -------------------------------------------------------------------------------------------------


class AppeasementReason(models.TextChoices):
    SENTIMENT = "sentiment", _("Negative sentiment")
    PHRASE = "phrase", _("Escalation phrase")
    REPEAT = "repeat", _("Repeat contact")


class AppeasementOutcome(models.TextChoices):
    OPEN = "open", _("Not known yet")
    CALMED = "calmed", _("Calmed down")
    COMPLAINED = "complained", _("Complained further")
    CHURNED = "churned", _("Left us")


class Appeasement(WorkspaceScoped):
    """The appeasement rule fired on a ticket: why, how far (1: empathetic opening and priority; 2: senior advisor
    pool), and the outcome, recorded for the insights work."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    reasons = models.JSONField(default=list)
    level = models.PositiveSmallIntegerField(default=1)
    opening = models.TextField(blank=True, help_text=_("The empathetic opening offered to the agent."))
    outcome = models.CharField(max_length=16, choices=AppeasementOutcome.choices, default=AppeasementOutcome.OPEN)
    outcome_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket"], name="automation_one_appeasement_per_ticket")]
