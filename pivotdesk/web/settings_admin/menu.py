"""The settings area's left menu: every admin page of the product, in one place, each shown to whoever the gate
lets open it (`can(agent, Perm.X)`). Pages of other domains are linked by URL name; one that is not installed
(`reverse` fails: e.g. the customer portal's theme page before that app ships it) is left out."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from pivotdesk.accounts.models import AgentProfile
from pivotdesk.accounts.permissions import Perm, can


@dataclass(frozen=True)
class Entry:
    key: str
    label: str | Promise
    url_name: str
    perm: Perm | str  # a value (str) for a permission another app adds: the entry waits until it exists
    hint: str | Promise = ""


@dataclass(frozen=True)
class Section:
    label: str | Promise
    entries: tuple[Entry, ...]


MENU: tuple[Section, ...] = (
    Section(
        _("People"),
        (
            Entry("agents", _("Agents and invitations"), "web:settings_agents", Perm.AGENT_MANAGE,
                  _("Invite by e-mail, roles, skills, capacity, deactivation")),
            Entry("teams", _("Teams"), "web:settings_teams", Perm.TEAM_MANAGE, _("Members and team leads")),
            Entry("tokens", _("API tokens of the workspace"), "web:settings_tokens", Perm.AGENT_MANAGE,
                  _("Every agent's tokens, with revocation")),
            Entry("workforce", _("Workforce settings"), "web:workforce_settings", Perm.WORKFORCE_MANAGE,
                  _("Queues, contracts, shift templates")),
        ),
    ),
    Section(
        _("Tickets"),
        (
            Entry("categories", _("Categories"), "web:settings_categories", Perm.CATEGORY_MANAGE,
                  _("The category tree, in both languages")),
            Entry("statuses", _("Statuses"), "web:settings_statuses", Perm.WORKSPACE_CONFIGURE,
                  _("Your own status labels, order and defaults")),
            Entry("fields", _("Custom fields"), "web:settings_fields", Perm.WORKSPACE_CONFIGURE,
                  _("Typed fields and their options")),
            Entry("tags", _("Tags"), "web:settings_tags", Perm.WORKSPACE_CONFIGURE, _("Rename, merge, delete")),
        ),
    ),
    Section(
        _("Channels and integrations"),
        (
            Entry("channels", _("Channels"), "web:channels", Perm.CHANNEL_CONFIGURE, _("Mailboxes, chat, forms, bots")),
            Entry("inbound", _("Failed inbound messages"), "web:inbound_failed", Perm.CHANNEL_CONFIGURE),
            Entry("webhooks", _("Webhooks"), "web:webhooks", Perm.WEBHOOK_MANAGE),
            Entry("portal", _("Customer portal"), "web:portal_settings", Perm.WORKSPACE_CONFIGURE,
                  _("Theme and domain of the portal")),
            Entry("surveys", _("Satisfaction surveys"), "web:surveys_campaigns", "surveys.manage",
                  _("CSAT settings and NPS campaigns")),
            Entry("notifications", _("Notification deliveries"), "web:notification_deliveries",
                  Perm.NOTIFICATION_MANAGE, _("The delivery log and shared targets")),
        ),
    ),
    Section(
        _("Service levels and routing"),
        (
            Entry("sla_policies", _("SLA policies"), "web:sla_policies", Perm.SLA_CONFIGURE),
            Entry("sla_calendars", _("Business calendars"), "web:sla_calendars", Perm.SLA_CONFIGURE),
            Entry("routing", _("Routing policies"), "web:routing_policies", Perm.ROUTING_MANAGE),
            Entry("oncall", _("On-call schedules"), "web:oncall_schedules", Perm.ROUTING_MANAGE),
            Entry("escalation", _("Escalation policies"), "web:oncall_policies", Perm.ROUTING_MANAGE),
        ),
    ),
    Section(
        pgettext_lazy("settings menu", "Automation"),
        (
            Entry("rules", _("Automation rules"), "web:automation_rules", Perm.AUTOMATION_MANAGE),
            Entry("flows", _("Approval flows"), "web:automation_flows", Perm.AUTOMATION_MANAGE),
            Entry("chains", _("Chain templates"), "web:automation_chain_templates", Perm.AUTOMATION_MANAGE),
        ),
    ),
    Section(
        _("Knowledge and AI"),
        (
            Entry("kb_categories", _("Knowledge categories"), "web:knowledge_categories", Perm.KNOWLEDGE_MANAGE),
            Entry("root_causes", _("Root causes"), "web:knowledge_root_causes", Perm.KNOWLEDGE_MANAGE),
            Entry("ai", _("AI triage"), "web:ai_insights", Perm.AI_CONFIGURE, _("Models, emerging topics")),
        ),
    ),
)  # fmt: skip


@dataclass(frozen=True)
class Link:
    key: str
    label: str | Promise
    url: str
    hint: str | Promise


def visible_menu(agent: AgentProfile) -> list[tuple[str | Promise, list[Link]]]:
    """The sections and links this agent may open (sections without any are left out)."""
    sections = []
    for section in MENU:
        links = []
        for entry in section.entries:
            perm = _perm(entry.perm)
            if perm is None or not can(agent, perm):
                continue
            try:
                url = reverse(entry.url_name)
            except NoReverseMatch:
                continue
            links.append(Link(entry.key, entry.label, url, entry.hint))
        if links:
            sections.append((section.label, links))
    return sections


def _perm(value: Perm | str) -> Perm | None:
    try:
        return Perm(value)
    except ValueError:
        return None


SETTINGS_PERMS = frozenset(
    perm for section in MENU for entry in section.entries if (perm := _perm(entry.perm)) is not None
)


def may_open_settings(agent: AgentProfile | None) -> bool:
    """Whether the agent sees the settings area at all (one of its pages is theirs)."""
    return agent is not None and any(can(agent, perm) for perm in SETTINGS_PERMS)
