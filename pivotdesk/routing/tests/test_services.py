"""Routing services: deciding, assigning, explaining, queueing, relaxing, overflowing and re-routing."""

from __future__ import annotations

import datetime as dt

import pytest

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Role
from pivotdesk.accounts.services import agent_set_status
from pivotdesk.accounts.tests.factories import TeamFactory
from pivotdesk.common.errors import Conflict, PermissionDenied, ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.customers.tests.factories import ContactFactory, OrganizationFactory
from pivotdesk.routing import services
from pivotdesk.routing.models import QueuedTicket, RoutingDecision, Trigger
from pivotdesk.routing.services import pool, specs
from pivotdesk.routing.services.dispatch import route_ticket
from pivotdesk.routing.tests.factories import agent, category_needing, policy
from pivotdesk.tickets.models import Status, Ticket
from pivotdesk.tickets.services import ticket_assign, ticket_set_status
from pivotdesk.tickets.tests.factories import make_ticket
from pivotdesk.workforce.services.requests import leave_create


def _route(ticket: Ticket, trigger: str = Trigger.NEW, **kwargs) -> services.Outcome:
    outcome = route_ticket(actor=Actor.system(), ticket=ticket, trigger=trigger, **kwargs)
    ticket.refresh_from_db()
    return outcome


def test_a_new_ticket_goes_to_the_agent_with_the_required_skill_and_the_decision_is_explained(workspace):
    # given a policy, a category that needs billing ≥ 3, and two online agents of whom one knows billing
    policy(workspace)
    billing = category_needing(workspace, "Billing", {"billing": 3})
    agent(workspace, skills={"billing": 1})
    expert = agent(workspace, skills={"billing": 4})
    ticket = make_ticket(workspace=workspace, category=billing)
    # when it is routed
    outcome = _route(ticket)
    # then the expert has it, a decision row explains why, and the timeline says so in plain words
    assert ticket.assignee_id == expert.pk and outcome.assigned_to == expert
    decision = RoutingDecision.objects.get(ticket=ticket)
    assert decision.agent_id == expert.pk and decision.trigger == Trigger.NEW
    assert expert.name in decision.reason
    assert any(c["agent_id"] == expert.pk and c["eligible"] for c in decision.candidates)
    assert any(not c["eligible"] and c["excluded_because"] == "skill_level" for c in decision.candidates)
    event = ticket.events.get(verb="routed")
    assert event.actor_label == "Routing" and event.data["decision_id"] == decision.pk
    assert event.data["reason"] == decision.reason
    assert ticket.events.filter(verb="assigned", actor_label="Routing").exists()


def test_without_a_matching_policy_routing_leaves_the_ticket_alone(workspace):
    policy(workspace, conditions={"channels": ["chat"]})
    agent(workspace)
    ticket = make_ticket(workspace=workspace, channel="email")
    outcome = _route(ticket)
    assert outcome.skipped and ticket.assignee_id is None
    assert not RoutingDecision.objects.exists() and not QueuedTicket.objects.exists()


def test_the_first_matching_policy_by_position_routes_and_its_team_is_the_pool(workspace):
    team = TeamFactory(workspace=workspace)
    member, outsider = agent(workspace), agent(workspace)
    team.members.add(member)
    vip_org = OrganizationFactory(workspace=workspace, tier="vip")
    vip = ContactFactory(workspace=workspace, organization=vip_org)
    policy(
        workspace, name="VIP", position=0, conditions={"tiers": ["vip"], "priorities": ["urgent", "high"]}, team=team
    )
    fallback = policy(workspace, name="Everyone", position=1)
    urgent_vip = make_ticket(workspace=workspace, requester=vip, priority="urgent")
    normal_vip = make_ticket(workspace=workspace, requester=vip, priority="normal")
    _route(urgent_vip)
    _route(normal_vip)
    assert urgent_vip.assignee_id == member.pk
    assert RoutingDecision.objects.get(ticket=normal_vip).policy == fallback
    assert {outsider.pk, member.pk} >= {normal_vip.assignee_id}


