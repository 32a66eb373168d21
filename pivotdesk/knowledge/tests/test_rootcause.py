"""Root cause from context through the services: the tree, recording resolutions, suggestions from a ticket's words
and its enrichment facts (with abstention, the deciding facts and the solution template), workspace isolation, the
permission gate, and the held-out evaluation."""

from __future__ import annotations

import itertools

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.tests.factories import AgentFactory
from pivotdesk.ai.models import ExtractedEntity
from pivotdesk.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from pivotdesk.knowledge.demo_rootcause import seed_root_causes
from pivotdesk.knowledge.models import Resolution
from pivotdesk.knowledge.services import rootcause
from pivotdesk.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

_order_numbers = itertools.count(1)

REMOTE = {"status": "运输中", "last_node": "喀什营业部", "zone": "remote", "delay_hours": 52}
MISSED_SCAN = {"status": "运输中", "last_node": "上海分拣中心", "zone": "normal", "scan_missing": True}
COURIER = {"status": "派送中", "last_node": "浦东营业部", "zone": "normal", "courier_attempts": 0}
WORDS = ["物流太慢", "物流太慢了，什么时候能到", "快递一直不动", "我的包裹怎么还没到"]


@pytest.fixture(autouse=True)
def _quiet_intake(settings):
    """Tickets arrive without triage (the facts are attached by hand) and every test trains its own models."""
    settings.PIVOTDESK_AI_ENABLED = False
    rootcause.forget_models()


@pytest.fixture
def boss(supervisor):
    return Actor.for_agent(supervisor)


@pytest.fixture
def tree(workspace, boss):
    return seed_root_causes(workspace, boss)


def order_ticket(workspace, contact, text, fields, *, kind="order"):
    """A customer's ticket whose order a connector looked up (`fields` is what it answered)."""
    ticket = make_ticket(workspace=workspace, requester=contact, subject=text, body=text)
    if fields is not None:
        number = f"SO2026{next(_order_numbers):06d}"
        ExtractedEntity.objects.create(
            workspace=workspace,
            ticket=ticket,
            kind=kind,
            value=number,
            enrichment={"kind": kind, "value": number, "connector": "ERP", "summary": "…", "fields": fields},
        )
    return ticket


def resolved(workspace, contact, actor, cause, fields, *, count, start=0):
    for i in range(count):
        ticket = order_ticket(workspace, contact, WORDS[(start + i) % len(WORDS)], fields)
        rootcause.resolution_record(actor=actor, ticket=ticket, root_cause=cause)


@pytest.fixture
def logistics_history(workspace, contact, agent, tree):
    """Six resolved tickets of each logistics cause; the customers all wrote much the same."""
    me = Actor.for_agent(agent)
    resolved(workspace, contact, me, tree["logistics-remote-delay"], REMOTE, count=6)
    resolved(workspace, contact, me, tree["logistics-sorting-missed"], MISSED_SCAN, count=6, start=1)
    resolved(workspace, contact, me, tree["logistics-courier-no-delivery"], COURIER, count=6, start=2)
    return tree


# ---- the logistics example end to end -----------------------------------------------------------------------------


def test_the_same_complaint_gets_the_cause_its_order_facts_show(workspace, contact, logistics_history):
    remote_ticket = order_ticket(workspace, contact, "物流太慢", REMOTE)
    missed_ticket = order_ticket(workspace, contact, "物流太慢", MISSED_SCAN)

    with translation.override("zh-hans"):
        remote = rootcause.suggest(remote_ticket)
        missed = rootcause.suggest(missed_ticket)

    assert not remote.abstained and remote.root_cause == logistics_history["logistics-remote-delay"]
    assert not missed.abstained and missed.root_cause == logistics_history["logistics-sorting-missed"]
    assert remote.confidence >= 0.6 and missed.confidence >= 0.6
    assert remote.template == logistics_history["logistics-remote-delay"].template
    assert remote.template is not None and remote.template.title == "偏远地区配送延迟的答复"
    assert "fact:order.zone=remote" in dict(remote.evidence)
    assert "fact:order.scan_missing=true" in dict(missed.evidence)
    assert any("order.zone = remote" in r and "偏远地区配送延迟" in r for r in remote.reasons)


