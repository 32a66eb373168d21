"""Routing policies: validating their conditions, choosing the policy of a ticket, creating and editing them."""

from __future__ import annotations

import threading
import time
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Skill, Team, Workspace
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.common.choices import Channel
from pivotdesk.common.errors import Conflict, ValidationFailed
from pivotdesk.customers.models import Tier
from pivotdesk.routing.domain import FACTORS
from pivotdesk.routing.errors import RoutingErrorCode
from pivotdesk.routing.models import CategorySkill, RoutingPolicy, Strategy
from pivotdesk.routing.services.pool import _lang, bump_pool_version
from pivotdesk.tickets.domain.text import normalize_tag
from pivotdesk.tickets.models import Category, Priority, Ticket

CONDITION_KEYS = ("channels", "categories", "priorities", "tiers", "languages", "tags")
POLICY_FIELDS = frozenset(
    {
        "name",
        "position",
        "active",
        "conditions",
        "strategy",
        "weights",
        "seniority_by_tier",
        "require_language",
        "max_distance_km",
        "team",
        "overflow_team",
        "skill_timeout_seconds",
        "relax_enabled",
        "reroute_on_offline",
        "reroute_on_away",
        "batch_threshold",
    }
)


def _as_list(key: str, value: Any) -> list[Any]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",")]
    if not isinstance(value, list | tuple):
        raise ValidationFailed(
            gettext("Condition “%(key)s” must be a list.") % {"key": key},
            code=RoutingErrorCode.INVALID_CONDITIONS,
            details={key: "a list"},
        )
    return [v for v in value if v not in (None, "")]


def clean_conditions(workspace_id: int, raw: Any) -> dict[str, list[Any]]:
    """Validate a policy's conditions: known keys only, known values only; empty lists are dropped."""
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise ValidationFailed(
            gettext("Conditions must be an object of key → list."),
            code=RoutingErrorCode.INVALID_CONDITIONS,
            details={"conditions": "an object"},
        )
    unknown = set(raw) - set(CONDITION_KEYS)
    if unknown:
        raise ValidationFailed(
            gettext("Unknown condition: %(keys)s.") % {"keys": ", ".join(sorted(unknown))},
            code=RoutingErrorCode.INVALID_CONDITIONS,
            details=dict.fromkeys(unknown, "unknown"),
        )
    allowed: dict[str, list[str]] = {
        "channels": list(Channel.values),
        "priorities": list(Priority.values),
        "tiers": list(Tier.values),
    }
    out: dict[str, list[Any]] = {}
    for key in CONDITION_KEYS:
        values = _as_list(key, raw.get(key))
        if not values:
            continue
        if key in allowed:
            bad = [v for v in values if v not in allowed[key]]
            if bad:
                raise ValidationFailed(
                    gettext("Unknown %(kind)s: %(values)s.") % {"kind": key[:-1], "values": ", ".join(map(str, bad))},
                    code=RoutingErrorCode.INVALID_CONDITIONS,
                    details={key: f"one of {allowed[key]}"},
                )
            out[key] = sorted(set(values))
        elif key == "categories":
            try:
                ids = sorted({int(v) for v in values})
            except (TypeError, ValueError) as exc:
                raise ValidationFailed(
                    gettext("Categories are given by id."),
                    code=RoutingErrorCode.INVALID_CONDITIONS,
                    details={key: "ids"},
                ) from exc
            found = set(Category.objects.filter(workspace_id=workspace_id, pk__in=ids).values_list("pk", flat=True))
            if set(ids) - found:
                raise ValidationFailed(
                    gettext("Unknown category."),
                    code=RoutingErrorCode.INVALID_CONDITIONS,
                    details={key: sorted(set(ids) - found)},
                )
            out[key] = ids
        elif key == "languages":
            out[key] = sorted({_lang(str(v)) for v in values if str(v).strip()})
        else:  # tags
            out[key] = sorted({t for t in (normalize_tag(str(v)) for v in values) if t})
    return out


def _category_ids(ticket: Ticket) -> set[int]:
    ids: set[int] = set()
    node = ticket.category
    while node is not None and node.pk not in ids:
        ids.add(node.pk)
        node = node.parent if node.parent_id else None
    return ids


def policy_matches(policy: RoutingPolicy, ticket: Ticket, *, tags: set[str] | None = None) -> bool:
    """Whether every condition of the policy holds for the ticket (a category matches its sub-categories too)."""
    c = policy.conditions or {}
    if c.get("channels") and ticket.channel not in c["channels"]:
        return False
    if c.get("priorities") and ticket.priority not in c["priorities"]:
        return False
    if c.get("languages") and _lang(ticket.language or "") not in c["languages"]:
        return False
    if c.get("tiers") and str(ticket.requester.effective_tier) not in c["tiers"]:
        return False
    if c.get("categories") and not (_category_ids(ticket) & set(c["categories"])):
        return False
    if c.get("tags"):
        names = tags if tags is not None else set(ticket.tags.values_list("name", flat=True))
        if not names & set(c["tags"]):
            return False
    return True