def test_conditions_are_validated(workspace, other_workspace, supervisor):
    from pivotdesk.tickets.models import Category

    actor = Actor.for_agent(supervisor)
    foreign = Category.objects.create(workspace=other_workspace, name="Elsewhere")
    with pytest.raises(ValidationFailed):
        services.policy_create(
            workspace=workspace, actor=actor, fields={"name": "x", "conditions": {"colour": ["red"]}}
        )
    with pytest.raises(ValidationFailed):
        services.policy_create(
            workspace=workspace, actor=actor, fields={"name": "x", "conditions": {"channels": ["fax"]}}
        )
    with pytest.raises(ValidationFailed):
        services.policy_create(
            workspace=workspace, actor=actor, fields={"name": "x", "conditions": {"categories": [foreign.pk]}}
        )
    with pytest.raises(ValidationFailed):
        services.policy_create(workspace=workspace, actor=actor, fields={"name": "x", "weights": {"skill": -1}})
    with pytest.raises(ValidationFailed):
        services.policy_create(workspace=workspace, actor=actor, fields={"name": "x", "strategy": "coin_flip"})
    created = services.policy_create(
        workspace=workspace,
        actor=actor,
        fields={"name": "Chat", "conditions": {"channels": ["chat"], "tags": [" VIP "], "languages": ["zh-Hans"]}},
    )
    assert created.conditions == {"channels": ["chat"], "languages": ["zh"], "tags": ["vip"]}
    with pytest.raises(Conflict):
        services.policy_create(workspace=workspace, actor=actor, fields={"name": "Chat"})


def test_agents_may_not_edit_policies(workspace, agent):
    with pytest.raises(PermissionDenied):
        services.policy_create(workspace=workspace, actor=Actor.for_agent(agent), fields={"name": "Mine"})


def test_a_category_requirement_applies_to_its_sub_categories(workspace):
    policy(workspace)
    hardware = category_needing(workspace, "Hardware", {"printers": 2})
    from pivotdesk.tickets.models import Category

    lasers = Category.objects.create(workspace=workspace, name="Lasers", parent=hardware)
    agent(workspace)
    fixer = agent(workspace, skills={"printers": 2})
    ticket = make_ticket(workspace=workspace, category=lasers)
    _route(ticket)
    assert ticket.assignee_id == fixer.pk


def test_a_full_agent_makes_the_ticket_wait_visibly_until_capacity_frees_up(
    workspace, django_capture_on_commit_callbacks
):
    # given one agent with room for one chat
    policy(workspace, skill_timeout_seconds=3600)
    solo = agent(workspace, capacity={"chat": 1, "email": 0})
    first = make_ticket(workspace=workspace, channel="chat")
    second = make_ticket(workspace=workspace, channel="chat")
    _route(first)
    outcome = _route(second)
    # then the second waits with a reason, unassigned, and its decision is on the timeline
    assert first.assignee_id == solo.pk and second.assignee_id is None and outcome.queued
    waiting = QueuedTicket.objects.get(ticket=second)
    assert waiting.last_reason and waiting.attempts == 1
    assert second.events.get(verb="routed").new_value is None
    # a retry with nothing changed records no new decision (no timeline spam)
    _route(second, Trigger.QUEUE)
    assert RoutingDecision.objects.filter(ticket=second).count() == 1
    assert QueuedTicket.objects.get(ticket=second).attempts == 2
    # when the first is solved (through the normal service, events on commit)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_set_status(ticket=first, status=Status.SOLVED, actor=Actor.for_agent(solo))
    # then the waiting one is assigned at once
    second.refresh_from_db()
    assert second.assignee_id == solo.pk
    assert not QueuedTicket.objects.exists()
    assert RoutingDecision.objects.filter(ticket=second, trigger=Trigger.QUEUE, agent=solo).exists()


def test_pending_tickets_do_not_count_against_capacity(workspace):
    policy(workspace)
    solo = agent(workspace, capacity={"email": 1})
    first = make_ticket(workspace=workspace)
    _route(first)
    ticket_set_status(ticket=first, status=Status.PENDING, actor=Actor.for_agent(solo))
    second = make_ticket(workspace=workspace)
    _route(second)
    assert second.assignee_id == solo.pk


def test_queue_order_is_priority_then_sla_due_then_age(workspace):
    policy(workspace)
    at = now()
    low = make_ticket(workspace=workspace, priority="low")
    normal_late = make_ticket(workspace=workspace)
    normal_due = make_ticket(workspace=workspace)
    urgent = make_ticket(workspace=workspace, priority="urgent")
    Ticket.objects.filter(pk=normal_due.pk).update(sla_due_at=at + dt.timedelta(minutes=5))
    for t in (low, normal_late, normal_due, urgent):
        t.refresh_from_db()
        _route(t, now=at)
    from pivotdesk.routing.selectors import queue

    assert [q.ticket_id for q in queue(workspace=workspace)] == [urgent.pk, normal_due.pk, normal_late.pk, low.pk]


