"""seed_demo and demo_banner: the demo workspace has the promised shape, and seeding is idempotent."""

from __future__ import annotations

import datetime as dt
import random
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from pivotdesk.accounts.models import AgentProfile, AgentSkill, Team, User, Workspace
from pivotdesk.cli.demo import DEMO_PASSWORD
from pivotdesk.cli.demo import portal as portal_demo
from pivotdesk.cli.demo.tickets import plan_tickets
from pivotdesk.customers.models import ChannelIdentity, Contact, CustomerOrganization
from pivotdesk.tickets.models import Category, CustomField, Message, StatusDefinition, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hashes(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seeded(db):
    out = StringIO()
    call_command("seed_demo", "--tickets", "30", "--seed", "7", stdout=out, verbosity=0)
    return out.getvalue()


def test_seed_creates_people_teams_and_configuration(seeded, monkeypatch):
    assert "supervisor" in seeded and DEMO_PASSWORD in seeded  # the logins are printed
    ws = Workspace.objects.get(slug="demo")
    assert ws.name == "Pivot Demo 示例公司"
    assert Team.objects.filter(workspace=ws).count() == 4  # … and the senior advisors of the appeasement rule
    agents = AgentProfile.objects.filter(workspace=ws)
    assert agents.count() == 12
    roles = sorted(agents.values_list("role", flat=True))
    assert roles.count("admin") == 1 and roles.count("light_agent") == 1 and roles.count("supervisor") == 2
    assert all(a.latitude and a.longitude and a.languages for a in agents)
    levels = set(AgentSkill.objects.filter(agent__workspace=ws).values_list("level", flat=True))
    assert levels <= {1, 2, 3, 4, 5} and len(levels) >= 3
    assert User.objects.get(username="admin").check_password(DEMO_PASSWORD)
    assert User.objects.get(username="admin").is_superuser
    tiers = set(CustomerOrganization.objects.filter(workspace=ws).values_list("tier", flat=True))
    assert tiers == {"standard", "vip", "strategic"}
    assert all(o.account for o in CustomerOrganization.objects.filter(workspace=ws, tier="vip"))
    portal_customers = {
        portal_demo.MANAGER_EMAIL,
        portal_demo.COLLEAGUE_EMAIL,
    }  # the portal demo's two (cli/demo/portal.py)
    assert Contact.objects.filter(workspace=ws).exclude(email__in=portal_customers).count() == 80
    assert ChannelIdentity.objects.filter(workspace=ws, kind="wechat").exists()
    assert ChannelIdentity.objects.filter(workspace=ws, kind="phone", value__startswith="+86").exists()
    assert set(CustomField.objects.filter(workspace=ws).values_list("key", flat=True)) >= {
        "device_model",
        "order_number",
        "affected_users",
        "warranty",
    }
    assert StatusDefinition.objects.filter(workspace=ws, label_zh="等待备件", category="on_hold").exists()
    assert Category.objects.filter(workspace=ws, parent__isnull=False).count() >= 10
    # the banner of `make run` shows where to go and how to sign in
    monkeypatch.setenv("PIVOTDESK_BIND", "0.0.0.0:8765")
    out = StringIO()
    call_command("demo_banner", stdout=out)
    assert "http://127.0.0.1:8765/" in out.getvalue() and "api/docs" in out.getvalue()
    assert "zheng.fang" in out.getvalue() and DEMO_PASSWORD in out.getvalue()


def test_seed_creates_tickets_with_conversations_across_statuses_and_channels(seeded):
    from django.db.models import Q

    from pivotdesk.ai.models import ExtractedEntity
    from pivotdesk.automation.models import Approval, Chain

    # the seeded history: the loan requests and the order chain of the automation demo are counted there, the
    # logistics tickets of the knowledge demo (root cause from facts) there
    umbrellas = Chain.objects.filter(workspace__slug="demo").values("parent")
    automation = Q(pk__in=Approval.objects.values("ticket")) | Q(pk__in=umbrellas) | Q(parent__in=umbrellas)
    logistics = Q(
        pk__in=ExtractedEntity.objects.filter(kind="order_number", value__startswith="DD2026").values("ticket")
    )
    portal = Q(requester__email__in=[portal_demo.MANAGER_EMAIL, portal_demo.COLLEAGUE_EMAIL])  # the portal demo's
    tickets = Ticket.objects.filter(workspace__slug="demo").exclude(automation).exclude(logistics).exclude(portal)
    assert tickets.count() == 30
    assert set(tickets.values_list("status", flat=True)) == {"new", "open", "pending", "on_hold", "solved", "closed"}
    assert len(set(tickets.values_list("channel", flat=True))) >= 5
    assert set(tickets.values_list("language", flat=True)) == {"zh", "en"}
    assert any("\u4e00" <= ch <= "\u9fff" for s in tickets.values_list("subject", flat=True) for ch in s)
    assert all(1 <= t.message_count <= 6 for t in tickets)
    kinds = set(Message.objects.filter(ticket__in=tickets).values_list("kind", "author_type"))
    assert {("public", "contact"), ("public", "agent")} <= kinds
    solved = tickets.filter(status__in=["solved", "closed"])
    assert all(t.solved_at and t.first_response_at and t.assignee_id for t in solved)
    now = timezone.now()
    assert tickets.earliest("created_at").created_at < now - dt.timedelta(days=5)
    assert not TicketEvent.objects.filter(ticket__in=tickets, created_at__gt=now).exists()
    # ticket numbers grow with time, as in a real desk
    numbers = list(tickets.order_by("created_at").values_list("number", flat=True))
    assert numbers == sorted(numbers)


def test_if_empty_does_nothing_when_a_workspace_exists(seeded):
    before = Ticket.objects.count()
    out = StringIO()
    call_command("seed_demo", "--if-empty", "--tickets", "5", stdout=out, verbosity=0)
    assert "nothing seeded" in out.getvalue()
    assert Ticket.objects.count() == before
    with pytest.raises(CommandError, match="exists already"):
        call_command("seed_demo", "--tickets", "5", stdout=StringIO(), verbosity=0)


def test_if_empty_skips_any_workspace(workspace):
    call_command("seed_demo", "--if-empty", stdout=StringIO(), verbosity=0)
    assert not Workspace.objects.filter(slug="demo").exists()


def test_ticket_plans_are_deterministic_for_a_seed():
    now = timezone.now()
    first = plan_tickets(random.Random(3), 50, now)
    again = plan_tickets(random.Random(3), 50, now)
    assert [(p.opened_at, p.status, p.template.subject) for p in first] == [
        (p.opened_at, p.status, p.template.subject) for p in again
    ]


def test_demo_banner_without_demo_data(db):
    out = StringIO()
    call_command("demo_banner", stdout=out)
    assert "http://127.0.0.1:8000/" in out.getvalue()
    assert DEMO_PASSWORD not in out.getvalue()


def test_demo_banner_waits_for_the_server(db, monkeypatch):
    """`make run` prints the banner when the web server answers, not before (issue 12)."""
    import http.server
    import threading

    class Quiet(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Quiet)
    port = server.server_address[1]
    monkeypatch.setenv("PIVOTDESK_BIND", f"127.0.0.1:{port}")
    out = StringIO()
    server.server_close()  # nothing listens yet: the wait runs out
    with pytest.raises(CommandError, match="did not answer"):
        call_command("demo_banner", wait=1, stdout=out)
    assert "Web:" not in out.getvalue()

    server = http.server.HTTPServer(("127.0.0.1", port), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        call_command("demo_banner", wait=10, stdout=out)
    finally:
        server.shutdown()
        server.server_close()
    assert f"http://127.0.0.1:{port}/" in out.getvalue() and "answering after" in out.getvalue()


def test_seed_has_a_published_roster_for_this_week_and_next_a_forecast_and_a_pending_swap(seeded):
    from pivotdesk.workforce.models import Forecast, RequestKind, RequestStatus, Roster, Shift, ShiftRequest
    from pivotdesk.workforce.services.model import monday_of

    ws = Workspace.objects.get(slug="demo")
    today = timezone.now().astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    published = Roster.objects.filter(workspace=ws, status="published")
    assert {r.start_date for r in published} == {monday_of(today), monday_of(today) + dt.timedelta(days=7)}
    assert all(Shift.objects.filter(roster=r, agent__isnull=False).exists() for r in published)
    forecast = Forecast.objects.filter(workspace=ws, status="ready").latest("created_at")
    assert forecast.points and forecast.history_points > 0  # built from the demo's own tickets
    swap = ShiftRequest.objects.get(workspace=ws, kind=RequestKind.SWAP)
    assert swap.status == RequestStatus.PENDING  # accepted by the colleague, waiting for the supervisor


def test_seed_has_a_night_rotation_an_escalation_policy_and_a_partner(seeded):
    from pivotdesk.oncall.models import EscalationPolicy, OnCallSchedule, Partner
    from pivotdesk.oncall.services.schedules import timeline

    ws = Workspace.objects.get(slug="demo")
    schedule = OnCallSchedule.objects.get(workspace=ws)
    start = timezone.now()
    bars = timeline(schedule, start, start + dt.timedelta(days=14))
    assert bars.final and len(bars.layers) == 2  # someone is on call every night and every day off
    policy = EscalationPolicy.objects.filter(workspace=ws, conditions__priorities=["urgent"]).first()
    assert policy is not None and policy.steps.count() == 3
    assert Partner.objects.filter(workspace=ws).count() == 1


def test_the_demo_knows_its_products_and_assists_every_ticket(seeded):
    from pivotdesk.accounts.actors import Actor
    from pivotdesk.knowledge.models import Article, GraphEdge, Resolution, RootCause
    from pivotdesk.knowledge.services import assist, rootcause
    from pivotdesk.tickets.models import Ticket

    workspace = Ticket.objects.first().workspace
    assert Article.objects.filter(workspace=workspace, language="zh-hans").count() >= 30
    assert Article.objects.filter(workspace=workspace, language="en").count() >= 30
    assert RootCause.objects.filter(workspace=workspace, parent__isnull=False).count() >= 5
    assert Resolution.objects.filter(workspace=workspace).count() >= 40
    assert GraphEdge.objects.filter(workspace=workspace).exists()
    # the open "物流太慢" tickets: the cause the facts show, with the deciding fact named
    causes = set()
    for ticket in Ticket.objects.filter(
        workspace=workspace, subject__in=["物流太慢了", "快递怎么还没到", "Where is my parcel?"]
    ).exclude(status__in=["solved", "closed"]):
        suggestion = rootcause.suggest(ticket)
        assert suggestion is not None and not suggestion.abstained, ticket.pk
        causes.add(suggestion.root_cause.code)
        assert suggestion.template is not None
    assert causes == {"logistics-remote-delay", "logistics-sorting-missed", "logistics-courier-no-delivery"}
    held = rootcause.evaluate_holdout(workspace.pk)
    assert held.n >= 10 and held.accuracy >= 0.8
    # agent assist answers on every demo ticket
    from pivotdesk.accounts.models import AgentProfile

    agent = AgentProfile.objects.filter(workspace=workspace, role="supervisor").first()
    shown = [
        assist.assist_for(actor=Actor.for_agent(agent), ticket=t) for t in Ticket.objects.filter(workspace=workspace)
    ]
    assert sum(bool(a.articles) for a in shown) >= len(shown) * 0.6
