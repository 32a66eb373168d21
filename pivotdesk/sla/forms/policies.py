"""SLA policies as admins edit them: conditions, the targets grid, escalation levels, ordering."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Team, Workspace
from pivotdesk.common.choices import Channel
from pivotdesk.common.errors import NotFound, ValidationFailed
from pivotdesk.customers.models import CustomerOrganization, Tier
from pivotdesk.sla.errors import SlaErrorCode
from pivotdesk.sla.forms.text import minutes_text, parse_minutes, parse_warnings, warnings_text
from pivotdesk.sla.models import BusinessCalendar, Metric, SLAPolicy
from pivotdesk.sla.services import configuration
from pivotdesk.sla.services.escalation import parse_actions
from pivotdesk.tickets.models import Category, Priority, Status, TicketType

PAUSABLE = [(v, label) for v, label in Status.choices if v not in (Status.SOLVED, Status.CLOSED)]


def _tags(text: str) -> list[str]:
    return sorted({t.strip().lower() for t in re.split(r"[,，\s]+", text or "") if t.strip()})


class LocalCategoryChoices(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    """Categories named in the reader's language (`name_zh` in Chinese when set), at render time."""

    def label_from_instance(self, obj: Any) -> str:
        zh = (get_language() or "").lower().startswith("zh")
        return str(obj.name_zh) if zh and obj.name_zh else str(obj.name)