def test_relaxation_after_the_skill_timeout_then_assignment(workspace):
    # given nobody has the required level: the ticket waits
    policy(workspace, skill_timeout_seconds=60)
    needs = category_needing(workspace, "Databases", {"postgres": 4})
    near_miss = agent(workspace, skills={"postgres": 2})
    ticket = make_ticket(workspace=workspace, category=needs)
    start = now()
    assert _route(ticket, now=start).queued
    # before the timeout a drain changes nothing
    services.drain_queue(actor=Actor.system(), workspace_id=workspace.pk, now=start + dt.timedelta(seconds=30))
    ticket.refresh_from_db()
    assert ticket.assignee_id is None
    # after one timeout the skill-level requirement is relaxed and the near miss gets it
    result = services.drain_queue(actor=Actor.system(), workspace_id=workspace.pk, now=start + dt.timedelta(seconds=61))
    ticket.refresh_from_db()
    assert result.assigned == 1 and ticket.assignee_id == near_miss.pk
    decision = RoutingDecision.objects.filter(ticket=ticket, agent=near_miss).get()
    assert decision.relax_level == 1 and decision.relaxed == ["skill_level"]
    assert "skill_level" in ticket.events.filter(verb="routed").last().data["relaxed"]


def test_relaxation_can_be_switched_off(workspace):
    policy(workspace, skill_timeout_seconds=60, relax_enabled=False)
    needs = category_needing(workspace, "Databases", {"postgres": 4})
    agent(workspace, skills={"postgres": 2})
    ticket = make_ticket(workspace=workspace, category=needs)
    start = now()
    _route(ticket, now=start)
    services.drain_queue(actor=Actor.system(), workspace_id=workspace.pk, now=start + dt.timedelta(hours=5))
    ticket.refresh_from_db()
    assert ticket.assignee_id is None and QueuedTicket.objects.filter(ticket=ticket).exists()


def test_overflow_to_another_team_after_the_ladder(workspace):
    # given the policy's team is entirely offline and an overflow team has someone online
    team, overflow = TeamFactory(workspace=workspace), TeamFactory(workspace=workspace)
    sleeper = agent(workspace, status="offline")
    team.members.add(sleeper)
    helper = agent(workspace)
    overflow.members.add(helper)
    pol = policy(workspace, team=team, overflow_team=overflow, skill_timeout_seconds=10)
    ticket = make_ticket(workspace=workspace)
    start = now()
    _route(ticket, now=start)
    steps = len(specs.policy_spec(pol).relax_steps)
    # the whole ladder is not enough: still waiting
    services.drain_queue(
        actor=Actor.system(), workspace_id=workspace.pk, now=start + dt.timedelta(seconds=10 * steps + 1)
    )
    ticket.refresh_from_db()
    assert ticket.assignee_id is None
    # one more timeout → the overflow team is the pool
    services.drain_queue(
        actor=Actor.system(), workspace_id=workspace.pk, now=start + dt.timedelta(seconds=10 * (steps + 1) + 1)
    )
    ticket.refresh_from_db()
    assert ticket.assignee_id == helper.pk
    decision = RoutingDecision.objects.get(ticket=ticket, agent=helper)
    assert decision.reason_data["overflow_team_id"] == overflow.pk and "Overflow" in decision.reason


def test_agents_on_leave_are_not_routed_to(workspace, supervisor):
    policy(workspace)
    away = agent(workspace)
    here = agent(workspace, capacity={"email": 1})
    leave_create(  # leave is workforce's (availability has one owner); routing reads it
        agent=away,
        start=now() - dt.timedelta(days=1),
        end=now() + dt.timedelta(days=1),
        reason="holiday",
        actor=Actor.for_agent(supervisor),
    )
    supervisor.status = "offline"
    supervisor.save()
    tickets = [make_ticket(workspace=workspace) for _ in range(2)]
    for t in tickets:
        _route(t)
    assert tickets[0].assignee_id == here.pk and tickets[1].assignee_id is None
    at = now()
    with pytest.raises(ValidationFailed):
        leave_create(agent=away, start=at, end=at, actor=Actor.for_agent(supervisor))


