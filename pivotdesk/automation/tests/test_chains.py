"""Linked ticket chains through the services and the API: templates, start (idempotent by key), stage progression,
delays announced once, the progress view, and isolation between workspaces."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Role
from pivotdesk.accounts.tests.factories import AgentFactory, TeamFactory
from pivotdesk.common.errors import Conflict, PermissionDenied, ValidationFailed
from pivotdesk.common.models import EventRecord
from pivotdesk.common.time import now
from pivotdesk.tickets.models import Status, Ticket, TicketEvent
from pivotdesk.tickets.services import ticket_update

from ..models import Chain, ChainStage, ChainTemplate
from ..services import chains

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")
STAGES = [("pick", "仓储拣货", 60), ("ship", "运输配送", 120), ("sign", "客户签收", 30)]


def _stages(teams: list[Any] | None = None) -> list[dict[str, Any]]:
    teams = teams or [None] * len(STAGES)
    return [
        {"key": k, "name": n, "team": t.pk if t else None, "expected_minutes": m}
        for (k, n, m), t in zip(STAGES, teams, strict=True)
    ]


@pytest.fixture
def manager(supervisor: Any) -> Actor:
    return Actor.for_agent(supervisor)


@pytest.fixture
def teams(workspace: Any) -> list[Any]:
    return [TeamFactory(workspace=workspace, name=n) for _, n, _ in STAGES]


@pytest.fixture
def sequence(workspace: Any, manager: Actor, teams: list[Any]) -> ChainTemplate:
    return chains.template_save(
        actor=manager, workspace=workspace, name="订单履约", mode="sequence", stages=_stages(teams)
    )


def _solve(ticket_id: int) -> Ticket:
    ticket = Ticket.objects.get(pk=ticket_id)
    return ticket_update(ticket=ticket, actor=SYSTEM, changes={"status": Status.SOLVED})


def _stage_tickets(chain: Chain) -> dict[str, int | None]:
    return dict(ChainStage.objects.filter(chain=chain).values_list("key", "ticket_id"))


def _events(change: str) -> list[dict[str, Any]]:
    rows = EventRecord.objects.filter(name="automation.chain_stage_changed").order_by("pk")
    return [r.payload for r in rows if r.payload["change"] == change]


# --- templates ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "stages", "code"),
    [
        ("sequence", [], "no_stages"),
        ("sequence", [{"key": "a", "name": "A", "expected_minutes": 5}] * 2, "duplicate_stage"),
        ("sequence", [{"key": "a", "name": "A", "expected_minutes": 0}], "bad_duration"),
        ("sequence", [{"key": " ", "name": "A", "expected_minutes": 5}], "empty_stage_key"),
    ],
)
def test_an_invalid_template_is_refused_with_every_problem(workspace, manager, mode, stages, code):
    with pytest.raises(ValidationFailed) as caught:
        chains.template_save(actor=manager, workspace=workspace, name="x", mode=mode, stages=stages)
    assert code in [p["code"] for p in caught.value.details["stages"]]
    assert not ChainTemplate.objects.exists()


@pytest.mark.parametrize(
    ("stage", "path"),
    [
        ({"key": "a", "expected_minutes": "5"}, "stages.0.expected_minutes"),
        ({"key": "a", "expected_minutes": True}, "stages.0.expected_minutes"),
        ({"key": "a", "expected_minutes": 5, "team": "1"}, "stages.0.team"),
        ({"key": "a", "expected_minutes": 5, "team": 10**9}, "stages.0.team"),
        ("not an object", "stages.0"),
    ],
)
def test_a_malformed_stage_says_which_field(workspace, manager, stage, path):
    with pytest.raises(ValidationFailed) as caught:
        chains.template_save(actor=manager, workspace=workspace, name="x", mode="sequence", stages=[stage])
    assert path in caught.value.details


def test_an_unknown_mode_and_a_team_of_another_workspace_are_refused(workspace, other_workspace, manager):
    with pytest.raises(ValidationFailed):
        chains.template_save(actor=manager, workspace=workspace, name="x", mode="sideways", stages=_stages())
    foreign = TeamFactory(workspace=other_workspace)
    spec = [{"key": "a", "name": "A", "team": foreign.pk, "expected_minutes": 5}]
    with pytest.raises(ValidationFailed):
        chains.template_save(actor=manager, workspace=workspace, name="x", mode="sequence", stages=spec)


def test_the_error_is_translated_for_a_chinese_reader(workspace, manager):
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ValidationFailed) as caught:
        chains.template_save(actor=manager, workspace=workspace, name="x", mode="sequence", stages=[])
    assert caught.value.message != "A chain needs at least one stage."


def test_editing_a_template_bumps_its_version_and_duplicate_names_conflict(workspace, manager, sequence):
    edited = chains.template_save(
        actor=manager, workspace=workspace, name="订单履约", mode="parallel", stages=_stages(), template=sequence
    )
    assert (edited.version, edited.mode) == (2, "parallel")
    with pytest.raises(Conflict):
        chains.template_save(actor=manager, workspace=workspace, name="订单履约", mode="sequence", stages=_stages())


def test_an_agent_may_not_save_templates(workspace, agent):
    with pytest.raises(PermissionDenied):
        chains.template_save(
            actor=Actor.for_agent(agent), workspace=workspace, name="x", mode="sequence", stages=_stages()
        )


# --- sequence ----------------------------------------------------------------------------------------------------


def test_starting_a_sequence_opens_the_umbrella_and_only_the_first_stage(workspace, actor, contact, sequence, teams):
    chain = chains.chain_start(actor=actor, template=sequence, key="order:PD2026001", requester=contact)

    tickets = _stage_tickets(chain)
    assert tickets["ship"] is None and tickets["sign"] is None
    first = Ticket.objects.get(pk=tickets["pick"])
    assert first.parent_id == chain.parent_id
    assert first.team_id == teams[0].pk
    assert first.subject == "仓储拣货 · 订单履约 · order:PD2026001"
    assert chain.parent.requester_id == contact.pk
    assert TicketEvent.objects.filter(ticket=chain.parent, verb="chain_started").count() == 1
    assert [e["stage_key"] for e in _events("opened")] == ["pick"]


def test_solving_a_stage_opens_the_next_once_even_when_told_twice(workspace, actor, contact, sequence, teams):
    chain = chains.chain_start(actor=actor, template=sequence, key="order:1", requester=contact)
    pick = _solve(_stage_tickets(chain)["pick"])

    chains.on_ticket_solved(actor=SYSTEM, ticket=pick)
    chains.on_ticket_solved(actor=SYSTEM, ticket=pick)

    tickets = _stage_tickets(chain)
    assert tickets["ship"] is not None and tickets["sign"] is None
    assert Ticket.objects.get(pk=tickets["ship"]).team_id == teams[1].pk
    assert Ticket.objects.filter(parent=chain.parent).count() == 2
    assert [e["stage_key"] for e in _events("done")] == ["pick"]
    assert [e["stage_key"] for e in _events("opened")] == ["pick", "ship"]


def test_the_chain_finishes_when_the_last_stage_is_solved(workspace, actor, contact, sequence):
    chain = chains.chain_start(actor=actor, template=sequence, key="order:2", requester=contact)
    for key in ("pick", "ship", "sign"):
        ticket = _solve(_stage_tickets(chain)[key])
        chains.on_ticket_solved(actor=SYSTEM, ticket=ticket)
        chains.on_ticket_solved(actor=SYSTEM, ticket=ticket)
    chain.refresh_from_db()
    assert chain.done
    assert TicketEvent.objects.filter(ticket=chain.parent, verb="chain_finished").count() == 1
    view = chains.chain_view(chain, now())
    assert view["percent"] == 100 and view["finished"]


def test_a_ticket_that_is_not_solved_or_not_a_stage_changes_nothing(workspace, actor, contact, sequence, ticket):
    chain = chains.chain_start(actor=actor, template=sequence, key="order:3", requester=contact)
    open_stage = Ticket.objects.get(pk=_stage_tickets(chain)["pick"])
    assert chains.on_ticket_solved(actor=SYSTEM, ticket=open_stage) is None
    assert chains.on_ticket_solved(actor=SYSTEM, ticket=_solve(ticket.pk)) is None
    assert _stage_tickets(chain)["ship"] is None


def test_only_the_system_reports_solved_stages_and_delays(actor, ticket):
    with pytest.raises(PermissionDenied):
        chains.on_ticket_solved(actor=actor, ticket=ticket)
    with pytest.raises(PermissionDenied):
        chains.report_delays(actor=actor)


# --- parallel, keys, races ---------------------------------------------------------------------------------------


def test_a_parallel_chain_opens_every_stage_under_the_given_parent(workspace, manager, actor, ticket):
    template = chains.template_save(actor=manager, workspace=workspace, name="p", mode="parallel", stages=_stages())
    chain = chains.chain_start(actor=actor, template=template, key="k", parent=ticket)
    assert chain.parent_id == ticket.pk
    children = Ticket.objects.filter(parent=ticket)
    assert children.count() == 3
    assert set(_stage_tickets(chain).values()) == set(children.values_list("pk", flat=True))


def test_starting_the_same_key_again_returns_the_running_chain(workspace, actor, contact, sequence):
    first = chains.chain_start(actor=actor, template=sequence, key="order:9", requester=contact)
    again = chains.chain_start(actor=actor, template=sequence, key=" order:9 ", requester=contact)
    assert again.pk == first.pk
    assert Chain.objects.count() == 1
    assert Ticket.objects.filter(workspace=workspace).count() == 2  # the umbrella and the first stage


def test_two_starts_racing_for_one_key_make_one_chain(workspace, actor, contact, sequence, monkeypatch):
    # Given another request starts the chain right after this one looked and found none
    other = chains.chain_start(actor=actor, template=sequence, key="order:race", requester=contact)
    tickets_before = Ticket.objects.count()
    real = chains._existing
    calls: list[object] = []

    def missed_once(workspace_id: int, key: str) -> Chain | None:
        calls.append(key)
        return None if len(calls) == 1 else real(workspace_id, key)

    monkeypatch.setattr(chains, "_existing", missed_once)

    # When this request starts it too
    mine = chains.chain_start(actor=actor, template=sequence, key="order:race", requester=contact)

    # Then the unique key decided: one chain, and the loser's umbrella ticket was rolled back
    assert mine.pk == other.pk
    assert Chain.objects.count() == 1
    assert Ticket.objects.count() == tickets_before


def test_a_race_lost_for_another_reason_is_not_hidden(workspace, actor, contact, sequence, monkeypatch):
    monkeypatch.setattr(chains, "_existing", lambda workspace_id, key: None)

    def broken(*args: object, **kwargs: object) -> None:
        raise IntegrityError("something else")

    monkeypatch.setattr(chains, "_begin", broken)
    with pytest.raises(IntegrityError):
        chains.chain_start(actor=actor, template=sequence, key="order:x", requester=contact)


def test_a_chain_needs_a_parent_or_a_requester_and_a_key(actor, sequence):
    with pytest.raises(ValidationFailed):
        chains.chain_start(actor=actor, template=sequence, key="k")
    with pytest.raises(ValidationFailed):
        chains.chain_start(actor=actor, template=sequence, key="  ", requester=None)
    assert not Chain.objects.exists() and not Ticket.objects.exists()


def test_a_light_agent_may_not_start_a_chain(workspace, light_agent, contact, sequence):
    with pytest.raises(PermissionDenied):
        chains.chain_start(actor=Actor.for_agent(light_agent), template=sequence, key="k", requester=contact)


def test_a_rule_starts_a_chain_keyed_by_its_placeholders_once(workspace, ticket, sequence):
    rule = Actor(kind="rule", label="rule")
    values = {"order.number": "PD77"}
    name = chains.chain_start_for_rule(
        ticket=ticket, template_id=sequence.pk, key="order:{{order.number}}", actor=rule, values=values
    )
    chains.chain_start_for_rule(
        ticket=ticket, template_id=sequence.pk, key="order:{{order.number}}", actor=rule, values=values
    )
    chains.chain_start_for_rule(ticket=ticket, template_id=sequence.pk, key="", actor=rule, values={})
    assert name == "订单履约"
    keys = set(Chain.objects.values_list("key", flat=True))
    assert keys == {"order:PD77", f"ticket:{ticket.number}:{sequence.pk}"}
    stage = Ticket.objects.get(pk=_stage_tickets(Chain.objects.get(key="order:PD77"))["pick"])
    assert "order.number: PD77" in stage.messages.get().body_text


def test_editing_the_template_leaves_a_running_chain_as_it_started(workspace, manager, actor, contact, sequence):
    chain = chains.chain_start(actor=actor, template=sequence, key="order:v1", requester=contact)
    chains.template_save(
        actor=manager, workspace=workspace, name="订单履约", mode="parallel", stages=_stages()[:1], template=sequence
    )
    ticket = _solve(_stage_tickets(chain)["pick"])
    chains.on_ticket_solved(actor=SYSTEM, ticket=ticket)
    assert _stage_tickets(chain)["ship"] is not None  # still the three-stage sequence of version 1


# --- delays and the view -----------------------------------------------------------------------------------------


def test_a_late_stage_is_announced_exactly_once(workspace, actor, contact, sequence):
    chain = chains.chain_start(actor=actor, template=sequence, key="order:late", requester=contact)
    later = now() + dt.timedelta(minutes=61)

    assert chains.report_delays(actor=SYSTEM, at=now()) == 0
    assert chains.report_delays(actor=SYSTEM, at=later) == 1
    assert chains.report_delays(actor=SYSTEM, at=later + dt.timedelta(hours=5)) == 0

    chain.refresh_from_db()
    assert chain.delays_reported == ["pick"]
    delayed = _events("delayed")
    assert [(e["stage_key"], e["ticket_id"]) for e in delayed] == [("pick", _stage_tickets(chain)["pick"])]
    assert TicketEvent.objects.filter(ticket=chain.parent, verb="chain_stage_delayed").count() == 1
    view = chains.chain_view(chain, later)
    assert [s["delayed"] for s in view["stages"]] == [True, False, False]
    assert view["expected_end"] == later + dt.timedelta(minutes=150)


def test_the_view_names_teams_tickets_and_progress(workspace, actor, contact, sequence, teams):
    chain = chains.chain_start(actor=actor, template=sequence, key="order:view", requester=contact)
    ticket = _solve(_stage_tickets(chain)["pick"])
    chains.on_ticket_solved(actor=SYSTEM, ticket=ticket)
    chain.refresh_from_db()
    view = chains.chain_view(chain, now())
    assert view["percent"] == 33
    assert view["current"] == ["ship"]
    assert [s["status"] for s in view["stages"]] == ["done", "open", "waiting"]
    assert view["stages"][0]["ticket_number"] == ticket.number
    assert view["stages"][1]["team"] == teams[1].name


# --- the API -----------------------------------------------------------------------------------------------------


@pytest.fixture
def api(api_client_for: Any, admin_agent: Any) -> Any:
    return api_client_for(admin_agent, scope="admin")


def test_the_api_creates_a_template_and_starts_a_chain_once(api, workspace, contact):
    made = api.post(
        "/api/v1/chain-templates/",
        {"name": "订单", "mode": "sequence", "stages": _stages()},
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    body = {"template_id": made.json()["id"], "key": "order:api", "requester_id": contact.pk}
    first = api.post("/api/v1/chains/", body, content_type="application/json")
    again = api.post("/api/v1/chains/", body, content_type="application/json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert [s["status"] for s in first.json()["stages"]] == ["open", "waiting", "waiting"]
    listed = api.get("/api/v1/chains/").json()
    assert [c["key"] for c in listed["items"]] == ["order:api"]
    shown = api.get(f"/api/v1/chains/{first.json()['id']}/")
    assert shown.status_code == 200 and shown.json()["percent"] == 0


def test_the_api_starts_under_a_parent_ticket_by_number(api, ticket, sequence):
    body = {"template_id": sequence.pk, "key": "k", "parent_number": ticket.number}
    response = api.post("/api/v1/chains/", body, content_type="application/json")
    assert response.status_code == 201
    assert response.json()["parent"]["id"] == ticket.pk


def test_another_workspaces_chain_and_template_are_not_found(api, other_workspace):
    from pivotdesk.customers.tests.factories import ContactFactory

    boss = Actor.for_agent(AgentFactory(workspace=other_workspace, role=Role.ADMIN))
    foreign = chains.template_save(actor=boss, workspace=other_workspace, name="t", mode="parallel", stages=_stages())
    chain = chains.chain_start(
        actor=boss, template=foreign, key="k", requester=ContactFactory(workspace=other_workspace)
    )
    assert api.get(f"/api/v1/chains/{chain.pk}/").status_code == 404
    assert api.get("/api/v1/chains/").json()["items"] == []
    response = api.post(
        "/api/v1/chains/", {"template_id": foreign.pk, "key": "k", "requester_id": 1}, content_type="application/json"
    )
    assert response.status_code == 404
    response = api.put(
        f"/api/v1/chain-templates/{foreign.pk}/", {"name": "n", "stages": _stages()}, content_type="application/json"
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x\x00", "stages": []},
        {"name": "x", "stages": [{"key": "a", "expected_minutes": 10**12}]},
        {"name": "x", "stages": [{"key": "a", "expected_minutes": 0}]},
        {"name": "x" * 500, "stages": []},
        {"name": "x", "stages": "nope"},
        {"name": "x", "mode": "sideways", "stages": []},
        {"name": "x", "stages": [{"key": "a", "expected_minutes": 5, "team": True}]},
    ],
)
def test_bad_template_input_is_a_4xx(api, body):
    response = api.post("/api/v1/chain-templates/", body, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert not ChainTemplate.objects.exists()


def test_bad_chain_input_is_a_4xx(api, sequence):
    for body in (
        {"template_id": sequence.pk, "key": "k"},
        {"template_id": sequence.pk, "key": "k\x00", "requester_id": 1},
        {"template_id": True, "key": "k"},
        {"template_id": sequence.pk, "key": "k" * 300},
        {"template_id": sequence.pk, "key": "k", "parent_number": 2**70},
    ):
        response = api.post("/api/v1/chains/", body, content_type="application/json")
        assert 400 <= response.status_code < 500, (body, response.content)
    assert api.get("/api/v1/chains/99999999/").status_code == 404


def test_an_agent_token_may_not_create_templates(api_client_for, agent):
    response = api_client_for(agent, scope="admin").post(
        "/api/v1/chain-templates/", {"name": "x", "stages": _stages()}, content_type="application/json"
    )
    assert response.status_code == 403
