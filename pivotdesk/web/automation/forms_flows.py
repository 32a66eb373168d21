"""The approval flow and chain template editors' forms, posted as plain fields, turned into the stage specs the
services take (`approval_flows.flow_save`, `chains.template_save`) — and back from a stored flow or template.

Stage rows are `s-<i>-<field>`: for a flow `key`, `name`, `agents` (repeated), `team`, `role`, `manager`, `rule`,
`n`, `sla` (hours, decimals allowed) and `items` (one per line); for a chain `key`, `name`, `team`, `hours` and
`minutes`. Row numbers need not be contiguous; rows are read in number order. `remove=<i>` leaves a row out,
`move=up-<i>` / `move=down-<i>` swaps it with its neighbour, `add=stage` appends an empty one. Values stay the
strings posted, so a refused form comes back as typed; a value that does not convert is passed on as typed, for the
service to refuse with its own message.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as default
from typing import Any

from django.http import QueryDict

MAX_ROWS = 40  # beyond the services' 20 stages, so that they say "at most 20"
_ROW = re.compile(r"^s-(\d{1,3})-name$")
_INT = re.compile(r"-?\d{1,18}")
RULES = ("any", "all", "n_of_m")
MODES = ("sequence", "parallel")


@dataclass
class FlowStageRow:
    """One approval stage as typed."""

    key: str = ""
    name: str = ""
    agents: list[str] = default(default_factory=list)
    team: str = ""
    role: str = ""
    manager: bool = False
    rule: str = "any"
    n: str = ""
    sla: str = ""
    items: str = ""

    @property
    def filled(self) -> bool:
        """Anything typed beyond the suggested key (an untouched new row is left out, not refused)."""
        return bool(
            self.name.strip() or self.agents or self.team or self.role or self.manager or self.items.strip()
        ) or bool(self.n.strip() or self.sla.strip())


@dataclass
class FlowForm:
    name: str = ""
    description: str = ""
    active: bool = True
    stages: list[FlowStageRow] = default(default_factory=list)


@dataclass
class ChainStageRow:
    """One chain stage as typed (the duration in hours and minutes)."""

    key: str = ""
    name: str = ""
    team: str = ""
    hours: str = ""
    minutes: str = ""

    @property
    def filled(self) -> bool:
        return bool(self.name.strip() or self.team or self.hours.strip() or self.minutes.strip())


@dataclass
class ChainForm:
    name: str = ""
    description: str = ""
    mode: str = "sequence"
    active: bool = True
    stages: list[ChainStageRow] = default(default_factory=list)


# --- rows from the post --------------------------------------------------------------------------------------------


def _row_numbers(post: QueryDict) -> list[int]:
    return sorted({int(m[1]) for k in post if (m := _ROW.match(k))})[:MAX_ROWS]


def suggested_key(keys: list[str]) -> str:
    """A key for a new row that no other row has ("stage-3")."""
    taken = {k.strip() for k in keys}
    number = len(keys) + 1
    while f"stage-{number}" in taken:
        number += 1
    return f"stage-{number}"


def _arrange(rows: list[Any], numbers: list[int], post: QueryDict, new: Any) -> list[Any]:
    """Apply the row buttons: remove one, move one up or down, add an empty one (with a free key)."""
    remove, move = post.get("remove", ""), post.get("move", "")
    kept = [(n, row) for n, row in zip(numbers, rows, strict=True) if remove != str(n)]
    direction, _sep, which = move.partition("-")
    at = next((i for i, (n, _row) in enumerate(kept) if str(n) == which), None)
    if at is not None:
        to = at - 1 if direction == "up" else at + 1 if direction == "down" else at
        if 0 <= to < len(kept):
            kept[at], kept[to] = kept[to], kept[at]
    out = [row for _n, row in kept]
    if post.get("add") == "stage" and len(out) < MAX_ROWS:
        new.key = suggested_key([r.key for r in out])
        out.append(new)
    return out


def flow_form_from_post(post: QueryDict) -> FlowForm:
    numbers = _row_numbers(post)
    rows = [
        FlowStageRow(
            key=post.get(f"s-{i}-key", ""),
            name=post.get(f"s-{i}-name", ""),
            agents=[a for a in post.getlist(f"s-{i}-agents") if a],
            team=post.get(f"s-{i}-team", ""),
            role=post.get(f"s-{i}-role", ""),
            manager=bool(post.get(f"s-{i}-manager")),
            rule=post.get(f"s-{i}-rule", "any"),
            n=post.get(f"s-{i}-n", ""),
            sla=post.get(f"s-{i}-sla", ""),
            items=post.get(f"s-{i}-items", ""),
        )
        for i in numbers
    ]
    return FlowForm(
        name=post.get("name", ""),
        description=post.get("description", ""),
        active=bool(post.get("active")),
        stages=_arrange(rows, numbers, post, FlowStageRow()),
    )


def chain_form_from_post(post: QueryDict) -> ChainForm:
    numbers = _row_numbers(post)
    rows = [
        ChainStageRow(
            key=post.get(f"s-{i}-key", ""),
            name=post.get(f"s-{i}-name", ""),
            team=post.get(f"s-{i}-team", ""),
            hours=post.get(f"s-{i}-hours", ""),
            minutes=post.get(f"s-{i}-minutes", ""),
        )
        for i in numbers
    ]
    return ChainForm(
        name=post.get("name", ""),
        description=post.get("description", ""),
        mode=post.get("mode", "sequence"),
        active=bool(post.get("active")),
        stages=_arrange(rows, numbers, post, ChainStageRow()),
    )


def new_flow_form() -> FlowForm:
    return FlowForm(stages=[FlowStageRow(key=suggested_key([]))])


def new_chain_form() -> ChainForm:
    return ChainForm(stages=[ChainStageRow(key=suggested_key([]))])


# --- to the services' specs ----------------------------------------------------------------------------------------


def _int(text: str) -> int | str:
    text = text.strip()
    return int(text) if _INT.fullmatch(text) else text


def _optional_int(text: str) -> int | str | None:
    return _int(text) if text.strip() else None


def _float(text: str) -> float | None:
    try:
        number = float(text.strip().replace(",", "."))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def hours_to_minutes(text: str) -> int | str | None:
    """An SLA typed in hours ("8", "1.5") as whole minutes; empty: None; not a number: the text as typed."""
    if not text.strip():
        return None
    hours = _float(text)
    return round(hours * 60) if hours is not None and abs(hours) < 10**9 else text.strip()


def duration_minutes(hours: str, minutes: str) -> int | str:
    """Hours (decimals allowed) and minutes as whole minutes (0 when both are empty, for the service to refuse)."""
    h = _float(hours) if hours.strip() else 0.0
    m = _float(minutes) if minutes.strip() else 0.0
    if h is None or m is None or abs(h) >= 10**9 or abs(m) >= 10**12:
        return (hours.strip() or minutes.strip()) or 0
    return round(h * 60 + m)


def items_of(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def flow_stage_of(row: FlowStageRow) -> dict[str, Any]:
    rule = row.rule if row.rule in RULES else row.rule.strip()
    return {
        "key": row.key.strip(),
        "name": row.name.strip(),
        "approvers": {
            "agents": [_int(a) for a in row.agents],
            "team": _optional_int(row.team),
            "role": row.role.strip(),
            "manager": row.manager,
        },
        "rule": rule,
        "n": (_optional_int(row.n) if rule == "n_of_m" else 1),
        "sla_minutes": hours_to_minutes(row.sla),
        "required_items": items_of(row.items),
    }


def flow_stages_of(form: FlowForm) -> list[dict[str, Any]]:
    """The specs of the rows with something typed (their index is their position among those)."""
    return [flow_stage_of(row) for row in form.stages if row.filled]


def chain_stage_of(row: ChainStageRow) -> dict[str, Any]:
    return {
        "key": row.key.strip(),
        "name": row.name.strip(),
        "team": _optional_int(row.team),
        "expected_minutes": duration_minutes(row.hours, row.minutes),
    }


def chain_stages_of(form: ChainForm) -> list[dict[str, Any]]:
    return [chain_stage_of(row) for row in form.stages if row.filled]


# --- from a stored flow or template --------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def minutes_to_hours(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    return f"{value / 60:.6g}"


def flow_row_of(stage: Mapping[str, Any]) -> FlowStageRow:
    approvers = stage.get("approvers")
    approvers = approvers if isinstance(approvers, Mapping) else {}
    items = stage.get("required_items")
    rule = str(stage.get("rule") or "any")
    return FlowStageRow(
        key=_text(stage.get("key")),
        name=_text(stage.get("name")),
        agents=[str(a) for a in approvers.get("agents") or []],
        team=_text(approvers.get("team")),
        role=_text(approvers.get("role")),
        manager=bool(approvers.get("manager")),
        rule=rule,
        n=_text(stage.get("n")) if rule == "n_of_m" else "",
        sla=minutes_to_hours(stage.get("sla_minutes")),
        items="\n".join(str(i) for i in items) if isinstance(items, list) else "",
    )


def flow_form_of(*, name: str, description: str, active: bool, stages: Any) -> FlowForm:
    rows = [flow_row_of(s) for s in stages or [] if isinstance(s, Mapping)]
    return FlowForm(name=name, description=description, active=active, stages=rows)


def chain_row_of(stage: Mapping[str, Any]) -> ChainStageRow:
    minutes = stage.get("expected_minutes")
    whole = minutes if isinstance(minutes, int) and not isinstance(minutes, bool) else None
    return ChainStageRow(
        key=_text(stage.get("key")),
        name=_text(stage.get("name")),
        team=_text(stage.get("team")),
        hours=str(whole // 60) if whole is not None else "",
        minutes=str(whole % 60) if whole is not None else "",
    )


def chain_form_of(*, name: str, description: str, mode: str, active: bool, stages: Any) -> ChainForm:
    rows = [chain_row_of(s) for s in stages or [] if isinstance(s, Mapping)]
    return ChainForm(name=name, description=description, mode=mode, active=active, stages=rows)