def test_an_agent_going_offline_has_their_tickets_rerouted(workspace, django_capture_on_commit_callbacks):
    policy(workspace, reroute_on_offline=True, reroute_on_away=False)
    leaving = agent(workspace)
    ticket = make_ticket(workspace=workspace)
    _route(ticket)
    assert ticket.assignee_id == leaving.pk
    staying = agent(workspace)
    # going away keeps the tickets (flag off) …
    with django_capture_on_commit_callbacks(execute=True):
        agent_set_status(actor=Actor.system(), agent=leaving, status="away")
    ticket.refresh_from_db()
    assert ticket.assignee_id == leaving.pk
    # … going offline moves them, with an "offline" decision
    with django_capture_on_commit_callbacks(execute=True):
        agent_set_status(actor=Actor.system(), agent=leaving, status="offline")
    ticket.refresh_from_db()
    assert ticket.assignee_id == staying.pk
    assert RoutingDecision.objects.filter(ticket=ticket, trigger=Trigger.OFFLINE, agent=staying).exists()


def test_offline_reroute_with_nobody_else_puts_the_ticket_in_the_queue_unassigned(workspace):
    policy(workspace)
    leaving = agent(workspace)
    ticket = make_ticket(workspace=workspace)
    _route(ticket)
    leaving.status = "offline"
    leaving.save()
    result = services.agent_went_unavailable(actor=Actor.system(), agent_id=leaving.pk, status="offline")
    ticket.refresh_from_db()
    assert result.waiting == 1 and ticket.assignee_id is None
    assert QueuedTicket.objects.get(ticket=ticket).excluded_agent_ids == [leaving.pk]


def test_a_reopened_ticket_is_routed_again_preferring_the_previous_agent(workspace, django_capture_on_commit_callbacks):
    policy(workspace)
    first = agent(workspace)
    ticket = make_ticket(workspace=workspace)
    _route(ticket)
    agent(workspace)  # a second, equally free agent
    ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=Actor.for_agent(first))
    with django_capture_on_commit_callbacks(execute=True):
        ticket_set_status(ticket=ticket, status=Status.OPEN, actor=Actor.system("customer reply"))
    ticket.refresh_from_db()
    reopen = RoutingDecision.objects.get(ticket=ticket, trigger=Trigger.REOPEN)
    assert reopen.agent_id == first.pk == ticket.assignee_id
    winner = next(c for c in reopen.candidates if c["agent_id"] == first.pk)
    assert winner["factors"]["continuity"] > 0


def test_a_declined_ticket_goes_to_someone_else_and_never_back(workspace):
    policy(workspace)
    decliner = agent(workspace)
    ticket = make_ticket(workspace=workspace)
    _route(ticket)
    other = agent(workspace, status="offline")
    # only the assignee can decline, and only with a reason
    with pytest.raises(Conflict):
        services.ticket_decline(ticket=ticket, actor=Actor.for_agent(other), reason="not mine")
    with pytest.raises(ValidationFailed):
        services.ticket_decline(ticket=ticket, actor=Actor.for_agent(decliner), reason="   ")
    # nobody else online: it waits, unassigned, with the decliner excluded
    outcome = services.ticket_decline(ticket=ticket, actor=Actor.for_agent(decliner), reason="I do not speak Thai")
    ticket.refresh_from_db()
    assert outcome.queued and ticket.assignee_id is None
    assert ticket.events.get(verb="routing_declined").data["reason"] == "I do not speak Thai"
    # the decliner is online with room, but the queue never gives it back; the other agent gets it when online
    services.drain_queue(actor=Actor.system(), workspace_id=workspace.pk)
    ticket.refresh_from_db()
    assert ticket.assignee_id is None
    other.status = "online"
    other.save()
    services.drain_queue(actor=Actor.system(), workspace_id=workspace.pk)
    ticket.refresh_from_db()
    assert ticket.assignee_id == other.pk


def test_a_supervisor_override_is_recorded_with_its_reason(workspace, supervisor, agent):
    policy(workspace)
    target = agent
    ticket = make_ticket(workspace=workspace)
    with pytest.raises(PermissionDenied):
        services.ticket_override(ticket=ticket, actor=Actor.for_agent(agent), agent=target, reason="me")
    with pytest.raises(ValidationFailed):
        services.ticket_override(ticket=ticket, actor=Actor.for_agent(supervisor), agent=target, reason="")
    row = services.ticket_override(
        ticket=ticket, actor=Actor.for_agent(supervisor), agent=target, reason="Knows this customer"
    )
    ticket.refresh_from_db()
    assert ticket.assignee_id == target.pk
    assert row.trigger == Trigger.OVERRIDE and row.by == supervisor and "Knows this customer" in row.reason
    assert ticket.events.filter(verb="routed", actor_agent=supervisor).exists()