class PolicyForm(forms.Form):
    """An SLA policy's name, calendar, paused statuses and conditions (targets and escalations are parsed apart)."""

    name = forms.CharField(max_length=120, label=gettext_lazy("Name"))
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    active = forms.BooleanField(required=False, initial=True, label=gettext_lazy("Active"))
    calendar = forms.ModelChoiceField(queryset=BusinessCalendar.objects.none(), required=False)
    paused_statuses = forms.MultipleChoiceField(
        choices=PAUSABLE, required=False, initial=["pending", "on_hold"], widget=forms.CheckboxSelectMultiple
    )
    priorities = forms.MultipleChoiceField(
        choices=Priority.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    tiers = forms.MultipleChoiceField(choices=Tier.choices, required=False, widget=forms.CheckboxSelectMultiple)
    channels = forms.MultipleChoiceField(choices=Channel.choices, required=False, widget=forms.CheckboxSelectMultiple)
    ticket_types = forms.MultipleChoiceField(
        choices=TicketType.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    organizations = forms.ModelMultipleChoiceField(queryset=CustomerOrganization.objects.none(), required=False)
    categories = LocalCategoryChoices(queryset=Category.objects.none(), required=False)
    tags_any = forms.CharField(required=False, label=gettext_lazy("Has any of the tags"))
    tags_all = forms.CharField(required=False, label=gettext_lazy("Has all of the tags"))
    tags_none = forms.CharField(required=False, label=gettext_lazy("Has none of the tags"))

    def __init__(self, *args: Any, workspace: Workspace, instance: SLAPolicy | None = None, **kwargs: Any):
        if instance is not None and "initial" not in kwargs and not args:
            kwargs["initial"] = policy_initial(instance)
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.instance = instance
        calendar_field: Any = self.fields["calendar"]
        calendar_field.queryset = BusinessCalendar.objects.filter(workspace=workspace)
        calendar_field.empty_label = _("Team's or workspace default")
        orgs: Any = self.fields["organizations"]
        orgs.queryset = CustomerOrganization.objects.filter(workspace=workspace).order_by("name")
        cats: Any = self.fields["categories"]
        cats.queryset = Category.objects.filter(workspace=workspace).order_by("name")

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        taken = SLAPolicy.objects.filter(workspace=self.workspace, name=name)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(_("Another policy already has this name."))
        return name

    def conditions(self) -> dict[str, list[Any]]:
        d = self.cleaned_data
        raw: dict[str, list[Any]] = {
            "priorities": list(d.get("priorities") or []),
            "tiers": list(d.get("tiers") or []),
            "channels": list(d.get("channels") or []),
            "ticket_types": list(d.get("ticket_types") or []),
            "organization_ids": [o.pk for o in d.get("organizations") or []],
            "category_ids": [c.pk for c in d.get("categories") or []],
            "tags_any": _tags(d.get("tags_any", "")),
            "tags_all": _tags(d.get("tags_all", "")),
            "tags_none": _tags(d.get("tags_none", "")),
        }
        return {k: sorted(v) for k, v in raw.items() if v}


def policy_initial(policy: SLAPolicy) -> dict[str, Any]:
    c = policy.conditions or {}
    return {
        "name": policy.name,
        "description": policy.description,
        "active": policy.active,
        "calendar": policy.calendar_id,
        "paused_statuses": policy.paused_statuses,
        "priorities": c.get("priorities", []),
        "tiers": c.get("tiers", []),
        "channels": c.get("channels", []),
        "ticket_types": c.get("ticket_types", []),
        "organizations": c.get("organization_ids", []),
        "categories": c.get("category_ids", []),
        "tags_any": ", ".join(c.get("tags_any", [])),
        "tags_all": ", ".join(c.get("tags_all", [])),
        "tags_none": ", ".join(c.get("tags_none", [])),
    }


@dataclass
class TargetCell:
    """One cell of the targets grid (priority × metric) as typed, with its parsed value or error."""

    priority: str
    metric: str
    amount: str = ""
    business: bool = True
    warn: str = "75%, 90%"
    minutes: int | None = None
    percents: tuple[int, ...] = ()
    before: tuple[int, ...] = ()
    error: str = ""

    @property
    def priority_label(self) -> str:
        """The priority in the reader's language (for labels of the grid's inputs)."""
        return str(dict(Priority.choices).get(self.priority, self.priority))

    @property
    def key(self) -> str:
        return f"t-{self.priority}-{self.metric}"


def target_cells(policy: SLAPolicy | None) -> list[TargetCell]:
    """The grid as stored (empty cells for missing targets)."""
    stored = {(t.priority, t.metric): t for t in (policy.targets.all() if policy is not None and policy.pk else [])}
    cells = []
    for metric in Metric.values:
        for priority in Priority.values:
            t = stored.get((priority, metric))
            if t is None:
                cells.append(TargetCell(priority=priority, metric=metric))
            else:
                cells.append(
                    TargetCell(
                        priority=priority,
                        metric=metric,
                        amount=minutes_text(t.minutes),
                        business=t.business_hours,
                        warn=warnings_text(t.warn_at_percent, t.warn_minutes_before),
                        minutes=t.minutes,
                    )
                )
    return cells


def parse_target_cells(data: Any) -> list[TargetCell]:
    """The grid from POST data (`t-<priority>-<metric>-amount|-business|-warn`), each cell parsed or with an error."""
    cells = []
    for metric in Metric.values:
        for priority in Priority.values:
            key = f"t-{priority}-{metric}"
            cell = TargetCell(
                priority=priority,
                metric=metric,
                amount=data.get(f"{key}-amount", "").strip(),
                business=data.get(f"{key}-business") == "on",
                warn=data.get(f"{key}-warn", "").strip(),
            )
            try:
                cell.minutes = parse_minutes(cell.amount)
                percents, before = parse_warnings(cell.warn)
                cell.percents, cell.before = tuple(percents), tuple(before)
                if cell.minutes is not None and any(b >= cell.minutes for b in before):
                    raise ValidationError(_("A warning before the deadline must be shorter than the target."))
            except ValidationError as exc:
                cell.error = " ".join(exc.messages)
            cells.append(cell)
    return cells


@dataclass
class LevelRow:
    """One escalation level as typed in the form."""

    index: int
    level: str = "1"
    metric: str = ""
    after: str = "0"
    notify: tuple[str, ...] = ()
    notify_agents: tuple[str, ...] = ()
    reassign_agent: str = ""
    reassign_team: str = ""
    raise_priority: str = ""
    follower: str = ""
    tag: str = ""
    actions: tuple[dict[str, Any], ...] = ()
    level_number: int = 0
    minutes: int = 0
    error: str = ""

    @property
    def notify_agent_ids(self) -> set[int]:
        return {int(v) for v in self.notify_agents if str(v).isdigit()}


def level_rows(policy: SLAPolicy | None) -> list[LevelRow]:
    """Stored escalation levels as form rows."""
    rows = []
    levels = list(policy.escalations.all()) if policy is not None and policy.pk else []
    for i, level in enumerate(levels):
        row = LevelRow(
            index=i, level=str(level.level), metric=level.metric, after=minutes_text(level.minutes_after_breach) or "0"
        )
        notify: list[str] = []
        agents: list[str] = []
        for action in level.actions or []:
            kind = action.get("type")
            if kind == "notify":
                notify.append(action["to"])
                agents += [str(a) for a in action.get("agents", [])]
            elif kind == "reassign":
                row.reassign_agent = str(action.get("agent") or "")
                row.reassign_team = str(action.get("team") or "")
            elif kind == "raise_priority":
                row.raise_priority = action.get("to") or "step"
            elif kind == "add_follower":
                row.follower = str(action.get("agent") or "")
            elif kind == "add_tag":
                row.tag = action.get("tag", "")
        row.notify, row.notify_agents = tuple(notify), tuple(agents)
        rows.append(row)
    return rows


def parse_level_rows(data: Any, *, workspace: Workspace) -> list[LevelRow]:
    """Escalation levels from POST data (`e-<i>-…`); a row marked for removal, or left empty, is dropped."""
    try:
        count = min(int(data.get("e-count", "0")), 20)
    except ValueError:
        count = 0
    rows: list[LevelRow] = []
    for i in range(count):
        p = f"e-{i}-"
        if data.get(f"{p}delete") == "on":
            continue
        row = LevelRow(
            index=i,
            level=data.get(f"{p}level", "").strip(),
            metric=data.get(f"{p}metric", "").strip(),
            after=data.get(f"{p}after", "").strip() or "0",
            notify=tuple(data.getlist(f"{p}notify")),
            notify_agents=tuple(data.getlist(f"{p}notify_agents")),
            reassign_agent=data.get(f"{p}reassign_agent", "").strip(),
            reassign_team=data.get(f"{p}reassign_team", "").strip(),
            raise_priority=data.get(f"{p}raise_priority", "").strip(),
            follower=data.get(f"{p}follower", "").strip(),
            tag=data.get(f"{p}tag", "").strip(),
        )
        actions: list[dict[str, Any]] = []
        for to in row.notify:
            action: dict[str, Any] = {"type": "notify", "to": to}
            if to == "agents":
                action["agents"] = list(row.notify_agents)
            actions.append(action)
        if row.notify_agents and "agents" not in row.notify:
            actions.append({"type": "notify", "to": "agents", "agents": list(row.notify_agents)})
        if row.reassign_agent:
            actions.append({"type": "reassign", "agent": row.reassign_agent})
        elif row.reassign_team:
            actions.append({"type": "reassign", "team": row.reassign_team})
        if row.raise_priority:
            actions.append({"type": "raise_priority", "to": "" if row.raise_priority == "step" else row.raise_priority})
        if row.follower:
            actions.append({"type": "add_follower", "agent": row.follower})
        if row.tag:
            actions.append({"type": "add_tag", "tag": row.tag})
        if not actions and row.after in ("", "0") and not row.metric:
            continue  # the blank "add a level" row (its level number is prefilled)
        try:
            row.level_number = int(row.level)
            if not 1 <= row.level_number <= 9:
                raise ValueError
        except ValueError:
            row.error = _("The level is a number from 1 to 9.")
        if not row.error and row.metric and row.metric not in Metric.values:
            row.error = _("Unknown target.")
        if not row.error:
            try:
                row.minutes = parse_minutes(row.after) or 0 if row.after not in ("0", "") else 0
            except ValidationError as exc:
                row.error = " ".join(exc.messages)
        if not row.error and not actions:
            row.error = _("Choose at least one action.")
        if not row.error:
            try:
                row.actions = tuple(parse_actions(actions, workspace_id=workspace.pk))
            except ValidationFailed as exc:
                row.error = exc.message
        rows.append(row)
    seen: set[tuple[int, str]] = set()
    for row in rows:
        key = (row.level_number, row.metric)
        if not row.error and key in seen:
            row.error = _("Level %(n)d is defined twice for the same target.") % {"n": row.level_number}
        seen.add(key)
    return rows


def policy_save(
    *,
    workspace: Workspace,
    actor: Actor,
    form: PolicyForm,
    cells: list[TargetCell],
    levels: list[LevelRow],
    policy: SLAPolicy | None = None,
) -> SLAPolicy:
    """Create or update a policy with its whole targets grid and escalation ladder in one transaction, through the
    SLA configuration services (their permission check and validation). Callers pass a valid form and
    cells/levels without errors (else ValidationFailed)."""
    if any(c.error for c in cells) or any(r.error for r in levels):
        raise ValidationFailed(_("Fix the marked fields."))
    d = form.cleaned_data
    fields: dict[str, Any] = {
        "description": d.get("description", ""),
        "active": bool(d.get("active")),
        "calendar": d.get("calendar"),
        "paused_statuses": sorted(d.get("paused_statuses") or []),
        "conditions": form.conditions(),
        "targets": [
            {
                "priority": c.priority,
                "metric": c.metric,
                "minutes": c.minutes,
                "business_hours": c.business,
                "warn_at_percent": list(c.percents),
                "warn_minutes_before": list(c.before),
            }
            for c in cells
            if c.minutes is not None
        ],
    }
    ladder = [
        {"level": r.level_number, "metric": r.metric, "minutes_after_breach": r.minutes, "actions": list(r.actions)}
        for r in levels
    ]
    with transaction.atomic():
        if policy is None:
            row = configuration.policy_create(workspace=workspace, actor=actor, name=d["name"], **fields)
        else:
            row = configuration.policy_update(policy=policy, actor=actor, changes={"name": d["name"], **fields})
        configuration.escalation_levels_replace(policy=row, actor=actor, levels=ladder)
    return row


def policy_move(*, policy: SLAPolicy, actor: Actor, direction: str) -> None:
    """Move a policy one place up or down in the workspace's order (through `policy_reorder`)."""
    if direction not in ("up", "down"):
        raise ValidationFailed(_("Move a policy up or down."))
    ids = list(
        SLAPolicy.objects.filter(workspace_id=policy.workspace_id)
        .order_by("position", "pk")
        .values_list("pk", flat=True)
    )
    i = ids.index(policy.pk)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(ids):
        ids[i], ids[j] = ids[j], ids[i]
    configuration.policy_reorder(workspace=policy.workspace, actor=actor, policy_ids=ids)


def policy_delete(*, policy: SLAPolicy, actor: Actor) -> None:
    """Delete a policy with its targets and levels (the service's check); tickets keep their finished outcomes."""
    configuration.policy_delete(policy=policy, actor=actor)


def access_policy(*, workspace: Workspace, policy_id: int) -> SLAPolicy:
    row = SLAPolicy.objects.filter(workspace=workspace, pk=policy_id).first()
    if row is None:
        raise NotFound(_("SLA policy not found."), code=SlaErrorCode.POLICY_NOT_FOUND)
    return row


def escalation_choices(workspace: Workspace) -> dict[str, Any]:
    """Agents and teams an escalation may name."""
    agents = AgentProfile.objects.filter(workspace=workspace, is_active=True).select_related("user")
    return {
        "agents": sorted(agents, key=lambda a: a.name),
        "teams": list(Team.objects.filter(workspace=workspace).order_by("name")),
    }