_policy_cache: dict[int, tuple[float, list[RoutingPolicy]]] = {}
_policy_lock = threading.Lock()


def forget_policies(workspace_id: int | None = None) -> None:
    """Drop the cached active policies (of one workspace, or all)."""
    with _policy_lock:
        if workspace_id is None:
            _policy_cache.clear()
        else:
            _policy_cache.pop(workspace_id, None)


def active_policies(workspace_id: int) -> list[RoutingPolicy]:
    """The workspace's active policies by position, cached like the pool (forgotten on every edit made here)."""
    ttl = float(getattr(settings, "ROUTING_POOL_CACHE_SECONDS", 30.0))
    with _policy_lock:
        hit = _policy_cache.get(workspace_id)
        if hit is not None and time.monotonic() - hit[0] < ttl:
            return hit[1]
    rows = list(RoutingPolicy.objects.filter(workspace_id=workspace_id, active=True).order_by("position", "pk"))
    if ttl > 0:
        with _policy_lock:
            _policy_cache[workspace_id] = (time.monotonic(), rows)
    return rows


def policy_for(ticket: Ticket, policies: list[RoutingPolicy] | None = None) -> RoutingPolicy | None:
    """The first active policy (by position) whose conditions the ticket meets; None: routing leaves it alone."""
    candidates = policies if policies is not None else active_policies(ticket.workspace_id)
    tags: set[str] | None = None
    for policy in candidates:
        if (policy.conditions or {}).get("tags") and tags is None:
            tags = set(ticket.tags.values_list("name", flat=True))
        if policy_matches(policy, ticket, tags=tags):
            return policy
    return None


def _team(workspace_id: int, value: Any, name: str) -> Team | None:
    if value in (None, ""):
        return None
    team: Team | None
    if isinstance(value, Team):
        team = value
    else:
        try:
            team = Team.objects.filter(pk=int(value)).first()
        except (TypeError, ValueError) as exc:
            raise ValidationFailed(
                gettext("A team is given by id."), code=RoutingErrorCode.UNKNOWN_REFERENCE, details={name: "an id"}
            ) from exc
    if team is None or team.workspace_id != workspace_id:
        raise ValidationFailed(
            gettext("Unknown team."), code=RoutingErrorCode.UNKNOWN_REFERENCE, details={name: "not found"}
        )
    return team


def _number(name: str, value: Any, *, lo: float, hi: float, integer: bool = False) -> float:
    try:
        number = int(value) if integer else float(value)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(
            gettext("%(name)s must be a number.") % {"name": name},
            code=RoutingErrorCode.INVALID_NUMBER,
            details={name: "a number"},
        ) from exc
    if not lo <= number <= hi:
        raise ValidationFailed(
            gettext("%(name)s must be between %(lo)s and %(hi)s.") % {"name": name, "lo": f"{lo:g}", "hi": f"{hi:g}"},
            code=RoutingErrorCode.INVALID_NUMBER,
            details={name: f"{lo:g}–{hi:g}"},
        )
    return number


def _clean_field(ws: int, key: str, value: Any) -> Any:
    """One policy field validated and converted (ValidationFailed with a readable message otherwise)."""
    if key == "name":
        name = str(value or "").strip()
        if not name or len(name) > 120:
            raise ValidationFailed(
                gettext("A policy name is 1–120 characters."),
                code=RoutingErrorCode.INVALID_NAME,
                details={"name": "1–120 characters"},
            )
        return name
    if key == "conditions":
        return clean_conditions(ws, value)
    if key == "strategy":
        if value not in Strategy.values:
            raise ValidationFailed(
                gettext("Unknown strategy “%(value)s”.") % {"value": value},
                code=RoutingErrorCode.UNKNOWN_STRATEGY,
                details={"strategy": Strategy.values},
            )
        return value
    if key == "weights":
        if not isinstance(value, dict):
            raise ValidationFailed(
                gettext("Weights are an object of factor → number."),
                code=RoutingErrorCode.INVALID_WEIGHTS,
                details={"weights": "an object"},
            )
        bad = set(value) - set(FACTORS)
        if bad:
            raise ValidationFailed(
                gettext("Unknown factor: %(factors)s.") % {"factors": ", ".join(sorted(bad))},
                code=RoutingErrorCode.INVALID_WEIGHTS,
                details={"weights": list(FACTORS)},
            )
        return {k: _number(f"weight '{k}'", v, lo=0, hi=100) for k, v in value.items()}
    if key == "seniority_by_tier":
        if not isinstance(value, dict) or set(value) - set(Tier.values):
            raise ValidationFailed(
                gettext("Seniority by tier maps a tier to 1–4."),
                code=RoutingErrorCode.INVALID_SENIORITY,
                details={"seniority_by_tier": Tier.values},
            )
        return {k: int(_number(f"seniority for {k}", v, lo=1, hi=4, integer=True)) for k, v in value.items()}
    if key == "max_distance_km":
        return None if value in (None, "") else _number("max_distance_km", value, lo=0, hi=40_000)
    if key in ("team", "overflow_team"):
        return _team(ws, value, key)
    if key in ("skill_timeout_seconds", "batch_threshold", "position"):
        hi = {"skill_timeout_seconds": 7 * 86400, "batch_threshold": 100_000, "position": 10_000}[key]
        return int(_number(key, value, lo=0, hi=hi, integer=True))
    return bool(value)  # the flags