def test_override_refuses_light_agents_and_closed_tickets(workspace, supervisor, light_agent, agent):
    ticket = make_ticket(workspace=workspace)
    actor = Actor.for_agent(supervisor)
    with pytest.raises(ValidationFailed):
        services.ticket_override(ticket=ticket, actor=actor, agent=light_agent, reason="why not")
    ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=actor)
    with pytest.raises(Conflict):
        services.ticket_override(ticket=ticket, actor=actor, agent=agent, reason="why not")


def test_an_already_assigned_ticket_is_never_assigned_twice(workspace, agent):
    policy(workspace)
    other = agent
    ticket = make_ticket(workspace=workspace)
    ticket_assign(ticket=ticket, assignee=other, actor=Actor.system())
    outcome = _route(ticket)
    assert outcome.skipped and ticket.assignee_id == other.pk
    assert not RoutingDecision.objects.filter(ticket=ticket).exists()


def test_a_winner_that_filled_up_meanwhile_is_skipped_for_the_next_candidate(workspace, monkeypatch):
    # given the decision was made on a stale load (another worker just gave the best agent its last slot)
    policy(workspace, strategy="least_loaded")
    best = agent(workspace, capacity={"email": 1})
    second = agent(workspace, capacity={"email": 5})
    busy = make_ticket(workspace=workspace)
    ticket_assign(ticket=busy, assignee=best, actor=Actor.system())
    second_busy = make_ticket(workspace=workspace)
    ticket_assign(ticket=second_busy, assignee=second, actor=Actor.system())
    real = pool.loads
    monkeypatch.setattr(pool, "loads", lambda ws, ids=None: {} if ids is None else real(ws, ids))
    ticket = make_ticket(workspace=workspace)
    # when it is routed
    outcome = _route(ticket)
    # then the lock-time recount refuses the full agent and the next eligible candidate gets it
    assert outcome.assigned_to == second and ticket.assignee_id == second.pk
    decision = RoutingDecision.objects.get(ticket=ticket)
    assert decision.reason_data["fallback_from"] == best.pk


def test_solved_and_merged_tickets_leave_the_queue(workspace):
    policy(workspace)
    ticket = make_ticket(workspace=workspace)
    _route(ticket)
    assert QueuedTicket.objects.filter(ticket=ticket).exists()
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.SOLVED)
    services.drain_queue(actor=Actor.system(), workspace_id=workspace.pk)
    assert not QueuedTicket.objects.exists()


def test_a_long_queue_is_assigned_jointly_in_batch_mode(workspace):
    policy(workspace, batch_threshold=3)
    agents = [agent(workspace, capacity={"email": 2}) for _ in range(2)]
    for a in agents:
        a.status = "offline"
        a.save()
    tickets = [make_ticket(workspace=workspace) for _ in range(5)]
    for t in tickets:
        _route(t)
    assert QueuedTicket.objects.count() == 5
    for a in agents:
        a.status = "online"
        a.save()
    result = services.drain_queue(actor=Actor.system(), workspace_id=workspace.pk)
    assert result.batched == 5 and result.assigned == 4 and result.waiting == 1
    counts = [Ticket.objects.filter(assignee=a).count() for a in agents]
    assert counts == [2, 2]
    assert RoutingDecision.objects.filter(reason_data__mode="batch").count() >= 4


def test_onsite_work_goes_to_the_nearest_engineer_and_shows_the_device_history(workspace):
    from pivotdesk.routing.models import TicketDevice
    from pivotdesk.routing.selectors import field_view
    from pivotdesk.routing.tests.factories import DeviceFactory, PartFactory

    policy(workspace, max_distance_km=100)
    far = agent(workspace, latitude=39.9, longitude=116.4)  # Beijing
    near = agent(workspace, latitude=31.2, longitude=121.5)  # Shanghai
    device = DeviceFactory(workspace=workspace, latitude=31.23, longitude=121.47)
    earlier = make_ticket(workspace=workspace, subject="Compressor noise")
    TicketDevice.objects.create(workspace=workspace, ticket=earlier, device=device)
    fan = PartFactory(workspace=workspace, stock=3)
    services.part_usage_record(actor=Actor.system(), ticket=earlier, device=device, part=fan, quantity=2)
    ticket = make_ticket(workspace=workspace, subject="Chiller down")
    services.device_link(ticket=ticket, device=device, onsite=True, actor=Actor.system())
    _route(ticket)
    assert ticket.assignee_id == near.pk != far.pk
    view = field_view(ticket=ticket)
    assert view is not None and [t.pk for t in view.history] == [earlier.pk]
    assert view.parts[0]["part__sku"] == fan.sku and view.parts[0]["used"] == 2 and view.parts[0]["part__stock"] == 1


