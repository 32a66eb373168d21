"""The security suite's world: a workspace with one of every object a URL or an API operation can name.

`seed_workspace` builds it (through the services where they exist, so every invariant holds); the isolation matrix
seeds two of them and aims workspace A's admin at workspace B's ids, the role matrix and the fuzzer use one. When an
app adds a model that a URL names by id, add it here (one line, under its key) and to `PARAMETERS` in
`test_isolation_matrix.py`: the matrix fails until both know it.

Every seeded name, subject and body carries the workspace's marker, so a response that leaks an object of the
other workspace is caught by its content as well as by its status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from django.apps import apps
from django.db import models
from django.utils.timezone import now

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile, Role, Workspace
from pivotdesk.accounts.services import api_token_create, skill_get_or_create, team_create
from pivotdesk.ai.models import EmbeddingVector, EmergingTopic, Prediction, PredictionStatus
from pivotdesk.channels.models import InboundPayload, OutboundMessage
from pivotdesk.channels.services.accounts import channel_account_create
from pivotdesk.channels.services.inbound import inbound_store
from pivotdesk.customers.services import organization_create
from pivotdesk.notifications.models import Delivery
from pivotdesk.notifications.services import notify
from pivotdesk.notifications.tests.factories import make_target
from pivotdesk.routing.tests.factories import policy as routing_policy
from pivotdesk.sla.models import BusinessCalendar, SLAPolicy
from pivotdesk.sla.tests.factories import CalendarFactory, add_targets
from pivotdesk.sla.tests.factories import PolicyFactory as SLAPolicyFactory
from pivotdesk.tickets.models import Ticket
from pivotdesk.tickets.services import (
    attachment_add,
    custom_field_create,
    message_create,
    saved_view_create,
    ticket_link,
)
from pivotdesk.tickets.tests.factories import make_ticket
from pivotdesk.web.tests.helpers import new_agent, new_contact
from pivotdesk.webhooks.models import WebhookDelivery
from pivotdesk.webhooks.tests.factories import make_endpoint

SYSTEM = Actor.system("security-seed")


@dataclass
class Seed:
    """One seeded workspace: its agents by role, its objects by key, and the marker in every text of it."""

    workspace: Workspace
    marker: str
    agents: dict[str, AgentProfile]
    objects: dict[str, models.Model] = field(default_factory=dict)

    @property
    def admin(self) -> AgentProfile:
        return self.agents[Role.ADMIN]

    @property
    def ticket(self) -> Ticket:
        ticket = self.objects["ticket"]
        assert isinstance(ticket, Ticket)
        return ticket

    def pk(self, key: str) -> int:
        """The id of the seeded object of this key (a ticket's number for `ticket_number`)."""
        if key == "ticket_number":
            return self.ticket.number
        return int(self.objects[key].pk)


def seed_workspace(workspace: Workspace, *, marker: str, extra_tickets: int = 0) -> Seed:
    """One of every object of a workspace, each text carrying `marker`. `extra_tickets` numbers the main ticket
    beyond another workspace's (ticket numbers are per workspace: B's 10001 would be A's own 10001)."""
    agents = {role: new_agent(workspace=workspace, role=role) for role in Role.values}
    seed = Seed(workspace=workspace, marker=marker, agents=agents)
    admin = agents[Role.ADMIN]
    as_admin = Actor.for_agent(admin)
    organization = organization_create(workspace=workspace, actor=SYSTEM, name=f"{marker} Org")
    contact = new_contact(workspace=workspace, name=f"{marker} Contact", organization=organization)
    for _ in range(extra_tickets):
        make_ticket(workspace=workspace, requester=contact, subject=f"{marker} filler")
    ticket = make_ticket(
        workspace=workspace, requester=contact, subject=f"{marker} Ticket", body=f"{marker} body", assignee=admin
    )
    other_ticket = make_ticket(workspace=workspace, requester=contact, subject=f"{marker} Second")
    message = message_create(ticket=ticket, actor=as_admin, body=f"{marker} reply", kind="public")
    webhook = make_endpoint(workspace=workspace, description=f"{marker} hook")
    notification = notify(
        workspace=workspace, actor=SYSTEM, recipient=admin, kind="ticket.assigned", title=f"{marker} note", url="/"
    )
    assert notification is not None
    target = make_target(admin, "https://hooks.example.com/x", label=f"{marker} target", shared=True)
    channel_account = channel_account_create(workspace=workspace, actor=SYSTEM, kind="web_form", name=f"{marker} form")
    payload = inbound_store(
        actor=SYSTEM, workspace=workspace, channel="web_form", raw=marker.encode(), account=channel_account
    )
    InboundPayload.objects.filter(pk=payload.pk).update(status="failed", reason=marker)
    sla_policy = cast(SLAPolicy, SLAPolicyFactory(workspace=workspace, name=f"{marker} SLA"))
    add_targets(sla_policy, "normal", first_reply=60)
    seed.objects |= {
        "agent": agents[Role.AGENT],
        "organization": organization,
        "contact": contact,
        "other_contact": new_contact(workspace=workspace, name=f"{marker} Other contact"),
        "team": team_create(actor=SYSTEM, workspace=workspace, name=f"{marker} Team", members=[admin]),
        "skill": skill_get_or_create(workspace=workspace, actor=SYSTEM, name=f"{marker}-skill"),
        "ticket": ticket,
        "other_ticket": other_ticket,
        "link": ticket_link(source=ticket, target=other_ticket, kind="related", actor=as_admin),
        "message": message,
        "attachment": attachment_add(
            actor=SYSTEM, ticket=ticket, message=message, filename="secret.txt", content=marker.encode()
        ),
        "custom_field": custom_field_create(
            actor=SYSTEM, workspace=workspace, key="plan", label=f"{marker} Plan", field_type="text"
        ),
        "saved_view": saved_view_create(actor=SYSTEM, workspace=workspace, name=f"{marker} View", filters={}),
        "token": api_token_create(actor=SYSTEM, agent=admin, name=f"{marker} token")[0],
        "webhook": webhook,
        "webhook_delivery": WebhookDelivery.objects.create(
            workspace=workspace, endpoint=webhook, event_name="ticket.created", payload={"marker": marker}
        ),
        "notification": notification,
        "notification_target": target,
        "notification_delivery": Delivery.objects.create(
            workspace=workspace,
            notification=notification,
            channel="apprise",
            target=target,
            destination=f"{marker} target",
            status="failed",
        ),
        "channel_account": channel_account,
        "inbound_payload": payload,
        "outbound_message": OutboundMessage.objects.create(
            workspace=workspace,
            message=message,
            channel="email",
            recipient="customer@example.com",
            status="failed",
            last_error=marker,
            failed_at=now(),
        ),
        "prediction": Prediction.objects.create(
            workspace=workspace,
            ticket=ticket,
            field="priority",
            value="high",
            label=marker,
            confidence=0.9,
            status=PredictionStatus.values[0],
            model_name="seed",
            model_version="1",
        ),
        "emerging_topic": EmergingTopic.objects.create(
            workspace=workspace,
            key=f"{marker}-topic",
            label=f"{marker} topic",
            terms=[marker],
            size=1,
            examples=[{"number": ticket.number, "subject": ticket.subject}],
            first_seen_at=now(),
            last_seen_at=now(),
        ),
        "embedding": EmbeddingVector.objects.create(
            workspace=workspace, model="seed", text_sha256=marker.ljust(64, "0")[:64], dim=1, vector=b"\0\0\0\0"
        ),
        "routing_policy": routing_policy(workspace, name=f"{marker} routing"),
        "sla_calendar": cast(BusinessCalendar, CalendarFactory(workspace=workspace, name=f"{marker} calendar")),
        "sla_policy": sla_policy,
    }
    seed.objects |= _settings_admin(workspace, marker, admin)
    cast(EmergingTopic, seed.objects["emerging_topic"]).tickets.add(ticket)
    seed.objects |= _workforce(workspace, marker, agents)
    seed.objects |= _oncall(workspace, marker, ticket)
    seed.objects |= _automation(workspace, marker, ticket)
    seed.objects |= _knowledge(workspace, marker)
    seed.objects |= _surveys(workspace, marker)
    return seed


def _surveys(workspace: Workspace, marker: str) -> dict[str, models.Model]:
    """An NPS campaign (surveys, issue 18)."""
    from pivotdesk.surveys.models import NpsCampaign

    return {"nps_campaign": NpsCampaign.objects.create(workspace=workspace, name=f"{marker} NPS")}


def _settings_admin(workspace: Workspace, marker: str, admin: AgentProfile) -> dict[str, models.Model]:
    """What the in-app admin's URLs name (issue 18): a ticket category, a status label, a tag, an invitation."""
    from pivotdesk.accounts.services import invitation_create
    from pivotdesk.tickets.services.configuration import category_create, status_definition_create, tag_get_or_create

    invitation, _token = invitation_create(
        workspace=workspace, actor=Actor.for_agent(admin), email=f"{marker.lower()}@invited.example.com"
    )
    return {
        "ticket_category": category_create(workspace=workspace, actor=SYSTEM, name=f"{marker} category"),
        "status_definition": status_definition_create(
            workspace=workspace, actor=SYSTEM, category="pending", label=f"{marker} waiting"
        ),
        "tag": tag_get_or_create(workspace=workspace, actor=SYSTEM, name=f"{marker}-tag"),
        "invitation": invitation,
    }


def _knowledge(workspace: Workspace, marker: str) -> dict[str, models.Model]:
    """An article with its first version, a category, a proposal, an import, a root cause and a graph entity."""
    from pivotdesk.knowledge.models import (
        Article,
        ArticleProposal,
        ArticleVersion,
        GraphEntity,
        ImportJob,
        KnowledgeCategory,
        RootCause,
    )

    article = Article.objects.create(workspace=workspace, title=f"{marker} article", body=f"{marker} body")
    ArticleVersion.objects.create(
        workspace=workspace, article=article, version=1, title=article.title, body=article.body
    )
    return {
        "article": article,
        "knowledge_category": KnowledgeCategory.objects.create(workspace=workspace, name_zh=f"{marker} 分类"),
        "proposal": ArticleProposal.objects.create(
            workspace=workspace, reason="new_solution", title=f"{marker} proposal", body=f"{marker} solution"
        ),
        "import_job": ImportJob.objects.create(
            workspace=workspace, filename=f"{marker}.csv", format="csv", payload=b""
        ),
        "root_cause": RootCause.objects.create(
            workspace=workspace, code=f"{marker}-cause".lower(), name_zh=f"{marker} 原因"
        ),
        "graph_entity": GraphEntity.objects.create(
            workspace=workspace, kind="model", key=f"{marker} model".lower(), label=f"{marker} model"
        ),
    }


def _oncall(workspace: Workspace, marker: str, ticket: Ticket) -> dict[str, models.Model]:
    """A schedule, an escalation policy, a partner, and an open page on the main ticket."""
    from pivotdesk.oncall.models import EscalationPolicy, OnCallSchedule, Page, Partner

    return {
        "oncall_schedule": OnCallSchedule.objects.create(workspace=workspace, name=f"{marker} nights"),
        "escalation_policy": EscalationPolicy.objects.create(workspace=workspace, name=f"{marker} urgent"),
        "partner": Partner.objects.create(workspace=workspace, name=f"{marker} partner"),
        "page": Page.objects.create(workspace=workspace, ticket=ticket),
    }


def _automation(workspace: Workspace, marker: str, ticket: Ticket) -> dict[str, models.Model]:
    """A rule, a chain template with a running chain on the main ticket, and a business event."""
    from pivotdesk.automation.domain import chains as flow
    from pivotdesk.automation.models import BusinessEvent, Chain, ChainTemplate, Rule
    from pivotdesk.common.time import now

    stage = flow.ChainStageDef(key="pick", name=f"{marker} pick", team_id=None, expected_minutes=60)
    definition = flow.ChainDef(key="order", name=f"{marker} order", version=1, mode="sequence", stages=(stage,))
    template = ChainTemplate.objects.create(
        workspace=workspace,
        name=f"{marker} order",
        stages=[{"key": "pick", "name": f"{marker} pick", "team": None, "expected_minutes": 60}],
    )
    return {
        **_approvals_and_macros(workspace, marker, ticket),
        "rule": Rule.objects.create(workspace=workspace, name=f"{marker} rule", conditions={"all": []}),
        "chain_template": template,
        "chain": Chain.objects.create(
            workspace=workspace,
            template=template,
            key=f"order:{marker}",
            name=f"{marker} chain",
            parent=ticket,
            snapshot=flow.chain_to_data(definition),
            states=flow.states_to_data(flow.start(definition, now())),
        ),
        "business_event": BusinessEvent.objects.create(
            workspace=workspace,
            event_id=f"{marker}-1",
            type="shipment.delayed",
            key=f"order:{marker}",
            status="unknown_key",
        ),
    }


def _approvals_and_macros(workspace: Workspace, marker: str, ticket: Ticket) -> dict[str, models.Model]:
    """A shared macro, an approval flow, and a pending approval of it on the main ticket that every agent of the
    workspace may decide (so the role matrix meets the gate, not "not an approver")."""
    from pivotdesk.automation.domain import approvals as flow
    from pivotdesk.automation.models import Approval, ApprovalFlow, Macro

    people = frozenset(AgentProfile.objects.filter(workspace=workspace).values_list("pk", flat=True))
    stage = flow.StageDef(key="check", name=f"{marker} check", approvers=people, required_items=(f"{marker} proof",))
    approval_flow = ApprovalFlow.objects.create(
        workspace=workspace,
        name=f"{marker} flow",
        stages=[{"key": "check", "name": stage.name, "approvers": {"agents": sorted(people)}, "rule": "any"}],
    )
    definition = flow.FlowDef(key=str(approval_flow.pk), name=approval_flow.name, version=1, stages=(stage,))
    state = flow.start(definition, now())
    return {
        "macro": Macro.objects.create(
            workspace=workspace, name=f"{marker} macro", actions=[{"type": "note", "text": f"{marker} note"}]
        ),
        "approval_flow": approval_flow,
        "approval": Approval.objects.create(
            workspace=workspace,
            ticket=ticket,
            flow=approval_flow,
            snapshot=flow.flow_to_data(definition),
            state=flow.state_to_data(state),
            stage_key="check",
            stage_started_at=state.history[-1].started_at,
            waiting_on=sorted(people),
        ),
    }


def _workforce(workspace: Workspace, marker: str, agents: dict[str, AgentProfile]) -> dict[str, models.Model]:
    """A queue with an event, a contract and a shift template, a published roster with two shifts (one open), and a
    swap request waiting for the colleague."""
    import datetime as dt

    from pivotdesk.workforce.models import (
        Contract,
        ForecastEvent,
        Roster,
        RosterStatus,
        Shift,
        ShiftRequest,
        ShiftTemplate,
        WorkQueue,
    )

    start = dt.datetime(2030, 1, 7, 9, tzinfo=dt.UTC)
    roster = Roster.objects.create(
        workspace=workspace,
        start_date=start.date(),
        end_date=start.date() + dt.timedelta(days=6),
        status=RosterStatus.PUBLISHED,
        solver={"status": marker},
    )
    mine = Shift.objects.create(
        workspace=workspace, roster=roster, agent=agents[Role.AGENT], start=start, end=start + dt.timedelta(hours=8)
    )
    theirs = Shift.objects.create(
        workspace=workspace,
        roster=roster,
        agent=agents[Role.SUPERVISOR],
        start=start + dt.timedelta(days=1),
        end=start + dt.timedelta(days=1, hours=8),
    )
    queue = WorkQueue.objects.create(workspace=workspace, name=f"{marker} queue")
    return {
        "work_queue": queue,
        "forecast_event": ForecastEvent.objects.create(
            workspace=workspace,
            queue=queue,
            name=f"{marker} peak",
            start=start,
            end=start + dt.timedelta(hours=4),
            multiplier=2,
        ),
        "contract": Contract.objects.create(workspace=workspace, name=f"{marker} contract"),
        "shift_template": ShiftTemplate.objects.create(
            workspace=workspace, name=f"{marker} template", start_time=dt.time(9), length_minutes=480
        ),
        "roster": roster,
        "shift": mine,
        "shift_request": ShiftRequest.objects.create(
            workspace=workspace,
            kind="swap",
            status="awaiting_peer",
            requester=agents[Role.AGENT],
            peer=agents[Role.SUPERVISOR],
            shift=mine,
            peer_shift=theirs,
            note=f"{marker} swap",
        ),
    }


# ---- what a workspace holds, to prove nothing of it changed -------------------------------------------------------

# Columns that move without anyone writing the object (bookkeeping of reads).
_VOLATILE = {"last_used_at", "last_login"}


def snapshot(workspace: Workspace) -> dict[str, list[dict[str, Any]]]:
    """Every row of every workspace-scoped model of this workspace, and the rows hanging off them, as values."""
    out: dict[str, list[dict[str, Any]]] = {}
    for model in apps.get_models():
        if not model.__module__.startswith("pivotdesk"):
            continue
        names = {f.name for f in model._meta.get_fields()}
        if "workspace" in names:
            rows = model._default_manager.filter(workspace=workspace)
        elif "workspace_id" in {getattr(f, "attname", "") for f in model._meta.concrete_fields}:
            rows = model._default_manager.filter(workspace_id=workspace.pk)
        else:
            continue
        values = [
            {k: v for k, v in row.items() if k not in _VOLATILE and not isinstance(v, bytes | memoryview)}
            for row in rows.order_by("pk").values()
        ]
        out[model._meta.label] = values
    return out


def diff(before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The tables whose rows differ, with the first differing row, for a readable failure."""
    changed = []
    for label in sorted(set(before) | set(after)):
        b, a = before.get(label, []), after.get(label, [])
        if b != a:
            first = next((pair for pair in zip(b, a, strict=False) if pair[0] != pair[1]), (len(b), len(a)))
            changed.append(f"{label}: {first}")
    return changed