def test_the_reasons_are_in_the_readers_language(workspace, contact, logistics_history):
    ticket = order_ticket(workspace, contact, "物流太慢", REMOTE)

    with translation.override("en"):
        suggestion = rootcause.suggest(ticket)

    assert any("Delivery delay in a remote area" in r for r in suggestion.reasons)


def test_without_facts_the_complaint_alone_is_not_answered(workspace, contact, logistics_history):
    ticket = order_ticket(workspace, contact, "物流太慢", None)

    suggestion = rootcause.suggest(ticket)

    assert suggestion.abstained and suggestion.root_cause is None and suggestion.template is None
    assert suggestion.abstain_reason in {"low_confidence", "small_margin"}
    assert suggestion.reasons  # it says why it is not sure


def test_a_switched_off_cause_is_not_suggested(workspace, contact, boss, logistics_history):
    cause = logistics_history["logistics-remote-delay"]
    rootcause.root_cause_save(
        actor=boss, workspace=workspace, code=cause.code, name_zh=cause.name_zh, name_en=cause.name_en,
        parent=cause.parent, template=cause.template, is_active=False, root_cause=cause,
    )  # fmt: skip

    suggestion = rootcause.suggest(order_ticket(workspace, contact, "物流太慢", REMOTE))

    assert suggestion.abstained and suggestion.abstain_reason == rootcause.INACTIVE


def test_a_workspace_without_resolutions_abstains(workspace, contact):
    suggestion = rootcause.suggest(order_ticket(workspace, contact, "物流太慢", REMOTE))
    assert suggestion.abstained and suggestion.abstain_reason == "untrained"


def test_the_model_learns_a_new_resolution_at_the_next_suggestion(workspace, contact, agent, logistics_history):
    damaged = {"status": "已签收", "damaged": True}
    cause = rootcause.root_cause_save(
        actor=Actor.for_agent(AgentFactory(workspace=workspace, role="admin")), workspace=workspace,
        code="logistics-damaged", name_zh="运输破损", name_en="Damaged in transit", parent=logistics_history["logistics"],
    )  # fmt: skip
    probe = order_ticket(workspace, contact, "包裹坏了", damaged)
    assert rootcause.suggest(probe).root_cause != cause

    resolved(workspace, contact, Actor.for_agent(agent), cause, damaged, count=5)

    assert rootcause.suggest(probe).root_cause == cause


# ---- recording resolutions ----------------------------------------------------------------------------------------


def test_recording_keeps_the_suggestion_and_is_idempotent(workspace, contact, agent, logistics_history):
    me = Actor.for_agent(agent)
    ticket = order_ticket(workspace, contact, "物流太慢", REMOTE)
    remote = logistics_history["logistics-remote-delay"]

    first = rootcause.resolution_record(actor=me, ticket=ticket, root_cause=remote, article=remote.template)
    again = rootcause.resolution_record(actor=me, ticket=ticket, root_cause=remote, article=remote.template)

    assert Resolution.objects.filter(ticket=ticket).count() == 1
    assert again.updated_at == first.updated_at
    assert first.suggested == remote and first.suggested_confidence >= 0.6
    assert (first.resolved_by, first.succeeded) == (agent, True)


def test_changing_the_cause_keeps_what_was_suggested_first(workspace, contact, agent, logistics_history):
    me = Actor.for_agent(agent)
    ticket = order_ticket(workspace, contact, "物流太慢", REMOTE)
    rootcause.resolution_record(actor=me, ticket=ticket, root_cause=logistics_history["logistics-remote-delay"])

    changed = rootcause.resolution_record(
        actor=me, ticket=ticket, root_cause=logistics_history["logistics-courier-no-delivery"], solution="催派送"
    )

    changed.refresh_from_db()
    assert changed.root_cause == logistics_history["logistics-courier-no-delivery"]
    assert changed.suggested == logistics_history["logistics-remote-delay"]
    assert changed.solution == "催派送"