def test_light_agents_and_inactive_agents_are_never_candidates(workspace):
    policy(workspace)
    agent(workspace, role=Role.LIGHT_AGENT)
    agent(workspace, is_active=False)
    ticket = make_ticket(workspace=workspace)
    assert _route(ticket).queued


def test_new_tickets_are_routed_by_the_subscriber_only_with_an_active_policy(
    workspace, django_capture_on_commit_callbacks
):
    a = agent(workspace)
    with django_capture_on_commit_callbacks(execute=True):
        before = make_ticket(workspace=workspace)
    before.refresh_from_db()
    assert before.assignee_id is None
    policy(workspace)
    with django_capture_on_commit_callbacks(execute=True):
        after = make_ticket(workspace=workspace)
        assigned = make_ticket(workspace=workspace, assignee=a, actor=Actor.for_agent(a))
    after.refresh_from_db()
    assert after.assignee_id == a.pk
    assert not RoutingDecision.objects.filter(ticket=assigned).exists()


def test_the_pool_cache_is_used_and_bumped(workspace, settings, django_assert_max_num_queries):
    settings.ROUTING_POOL_CACHE_SECONDS = 60
    agent(workspace)
    first = pool.profiles(workspace.pk)
    assert pool.profiles(workspace.pk) is first
    newcomer = agent(workspace)
    assert newcomer.pk not in {p.id for p in pool.profiles(workspace.pk)}
    pool.bump_pool_version(workspace.pk)
    assert newcomer.pk in {p.id for p in pool.profiles(workspace.pk)}


def test_the_load_snapshot_is_kept_current_by_routing_between_refreshes(workspace, settings):
    # given a cached snapshot (refreshed at most every minute)
    settings.ROUTING_LOAD_CACHE_SECONDS = 60
    policy(workspace, strategy="least_loaded")
    first, second = agent(workspace), agent(workspace)
    tickets = [make_ticket(workspace=workspace) for _ in range(4)]
    # when routing assigns one ticket after the other
    for t in tickets:
        _route(t)
    # then each assignment counted in the snapshot, so the least-loaded strategy alternated
    assert Ticket.objects.filter(assignee=first).count() == 2
    assert Ticket.objects.filter(assignee=second).count() == 2
    loads, recent = pool.load_snapshot(workspace.pk, now())
    assert loads[first.pk]["email"] == 2 and loads[second.pk]["email"] == 2
    assert recent[first.pk][0] == 2


def test_a_load_counted_under_the_winners_lock_corrects_the_cached_snapshot(workspace, settings):
    # given a snapshot cached for a minute in which `busy` has one ticket, while it really has two (the second was
    # assigned by another process, which this one never hears of): busy is full
    settings.ROUTING_LOAD_CACHE_SECONDS = 60
    policy(workspace, strategy="least_loaded")
    busy = agent(workspace, capacity={"email": 2})
    free = agent(workspace, capacity={"email": 2})
    _route(make_ticket(workspace=workspace))  # builds the snapshot; ties go to the lowest id: busy
    make_ticket(workspace=workspace, assignee=busy)
    loads, _ = pool.load_snapshot(workspace.pk, now())
    assert loads[busy.pk]["email"] == 1
    _route(make_ticket(workspace=workspace))  # free (0 of 2) beats busy (1 of 2 in the snapshot)
    # when the next ticket is routed, the snapshot ties them and picks busy (idle longer)
    ticket = make_ticket(workspace=workspace)
    _route(ticket)
    # then the recount under busy's lock finds it full, the ticket goes to the next candidate, and the snapshot
    # now holds busy's exact load
    assert ticket.assignee_id == free.pk
    assert RoutingDecision.objects.get(ticket=ticket).reason_data["fallback_from"] == busy.pk
    loads, _ = pool.load_snapshot(workspace.pk, now())
    assert loads[busy.pk]["email"] == 2 and loads[free.pk]["email"] == 2


