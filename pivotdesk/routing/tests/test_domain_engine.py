"""The routing engine by example: every strategy, every factor, the relaxation ladder and the explanations."""

from __future__ import annotations

import pytest

from pivotdesk.routing.domain import (
    RELAXATION_LADDER,
    STRATEGIES,
    AgentState,
    PolicySpec,
    TicketSpec,
    Weights,
    channel_type_for,
    decide,
    eligible_ids,
    exclusion_reason,
    has_room,
    queue_key,
    ticket_impact,
)

SHANGHAI = (31.2304, 121.4737)
PUDONG = (31.2215, 121.5440)  # 6.8 km from the Shanghai reference point
SUZHOU = (31.2990, 120.5853)  # 84.8 km away


def agent(agent_id: int, **kwargs) -> AgentState:
    kwargs.setdefault("name", f"A{agent_id}")
    kwargs.setdefault("capacity", {"email": 10, "chat": 3})
    kwargs.setdefault("languages", frozenset({"en", "zh"}))
    return AgentState(agent_id, **kwargs)


def weighted(**kwargs) -> PolicySpec:
    return PolicySpec(strategy="weighted", **kwargs)


# --- hard filters and helpers ----------------------------------------------------------------------------------


def test_has_room_counts_load_against_the_channel_type_capacity():
    a = agent(1, load={"email": 9, "chat": 3})
    assert has_room(a, "email")
    assert not has_room(a, "chat")
    assert not has_room(a, "voice")  # no capacity for a channel type means the agent does not take it


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_skips_unavailable_and_full_agents(strategy):
    agents = [
        agent(1, online=False),
        agent(2, on_shift=False),
        agent(3, on_leave=True),
        agent(4, load={"email": 10}),
        agent(5, load={"email": 9}),
    ]
    decision = decide(TicketSpec(1), agents, PolicySpec(strategy=strategy))
    assert decision.agent_id == 5
    assert decision.reason_data["excluded"] == {"offline": 1, "off_shift": 1, "on_leave": 1, "no_room": 1}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_nobody_fits_means_the_ticket_waits_with_the_reasons(strategy):
    agents = [agent(1, online=False), agent(2, load={"chat": 3})]
    decision = decide(TicketSpec(9, channel_type="chat"), agents, PolicySpec(strategy=strategy))
    assert decision.agent_id is None
    assert decision.reason_data["outcome"] == "waiting"
    assert decision.reason_data["next_step"] == "skill_level"
    assert "1 offline" in decision.reason and "1 without room for chat" in decision.reason
    assert {c.excluded_because for c in decision.candidates} == {"offline", "no_room"}


def test_queue_order_is_priority_then_sla_time_left_then_age():
    tickets = [
        TicketSpec(1, priority="normal", waiting_since=10),
        TicketSpec(2, priority="urgent", waiting_since=50),
        TicketSpec(3, priority="normal", sla_minutes_left=30, waiting_since=40),
        TicketSpec(4, priority="normal", sla_minutes_left=5, waiting_since=60),
        TicketSpec(5, priority="low", sla_minutes_left=1, waiting_since=0),
        TicketSpec(6, priority="normal", waiting_since=5),
    ]
    assert [t.id for t in sorted(tickets, key=queue_key)] == [2, 4, 3, 6, 1, 5]


def test_impact_rises_with_priority_sla_pressure_and_affected_users():
    base = ticket_impact(TicketSpec(1))
    assert ticket_impact(TicketSpec(1, priority="urgent")) == 1.0
    assert ticket_impact(TicketSpec(1, priority="low")) < base
    assert ticket_impact(TicketSpec(1, sla_minutes_left=10)) > ticket_impact(TicketSpec(1, sla_minutes_left=200)) > base
    assert ticket_impact(TicketSpec(1, sla_minutes_left=-5)) == 1.0  # breached
    assert ticket_impact(TicketSpec(1, affected_users=500)) > base


def test_channel_types_group_ticket_channels():
    assert channel_type_for("wechat") == "messaging"
    assert channel_type_for("web_form") == "email"
    assert channel_type_for("voice") == "voice"
    assert channel_type_for("something-new") == "email"


