"""The demo's satisfaction data: CSAT answers on most solved tickets (a realistic spread, comments in the customer's
language, one "not solved" that reopened its ticket), and an NPS campaign for two organizations with results.

History is written with its own timestamps (an invitation an hour after the solve, answers within two days); the
one "not solved" goes through the service, so the demo shows the reopen on that ticket's timeline."""

from __future__ import annotations

import datetime as dt
import random

from pivotdesk.accounts.actors import Actor
from pivotdesk.cli.demo.setup import DemoWorld
from pivotdesk.common.time import now
from pivotdesk.customers.models import Contact
from pivotdesk.surveys import services, tokens
from pivotdesk.surveys.models import NpsCampaign, Survey, SurveyKind, SurveyStatus
from pivotdesk.tickets.models import Status, Ticket, TicketEvent

SYSTEM = Actor.system("demo")
CSAT_WEIGHTS = {5: 46, 4: 24, 3: 11, 2: 8, 1: 11}
NPS_WEIGHTS = {10: 22, 9: 20, 8: 16, 7: 12, 6: 8, 5: 7, 4: 4, 3: 4, 2: 3, 1: 2, 0: 2}
COMMENTS = {
    "zh-hans": {
        "good": [
            "回复很快，问题当天就解决了，谢谢！",
            "客服很耐心，讲得很清楚。",
            "工程师上门很准时，点赞。",
            "处理得很专业。",
        ],
        "bad": ["等了两天才有人回复。", "问题反复出现，希望能彻底解决。", "转了好几个人才解决。"],
    },
    "en": {
        "good": ["Quick and friendly, thanks!", "Solved on the first reply.", "Great follow-up from the engineer."],
        "bad": ["Took far too long to get an answer.", "I had to explain the problem three times."],
    },
}
NPS_COMMENTS = {
    "zh-hans": {
        "good": ["设备稳定，服务响应快，会推荐给同行。", "售后团队很靠谱。"],
        "bad": ["价格偏高，备件周期太长。", "现场服务预约太难。"],
    },
    "en": {"good": ["Reliable devices and a responsive team."], "bad": ["Spare parts take too long to arrive."]},
}


def _pick(rng: random.Random, weights: dict[int, int]) -> int:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _language(contact: Contact) -> str:
    return services.survey_language(contact.language, "zh-hans")


def _comment(rng: random.Random, bank: dict[str, dict[str, list[str]]], language: str, good: bool) -> str:
    if rng.random() > 0.45:
        return ""
    return rng.choice(bank[language]["good" if good else "bad"])


def configure_surveys(world: DemoWorld, seed: int = 18) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not security
    _csat_history(world, rng)
    _nps_campaigns(world, rng)
    _one_not_solved(world)


def _csat_history(world: DemoWorld, rng: random.Random) -> None:
    tickets = (
        Ticket.objects.filter(workspace=world.workspace, status__in=[Status.SOLVED, Status.CLOSED])
        .select_related("requester")
        .order_by("solved_at", "pk")
    )
    surveys: list[Survey] = []
    for ticket in tickets:
        solved = ticket.solved_at or ticket.closed_at
        contact = ticket.requester
        if solved is None or not (contact.email or contact.phone) or rng.random() < 0.1:
            continue
        invited = solved + dt.timedelta(hours=1)
        answered = rng.random() < 0.72 and invited < now()
        score = _pick(rng, CSAT_WEIGHTS) if answered else None
        language = _language(contact)
        surveys.append(
            Survey(
                workspace=world.workspace,
                kind=SurveyKind.CSAT,
                ticket=ticket,
                contact=contact,
                organization_id=contact.organization_id,
                agent_id=ticket.assignee_id,
                team_id=ticket.team_id,
                category_id=ticket.category_id,
                solve_cycle_at=solved,
                language=language,
                nonce=tokens.new_nonce(),
                status=SurveyStatus.ANSWERED
                if answered
                else (SurveyStatus.EXPIRED if invited < now() - dt.timedelta(days=14) else SurveyStatus.INVITED),
                score=score,
                comment=_comment(rng, COMMENTS, language, (score or 0) >= 4) if answered else "",
                send_at=invited,
                invited_at=invited,
                answered_at=min(now(), invited + dt.timedelta(minutes=rng.randint(5, 2880))) if answered else None,
                expires_at=invited + dt.timedelta(days=14),
            )
        )
    created = Survey.objects.bulk_create(surveys)
    TicketEvent.objects.bulk_create(
        TicketEvent(
            workspace=world.workspace,
            ticket_id=s.ticket_id,
            created_at=s.answered_at,
            actor_type="contact",
            actor_label=s.contact.name,
            verb="survey_answered",
            data={"survey_id": s.pk, "kind": "csat", "score": s.score, "scale": s.scale, "not_solved": False},
        )
        for s in created
        if s.answered_at is not None and s.ticket_id is not None
    )


def _nps_campaigns(world: DemoWorld, rng: random.Random) -> None:
    organizations = sorted(world.organizations, key=lambda o: -o.contacts.count())[:2]
    for organization in organizations:
        campaign = services.nps_campaign_save(
            workspace=world.workspace,
            actor=SYSTEM,
            name=f"{organization.name} 季度 NPS",
            organization=organization,
            cadence_days=90,
            question={
                "zh-hans": f"您有多大可能向朋友或同事推荐{world.workspace.name}的设备与服务？",
                "en": f"How likely are you to recommend {world.workspace.name}'s devices and service to a colleague?",
            },
        )
        sent = now() - dt.timedelta(days=21)
        contacts = services.campaign_contacts(campaign, now())
        rows = []
        for contact in contacts:
            answered = rng.random() < 0.7
            score = _pick(rng, NPS_WEIGHTS) if answered else None
            language = _language(contact)
            rows.append(
                Survey(
                    workspace=world.workspace,
                    kind=SurveyKind.NPS,
                    contact=contact,
                    organization=organization,
                    campaign=campaign,
                    language=language,
                    nonce=tokens.new_nonce(),
                    status=SurveyStatus.ANSWERED if answered else SurveyStatus.INVITED,
                    score=score,
                    comment=_comment(rng, NPS_COMMENTS, language, (score or 0) >= 9) if answered else "",
                    send_at=sent,
                    invited_at=sent,
                    answered_at=sent + dt.timedelta(hours=rng.randint(1, 96)) if answered else None,
                    expires_at=sent + dt.timedelta(days=30),
                )
            )
        Survey.objects.bulk_create(rows)
        NpsCampaign.objects.filter(pk=campaign.pk).update(
            last_run_at=sent, last_run_count=len(rows), next_run_at=sent + dt.timedelta(days=90)
        )


def _one_not_solved(world: DemoWorld) -> None:
    """The latest solved ticket's customer says it is not solved: the ticket reopens (through the service)."""
    ticket = (
        Ticket.objects.filter(workspace=world.workspace, status=Status.SOLVED, merged_into__isnull=True)
        .exclude(surveys__isnull=False)
        .order_by("-solved_at")
        .first()
    )
    if ticket is None:
        return
    survey = services.csat_invite(ticket=ticket, actor=SYSTEM)
    if survey is None or survey.status != SurveyStatus.INVITED:
        return
    language = _language(survey.contact)
    services.csat_answer(
        survey=survey,
        actor=Actor.for_contact(survey.contact_id, survey.contact.name),
        score=2,
        comment="打印机还是卡纸，问题没有解决。" if language == "zh-hans" else "The printer still jams: not fixed.",
        solved=False,
    )