def test_a_reopened_ticket_marks_its_resolution_as_failed(workspace, ticket, agent, tree):
    rootcause.resolution_record(actor=Actor.for_agent(agent), ticket=ticket, root_cause=tree["device-hardware-fault"])

    assert rootcause.mark_reopened(actor=Actor.system(), ticket=ticket) == 1
    assert rootcause.mark_reopened(actor=Actor.system(), ticket=ticket) == 0
    assert Resolution.objects.get(ticket=ticket).succeeded is False
    with pytest.raises(PermissionDenied):
        rootcause.mark_reopened(actor=Actor.for_agent(agent), ticket=ticket)


def test_an_inactive_cause_cannot_be_recorded(workspace, ticket, agent, boss, tree):
    cause = rootcause.root_cause_save(actor=boss, workspace=workspace, code="old", name_zh="旧原因", is_active=False)
    with pytest.raises(ValidationFailed):
        rootcause.resolution_record(actor=Actor.for_agent(agent), ticket=ticket, root_cause=cause)


# ---- the tree -----------------------------------------------------------------------------------------------------


def test_the_demo_tree_is_seeded_once(workspace, boss, tree):
    again = seed_root_causes(workspace, boss)

    assert again.keys() == tree.keys()
    assert tree["logistics-sorting-missed"].parent == tree["logistics"]
    assert tree["logistics-sorting-missed"].name_en == "Missed at the sorting centre"
    assert all(tree[code].template is not None for code in tree if "-" in code)


def test_a_cause_cannot_move_inside_itself(workspace, boss, tree):
    top, leaf = tree["logistics"], tree["logistics-remote-delay"]
    for parent in (top, leaf):
        with pytest.raises(ValidationFailed) as refused:
            rootcause.root_cause_save(
                actor=boss, workspace=workspace, code=top.code, name_zh=top.name_zh, parent=parent, root_cause=top
            )
        assert "parent" in refused.value.details


def test_codes_are_unique_and_well_formed(workspace, boss, tree):
    with pytest.raises(Conflict):
        rootcause.root_cause_save(actor=boss, workspace=workspace, code="logistics", name_zh="又一个物流")
    with pytest.raises(ValidationFailed):
        rootcause.root_cause_save(actor=boss, workspace=workspace, code="物流 原因", name_zh="物流")


# ---- isolation and the gate ---------------------------------------------------------------------------------------


def test_a_workspaces_model_never_suggests_for_another(other_workspace, logistics_history):
    from pivotdesk.customers.tests.factories import ContactFactory

    stranger = ContactFactory(workspace=other_workspace)
    ticket = order_ticket(other_workspace, stranger, "物流太慢", REMOTE)

    suggestion = rootcause.suggest(ticket)

    assert suggestion.abstained and suggestion.root_cause is None
    assert suggestion.abstain_reason == "untrained"


def test_another_workspaces_codes_and_tickets_are_not_found(workspace, other_workspace, ticket, tree):
    outsider = AgentFactory(workspace=other_workspace, role="admin")
    with pytest.raises(PermissionDenied):
        rootcause.resolution_record(
            actor=Actor.for_agent(outsider), ticket=ticket, root_cause=tree["device-hardware-fault"]
        )
    foreign_boss = Actor.for_agent(outsider)
    with pytest.raises(NotFound):
        rootcause.root_cause_save(
            actor=foreign_boss, workspace=other_workspace, code="x", name_zh="x", parent=tree["device"]
        )
    assert not Resolution.objects.exists()


def test_only_knowledge_managers_edit_the_tree(workspace, agent):
    with pytest.raises(PermissionDenied):
        rootcause.root_cause_save(actor=Actor.for_agent(agent), workspace=workspace, code="x", name_zh="某原因")


def test_only_agents_who_may_update_the_ticket_record_a_resolution(workspace, ticket, light_agent, contact, tree):
    for actor in (Actor.for_agent(light_agent), Actor.for_contact(contact.pk)):
        with pytest.raises(PermissionDenied):
            rootcause.resolution_record(actor=actor, ticket=ticket, root_cause=tree["device-hardware-fault"])
    assert not Resolution.objects.exists()


