"""Multi-stage approval flows as a pure state machine (e.g. 风控审核 → 法务合规 → 财务确认 on a loan request).

A flow (`FlowDef`) is versioned data: ordered stages, each with its approvers, a rule (any one, all, n of m), an
optional SLA and the items it requires. A run (`ApprovalState`) keeps the snapshot of the flow taken at `start`, so
editing the definition later never changes a running approval. Every function takes the time as an aware datetime
and returns a new state; nothing here reads the clock or a database.

Choices made here, and why:

- Approvers are agent ids. People, a team, a role or the requester's manager are resolved by the service layer,
  which knows the directory, before it calls `start`; the domain only counts decisions.
- A single reject ends the round (`rejected`); "changes" asks the requester for more (`changes_requested`). Both
  send the ticket back to the requester with the reason and both may be resubmitted: the run resumes at the stage
  that sent it back, in a new round, and earlier stages are not repeated. The statuses stay distinct for reporting.
  A reject ends the round at once and nobody abstains, so a quorum never becomes impossible while a stage is open.
- An approver on leave is replaced by their delegate (transitively: a delegate on leave passes it on). The delegate
  acts "for" them (`Decision.acting_for`); the approver on leave may not act until the delegation is cleared.
- `missing_items` must be items the stage requires when it lists any; when it lists none, free text is allowed (the
  approver names in words what is missing).
- The SLA counts wall-clock minutes since the stage (re)started; a resubmission restarts it.
- Messages are English templates with named placeholders; the service layer translates them
  (`gettext(error.template) % error.params`) because `*.domain` imports no Django (import-linter contract).
  `gettext_noop` marks them for `makemessages`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

ANY, ALL, N_OF_M = "any", "all", "n_of_m"
RULES = (ANY, ALL, N_OF_M)
PENDING, CHANGES_REQUESTED, REJECTED, APPROVED, CANCELLED = (
    "pending",
    "changes_requested",
    "rejected",
    "approved",
    "cancelled",
)
SENT_BACK = frozenset({CHANGES_REQUESTED, REJECTED})
APPROVE, REJECT, CHANGES = "approve", "reject", "changes"
VERDICTS = (APPROVE, REJECT, CHANGES)
# Progress bar states of one stage.
DONE, CURRENT, WAITING, STAGE_SENT_BACK, STAGE_CANCELLED = "done", "current", "waiting", "sent_back", "cancelled"
MAX_STAGES = 20


def gettext_noop(message: str) -> str:
    """Mark an English msgid for `makemessages` without importing Django; the service layer translates it."""
    return message


class ApprovalError(ValueError):
    """A rule of the approval flow was broken. `code` is stable; `template` (English, named placeholders) and
    `params` let the service layer translate it; `message` is the English text."""

    def __init__(self, code: str, template: str, **params: object) -> None:
        super().__init__(template % params)
        self.code = code
        self.template = template
        self.params = params

    @property
    def message(self) -> str:
        """The English message (translate `template` with `params` to show it to a person)."""
        return str(self.args[0])


@dataclass(frozen=True)
class StageDef:
    """One stage of a flow. `approvers` are agent ids already resolved by the service layer (people, a team, a
    role, the requester's manager); `n` counts only for the n_of_m rule."""

    key: str
    name: str
    approvers: frozenset[int]
    rule: str = ANY
    n: int = 1
    sla_minutes: int | None = None
    required_items: tuple[str, ...] = ()

    @property
    def required_approvals(self) -> int:
        """How many approvals complete this stage."""
        if self.rule == ALL:
            return len(self.approvers)
        return self.n if self.rule == N_OF_M else 1


@dataclass(frozen=True)
class FlowDef:
    """A versioned approval flow definition: ordered stages."""

    key: str
    name: str
    version: int
    stages: tuple[StageDef, ...]


@dataclass(frozen=True)
class Decision:
    """One approver's decision. `approver` is who acted; `acting_for` the approver on leave they replaced."""

    approver: int
    acting_for: int | None
    verdict: str
    comment: str
    reason: str
    missing_items: tuple[str, ...]
    at: dt.datetime


@dataclass(frozen=True)
class StageRecord:
    """One stage in one round: when it started and ended, how (`outcome`), who decided, why, and every decision.
    The last record is open (`ended_at` None) while the stage waits for approvers."""

    stage_key: str
    round: int
    started_at: dt.datetime
    ended_at: dt.datetime | None = None
    outcome: str = ""
    decided_by: tuple[int, ...] = ()
    reason: str = ""
    missing_items: tuple[str, ...] = ()
    decisions: tuple[Decision, ...] = ()
    provided_items: tuple[str, ...] = ()

    @property
    def duration(self) -> dt.timedelta | None:
        """How long the stage took in this round (None while it is open)."""
        return None if self.ended_at is None else self.ended_at - self.started_at


@dataclass(frozen=True)
class ApprovalState:
    """A running approval: the flow snapshot taken at the start, where it stands, the current round's decisions,
    the history of every stage and round, and the delegations (approver on leave → delegate)."""

    flow: FlowDef
    status: str
    stage_index: int
    decisions: tuple[Decision, ...]
    history: tuple[StageRecord, ...]
    round: int
    delegations: Mapping[int, int] = field(default_factory=dict)

    @property
    def stage(self) -> StageDef:
        """The stage that is deciding, or that sent the ticket back (the last one once approved)."""
        return self.flow.stages[self.stage_index]


@dataclass(frozen=True)
class StageProgress:
    """One segment of the progress bar."""

    key: str
    name: str
    status: str
    approvals: int
    required: int


@dataclass(frozen=True)
class Progress:
    """What the ticket shows: every stage's state, who must act (`waiting_on` "approvers" or "requester", "" when
    finished), since how long, the SLA due time and whether it passed, and the share of stages done."""

    status: str
    stages: tuple[StageProgress, ...]
    current_key: str | None
    waiting_on: str
    expected: frozenset[int]
    waiting: dt.timedelta | None
    due_at: dt.datetime | None
    overdue: bool
    percent: int


# --- definitions -------------------------------------------------------------------------------------------------


def validate(flow: FlowDef) -> list[ApprovalError]:
    """Every problem of a flow definition (empty when it is valid)."""
    problems: list[ApprovalError] = []
    if not flow.stages:
        problems.append(ApprovalError("no_stages", gettext_noop("An approval flow needs at least one stage.")))
    if len(flow.stages) > MAX_STAGES:
        problems.append(
            ApprovalError(
                "too_many_stages", gettext_noop("An approval flow has at most %(max)d stages."), max=MAX_STAGES
            )
        )
    seen: set[str] = set()
    for stage in flow.stages:
        if stage.key in seen:
            problems.append(
                ApprovalError("duplicate_stage", gettext_noop("Two stages share the key “%(stage)s”."), stage=stage.key)
            )
        seen.add(stage.key)
        problems.extend(_stage_problems(stage))
    return problems


def _stage_problems(stage: StageDef) -> list[ApprovalError]:
    problems: list[ApprovalError] = []
    if not stage.key.strip():
        problems.append(ApprovalError("empty_stage_key", gettext_noop("Every stage needs a key.")))
    if not stage.approvers:
        problems.append(
            ApprovalError("no_approvers", gettext_noop("Stage “%(stage)s” has no approvers."), stage=stage.key)
        )
    if stage.rule not in RULES:
        problems.append(
            ApprovalError(
                "unknown_rule",
                gettext_noop("Stage “%(stage)s” has an unknown rule “%(rule)s”: use any, all or n_of_m."),
                stage=stage.key,
                rule=stage.rule,
            )
        )
    elif stage.rule == N_OF_M and not 1 <= stage.n <= len(stage.approvers):
        problems.append(
            ApprovalError(
                "bad_quorum",
                gettext_noop("Stage “%(stage)s” needs between 1 and %(count)d approvals, not %(n)d."),
                stage=stage.key,
                count=len(stage.approvers),
                n=stage.n,
            )
        )
    if stage.sla_minutes is not None and stage.sla_minutes < 1:
        problems.append(
            ApprovalError(
                "bad_sla", gettext_noop("The SLA of stage “%(stage)s” must be at least one minute."), stage=stage.key
            )
        )
    return problems


# --- delegation --------------------------------------------------------------------------------------------------


def _acting_agent(approver: int, delegations: Mapping[int, int]) -> int:
    """Who acts for `approver`: the approver, or the end of their chain of delegates."""
    agent, seen = approver, {approver}
    while agent in delegations:
        agent = delegations[agent]
        if agent in seen:
            raise ApprovalError(
                "delegation_cycle",
                gettext_noop("The delegation for agent %(agent)d leads back to someone on leave."),
                agent=approver,
            )
        seen.add(agent)
    return agent


def _check_delegations(delegations: Mapping[int, int]) -> None:
    for approver in delegations:
        _acting_agent(approver, delegations)


def with_delegation(state: ApprovalState, *, approver: int, delegate: int | None) -> ApprovalState:
    """The state with `approver` on leave and replaced by `delegate` (None: back from leave)."""
    delegations = dict(state.delegations)
    if delegate is None:
        delegations.pop(approver, None)
    else:
        delegations[approver] = delegate
    _check_delegations(delegations)
    return replace(state, delegations=delegations)


def _open_slots(state: ApprovalState) -> dict[int, int]:
    """The current stage's approvers without a decision this round → who acts for each."""
    decided = {d.approver if d.acting_for is None else d.acting_for for d in state.decisions}
    return {a: _acting_agent(a, state.delegations) for a in state.stage.approvers if a not in decided}


def expected_approvers(state: ApprovalState) -> frozenset[int]:
    """Who may act now (delegation applied); empty unless the approval is pending."""
    if state.status != PENDING:
        return frozenset()
    return frozenset(_open_slots(state).values())


def _slot_for(state: ApprovalState, actor: int) -> int:
    """The approver `actor` decides for: their own open slot first, else one they hold by delegation."""
    slots = _open_slots(state)
    mine = sorted(slot for slot, agent in slots.items() if agent == actor)
    if mine:
        return actor if actor in mine else mine[0]
    if actor in slots:
        raise ApprovalError("on_leave", gettext_noop("You are on leave: your delegate decides for you at this stage."))
    if any(actor in (d.approver, d.acting_for) for d in state.decisions):
        raise ApprovalError("already_decided", gettext_noop("Your decision for this stage is already recorded."))
    raise ApprovalError("not_an_approver", gettext_noop("You are not an approver of this stage."))


# --- transitions -------------------------------------------------------------------------------------------------


def _check_aware(at: dt.datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ApprovalError("naive_datetime", gettext_noop("Times must carry a time zone."))


def _check_not_before(at: dt.datetime, since: dt.datetime | None) -> None:
    if since is not None and at < since:
        raise ApprovalError("time_backwards", gettext_noop("This time is earlier than the approval's last step."))


def _clean_items(stage: StageDef, items: Iterable[str]) -> tuple[str, ...]:
    """Stripped, de-duplicated items; when the stage lists required items, only those."""
    cleaned = tuple(dict.fromkeys(item.strip() for item in items if item.strip()))
    unknown = [item for item in cleaned if stage.required_items and item not in stage.required_items]
    if unknown:
        raise ApprovalError(
            "unknown_items",
            gettext_noop("Stage “%(stage)s” does not require %(items)s; it requires: %(required)s."),
            stage=stage.key,
            items=", ".join(unknown),
            required=", ".join(stage.required_items),
        )
    return cleaned


def start(flow: FlowDef, at: dt.datetime, *, delegations: Mapping[int, int] | None = None) -> ApprovalState:
    """A new approval of `flow` (its snapshot), waiting at the first stage since `at`."""
    _check_aware(at)
    problems = validate(flow)
    if problems:
        raise problems[0]
    delegations = dict(delegations or {})
    _check_delegations(delegations)
    first = StageRecord(stage_key=flow.stages[0].key, round=1, started_at=at)
    return ApprovalState(flow, PENDING, 0, (), (first,), 1, delegations)


def _check_verdict(stage: StageDef, verdict: str, reason: str, missing_items: Iterable[str]) -> tuple[str, ...]:
    if verdict not in VERDICTS:
        raise ApprovalError(
            "unknown_verdict",
            gettext_noop("Unknown decision “%(verdict)s”: approve, reject or changes."),
            verdict=verdict,
        )
    items = _clean_items(stage, missing_items)
    if verdict == APPROVE:
        if items:
            raise ApprovalError(
                "items_on_approve", gettext_noop("An approval names no missing items: request changes instead.")
            )
        return ()
    if not reason.strip():
        raise ApprovalError("reason_required", gettext_noop("Give a reason to reject or to request changes."))
    return items


def decide(
    state: ApprovalState,
    *,
    actor: int,
    verdict: str,
    comment: str = "",
    reason: str = "",
    missing_items: Iterable[str] = (),
    at: dt.datetime,
) -> ApprovalState:
    """Record `actor`'s approve / reject / changes at the current stage and move the flow on."""
    _check_aware(at)
    if state.status != PENDING:
        raise ApprovalError(
            "not_pending",
            gettext_noop("This approval is not waiting for a decision (it is %(status)s)."),
            status=state.status,
        )
    _check_not_before(at, state.history[-1].started_at)
    items = _check_verdict(state.stage, verdict, reason, missing_items)
    slot = _slot_for(state, actor)
    decision = Decision(actor, None if slot == actor else slot, verdict, comment, reason.strip(), items, at)
    decisions = (*state.decisions, decision)
    if verdict == APPROVE:
        return _after_approval(state, decisions, at)
    return _send_back(state, decisions, decision, at)


def _after_approval(state: ApprovalState, decisions: tuple[Decision, ...], at: dt.datetime) -> ApprovalState:
    approvals = [d for d in decisions if d.verdict == APPROVE]
    if len(approvals) < state.stage.required_approvals:
        return replace(state, decisions=decisions)
    done = replace(
        state.history[-1],
        ended_at=at,
        outcome=APPROVED,
        decided_by=tuple(d.approver for d in approvals),
        decisions=decisions,
    )
    history = (*state.history[:-1], done)
    following = state.stage_index + 1
    if following == len(state.flow.stages):
        return replace(state, status=APPROVED, decisions=(), history=history)
    opened = StageRecord(stage_key=state.flow.stages[following].key, round=state.round, started_at=at)
    return replace(state, stage_index=following, decisions=(), history=(*history, opened))


def _send_back(
    state: ApprovalState, decisions: tuple[Decision, ...], decision: Decision, at: dt.datetime
) -> ApprovalState:
    outcome = REJECTED if decision.verdict == REJECT else CHANGES_REQUESTED
    ended = replace(
        state.history[-1],
        ended_at=at,
        outcome=outcome,
        decided_by=(decision.approver,),
        reason=decision.reason,
        missing_items=decision.missing_items,
        decisions=decisions,
    )
    return replace(state, status=outcome, decisions=(), history=(*state.history[:-1], ended))


def resubmit(state: ApprovalState, *, at: dt.datetime, provided_items: Iterable[str] = ()) -> ApprovalState:
    """The requester answers a reject or a request for changes: a new round at the stage that sent it back."""
    _check_aware(at)
    if state.status not in SENT_BACK:
        raise ApprovalError(
            "not_sent_back", gettext_noop("Only an approval sent back to the requester can be resubmitted.")
        )
    _check_not_before(at, state.history[-1].ended_at)
    next_round = state.round + 1
    record = StageRecord(
        stage_key=state.stage.key,
        round=next_round,
        started_at=at,
        provided_items=_clean_items(state.stage, provided_items),
    )
    return replace(state, status=PENDING, round=next_round, decisions=(), history=(*state.history, record))


def cancel(state: ApprovalState, *, at: dt.datetime, reason: str = "") -> ApprovalState:
    """Withdraw the approval (pending or sent back); a pending stage's record ends as cancelled."""
    _check_aware(at)
    if state.status in (APPROVED, CANCELLED):
        raise ApprovalError(
            "finished", gettext_noop("This approval is already finished (%(status)s)."), status=state.status
        )
    history = state.history
    if state.status == PENDING:
        _check_not_before(at, history[-1].started_at)
        ended = replace(history[-1], ended_at=at, outcome=CANCELLED, reason=reason.strip(), decisions=state.decisions)
        history = (*history[:-1], ended)
    return replace(state, status=CANCELLED, decisions=(), history=history)


# --- the progress bar --------------------------------------------------------------------------------------------


def _stage_status(state: ApprovalState, index: int) -> str:
    if state.status == APPROVED or index < state.stage_index:
        return DONE
    if index > state.stage_index:
        return WAITING
    if state.status == PENDING:
        return CURRENT
    return STAGE_SENT_BACK if state.status in SENT_BACK else STAGE_CANCELLED


def _approvals_at(state: ApprovalState, index: int) -> int:
    if index == state.stage_index and state.status == PENDING:
        return sum(d.verdict == APPROVE for d in state.decisions)
    key = state.flow.stages[index].key
    return next((len(r.decided_by) for r in state.history if r.stage_key == key and r.outcome == APPROVED), 0)


def progress(state: ApprovalState, at: dt.datetime) -> Progress:
    """The progress bar at `at`: stages, the current one, who is expected to act, waiting time and SLA."""
    stages = tuple(
        StageProgress(s.key, s.name, _stage_status(state, i), _approvals_at(state, i), s.required_approvals)
        for i, s in enumerate(state.flow.stages)
    )
    record = state.history[-1]
    waiting: dt.timedelta | None = None
    due_at: dt.datetime | None = None
    waiting_on = ""
    if state.status == PENDING:
        waiting, waiting_on = at - record.started_at, "approvers"
        if state.stage.sla_minutes is not None:
            due_at = record.started_at + dt.timedelta(minutes=state.stage.sla_minutes)
    elif state.status in SENT_BACK and record.ended_at is not None:
        waiting, waiting_on = at - record.ended_at, "requester"
    finished = state.status in (APPROVED, CANCELLED)
    done = sum(s.status == DONE for s in stages)
    return Progress(
        status=state.status,
        stages=stages,
        current_key=None if finished else state.stage.key,
        waiting_on=waiting_on,
        expected=expected_approvers(state),
        waiting=waiting,
        due_at=due_at,
        overdue=due_at is not None and at > due_at,
        percent=done * 100 // len(stages),
    )


# --- JSON (the `snapshot` and `state` columns) -------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def flow_to_data(flow: FlowDef) -> dict[str, Any]:
    """The flow as JSON-ready data."""
    data: dict[str, Any] = _jsonable(asdict(flow))
    return data


def flow_from_data(data: Mapping[str, Any]) -> FlowDef:
    """The flow back from `flow_to_data`'s output."""
    stages = tuple(
        StageDef(**{**s, "approvers": frozenset(s["approvers"]), "required_items": tuple(s.get("required_items", ()))})
        for s in data["stages"]
    )
    return FlowDef(data["key"], data["name"], data["version"], stages)


def _time(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def _decision(d: Mapping[str, Any]) -> Decision:
    return Decision(**{**d, "missing_items": tuple(d["missing_items"]), "at": dt.datetime.fromisoformat(d["at"])})


def _record(r: Mapping[str, Any]) -> StageRecord:
    return StageRecord(
        **{
            **r,
            "started_at": dt.datetime.fromisoformat(r["started_at"]),
            "ended_at": _time(r["ended_at"]),
            "decided_by": tuple(r["decided_by"]),
            "missing_items": tuple(r["missing_items"]),
            "decisions": tuple(_decision(d) for d in r["decisions"]),
            "provided_items": tuple(r["provided_items"]),
        }
    )


def state_to_data(state: ApprovalState) -> dict[str, Any]:
    """The state as JSON-ready data, with its flow snapshot (delegations as [approver, delegate] pairs: JSON object
    keys would turn the ids into strings)."""
    data: dict[str, Any] = _jsonable(asdict(replace(state, delegations={})))
    data["delegations"] = sorted([a, d] for a, d in state.delegations.items())
    return data


def state_from_data(data: Mapping[str, Any]) -> ApprovalState:
    """The state back from `state_to_data`'s output."""
    return ApprovalState(
        flow=flow_from_data(data["flow"]),
        status=data["status"],
        stage_index=data["stage_index"],
        decisions=tuple(_decision(d) for d in data["decisions"]),
        history=tuple(_record(r) for r in data["history"]),
        round=data["round"],
        delegations={int(a): int(d) for a, d in data["delegations"]},
    )