def _apply(policy: RoutingPolicy, fields: dict[str, Any]) -> None:
    unknown = set(fields) - POLICY_FIELDS
    if unknown:
        raise ValidationFailed(
            gettext("Cannot set: %(fields)s.") % {"fields": ", ".join(sorted(unknown))},
            code=RoutingErrorCode.UNKNOWN_FIELD,
            details=dict.fromkeys(unknown, "unknown"),
        )
    for key, value in fields.items():
        setattr(policy, key, _clean_field(policy.workspace_id, key, value))
    if policy.team_id and policy.overflow_team_id == policy.team_id:
        raise ValidationFailed(
            gettext("The overflow team must differ from the policy's team."),
            code=RoutingErrorCode.SAME_OVERFLOW_TEAM,
            details={"overflow_team": "same"},
        )


@transaction.atomic
def policy_create(*, workspace: Workspace, actor: Actor, fields: dict[str, Any]) -> RoutingPolicy:
    """Create a routing policy (supervisors and admins)."""
    _require(actor)
    if not str(fields.get("name") or "").strip():
        raise ValidationFailed(
            gettext("A policy needs a name."), code=RoutingErrorCode.INVALID_NAME, details={"name": "required"}
        )
    if RoutingPolicy.objects.filter(workspace=workspace, name=str(fields["name"]).strip()).exists():
        raise Conflict(gettext("A policy with this name exists."), code=RoutingErrorCode.POLICY_EXISTS)
    policy = RoutingPolicy(workspace=workspace)
    if "position" not in fields:
        last = RoutingPolicy.objects.filter(workspace=workspace).order_by("-position").first()
        policy.position = (last.position + 1) if last else 0
    _apply(policy, fields)
    policy.save()
    bump_pool_version(workspace.pk)
    forget_policies(workspace.pk)
    return policy


@transaction.atomic
def policy_update(*, policy: RoutingPolicy, actor: Actor, fields: dict[str, Any]) -> RoutingPolicy:
    """Change a routing policy's conditions, strategy, weights, pool, timeout or overflow."""
    _require(actor)
    policy = RoutingPolicy.objects.select_for_update().get(pk=policy.pk)
    name = str(fields.get("name") or policy.name).strip()
    if RoutingPolicy.objects.filter(workspace_id=policy.workspace_id, name=name).exclude(pk=policy.pk).exists():
        raise Conflict(gettext("A policy with this name exists."), code=RoutingErrorCode.POLICY_EXISTS)
    _apply(policy, fields)
    policy.save()
    bump_pool_version(policy.workspace_id)
    forget_policies(policy.workspace_id)
    return policy


@transaction.atomic
def policy_delete(*, policy: RoutingPolicy, actor: Actor) -> None:
    """Delete a policy (tickets waiting under it are routed by whichever policy matches them next)."""
    _require(actor)
    workspace_id = policy.workspace_id
    policy.delete()
    forget_policies(workspace_id)


def _require(actor: Actor) -> None:
    authorize(actor, Perm.ROUTING_MANAGE)


def category_skill_set(*, category: Category, skill: Skill, min_level: int, actor: Actor) -> CategorySkill | None:
    """Require a skill (minimum level 1–5) for tickets of a category and its sub-categories; level 0 removes it."""
    _require(actor)
    if category.workspace_id != skill.workspace_id:
        raise ValidationFailed(
            gettext("Unknown skill."), code=RoutingErrorCode.UNKNOWN_REFERENCE, details={"skill": "not found"}
        )
    level = int(_number("min_level", min_level, lo=0, hi=5, integer=True))
    bump_pool_version(category.workspace_id)
    if level == 0:
        CategorySkill.objects.filter(category=category, skill=skill).delete()
        return None
    row, _ = CategorySkill.objects.update_or_create(
        category=category, skill=skill, defaults={"min_level": level, "workspace_id": category.workspace_id}
    )
    return row


def preview_apply(policy: RoutingPolicy, fields: dict[str, Any]) -> RoutingPolicy:
    """Validate and apply fields to a policy instance without saving it (the "what would happen" preview)."""
    _apply(policy, fields)
    return policy