def test_an_agent_who_cannot_see_the_ticket_cannot_record_its_resolution(workspace, ticket, tree):
    assigned_only = AgentFactory(workspace=workspace, role="agent", ticket_access="assigned")
    with pytest.raises(NotFound):
        rootcause.resolution_record(
            actor=Actor.for_agent(assigned_only), ticket=ticket, root_cause=tree["device-hardware-fault"]
        )


# ---- measuring ----------------------------------------------------------------------------------------------------


@given(
    labels=st.lists(st.sampled_from("abcd"), min_size=1, max_size=60),
    offset=st.integers(min_value=1, max_value=10**9),
    seed=st.integers(min_value=0, max_value=9),
)
def test_the_held_out_part_has_the_same_size_whatever_ids_the_database_handed_out(labels, offset, seed):
    samples = [(i + 1, ({}, label)) for i, label in enumerate(labels)]
    elsewhere = [(i * 7 + offset, ({}, label)) for i, label in enumerate(labels)]  # other ids, same causes
    held = rootcause.held_out_ids(samples, 0.3, seed)
    assert len(held) == len(rootcause.held_out_ids(elsewhere, 0.3, seed))
    assert held == rootcause.held_out_ids(samples, 0.3, seed)
    for label in set(labels):  # every cause keeps a ticket to train on
        assert any(ticket_id not in held for ticket_id, (_, lab) in samples if lab == label)


def test_held_out_evaluation_on_a_synthetic_desk(workspace, contact, agent, tree):
    """Three logistics causes the facts tell apart and two device causes the words tell apart; one ticket in ten
    was filed under a wrong cause."""
    me = Actor.for_agent(agent)
    device_words = {"device-firmware-defect": "升级后设备一直重启", "device-hardware-fault": "设备摔了之后屏幕不亮"}
    facts = {
        "logistics-remote-delay": REMOTE,
        "logistics-sorting-missed": MISSED_SCAN,
        "logistics-courier-no-delivery": COURIER,
    }
    codes = [*facts, *device_words]
    for i in range(60):
        code = codes[i % len(codes)]
        filed = codes[(i + 1) % len(codes)] if i % 10 == 9 else code
        text = device_words.get(code, WORDS[i % len(WORDS)])
        ticket = order_ticket(workspace, contact, text, facts.get(code))
        rootcause.resolution_record(actor=me, ticket=ticket, root_cause=tree[filed])

    result = rootcause.evaluate_holdout(workspace.pk, test_share=0.3, seed=0)

    assert result == rootcause.evaluate_holdout(workspace.pk, test_share=0.3, seed=0)
    assert 10 <= result.n <= 30
    # A tenth of the labels are wrong, and which tickets are held out depends on their ids (another database,
    # other ids): judged over five splits, so one unlucky split of two dozen tickets cannot decide.
    splits = [rootcause.evaluate_holdout(workspace.pk, test_share=0.3, seed=seed) for seed in range(5)]
    assert sum(r.accuracy for r in splits) / 5 >= 0.75 and min(r.coverage for r in splits) >= 0.6
    share, n = rootcause.template_acceptance(workspace.pk)
    assert n > 0 and share == 0.0  # templates were suggested; nobody recorded solving with one


def test_template_acceptance_counts_resolutions_solved_with_the_suggested_template(
    workspace, contact, agent, logistics_history
):
    me = Actor.for_agent(agent)
    remote = logistics_history["logistics-remote-delay"]
    _, before = rootcause.template_acceptance(workspace.pk)  # the history: suggested, never solved with one
    used = order_ticket(workspace, contact, "物流太慢", REMOTE)
    ignored = order_ticket(workspace, contact, "物流太慢", REMOTE)
    rootcause.resolution_record(actor=me, ticket=used, root_cause=remote, article=remote.template)
    rootcause.resolution_record(actor=me, ticket=ignored, root_cause=remote)

    assert rootcause.template_acceptance(workspace.pk) == (pytest.approx(1 / (before + 2)), before + 2)
