"""The knowledge graph from real tickets: the catalogue and the AI step's entities become mentions (idempotently),
edges count co-mentions and a solution's successes, and the tips say "worked in N of M" from the resolved tickets
sharing the context, with the special case on firmware < 2.3 and its extra step, weighted by recency, as of now,
and within one workspace only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Role
from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.ai.models import ExtractedEntity
from pivotdesk.common.errors import NotFound, PermissionDenied, ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.knowledge.models import GraphEdge, GraphEntity, Mention, Resolution
from pivotdesk.knowledge.services import graph
from pivotdesk.tickets.tests.factories import make_ticket

SYSTEM = Actor.system("knowledge graph")

pytestmark = pytest.mark.django_db

RESET, CACHE = "重置控制器", "清除缓存"
SENTENCE = "For %(context)s, “%(solution)s” worked in %(n)s of %(m)s cases"


def _catalogue(workspace, supervisor):
    boss = Actor.for_agent(supervisor)
    graph.catalogue_save(actor=boss, workspace=workspace, kind="model", label="PD-X300", aliases=["PDX300"])
    graph.catalogue_save(
        actor=boss, workspace=workspace, kind="solution", label=RESET, aliases=["reset the controller"]
    )
    graph.catalogue_save(actor=boss, workspace=workspace, kind="solution", label=CACHE, aliases=["clear the cache"])


def _resolved(workspace, body, solution, succeeded, *, days=10):
    ticket = make_ticket(workspace=workspace, subject="PD-X300 故障", body=body)
    Resolution.objects.create(
        workspace=workspace,
        ticket=ticket,
        solution=solution,
        succeeded=succeeded,
        resolved_at=now() - dt.timedelta(days=days),
    )
    graph.index_ticket(actor=SYSTEM, ticket_id=ticket.pk)
    return ticket


def _history(workspace, *, days=10):
    """17 tickets on PD-X300 with E-2047 where the controller was reset, 14 of them solved: 12 on firmware 2.3 or
    2.4 (the reset alone worked), 3 on firmware 2.2 (it did not), 2 on firmware 2.2 with the cache cleared too."""
    for i in range(12):
        _resolved(workspace, f"PD-X300 报错 E-2047，固件 2.{3 + i % 2}", RESET, True, days=days)
    for _ in range(3):
        _resolved(workspace, "PD-X300 报错 E-2047，固件 2.2", RESET, False, days=days)
    for _ in range(2):
        _resolved(workspace, "PD-X300 报错 E-2047，固件 2.2", f"{RESET}，然后{CACHE}", True, days=days)


@pytest.fixture
def history(workspace, supervisor):
    _catalogue(workspace, supervisor)
    _history(workspace)
    graph.rebuild(actor=SYSTEM, workspace_id=workspace.pk)


def _entity(workspace, kind, key):
    return GraphEntity.objects.get(workspace=workspace, kind=kind, key=key)


def test_a_ticket_mentions_its_catalogued_model_its_fault_code_its_firmware_and_its_resolution(workspace, supervisor):
    _catalogue(workspace, supervisor)
    ticket = _resolved(workspace, "PDX300 又报 E2047，固件版本 2.2.0，试过 clear the cache 没用", RESET, True)
    first = graph.index_ticket(actor=SYSTEM, ticket_id=ticket.pk)
    assert graph.index_ticket(actor=SYSTEM, ticket_id=ticket.pk) == first  # idempotent
    keys = set(GraphEntity.objects.filter(pk__in=first).values_list("kind", "key"))
    assert keys == {("model", "pd-x300"), ("fault_code", "e-2047"), ("os", "firmware 2.2"), ("solution", RESET)}
    assert Mention.objects.filter(ticket=ticket).count() == 4  # clearing the cache was talked about, not done


def test_the_ai_steps_entities_join_the_graph_and_a_lost_resolution_leaves_it(workspace, supervisor, contact):
    _catalogue(workspace, supervisor)
    ticket = _resolved(workspace, "屏幕不亮", RESET, True)
    ExtractedEntity.objects.create(workspace=workspace, ticket=ticket, kind="error_code", value="PWR-070")
    ExtractedEntity.objects.create(workspace=workspace, ticket=ticket, kind="device_model", value="PD-X300 终端")
    ExtractedEntity.objects.create(workspace=workspace, ticket=ticket, kind="phone", value="+8613800138000")
    ids = graph.index_ticket(actor=SYSTEM, ticket_id=ticket.pk)
    assert set(GraphEntity.objects.filter(pk__in=ids).values_list("kind", "key")) >= {
        ("fault_code", "pwr-070"),
        ("model", "pd-x300"),
        ("solution", RESET),
    }
    assert not GraphEntity.objects.filter(workspace=workspace, key__contains="8613800138000").exists()
    Resolution.objects.filter(ticket=ticket).delete()
    graph.index_ticket(actor=SYSTEM, ticket_id=ticket.pk)
    assert not Mention.objects.filter(ticket=ticket, entity__kind="solution").exists()


def test_rebuild_counts_co_mentions_and_the_solutions_successes(workspace, history, django_assert_max_num_queries):
    model, reset = _entity(workspace, "model", "pd-x300"), _entity(workspace, "solution", RESET)
    edge = GraphEdge.objects.get(source=reset, target=model)
    assert (edge.weight, edge.successes, edge.trials) == (17, 14, 17)
    cache = _entity(workspace, "solution", CACHE)
    together = GraphEdge.objects.get(source_id=min(reset.pk, cache.pk), target_id=max(reset.pk, cache.pk))
    assert (together.weight, together.trials) == (2, 0)  # two solutions: co-mentioned, no trial of one on the other
    with django_assert_max_num_queries(8):
        assert (
            graph.rebuild(actor=SYSTEM, workspace_id=workspace.pk)
            == GraphEdge.objects.filter(workspace=workspace).count()
        )
    assert GraphEdge.objects.get(source=reset, target=model).trials == 17  # rebuilt, not added up


def test_the_tip_says_worked_in_14_of_17_and_the_extra_step_on_old_firmware(
    workspace, history, contact, django_assert_max_num_queries
):
    ticket = make_ticket(workspace=workspace, requester=contact, subject="PD-X300 报错 E-2047", body="固件 2.2")
    graph.index_ticket(actor=SYSTEM, ticket_id=ticket.pk)
    with translation.override("en"), django_assert_max_num_queries(4):  # bulk reads, none per evidence ticket
        [tip] = graph.tips(ticket)
    assert (tip.solution.label, tip.n, tip.m) == (RESET, 14, 17)
    assert [e.label for e in tip.context] == ["PD-X300", "E-2047"]
    [case] = tip.cases
    assert (case.n, case.m, [s.label for s in case.steps], case.applies) == (2, 5, [CACHE], True)
    assert tip.sentence == (
        f"For PD-X300 + E-2047, “{RESET}” worked in 14 of 17 cases; on firmware < 2.3 the extra step “{CACHE}” was needed"
    )


def test_the_tip_reads_in_chinese(workspace, history, contact):
    ticket = make_ticket(workspace=workspace, requester=contact, subject="PD-X300 报错 E-2047", body="固件 2.2")
    graph.index_ticket(actor=SYSTEM, ticket_id=ticket.pk)
    with translation.override("zh-hans"):
        [tip] = graph.tips(ticket)
    assert (tip.solution.label, tip.n, tip.m) == (RESET, 14, 17)
    assert [e.label for e in tip.context] == ["PD-X300", "E-2047"]
    [case] = tip.cases
    assert (case.n, case.m, [s.label for s in case.steps], case.applies) == (2, 5, [CACHE], True)
    assert tip.sentence.startswith(f"对于 PD-X300 + E-2047，“{RESET}”在 17 次中成功 14 次")
    assert f"固件 < 2.3 时还需要“{CACHE}”" in tip.sentence


def test_the_special_case_stays_away_from_a_ticket_on_new_firmware_and_may_apply_when_unknown(workspace, history):
    new = make_ticket(workspace=workspace, subject="PD-X300 报错 E-2047", body="固件 2.4")
    unknown = make_ticket(workspace=workspace, subject="PD-X300 报错 E-2047", body="开不了机")
    graph.index_ticket(actor=SYSTEM, ticket_id=new.pk)
    graph.index_ticket(actor=SYSTEM, ticket_id=unknown.pk)
    assert graph.tips(new)[0].cases == ()
    assert graph.tips(unknown)[0].cases[0].applies is None


def test_recent_failures_weigh_more_but_the_count_stays_raw_and_the_future_is_not_evidence(workspace, supervisor):
    _catalogue(workspace, supervisor)
    for _ in range(4):
        _resolved(workspace, "PD-X300 E-2047", RESET, True, days=400)
    for _ in range(2):
        _resolved(workspace, "PD-X300 E-2047", RESET, False, days=1)
    _resolved(workspace, "PD-X300 E-2047", RESET, False, days=-3)  # resolved "after now": not known yet
    ticket = make_ticket(workspace=workspace, subject="PD-X300 E-2047")
    graph.index_ticket(actor=SYSTEM, ticket_id=ticket.pk)
    with translation.override("en"):
        [tip] = graph.tips(ticket)
    assert (tip.n, tip.m) == (4, 6)
    assert tip.weighted_rate < 0.4 < tip.n / tip.m
    assert "(lately" in tip.sentence


def test_evidence_stays_in_its_workspace(workspace, other_workspace, history, supervisor):
    other_boss = Actor.for_agent(AgentFactory(workspace=other_workspace, role=Role.SUPERVISOR))
    graph.catalogue_save(actor=other_boss, workspace=other_workspace, kind="model", label="PD-X300")
    for _ in range(5):
        _resolved(other_workspace, "PD-X300 E-2047", "换主板", True)
    ticket = make_ticket(workspace=workspace, subject="PD-X300 E-2047")
    graph.index_ticket(actor=SYSTEM, ticket_id=ticket.pk)
    assert [(t.solution.label, t.m) for t in graph.tips(ticket)] == [(RESET, 17)]
    theirs = _entity(other_workspace, "model", "pd-x300")
    with pytest.raises(NotFound):
        graph.access_entity(workspace_id=workspace.pk, entity_id=theirs.pk)
    with pytest.raises(PermissionDenied):
        graph.catalogue_save(actor=Actor.for_agent(supervisor), workspace=other_workspace, kind="model", label="X")
    ours = _entity(workspace, "model", "pd-x300")
    assert {t.workspace_id for t in graph.evidence(ours)} == {workspace.pk}
    assert all(n.workspace_id == workspace.pk for n, _ in graph.neighbours(ours))


def test_only_knowledge_managers_keep_the_catalogue_and_bad_input_is_refused(workspace, agent, supervisor):
    with pytest.raises(PermissionDenied):
        graph.catalogue_save(actor=Actor.for_agent(agent), workspace=workspace, kind="model", label="PD-X300")
    boss = Actor.for_agent(supervisor)
    for kind, label, aliases in (("planet", "Mars", []), ("model", "  ", []), ("model", "PD", ["x" * 201])):
        with pytest.raises(ValidationFailed):
            graph.catalogue_save(actor=boss, workspace=workspace, kind=kind, label=label, aliases=aliases)
    saved = graph.catalogue_save(
        actor=boss, workspace=workspace, kind="model", label="PD-X300", aliases=["pd-x300", "X300"]
    )
    again = graph.catalogue_save(actor=boss, workspace=workspace, kind="model", label="pd-x300 ", aliases=["X300 终端"])
    assert saved.pk == again.pk and again.catalogued and again.aliases == ["X300 终端"]
