"""Linked ticket chains: templates (versioned data), starting a chain (an umbrella ticket and one child ticket per
open stage), moving on when a stage's ticket is solved, announcing late stages once, and the progress view.

The arithmetic lives in `domain.chains`; this module keeps the rows, the tickets, the timeline and the events in
step. A chain is idempotent by its business key in the workspace (`order:PD2026…`): starting it again returns the
running one, and the unique constraint settles a race between two starts.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Team, Workspace
from pivotdesk.accounts.permissions import Perm, authorize, authorize_system
from pivotdesk.common.choices import Channel
from pivotdesk.common.domain import placeholders
from pivotdesk.common.errors import Conflict, NotFound, ValidationFailed
from pivotdesk.common.events import publish
from pivotdesk.common.text import without_nul
from pivotdesk.common.time import now
from pivotdesk.customers.models import Contact
from pivotdesk.tickets.models import Status, Ticket
from pivotdesk.tickets.services import ticket_create, ticket_set_parent
from pivotdesk.tickets.services.timeline import record

from ..domain import chains as domain
from ..errors import AutomationErrorCode
from ..events import ChainStageChanged
from ..models import Chain, ChainMode, ChainStage, ChainTemplate

log = logging.getLogger(__name__)

MAX_NAME = 160
MAX_KEY = 200
MAX_STAGE_KEY = 64
MAX_STAGE_NAME = 120
MAX_MINUTES = 366 * 24 * 60
MAX_VALUES = 40
FINISHED = (Status.SOLVED, Status.CLOSED)


# --- templates ---------------------------------------------------------------------------------------------------


def _invalid(message: str, path: str) -> ValidationFailed:
    return ValidationFailed(message, code=AutomationErrorCode.INVALID_VALUE, details={path: message})


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError
    return value


def _stage_from_spec(workspace: Workspace, index: int, spec: Any) -> dict[str, Any]:
    """One stage of a template from the caller's spec, checked field by field (the domain checks the whole)."""
    path = f"stages.{index}"
    if not isinstance(spec, Mapping):
        raise _invalid(gettext("Every stage must be an object."), path)
    key, name = without_nul(spec.get("key")), without_nul(spec.get("name") or spec.get("key"))
    if not isinstance(key, str) or len(key.strip()) > MAX_STAGE_KEY:
        raise _invalid(gettext("A stage key is text of at most %(n)s characters.") % {"n": MAX_STAGE_KEY}, path)
    if not isinstance(name, str) or len(name.strip()) > MAX_STAGE_NAME:
        raise _invalid(gettext("A stage name is text of at most %(n)s characters.") % {"n": MAX_STAGE_NAME}, path)
    minutes = spec.get("expected_minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes > MAX_MINUTES:
        raise _invalid(
            gettext("A stage's expected duration is a whole number of minutes, at most %(n)s.") % {"n": MAX_MINUTES},
            f"{path}.expected_minutes",
        )
    try:
        team_id = _int_or_none(spec.get("team"))
    except TypeError:
        raise _invalid(gettext("A stage's team must be a team id."), f"{path}.team") from None
    if team_id is not None and not Team.objects.filter(workspace=workspace, pk=team_id).exists():
        raise _invalid(gettext("No such team in this workspace."), f"{path}.team")
    return {"key": key.strip(), "name": name.strip(), "team": team_id, "expected_minutes": minutes}


def _definition(
    name: str, mode: str, stages: Sequence[Mapping[str, Any]], key: str = "", version: int = 1
) -> domain.ChainDef:
    defs = tuple(
        domain.ChainStageDef(str(s["key"]), str(s["name"]), s.get("team"), int(s["expected_minutes"])) for s in stages
    )
    return domain.ChainDef(key or name, name, version, mode, defs)


def _translated(error: domain.ChainError) -> str:
    return gettext(error.template) % error.params


def _check_template(name: str, mode: str, stages: list[dict[str, Any]]) -> None:
    problems = domain.validate(_definition(name, mode, stages))
    if problems:
        first = problems[0]
        raise ValidationFailed(
            gettext(first.template) % first.params,
            code=AutomationErrorCode.INVALID_VALUE,
            details={"stages": [{"code": p.code, "message": _translated(p)} for p in problems]},
        )


def template_save(
    *,
    actor: Actor,
    workspace: Workspace,
    name: str,
    mode: str,
    stages: list[dict[str, Any]],
    description: str = "",
    active: bool = True,
    template: ChainTemplate | None = None,
) -> ChainTemplate:
    """Create a chain template, or save a new version of `template` (running chains keep their snapshot)."""
    authorize(actor, Perm.AUTOMATION_MANAGE, workspace_id=workspace.pk)
    name = without_nul(name if isinstance(name, str) else "").strip()
    if not name or len(name) > MAX_NAME:
        raise _invalid(gettext("Give the chain a name of at most %(n)s characters.") % {"n": MAX_NAME}, "name")
    if template is not None and template.workspace_id != workspace.pk:
        raise NotFound(gettext("No such chain template."), code=AutomationErrorCode.NOT_FOUND)
    if mode not in ChainMode.values:
        raise _invalid(gettext("Unknown chain mode “%(mode)s”: use parallel or sequence.") % {"mode": mode}, "mode")
    if not isinstance(stages, list) or len(stages) > domain.MAX_STAGES:
        raise _invalid(gettext("A chain has at most %(max)d stages.") % {"max": domain.MAX_STAGES}, "stages")
    clean = [_stage_from_spec(workspace, i, s) for i, s in enumerate(stages)]
    _check_template(name, mode, clean)
    description = without_nul(description or "")
    try:
        with transaction.atomic():
            if template is None:
                return ChainTemplate.objects.create(
                    workspace=workspace, name=name, description=description, mode=mode, stages=clean, active=active
                )
            template = ChainTemplate.objects.select_for_update().get(pk=template.pk)
            template.name, template.description, template.mode = name, description, mode
            template.stages, template.active, template.version = clean, active, template.version + 1
            template.save()
            return template
    except IntegrityError as exc:
        raise Conflict(
            gettext("A chain named “%(name)s” exists already.") % {"name": name},
            code=AutomationErrorCode.DUPLICATE_NAME,
        ) from exc


# --- starting a chain --------------------------------------------------------------------------------------------


def _snapshot(template: ChainTemplate, values: Mapping[str, Any]) -> dict[str, Any]:
    definition = _definition(template.name, template.mode, template.stages or [], str(template.pk), template.version)
    data = domain.chain_to_data(definition)
    data["values"] = _plain_values(values)
    return data


def _plain_values(values: Mapping[str, Any]) -> dict[str, str]:
    """The scalar placeholder values worth copying into the stage tickets (bounded, JSON-safe)."""
    plain: dict[str, str] = {}
    for name, value in list(values.items())[: MAX_VALUES * 4]:
        if isinstance(value, str | int | float) and not isinstance(value, bool) and str(value).strip():
            plain[without_nul(str(name))[:80]] = without_nul(str(value))[:500]
        if len(plain) >= MAX_VALUES:
            break
    return plain


def _desk_language(workspace_id: int) -> str:
    """Internal tickets a chain opens are written in the desk's own language (the workspace's default)."""
    from pivotdesk.accounts.models import Workspace

    code = (Workspace.objects.filter(pk=workspace_id).values_list("default_language", flat=True).first() or "").lower()
    return "en" if code.startswith("en") else "zh-hans"


def _in_desk_language(workspace_id: int, message: str, **params: object) -> str:
    with translation.override(_desk_language(workspace_id)):
        return gettext(message) % params


def _stage_body(chain: Chain, stage: domain.ChainStageDef) -> str:
    with translation.override(_desk_language(chain.workspace_id)):
        return _stage_text(chain, stage)


def _stage_text(chain: Chain, stage: domain.ChainStageDef) -> str:
    lines = [
        gettext("Chain: %(name)s (%(key)s)") % {"name": chain.name, "key": chain.key},
        gettext("Stage: %(name)s, expected to take %(minutes)s minutes")
        % {"name": stage.name, "minutes": stage.expected_minutes},
        gettext("Umbrella ticket: #%(number)s") % {"number": chain.parent.number},
    ]
    values = chain.snapshot.get("values") or {}
    if values:
        lines.append("")
        lines.extend(f"{name}: {value}" for name, value in values.items())
    return "\n".join(lines)


def _open_stage(chain: Chain, stage: domain.ChainStageDef, actor: Actor) -> Ticket | None:
    """Open the ticket of one stage (a child of the umbrella ticket) and announce it; None when it has one."""
    row = ChainStage.objects.select_for_update().get(chain=chain, key=stage.key)
    if row.ticket_id is not None:
        return None
    parent = chain.parent
    team = Team.objects.filter(workspace_id=chain.workspace_id, pk=stage.team_id).first() if stage.team_id else None
    child = ticket_create(
        workspace=parent.workspace,
        requester=parent.requester,
        subject=f"{stage.name} · {chain.name} · {chain.key}",
        body=_stage_body(chain, stage),
        actor=actor,
        channel=Channel.API,
        priority=parent.priority,
        team=team,
        language=parent.language,
        public=False,
    )
    ticket_set_parent(child=child, parent=parent, actor=actor)
    row.ticket = child
    row.save(update_fields=["ticket", "updated_at"])
    _announce(chain, stage.key, child.pk, "opened")
    return child


def _announce(chain: Chain, stage_key: str, ticket_id: int, change: str) -> None:
    publish(
        ChainStageChanged(
            workspace_id=chain.workspace_id, chain_id=chain.pk, ticket_id=ticket_id, stage_key=stage_key, change=change
        )
    )


def _stage_def(definition: domain.ChainDef, key: str) -> domain.ChainStageDef:
    return next(s for s in definition.stages if s.key == key)


def _umbrella(template: ChainTemplate, key: str, requester: Contact | None, subject: str, actor: Actor) -> Ticket:
    if requester is None:
        raise _invalid(gettext("Name the parent ticket or the requester of a new one."), "requester")
    if requester.workspace_id != template.workspace_id:
        raise NotFound(gettext("No such contact."), code=AutomationErrorCode.NOT_FOUND)
    subject = without_nul(subject or "").strip() or f"{template.name} · {key}"
    return ticket_create(
        workspace=template.workspace,
        requester=requester,
        subject=subject,
        body=_in_desk_language(
            template.workspace_id, gettext_noop("Chain “%(name)s” for %(key)s."), name=template.name, key=key
        ),
        actor=actor,
        channel=Channel.API,
        public=False,
    )


def _clean_key(raw: Any) -> str:
    key: str = without_nul(raw if isinstance(raw, str) else "").strip()
    if not key or len(key) > MAX_KEY:
        raise _invalid(gettext("A chain needs a key of at most %(n)s characters.") % {"n": MAX_KEY}, "key")
    return key


def _existing(workspace_id: int, key: str) -> Chain | None:
    return Chain.objects.filter(workspace_id=workspace_id, key=key).select_related("parent").first()


def chain_start(
    *,
    actor: Actor,
    template: ChainTemplate,
    key: str,
    parent: Ticket | None = None,
    requester: Contact | None = None,
    subject: str = "",
    values: Mapping[str, Any] | None = None,
) -> Chain:
    """Start a chain from a template under `parent` (or a new umbrella ticket for `requester`); a chain with the
    same key in the workspace is returned as it is."""
    authorize(actor, Perm.TICKET_CREATE, workspace_id=template.workspace_id)
    authorize(actor, Perm.TICKET_UPDATE, workspace_id=template.workspace_id)
    key = _clean_key(key)
    if parent is not None and parent.workspace_id != template.workspace_id:
        raise NotFound(gettext("Ticket not found."), code=AutomationErrorCode.NOT_FOUND)
    found = _existing(template.workspace_id, key)
    if found is not None:
        return found
    if not template.active:
        raise ValidationFailed(gettext("This chain template is switched off."), code=AutomationErrorCode.WRONG_STATE)
    snapshot = _snapshot(template, values or {})
    definition = domain.chain_from_data(snapshot)
    at = now()
    try:
        states = domain.start(definition, at)
    except domain.ChainError as exc:
        raise ValidationFailed(gettext(exc.template) % exc.params, code=AutomationErrorCode.INVALID_VALUE) from exc
    try:
        with transaction.atomic():  # a savepoint: the loser of a race leaves no umbrella ticket behind
            top = parent or _umbrella(template, key, requester, subject, actor)
            chain = Chain.objects.create(
                workspace_id=template.workspace_id,
                template=template,
                key=key,
                name=template.name,
                parent=top,
                snapshot=snapshot,
                states=domain.states_to_data(states),
            )
            _begin(chain, definition, states, actor)
    except IntegrityError:
        winner = _existing(template.workspace_id, key)
        if winner is None:
            raise
        return winner
    return chain


def _begin(chain: Chain, definition: domain.ChainDef, states: Sequence[domain.StageState], actor: Actor) -> None:
    ChainStage.objects.bulk_create(
        [ChainStage(workspace_id=chain.workspace_id, chain=chain, key=s.key) for s in definition.stages]
    )
    record(
        ticket=chain.parent,
        actor=actor,
        verb="chain_started",
        data={
            "chain_id": chain.pk,
            "name": chain.name,
            "key": chain.key,
            "mode": definition.mode,
            "stages": [s.key for s in definition.stages],
        },
    )
    for state in states:
        if state.status == domain.OPEN:
            _open_stage(chain, _stage_def(definition, state.key), actor)


def chain_start_for_rule(
    *, ticket: Ticket, template_id: int, key: str, actor: Actor, values: Mapping[str, Any] | None
) -> str:
    """The rule action "start a chain" on `ticket` (the parent); `key` may hold placeholders. Returns the name."""
    template = ChainTemplate.objects.filter(workspace_id=ticket.workspace_id, pk=template_id, active=True).first()
    if template is None:
        raise NotFound(gettext("The chain template no longer exists."), code=AutomationErrorCode.NOT_FOUND)
    rendered = placeholders.render(key, values or {}).strip() if key else ""
    chain = chain_start(
        actor=actor,
        template=template,
        key=rendered or f"ticket:{ticket.number}:{template_id}",
        parent=ticket,
        values=values,
    )
    return chain.name


# --- progress ----------------------------------------------------------------------------------------------------


def _finish_stage(chain: Chain, stage_key: str, ticket: Ticket, actor: Actor) -> None:
    definition = domain.chain_from_data(chain.snapshot)
    states = domain.states_from_data(chain.states)
    try:
        updated, opened = domain.on_stage_done(definition, states, stage_key, now())
    except domain.ChainError as exc:  # a cancelled stage or one out of order: logged, nothing changes
        log.info("chain %s: stage %s not completed (%s)", chain.pk, stage_key, exc.code)
        return
    if updated == tuple(states):
        return
    chain.states = domain.states_to_data(updated)
    chain.save(update_fields=["states", "updated_at"])
    _announce(chain, stage_key, ticket.pk, "done")
    for key in opened:
        _open_stage(chain, _stage_def(definition, key), actor)
    if not chain.done and domain.progress(definition, updated, now()).finished:
        chain.done = True
        chain.save(update_fields=["done", "updated_at"])
        record(ticket=chain.parent, actor=actor, verb="chain_finished", data={"chain_id": chain.pk, "key": chain.key})


def on_ticket_solved(*, actor: Actor, ticket: Ticket) -> Chain | None:
    """When a stage's ticket is solved or closed: mark the stage done, open the next, finish the chain (system
    only; safe to run twice). None when the ticket is no open chain stage's."""
    authorize_system(actor)
    if ticket.status not in FINISHED:
        return None
    row = ChainStage.objects.filter(workspace_id=ticket.workspace_id, ticket=ticket).only("chain_id", "key").first()
    if row is None:
        return None
    with transaction.atomic():
        chain = Chain.objects.select_for_update().select_related("parent__workspace").get(pk=row.chain_id)
        _finish_stage(chain, row.key, ticket, actor)
    return chain


def _report_chain(chain_id: int, at: dt.datetime, actor: Actor) -> int:
    with transaction.atomic():
        chain = Chain.objects.select_for_update().select_related("parent").get(pk=chain_id)
        definition = domain.chain_from_data(chain.snapshot)
        late = domain.delayed(definition, domain.states_from_data(chain.states), at)
        new = [key for key in late if key not in (chain.delays_reported or [])]
        if not new:
            return 0
        chain.delays_reported = [*(chain.delays_reported or []), *new]
        chain.save(update_fields=["delays_reported", "updated_at"])
        tickets = dict(ChainStage.objects.filter(chain=chain, key__in=new).values_list("key", "ticket_id"))
        for key in new:
            stage = _stage_def(definition, key)
            _announce(chain, key, tickets.get(key) or chain.parent_id, "delayed")
            record(
                ticket=chain.parent,
                actor=actor,
                verb="chain_stage_delayed",
                data={
                    "chain_id": chain.pk,
                    "stage": key,
                    "name": stage.name,
                    "expected_minutes": stage.expected_minutes,
                    "ticket_id": tickets.get(key),
                },
            )
    return len(new)


def report_delays(*, actor: Actor, at: dt.datetime | None = None) -> int:
    """Announce every open stage past its expected duration, once per stage (system only, a beat task)."""
    authorize_system(actor)
    at = at or now()
    reported = 0
    for chain_id, snapshot, states, seen in (
        Chain.objects.filter(done=False).values_list("pk", "snapshot", "states", "delays_reported").iterator()
    ):
        try:
            late = domain.delayed(domain.chain_from_data(snapshot), domain.states_from_data(states), at)
        except (domain.ChainError, KeyError, TypeError, ValueError):
            log.warning("chain %s: unreadable snapshot or states, skipped", chain_id)
            continue
        if set(late) - set(seen or []):
            reported += _report_chain(chain_id, at, actor)
    return reported


def chain_view(chain: Chain, at: dt.datetime) -> dict[str, Any]:
    """The chain's progress for a screen or the API: each stage with its team, status, ticket, times and delay."""
    definition = domain.chain_from_data(chain.snapshot)
    states = domain.states_from_data(chain.states)
    progress = domain.progress(definition, states, at)
    rows = {s.key: s for s in ChainStage.objects.filter(chain=chain).select_related("ticket")}
    team_ids = {s.team_id for s in definition.stages if s.team_id}
    teams = dict(Team.objects.filter(workspace_id=chain.workspace_id, pk__in=team_ids).values_list("pk", "name"))
    stages = []
    for stage, state in zip(definition.stages, states, strict=True):
        row = rows.get(stage.key)
        ticket = row.ticket if row is not None else None
        stages.append(
            {
                "key": stage.key,
                "name": stage.name,
                "team_id": stage.team_id,
                "team": teams.get(stage.team_id or 0),
                "expected_minutes": stage.expected_minutes,
                "status": state.status,
                "ticket_id": ticket.pk if ticket else None,
                "ticket_number": ticket.number if ticket else None,
                "opened_at": state.opened_at,
                "done_at": state.done_at,
                "delayed": stage.key in progress.delayed,
            }
        )
    parent = chain.parent
    return {
        "id": chain.pk,
        "key": chain.key,
        "name": chain.name,
        "mode": definition.mode,
        "version": definition.version,
        "template_id": chain.template_id,
        "done": chain.done,
        "parent": {"id": parent.pk, "number": parent.number, "subject": parent.subject},
        "percent": progress.percent,
        "current": list(progress.current),
        "delayed": list(progress.delayed),
        "finished": progress.finished,
        "expected_end": progress.expected_end,
        "stages": stages,
        "created_at": chain.created_at,
    }
