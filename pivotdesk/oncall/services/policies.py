"""Escalation policies and the after-hours answers (Perm.ROUTING_MANAGE: supervisors decide who is woken up)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Team, Workspace
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.common.errors import ValidationFailed
from pivotdesk.oncall.errors import OncallErrorCode
from pivotdesk.oncall.models import (
    AfterHoursAnswer,
    EscalationPolicy,
    EscalationStep,
    OnCallSchedule,
    Partner,
    TargetKind,
)

CONDITION_KEYS = frozenset({"priorities", "categories", "channels", "sla_states", "tiers", "keywords", "outside_hours"})


def _require(actor: Actor, workspace_id: int) -> None:
    authorize(actor, Perm.ROUTING_MANAGE, workspace_id=workspace_id)


def _invalid(message: str, field: str) -> ValidationFailed:
    return ValidationFailed(message, code=OncallErrorCode.INVALID_VALUE, details={field: "invalid"})


def _conditions(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _invalid(gettext("Conditions must be an object of lists."), "conditions")
    unknown = sorted(set(value) - CONDITION_KEYS)
    if unknown:
        raise _invalid(gettext("Unknown condition(s): %(names)s.") % {"names": ", ".join(unknown)}, "conditions")
    out: dict[str, Any] = {}
    for key, items in value.items():
        if key == "outside_hours":
            out[key] = bool(items)
        elif isinstance(items, list) and all(isinstance(i, str | int) and not isinstance(i, bool) for i in items):
            out[key] = [str(i)[:200] if key != "categories" else int(i) for i in items][:100]
        else:
            raise _invalid(gettext("Condition “%(name)s” must be a list.") % {"name": key}, "conditions")
    return out


def policy_save(
    *,
    actor: Actor,
    workspace: Workspace,
    name: str,
    conditions: dict[str, Any] | None = None,
    repeat: int = 0,
    fallback_team: Team | None = None,
    active: bool = True,
    position: int = 0,
    policy: EscalationPolicy | None = None,
) -> EscalationPolicy:
    _require(actor, workspace.pk)
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise _invalid(gettext("A name of 1 to 120 characters is required."), "name")
    if not 0 <= int(repeat) <= 9:
        raise _invalid(gettext("Repeat the ladder 0 to 9 times."), "repeat")
    if fallback_team is not None and fallback_team.workspace_id != workspace.pk:
        raise ValidationFailed(gettext("That team belongs to another workspace."), code=OncallErrorCode.WRONG_WORKSPACE)
    row = policy or EscalationPolicy(workspace=workspace)
    row.name, row.conditions, row.repeat = name, _conditions(conditions or {}), int(repeat)
    row.fallback_team, row.active, row.position = fallback_team, bool(active), int(position)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as exc:
        raise ValidationFailed(
            gettext("That name is already used."), code=OncallErrorCode.DUPLICATE_NAME, details={"name": "taken"}
        ) from exc
    return row


def policy_steps_set(*, actor: Actor, policy: EscalationPolicy, steps: list[dict[str, Any]]) -> list[EscalationStep]:
    """Replace the policy's levels: [{"level": 0, "timeout_minutes": 10, "agent"|"schedule"|"partner": id}, …]
    (several targets at one level are paged together)."""
    _require(actor, policy.workspace_id)
    ws = policy.workspace_id
    rows: list[EscalationStep] = []
    for item in steps:
        try:
            level, timeout = int(item.get("level", 0)), int(item.get("timeout_minutes", 10))
        except (TypeError, ValueError) as exc:
            raise _invalid(gettext("Level and timeout are whole numbers."), "steps") from exc
        if not 0 <= level <= 20 or not 1 <= timeout <= 24 * 60:
            raise _invalid(gettext("A level is 0–20 and its timeout 1 to 1440 minutes."), "steps")
        row = EscalationStep(workspace_id=ws, policy=policy, position=level, timeout_minutes=timeout)
        if item.get("agent"):
            row.target_kind, row.agent = (
                TargetKind.AGENT,
                AgentProfile.objects.filter(workspace_id=ws, pk=item["agent"]).first(),
            )
            found: object = row.agent
        elif item.get("schedule"):
            row.target_kind = TargetKind.SCHEDULE
            row.schedule = OnCallSchedule.objects.filter(workspace_id=ws, pk=item["schedule"]).first()
            found = row.schedule
        elif item.get("partner"):
            row.target_kind, row.partner = (
                TargetKind.PARTNER,
                Partner.objects.filter(workspace_id=ws, pk=item["partner"]).first(),
            )
            found = row.partner
        else:
            found = None
        if found is None:
            raise _invalid(gettext("Each level needs a person, a schedule or a partner of this workspace."), "steps")
        rows.append(row)
    if not rows:
        raise _invalid(gettext("A policy needs at least one level."), "steps")
    with transaction.atomic():
        policy.steps.all().delete()
        EscalationStep.objects.bulk_create(rows)
    return rows


def answer_save(
    *,
    actor: Actor,
    workspace: Workspace,
    name: str,
    keywords: list[str],
    answer_zh: str,
    answer_en: str,
    answer: AfterHoursAnswer | None = None,
) -> AfterHoursAnswer:
    """A standard question the after-hours bot answers (keywords in either language)."""
    _require(actor, workspace.pk)
    words = [str(k).strip()[:60] for k in keywords if str(k).strip()][:30]
    if not (name or "").strip() or not words or not answer_zh.strip() or not answer_en.strip():
        raise _invalid(gettext("A name, keywords and the answer in Chinese and English are required."), "answer")
    row = answer or AfterHoursAnswer(workspace=workspace)
    row.name, row.keywords = name.strip()[:120], words
    row.answer_zh, row.answer_en = answer_zh.strip()[:2000], answer_en.strip()[:2000]
    row.save()
    return row