def test_an_unknown_strategy_is_refused():
    with pytest.raises(ValueError, match="unknown routing strategy"):
        decide(TicketSpec(1), [agent(1)], PolicySpec(strategy="lottery"))


# --- strategies --------------------------------------------------------------------------------------------------


def test_round_robin_picks_the_agent_assigned_longest_ago():
    agents = [agent(1, last_assigned_at=900), agent(2, last_assigned_at=300), agent(3, last_assigned_at=600)]
    decision = decide(TicketSpec(1), agents, PolicySpec(strategy="round_robin"), now=1000)
    assert decision.agent_id == 2
    assert "last assigned 11.7 min ago" in decision.reason
    assert [c.agent_id for c in decision.candidates] == [2, 3, 1]


def test_least_loaded_compares_load_against_capacity_of_the_ticket_channel():
    agents = [
        agent(1, load={"email": 2}, capacity={"email": 10}),  # 20 %
        agent(2, load={"email": 1}, capacity={"email": 3}),  # 33 %
        agent(3, load={"email": 0, "chat": 3}, capacity={"email": 10, "chat": 3}),  # 0 % of email
    ]
    assert decide(TicketSpec(1), agents, PolicySpec(strategy="least_loaded")).agent_id == 3
    assert decide(TicketSpec(1), agents[:2], PolicySpec(strategy="least_loaded")).agent_id == 1


def test_skills_best_fit_keeps_the_expert_for_harder_tickets():
    agents = [agent(1, skills={"billing": 5}), agent(2, skills={"billing": 3}, load={"email": 6})]
    ticket = TicketSpec(1, required_skills={"billing": 3})
    assert decide(ticket, agents, PolicySpec(strategy="skills_best_fit")).agent_id == 2
    # the weighted strategy rewards the surplus level instead (and the expert's lower load)
    assert decide(ticket, agents, weighted()).agent_id == 1


def test_skills_best_fit_breaks_equal_fit_by_load():
    agents = [agent(1, skills={"billing": 3}, load={"email": 5}), agent(2, skills={"billing": 3}, load={"email": 1})]
    decision = decide(TicketSpec(1, required_skills={"billing": 3}), agents, PolicySpec(strategy="skills_best_fit"))
    assert decision.agent_id == 2
    assert "skill fit 1.00" in decision.reason


def test_weighted_score_is_the_weighted_mean_of_the_factors():
    ticket = TicketSpec(1)
    only_load = Weights(skill=0, language=0, load=1, value=0, impact=0, geography=0, continuity=0, fairness=0)
    decision = decide(ticket, [agent(1, load={"email": 3})], weighted(weights=only_load))
    assert decision.candidates[0].score == pytest.approx(0.7)


# --- factors -----------------------------------------------------------------------------------------------------


def test_the_chinese_speaking_agent_wins_a_chinese_ticket():
    agents = [agent(1, name="Bob", languages=frozenset({"en"})), agent(2, name="王芳", languages=frozenset({"zh"}))]
    ticket = TicketSpec(1, language="zh-Hans")
    decision = decide(ticket, agents, weighted())
    assert decision.agent_id == 2
    assert decision.reason_data["excluded"] == {"language": 1}
    # without the hard requirement, the language factor alone still decides
    soft = decide(ticket, agents, weighted(require_language=False))
    assert soft.agent_id == 2
    assert soft.candidates[1].factors["language"] == 0.0


def test_routine_tickets_spare_the_multilingual_agents():
    agents = [agent(1, languages=frozenset({"zh", "ja", "en"})), agent(2, languages=frozenset({"zh"}))]
    routine = decide(TicketSpec(1, language="zh", priority="low"), agents, weighted())
    assert routine.agent_id == 2
    assert {c.agent_id: c.factors["language"] for c in routine.candidates} == {2: 1.0, 1: 0.8}
    urgent = decide(TicketSpec(2, language="zh", priority="urgent"), agents, weighted())
    assert {c.agent_id: c.factors["language"] for c in urgent.candidates} == {1: 1.0, 2: 1.0}