def test_a_team_policy_decides_on_the_teams_rows_of_the_cached_table(workspace, settings):
    settings.ROUTING_LOAD_CACHE_SECONDS = 60
    team = TeamFactory(workspace=workspace)
    outsider = agent(workspace, skills={"billing": 5})
    member = agent(workspace, skills={"billing": 2})
    member.teams.add(team)
    pool.bump_pool_version(workspace.pk)
    policy(workspace, team=team)
    billing = category_needing(workspace, "Billing", {"billing": 1})
    pool_table = pool.agent_table(workspace_id=workspace.pk, policy=None, at=now())
    assert {outsider.pk, member.pk} <= {a.id for a in pool_table.agents}
    ticket = make_ticket(workspace=workspace, category=billing)
    _route(ticket)
    assert ticket.assignee_id == member.pk
    decision = RoutingDecision.objects.get(ticket=ticket)
    assert {c["agent_id"] for c in decision.candidates} == {member.pk}


def test_category_skills_are_cached_until_changed_here(workspace, settings, supervisor):
    settings.ROUTING_POOL_CACHE_SECONDS = 60
    needs = category_needing(workspace, "Network", {"routing": 2})
    ticket = make_ticket(workspace=workspace, category=needs)
    assert specs.required_skills(ticket) == {"routing": 2}
    from pivotdesk.accounts.models import Skill

    skill = Skill.objects.create(workspace=workspace, name="bgp")
    services.category_skill_set(category=needs, skill=skill, min_level=4, actor=Actor.for_agent(supervisor))
    assert specs.required_skills(ticket) == {"routing": 2, "bgp": 4}


def test_a_ticket_that_fails_to_route_keeps_waiting_with_the_error_as_its_reason(workspace, monkeypatch):
    policy(workspace)
    ticket = make_ticket(workspace=workspace)
    _route(ticket)
    agent(workspace)
    from pivotdesk.routing.services import queue as queue_module

    def broken(**kwargs):
        raise RuntimeError("scorer exploded")

    monkeypatch.setattr(queue_module, "route_ticket", broken)
    result = services.drain_queue(actor=Actor.system(), workspace_id=workspace.pk)
    assert result.skipped == 1
    assert QueuedTicket.objects.get(ticket=ticket).last_reason == "Routing failed: scorer exploded"


def test_presence_changes_patch_the_cached_pool(workspace, settings, django_capture_on_commit_callbacks):
    settings.ROUTING_POOL_CACHE_SECONDS = 60
    settings.ROUTING_LOAD_CACHE_SECONDS = 60
    policy(workspace)
    first = agent(workspace)
    second = agent(workspace)
    _route(make_ticket(workspace=workspace))  # fills the caches
    with django_capture_on_commit_callbacks(execute=True):
        agent_set_status(actor=Actor.system(), agent=first, status="offline")
    states = {s.id: s for s in pool.agent_states(workspace_id=workspace.pk, policy=None, at=now())}
    assert states[first.pk].online is False and states[second.pk].online is True
    ticket = make_ticket(workspace=workspace)
    _route(ticket)
    assert ticket.assignee_id == second.pk


def test_the_agent_is_notified_of_an_assignment_after_commit(workspace, django_capture_on_commit_callbacks):
    from pivotdesk.notifications.models import Notification

    policy(workspace)
    chosen = agent(workspace)
    ticket = make_ticket(workspace=workspace)
    with django_capture_on_commit_callbacks(execute=True):
        _route(ticket)
    note = Notification.objects.get(recipient=chosen, kind="routing.assigned")
    assert str(ticket.number) in note.title


def test_a_person_taking_a_waiting_ticket_takes_it_out_of_the_queue(workspace, django_capture_on_commit_callbacks):
    policy(workspace)
    ticket = make_ticket(workspace=workspace)
    _route(ticket)
    assert QueuedTicket.objects.filter(ticket=ticket).exists()
    taker = agent(workspace)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_assign(ticket=ticket, assignee=taker, actor=Actor.for_agent(taker))
    assert not QueuedTicket.objects.filter(ticket=ticket).exists()


