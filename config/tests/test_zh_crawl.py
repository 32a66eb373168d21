"""A Chinese-speaking team reads no English (issue 12): the demo workspace, every agent and admin page of the URL
conf, as each demo role (admin, supervisor, agent, light agent) with zh-Hans. A page fails on an English word of three
letters or more outside a short allowlist (product and protocol names, codes; `zh_crawl.py`); what people wrote is
marked `data-user-content` in the templates and skipped. The same check in real Chromium: test_zh_crawl_browser.py."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import pytest
from django.test import Client
from django.urls import get_resolver

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Skill, Team, Workspace
from pivotdesk.ai import pipeline
from pivotdesk.channels.models import ChannelAccount
from pivotdesk.cli.demo.seed import seed_demo
from pivotdesk.common.tests.zh_crawl import Finding, english_words, visible_texts
from pivotdesk.customers.models import Contact, CustomerOrganization
from pivotdesk.routing import services as routing_services
from pivotdesk.routing.models import RoutingPolicy
from pivotdesk.sla.models import BusinessCalendar, SLAPolicy
from pivotdesk.tickets.models import Attachment, SavedView, StatusDefinition, Tag, Ticket
from pivotdesk.web.tests.test_csp import _PARAM, _routes

pytestmark = pytest.mark.django_db

ROLES = ("admin", "supervisor", "agent", "zheng.fang")  # admin, supervisor, agent, light agent
CJK = re.compile(r"[\u4e00-\u9fff]")
# Not agent or admin pages: the public form and chat (the customer's side), the API and its docs, the Django admin,
# the language switch and signing out (which would end the crawl's session).
SKIPPED_PREFIXES = ("channels/", "api/", "admin/", "i18n/", "logout/", "login/", "live/", "^")  # live/: an event stream


def demo_world() -> tuple[Workspace, dict[str, Any]]:
    """The demo workspace with 40 tickets, some routing decisions, and the ids the URL conf names."""
    workspace = seed_demo(tickets=40, seed=7).workspace
    tickets = list(Ticket.objects.filter(workspace=workspace).order_by("number"))
    for ticket in [t for t in tickets if t.assignee_id is None and t.status == "new"][:6]:
        routing_services.route_ticket(actor=Actor.system("crawl"), ticket=ticket, trigger="new")
    ticket = next((t for t in tickets if t.messages.exists()), tickets[0])
    pipeline.triage_ticket(ticket_id=ticket.pk)  # the AI panel with its steps (no trained model: some skipped)
    attachment = Attachment.objects.filter(ticket__workspace=workspace).first()
    values: dict[str, Any] = {
        "number": ticket.number,
        "contact_id": ticket.requester_id,
        "policy_id": _first_pk(RoutingPolicy.objects.filter(workspace=workspace)),
        "calendar_id": _first_pk(BusinessCalendar.objects.filter(workspace=workspace)),
        "view_id": _first_pk(SavedView.objects.filter(workspace=workspace)),
        "attachment_id": attachment.pk if attachment else 1,
    }
    sla_policy = SLAPolicy.objects.filter(workspace=workspace).first()
    values["sla_policy_id"] = sla_policy.pk if sla_policy else 1
    return workspace, values


def _first_pk(queryset: Any) -> int:
    first = queryset.order_by("pk").first()
    return first.pk if first is not None else 1


def agent_pages(values: dict[str, Any]) -> list[str]:
    """Every route of the URL conf an agent or admin opens, its ids filled from the demo."""
    urls = []
    for route in dict.fromkeys(_routes(get_resolver().url_patterns)):
        if route.startswith(SKIPPED_PREFIXES):
            continue
        urls.append("/" + _PARAM.sub(lambda m: str(values.get(m["name"], 1)), route))
    return urls


def workspace_names(workspace: Workspace) -> list[str]:
    """The workspace's own bilingual names ("技术支持 Technical Support"): configuration written in both languages
    by the people who set it up, shown as they wrote it."""
    names = [workspace.name]
    names += Team.objects.filter(workspace=workspace).values_list("name", flat=True)
    names += Skill.objects.filter(workspace=workspace).values_list("name", flat=True)
    names += SavedView.objects.filter(workspace=workspace).values_list("name", flat=True)
    names += SLAPolicy.objects.filter(workspace=workspace).values_list("name", flat=True)
    names += RoutingPolicy.objects.filter(workspace=workspace).values_list("name", flat=True)
    names += StatusDefinition.objects.filter(workspace=workspace).values_list("label", flat=True)
    names += BusinessCalendar.objects.filter(workspace=workspace).values_list("name", flat=True)
    names += AgentProfile.objects.filter(workspace=workspace).values_list("user__display_name", flat=True)
    names += ChannelAccount.objects.filter(workspace=workspace).values_list("name", flat=True)
    names += _workforce_and_oncall_names(workspace)
    names += _automation_names(workspace)
    return [n for n in names if n and CJK.search(n)]


def _automation_names(workspace: Workspace) -> list[str]:
    """Rules, macros, approval flows, chain templates and chains: names people gave them."""
    from pivotdesk.automation.models import ApprovalFlow, Chain, ChainTemplate, Macro, Rule

    names: list[str] = []
    for model in (Rule, Macro, ApprovalFlow, ChainTemplate, Chain):
        names += model.objects.filter(workspace=workspace).values_list("name", flat=True)
    return names


def _workforce_and_oncall_names(workspace: Workspace) -> list[str]:
    """Queues, contracts, shift templates, on-call schedules and layers, escalation policies, partners, answers."""
    from pivotdesk.oncall.models import AfterHoursAnswer, EscalationPolicy, OnCallLayer, OnCallSchedule, Partner
    from pivotdesk.workforce.models import Contract, ForecastEvent, ShiftTemplate, WorkQueue

    names: list[str] = []
    for model in (
        WorkQueue,
        Contract,
        ShiftTemplate,
        ForecastEvent,
        OnCallSchedule,
        OnCallLayer,
        EscalationPolicy,
        Partner,
        AfterHoursAnswer,
    ):
        names += model.objects.filter(workspace=workspace).values_list("name", flat=True)
    return names


def people_names(workspace: Workspace) -> list[str]:
    """Customers' and organisations' names and tags, which also appear inside translated sentences ("将 Tom Lee 合并到
    …", "Tom Lee 发送了公开回复", "修改了标签：+negative_sentiment") where no element can carry `data-user-content`."""
    names = list(Contact.objects.filter(workspace=workspace).values_list("name", flat=True))
    names += CustomerOrganization.objects.filter(workspace=workspace).values_list("name", flat=True)
    names += Tag.objects.filter(workspace=workspace).values_list("name", flat=True)
    return [n for n in names if n]


def crawl(client: Client, urls: list[str], phrases: list[str]) -> tuple[list[str], list[Finding]]:
    seen, findings = [], []
    client.raise_request_exception = False  # a page that fails is another test's finding; this one reads words
    for url in urls:
        response = client.get(url)
        if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
            continue
        seen.append(url)
        html = response.content.decode()
        findings += english_words(url, visible_texts(html), phrases=phrases)
    return seen, findings


def test_a_chinese_agent_reads_no_english_on_any_page_of_the_demo(client_as):
    # given the demo workspace, and no ticket presence left in the cache by earlier tests (a rolled-back test's
    # ticket id comes back, and its "Agent 12 is viewing this ticket" would be read on the demo's ticket)
    from django.core.cache import cache

    cache.clear()
    workspace, values = demo_world()
    urls = agent_pages(values)
    phrases = workspace_names(workspace) + people_names(workspace)
    report: dict[str, set[str]] = defaultdict(set)  # the text on a page → its English words
    opened: dict[str, list[str]] = {}
    # when each demo role opens every page in Chinese
    for username in ROLES:
        agent = AgentProfile.objects.get(workspace=workspace, user__username=username)
        seen, findings = crawl(client_as(agent, "zh-hans"), urls, phrases)
        opened[username] = seen
        for finding in findings:
            report[f"{finding.page} [{username}] {finding.line[:200]!r}"].add(finding.word)
    # then the crawl saw the real screens
    for must in ("/queue/", f"/tickets/{values['number']}/", "/dispatch/", "/settings/sla/policies/"):
        assert must in opened["admin"], must
    assert len(opened["admin"]) >= 30 and "/queue/" in opened["zheng.fang"]
    # and no page shows an English word outside the allowlist
    lines = [f"{key}: {', '.join(sorted(words))}" for key, words in sorted(report.items())]
    assert not lines, f"{len(lines)} English words on zh-Hans pages:\n" + "\n".join(lines)


def test_the_crawl_finds_an_english_word_and_skips_user_content():
    # given a page with an untranslated label, user content, allowed names and codes
    html = (
        '<main><h1>工单 Ticket</h1><input placeholder="Search"><p data-user-content>Printer is broken</p>'
        "<p>PivotDesk · SLA · PD-10204 · wang@example.com · https://x.test/a · 12 ms</p>"
        "<script>var English = 1;</script><p>技术支持 Technical Support</p></main>"
    )
    # when it is checked with the workspace's bilingual team name
    words = [f.word for f in english_words("/p/", visible_texts(html), phrases=["技术支持 Technical Support"])]
    # then only the untranslated words are found
    assert words == ["Ticket", "Search"]


def test_every_role_of_the_crawl_is_a_demo_agent():
    from pivotdesk.cli.demo.people import AGENTS

    roles = {a.username: a.role for a in AGENTS}
    assert [roles[name] for name in ROLES] == ["admin", "supervisor", "agent", "light_agent"]