def test_a_skill_below_the_minimum_is_excluded_and_surplus_suits_high_impact_tickets():
    agents = [agent(1, skills={"network": 2}), agent(2, skills={"network": 5}), agent(3, skills={"network": 3})]
    urgent = decide(TicketSpec(1, priority="urgent", required_skills={"network": 3}), agents, weighted())
    assert urgent.agent_id == 2
    assert [c.excluded_because for c in urgent.candidates if not c.eligible] == ["skill_level"]
    assert urgent.candidates[0].factors["skill"] == 1.0 and urgent.candidates[1].factors["skill"] == 0.8
    # a routine ticket prefers the closest fit, keeping the expert free
    low = decide(TicketSpec(2, priority="low", required_skills={"network": 3}), agents, weighted())
    assert low.agent_id == 3
    assert low.candidates[0].factors["skill"] == 1.0 and low.candidates[1].factors["skill"] == 0.8


def test_vip_tickets_go_to_the_senior_pool():
    agents = [agent(1, seniority=1), agent(2, seniority=2), agent(3, seniority=3, load={"email": 6})]
    vip = TicketSpec(1, tier="vip")
    assert decide(vip, agents, weighted()).agent_id == 3
    strategic = TicketSpec(2, tier="strategic")
    assert decide(strategic, agents, weighted()).agent_id is None  # needs an expert: waits
    # a standard ticket leans to the juniors, keeping the senior free for valued customers
    assert decide(TicketSpec(3), [*agents[:2], agent(3, seniority=4)], weighted()).agent_id == 1


def test_onsite_work_goes_to_the_nearest_qualified_engineer():
    agents = [
        agent(1, skills={"hardware": 4}, location=SUZHOU),
        agent(2, skills={"hardware": 3}, location=PUDONG, load={"email": 3}),
        agent(3, skills={"software": 5}, location=SHANGHAI),  # right there, not qualified
        agent(4, skills={"hardware": 3}),  # location unknown
    ]
    ticket = TicketSpec(1, onsite=True, location=SHANGHAI, required_skills={"hardware": 3})
    decision = decide(ticket, agents, weighted())
    assert decision.agent_id == 2
    assert "6.8 km from the site" in decision.reason
    limited = decide(ticket, agents, weighted(max_distance_km=50))
    assert {c.agent_id for c in limited.candidates if c.eligible} == {2}


def test_continuity_prefers_the_agent_who_last_helped_the_customer():
    agents = [agent(1), agent(2), agent(3)]
    ticket = TicketSpec(1, previous_agent_ids=(3, 2))
    decision = decide(ticket, agents, weighted())
    assert decision.agent_id == 3
    factors = {c.agent_id: c.factors["continuity"] for c in decision.candidates}
    assert factors == {3: 1.0, 2: 0.5, 1: 0.0}
    assert "continuity: helped this customer last" in decision.reason


def test_fairness_breaks_ties():
    agents = [agent(1, recent_assignments=4), agent(2, recent_assignments=1), agent(3, recent_assignments=2)]
    assert decide(TicketSpec(1), agents, weighted()).agent_id == 2
    no_fairness = Weights(fairness=0)
    # equal scores without the factor: the tie-break still prefers fewer recent assignments
    assert decide(TicketSpec(1), agents, weighted(weights=no_fairness)).agent_id == 2


def test_high_impact_tickets_lean_to_the_strongest_agents():
    agents = [
        agent(1, seniority=1, skills={"billing": 2}),
        agent(2, seniority=4, skills={"billing": 5}, load={"email": 2}),
    ]
    low = TicketSpec(1, priority="low", required_skills={"billing": 2})
    urgent = TicketSpec(2, priority="urgent", required_skills={"billing": 2}, affected_users=300)
    assert decide(low, agents, weighted()).agent_id == 1
    decision = decide(urgent, agents, weighted())
    assert decision.agent_id == 2
    assert decision.reason_data["impact"] == 1.0


# --- the relaxation ladder ---------------------------------------------------------------------------------------


