"""The demo's automation (issue 16, "make run"): sensible triggers and time rules, ten bilingual macros, a loan
waiting at 法务合规 and one rejected at 风控 with its reason, and an order chain whose delayed shipment opened its
two side tickets — and seeding the automation again duplicates nothing.

The demo is seeded once for the module (inside a transaction rolled back at the end); each test runs in a savepoint.
"""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from pivotdesk.accounts.models import AgentProfile, Team, Workspace
from pivotdesk.automation.models import (
    Approval,
    ApprovalFlow,
    BusinessEvent,
    Chain,
    ChainStage,
    ChainTemplate,
    Macro,
    Rule,
    RuleRun,
)
from pivotdesk.automation.services.chains import chain_view
from pivotdesk.automation.services.macros import macro_preview
from pivotdesk.cli.demo.automation import CHAIN_KEY, MISSING_COLLATERAL, SENIORS, configure_automation
from pivotdesk.cli.demo.people import CATEGORIES, TEAMS
from pivotdesk.cli.demo.setup import DemoWorld
from pivotdesk.common import config_cache
from pivotdesk.common.time import now
from pivotdesk.customers.models import Contact
from pivotdesk.tickets.models import Category, Ticket

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{2,}")


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo workspace, seeded once; everything it wrote is rolled back after the module.

    Module-scoped, so the function-scoped settings of the root conftest do not apply yet: the ones seeding depends
    on are repeated here (no configuration cache, which would remember an earlier test's workspace of the same id;
    no background routing thread reading behind this transaction; no sentence embeddings)."""
    quiet = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        PIVOTDESK_AI_ENABLED=False,
        PIVOTDESK_AI_EMBEDDINGS=False,
        PIVOTDESK_CONFIG_CACHE_SECONDS=0,
        ROUTING_LOAD_REFRESH_IN_BACKGROUND=False,
    )
    config_cache.clear()
    with django_db_blocker.unblock(), quiet, transaction.atomic():
        call_command("seed_demo", "--tickets", "20", "--seed", "42", stdout=StringIO(), verbosity=0)
        yield Workspace.objects.get(slug="demo")
        transaction.set_rollback(True)
    config_cache.clear()


def _world(workspace: Workspace) -> DemoWorld:
    """The seeded demo as `configure_automation` receives it."""
    team_keys = {name: key for key, (name, _description) in TEAMS.items()}
    category_keys = {name: key for key, (name, _zh, _parent) in CATEGORIES.items()}
    agents = AgentProfile.objects.filter(workspace=workspace).select_related("user")
    return DemoWorld(
        workspace=workspace,
        agents={a.user.username: a for a in agents},
        teams={team_keys[t.name]: t for t in Team.objects.filter(workspace=workspace) if t.name in team_keys},
        categories={category_keys[c.name]: c for c in Category.objects.filter(workspace=workspace)},
        contacts=list(Contact.objects.filter(workspace=workspace).order_by("pk")),
    )


def _bilingual(name: str) -> bool:
    return bool(CJK.search(name) and LATIN.search(name))


def test_the_demo_has_bilingual_triggers_and_time_rules(demo):
    triggers = Rule.objects.filter(workspace=demo, kind="trigger", active=True)
    time_rules = Rule.objects.filter(workspace=demo, kind="time", active=True)
    assert triggers.count() >= 4 and time_rules.count() >= 2
    assert all(_bilingual(r.name) for r in [*triggers, *time_rules])
    appease = triggers.get(name__contains="情绪安抚")
    assert appease.actions[0] == appease.actions[0] | {"type": "appease", "pool": Team.objects.get(name=SENIORS).pk}
    assert Team.objects.get(workspace=demo, name=SENIORS).members.count() == 2
    assert {a["field"] for a in time_rules.get(name__contains="72").conditions["all"]} == {
        "status",
        "hours_since_updated",
    }


def test_the_demo_has_ten_bilingual_macros_with_placeholders(demo):
    macros = list(Macro.objects.filter(workspace=demo))
    assert len(macros) == 10
    for macro in macros:
        reply = next(a for a in macro.actions if a["type"] == "reply")
        assert CJK.search(macro.name) and LATIN.search(macro.name_en), macro.name
        assert CJK.search(reply["zh"]) and LATIN.search(reply["en"]) and not CJK.search(reply["en"]), macro.name
        assert "{{ requester.name }}" in reply["zh"] and "{{ requester.name }}" in reply["en"]
    assert sorted(m.scope for m in macros).count("shared") == 8
    assert {m.scope for m in macros} == {"shared", "team", "personal"}
    refund = next(m for m in macros if m.shortcut == "/refund")
    assert refund.category is not None and refund.category.name == "Refunds"
    # an agent previews it on a Chinese ticket: the placeholders are filled
    agent = AgentProfile.objects.get(workspace=demo, user__username="agent")
    ticket = Ticket.objects.filter(workspace=demo, language="zh").order_by("pk").first()
    shown = macro_preview(agent=agent, macro=refund, ticket=ticket)
    assert f"#{ticket.number}" in shown.reply and "{{" not in shown.reply and CJK.search(shown.reply)


def test_one_loan_waits_at_legal_and_one_was_rejected_at_risk_with_its_reason(demo):
    flow = ApprovalFlow.objects.get(workspace=demo)
    assert [s["name"] for s in flow.stages] == ["风控审核", "法务合规", "财务确认"]
    assert [s["rule"] for s in flow.stages] == ["any", "all", "n_of_m"]
    waiting = Approval.objects.get(workspace=demo, status="pending")
    assert waiting.stage_key == "legal" and waiting.waiting_on
    assert waiting.state["history"][0]["outcome"] == "approved"
    rejected = Approval.objects.get(workspace=demo, status="rejected")
    record = rejected.state["history"][-1]
    assert rejected.stage_key == "risk"
    assert (record["stage_key"], record["reason"], record["missing_items"]) == (
        "risk",
        MISSING_COLLATERAL,
        ["抵押物证明"],
    )
    # the requester was told why, in Chinese, and the ticket waits for them
    ticket = rejected.ticket
    assert ticket.status == "pending" and "贷款申请" in ticket.subject
    assert ticket.messages.filter(kind="public", body_text__contains=MISSING_COLLATERAL).exists()


def test_the_delayed_shipment_opened_its_two_side_tickets_under_the_order_chain(demo):
    chain = Chain.objects.get(workspace=demo, key=CHAIN_KEY)
    stages = {s["key"]: s["status"] for s in chain_view(chain, now())["stages"]}
    assert stages == {"order": "done", "picking": "done", "transport": "open", "delivery": "waiting"}
    event = BusinessEvent.objects.get(workspace=demo, event_id="evt-demo-shipment-delayed-1")
    assert (event.status, event.chain_id) == ("processed", chain.pk)
    stage_tickets = ChainStage.objects.filter(chain=chain).values_list("ticket_id", flat=True)
    side = list(chain.parent.children.exclude(pk__in=[t for t in stage_tickets if t]).select_related("team"))
    assert len(side) == 2
    by_kind = {("安抚" if "安抚" in t.subject else "调度"): t for t in side}
    assert set(by_kind) == {"安抚", "调度"}
    assert "PD20261207001" in by_kind["安抚"].subject and "顺丰" in by_kind["调度"].subject
    assert by_kind["安抚"].team.name == SENIORS and by_kind["调度"].team.name == TEAMS["billing"][0]
    assert RuleRun.objects.filter(rule__name__contains="Shipment delayed", ticket=chain.parent, ok=True).count() == 1


def test_seeding_the_automation_again_duplicates_nothing(demo):
    def counts() -> dict[str, int]:
        return {
            "rules": Rule.objects.filter(workspace=demo).count(),
            "macros": Macro.objects.filter(workspace=demo).count(),
            "flows": ApprovalFlow.objects.filter(workspace=demo).count(),
            "approvals": Approval.objects.filter(workspace=demo).count(),
            "templates": ChainTemplate.objects.filter(workspace=demo).count(),
            "chains": Chain.objects.filter(workspace=demo).count(),
            "events": BusinessEvent.objects.filter(workspace=demo).count(),
            "runs": RuleRun.objects.filter(workspace=demo).count(),
            "teams": Team.objects.filter(workspace=demo).count(),
            "tickets": Ticket.objects.filter(workspace=demo).count(),
        }

    before = counts()
    configure_automation(_world(demo))
    assert counts() == before