def test_a_waiting_ticket_is_tried_again_when_its_category_changes(workspace, django_capture_on_commit_callbacks):
    from pivotdesk.tickets.services import ticket_update

    policy(workspace, skill_timeout_seconds=3600)
    agent(workspace, skills={"billing": 3})
    networks = category_needing(workspace, "Networks", {"bgp": 3})
    billing = category_needing(workspace, "Billing", {"billing": 2})
    ticket = make_ticket(workspace=workspace, category=networks)
    assert _route(ticket).queued
    with django_capture_on_commit_callbacks(execute=True):
        ticket_update(ticket=ticket, actor=Actor.system("triage"), changes={"category": billing})
    ticket.refresh_from_db()
    assert ticket.assignee_id is not None and not QueuedTicket.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_stale_snapshot_is_used_while_a_background_thread_recounts_it(settings):
    import time

    from pivotdesk.accounts.tests.factories import WorkspaceFactory

    settings.ROUTING_LOAD_REFRESH_IN_BACKGROUND = True
    settings.ROUTING_LOAD_CACHE_SECONDS = 5
    settings.ROUTING_LOAD_MAX_AGE_SECONDS = 600
    ws = WorkspaceFactory()
    someone = agent(ws)
    stale = pool._snapshot(ws.pk, now())
    make_ticket(workspace=ws, assignee=someone)  # assigned elsewhere: the snapshot does not know
    stale.taken -= 10  # older than the refresh interval, younger than the maximum age
    # when a decision asks for the snapshot, it gets the stale one at once, and a thread recounts
    assert pool._snapshot(ws.pk, now()) is stale
    waited = 0.0
    while pool._snapshots.get(ws.pk) is stale and waited < 30:
        time.sleep(0.05)
        waited += 0.05
    loads, _ = pool.load_snapshot(ws.pk, now())
    assert loads[someone.pk]["email"] == 1
    # and a snapshot older than the maximum age is rebuilt before it is used
    make_ticket(workspace=ws, assignee=someone)
    pool._snapshots[ws.pk].taken -= 601
    loads, _ = pool.load_snapshot(ws.pk, now())
    assert loads[someone.pk]["email"] == 2


def test_the_compiled_hot_queries_answer_as_the_orm_does(workspace):
    from pivotdesk.common.compiled import forget_compiled, is_compiled
    from pivotdesk.customers.tests.factories import ContactFactory as Contacts

    first, second = agent(workspace), agent(workspace)
    customer, other = Contacts(workspace=workspace), Contacts(workspace=workspace)
    make_ticket(workspace=workspace, requester=customer, assignee=first)
    make_ticket(workspace=workspace, requester=customer, assignee=second, channel="chat")
    make_ticket(workspace=workspace, requester=other, assignee=second)
    solved = make_ticket(workspace=workspace, requester=customer, assignee=first)
    ticket_set_status(ticket=solved, status=Status.SOLVED, actor=Actor.system())
    fresh = make_ticket(workspace=workspace, requester=customer)
    forget_compiled()
    for _ in range(2):  # compiled on the first call, reused on the second
        expected = list(
            Ticket.objects.filter(workspace=workspace, requester=customer, assignee__isnull=False)
            .exclude(pk=fresh.pk)
            .order_by("-updated_at")
            .values_list("assignee_id", flat=True)[:5]
        )
        assert list(specs.previous_agents(fresh)) == list(dict.fromkeys(expected))
        assert pool.agent_load(first.pk, workspace.pk, "email") == 1  # the solved one does not count
        assert pool.agent_load(second.pk, workspace.pk, "email") == 1
        assert pool.agent_load(second.pk, workspace.pk, "chat") == 1
        assert pool.agent_load(second.pk, workspace.pk, "voice") == 0
        assert pool.agent_load(second.pk, workspace.pk, "no-such-type") == 0  # no channels: the ORM answers
    assert is_compiled("routing.previous_agents") and is_compiled("routing.load:email")
    assert not is_compiled("routing.load:no-such-type")


def test_assignments_made_by_hand_count_for_round_robin_and_fairness(workspace, supervisor):
    # given round-robin, and a supervisor who just gave `first` a ticket by hand (no routing decision)
    policy(workspace, strategy="round_robin")
    supervisor.status = "offline"  # not in the running itself
    supervisor.save(update_fields=["status"])
    first, second = agent(workspace), agent(workspace)
    by_hand = make_ticket(workspace=workspace)
    ticket_assign(ticket=by_hand, assignee=first, actor=Actor.for_agent(supervisor))
    # when the next ticket is routed, the turn is second's (first was assigned most recently)
    ticket = make_ticket(workspace=workspace)
    _route(ticket)
    assert ticket.assignee_id == second.pk
    _, recent = pool.load_snapshot(workspace.pk, now())
    assert recent[first.pk][0] == 1 and recent[second.pk][0] == 1