def test_the_ladder_relaxes_one_requirement_per_level():
    assert RELAXATION_LADDER == ("skill_level", "seniority_pool", "language", "distance", "skills", "team")
    ticket = TicketSpec(
        1,
        tier="vip",
        language="zh",
        required_skills={"billing": 4},
        team_id=7,
        onsite=True,
        location=SHANGHAI,
    )
    fits = {
        "skills": {"billing": 4},
        "seniority": 3,
        "languages": frozenset({"zh"}),
        "team_ids": frozenset({7}),
        "location": PUDONG,
    }
    agents = [
        agent(1, **{**fits, "skills": {"billing": 2}}),  # level too low → step 1
        agent(2, **{**fits, "seniority": 2}),  # not senior → step 2
        agent(3, **{**fits, "languages": frozenset({"en"})}),  # no Chinese → step 3
        agent(4, **{**fits, "location": SUZHOU}),  # too far → step 4
        agent(5, **{**fits, "skills": {"sales": 5}}),  # lacks the skill → step 5
        agent(6, **{**fits, "team_ids": frozenset({8})}),  # another team → step 6 (overflow)
    ]
    policy = weighted(max_distance_km=30)
    expected_reasons = ["skill_level", "seniority", "language", "distance", "skill_missing", "team"]
    assert [exclusion_reason(a, ticket, policy) for a in agents] == expected_reasons
    for level in range(len(RELAXATION_LADDER) + 1):
        assert eligible_ids(ticket, agents, policy, relax_level=level) == set(range(1, level + 1))
        decision = decide(ticket, agents, policy, relax_level=level)
        assert decision.relaxed == RELAXATION_LADDER[:level]
        assert (decision.agent_id is None) == (level == 0)


def test_relax_level_past_the_end_relaxes_everything_and_is_clamped():
    decision = decide(TicketSpec(1, team_id=3), [agent(1)], weighted(), relax_level=99)
    assert decision.agent_id == 1
    assert decision.relax_level == len(RELAXATION_LADDER)
    assert "Relaxed: skill level, senior pool, language, distance limit, required skills" in decision.reason


def test_a_policy_can_use_a_shorter_ladder():
    policy = weighted(relax_steps=("language",))
    ticket = TicketSpec(1, language="ja", required_skills={"sap": 3})
    agents = [agent(1, skills={"sap": 3}), agent(2, skills={"sap": 3}, languages=frozenset({"ja"}), online=False)]
    assert decide(ticket, agents, policy).agent_id is None
    assert decide(ticket, agents, policy, relax_level=1).agent_id == 1
    assert decide(TicketSpec(2, required_skills={"x": 1}), agents, policy, relax_level=5).agent_id is None


# --- explanations ------------------------------------------------------------------------------------------------


def test_the_explanation_names_the_winner_and_the_facts_that_made_it_win():
    agents = [
        agent(1, name="王芳", skills={"billing": 4}, languages=frozenset({"zh"}), load={"email": 2}, seniority=3),
        agent(2, name="Li Lei", skills={"billing": 3}, languages=frozenset({"zh"}), load={"email": 5}, seniority=3),
        agent(3, name="Bob", skills={"billing": 5}, languages=frozenset({"en"})),
        agent(4, name="Off", online=False),
    ]
    ticket = TicketSpec(1, language="zh", tier="vip", required_skills={"billing": 3}, previous_agent_ids=(1,))
    decision = decide(ticket, agents, weighted())
    assert decision.agent_id == 1
    assert decision.reason.startswith("Chosen: 王芳 (weighted score, score 0.")
    for fact in [
        "skill billing 4/3",
        "speaks zh",
        "load 2/10 email",
        "senior for a vip customer",
        "continuity: helped this customer last",
        "Runner-up: Li Lei",
        "1 not speaking zh",
        "1 offline",
    ]:
        assert fact in decision.reason
    data = decision.reason_data
    assert data["agent"]["id"] == 1 and data["runner_up"]["id"] == 2
    assert {"key": "skill", "skill": "billing", "level": 4, "required": 3} in data["agent"]["facts"]
    assert set(data["agent"]["factors"]) == {
        "skill",
        "language",
        "load",
        "value",
        "impact",
        "continuity",
        "fairness",
    }
    assert decision.score == decision.candidates[0].score


def test_the_explanation_of_a_relaxed_decision_says_what_was_relaxed():
    ticket = TicketSpec(1, required_skills={"billing": 4})
    decision = decide(ticket, [agent(1, skills={"billing": 2})], weighted(), relax_level=1)
    assert decision.agent_id == 1
    assert "Relaxed: skill level." in decision.reason
    assert decision.reason_data["relaxed"] == ["skill_level"]
