"""Writes of the surveys app: invitations (CSAT after a solve, NPS campaigns), answers, campaigns and settings.

Every service is keyword-only, takes the `actor` and passes the one gate first. Invitations publish `survey.invited`
in the same transaction: the customer portal subscribes to it and sends the message through the contact's channel.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.accounts.permissions import Perm, authorize, authorize_system
from pivotdesk.common.errors import Conflict, PermissionDenied, ValidationFailed
from pivotdesk.common.events import publish
from pivotdesk.common.text import without_nul
from pivotdesk.common.time import now
from pivotdesk.customers.models import ChannelIdentity, Contact, CustomerOrganization
from pivotdesk.surveys import tokens
from pivotdesk.surveys.domain import scores
from pivotdesk.surveys.errors import SurveyClosed, SurveyErrorCode
from pivotdesk.surveys.events import SurveyAnswered, SurveyInvited
from pivotdesk.surveys.models import CsatScale, NpsCampaign, Survey, SurveyKind, SurveySettings, SurveyStatus
from pivotdesk.surveys.selectors import settings_for
from pivotdesk.tickets.models import Status, Ticket
from pivotdesk.tickets.services.tickets import ticket_set_status
from pivotdesk.tickets.services.timeline import record

MAX_COMMENT = 4000
MAX_NPS_PER_RUN = 5000
SOLVED_CATEGORIES = (Status.SOLVED, Status.CLOSED)


# ---- helpers --------------------------------------------------------------------------------------------------


def survey_language(*candidates: str) -> str:
    """The first language we write surveys in (zh-hans or en) among the contact's, the ticket's, the workspace's."""
    for value in candidates:
        code = (value or "").strip().lower().replace("_", "-")
        if code.startswith("zh"):
            return "zh-hans"
        if code.startswith("en"):
            return "en"
    return "zh-hans"


def _reachable_q(prefix: str = "") -> Q:
    """A contact someone can send a message to: an email, a phone, or any channel identity (WeChat, chat…)."""
    has_identity = Exists(ChannelIdentity.objects.filter(contact_id=OuterRef(f"{prefix}pk")))
    return ~Q(**{f"{prefix}email": ""}) | ~Q(**{f"{prefix}phone": ""}) | Q(has_identity)


def is_reachable(contact: Contact) -> bool:
    return bool(contact.email or contact.phone) or contact.identities.exists()


def _final_contact(contact: Contact) -> Contact:
    """A merged contact's survivor (surveys go to the person, not to the merged-away record)."""
    seen = 0
    while contact.merged_into_id is not None and seen < 10:
        contact = Contact.objects.get(pk=contact.merged_into_id)
        seen += 1
    return contact


def _announce(survey: Survey) -> None:
    publish(
        SurveyInvited(
            workspace_id=survey.workspace_id,
            survey_id=survey.pk,
            kind=survey.kind,
            ticket_id=survey.ticket_id,
            contact_id=survey.contact_id,
        )
    )
    if survey.ticket_id is not None:
        record(
            ticket=survey.ticket,  # type: ignore[arg-type]
            actor=Actor.system(),
            verb="survey_invited",
            data={"survey_id": survey.pk, "kind": survey.kind},
        )


def _comment(value: str) -> str:
    text = str(without_nul(str(value or ""))).strip()
    if len(text) > MAX_COMMENT:
        raise ValidationFailed(
            gettext("A comment is at most %(n)d characters.") % {"n": MAX_COMMENT},
            code=SurveyErrorCode.INVALID_VALUE,
            details={"comment": "too_long"},
        )
    return text


def _check_answerable(survey: Survey, actor: Actor, kind: str, at: dt.datetime) -> None:
    if actor.kind == "contact" and actor.contact_id != survey.contact_id:
        raise PermissionDenied(gettext("This survey was sent to someone else."), code=SurveyErrorCode.NOT_YOURS)
    if survey.kind != kind:
        raise ValidationFailed(gettext("This is not that kind of survey."), code=SurveyErrorCode.WRONG_KIND)
    if survey.status in (SurveyStatus.EXPIRED, SurveyStatus.CANCELLED, SurveyStatus.SCHEDULED) or (
        survey.expires_at <= at
    ):
        raise SurveyClosed(gettext("This survey has closed: it can no longer be answered."))


def _score(value: Any, *, low: int, high: int, allowed: set[int] | None = None) -> int:
    try:
        score = int(value)
    except (TypeError, ValueError):
        score = -1
    if score < low or score > high or (allowed is not None and score not in allowed):
        raise ValidationFailed(
            gettext("Choose a score from %(low)d to %(high)d.") % {"low": low, "high": high},
            code=SurveyErrorCode.BAD_SCORE,
            details={"score": "out_of_range"},
        )
    return score


# ---- CSAT -----------------------------------------------------------------------------------------------------


def csat_invite(*, ticket: Ticket, actor: Actor) -> Survey | None:
    """Invite the requester to rate a solved ticket: once per solve cycle (a ticket reopened and solved again gets a
    new survey; the same solve asked twice returns the first). None when the workspace turned CSAT off, the ticket
    is not solved, or the contact cannot be reached. With a delay the survey waits (`scheduled`) and
    `surveys_send_due` sends it, unless the ticket was reopened meanwhile."""
    authorize_system(actor)
    ticket = Ticket.objects.select_related("requester", "workspace").get(pk=ticket.pk)
    if ticket.status not in SOLVED_CATEGORIES or ticket.merged_into_id is not None:
        return None
    cycle = ticket.solved_at or ticket.closed_at
    if cycle is None:
        return None
    existing = Survey.objects.filter(ticket=ticket, kind=SurveyKind.CSAT, solve_cycle_at=cycle).first()
    if existing is not None:
        return existing
    config = settings_for(ticket.workspace_id)
    if not config.csat_enabled:
        return None
    contact = _final_contact(ticket.requester)
    if not is_reachable(contact):
        return None
    at = now()
    delay = dt.timedelta(hours=config.csat_delay_hours)
    send_at = at + delay
    survey = Survey(
        workspace_id=ticket.workspace_id,
        kind=SurveyKind.CSAT,
        ticket=ticket,
        contact=contact,
        organization_id=contact.organization_id,
        agent_id=ticket.assignee_id,
        team_id=ticket.team_id,
        category_id=ticket.category_id,
        solve_cycle_at=cycle,
        language=survey_language(contact.language, ticket.language, ticket.workspace.default_language),
        scale=config.csat_scale,
        nonce=tokens.new_nonce(),
        status=SurveyStatus.SCHEDULED if delay else SurveyStatus.INVITED,
        send_at=send_at,
        invited_at=None if delay else at,
        expires_at=send_at + dt.timedelta(days=config.csat_expiry_days),
    )
    try:
        with transaction.atomic():
            survey.save(force_insert=True)
            if not delay:
                _announce(survey)
    except IntegrityError:  # the same solve, invited by a concurrent delivery of the event
        return Survey.objects.filter(ticket=ticket, kind=SurveyKind.CSAT, solve_cycle_at=cycle).first()
    return survey


@transaction.atomic
def csat_answer(*, survey: Survey, actor: Actor, score: int, comment: str = "", solved: bool = True) -> Survey:
    """Record (or change, until the survey expires) a CSAT answer. "Not solved" reopens the ticket, as a customer's
    reply to a solved ticket does, and says so on its timeline."""
    authorize(actor, Perm.SURVEY_ANSWER, workspace_id=survey.workspace_id)
    at = now()
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    _check_answerable(survey, actor, SurveyKind.CSAT, at)
    allowed = {scores.CSAT_GOOD, scores.CSAT_BAD} if survey.scale == CsatScale.TWO else None
    value = _score(score, low=scores.CSAT_MIN, high=scores.CSAT_MAX, allowed=allowed)
    text = _comment(comment)
    newly_not_solved = not solved and not survey.not_solved
    changed = survey.status == SurveyStatus.ANSWERED
    survey.score, survey.comment, survey.not_solved = value, text, not solved
    survey.status, survey.answered_at = SurveyStatus.ANSWERED, at
    survey.save(update_fields=["score", "comment", "not_solved", "status", "answered_at", "updated_at"])
    ticket = survey.ticket
    if ticket is not None:
        reopened = False
        if newly_not_solved:
            reopened = _reopen(ticket, survey)
        who = actor if actor.kind == "contact" else Actor.system()
        record(
            ticket=ticket,
            actor=who,
            verb="survey_answered",
            data={
                "survey_id": survey.pk,
                "kind": survey.kind,
                "score": value,
                "scale": survey.scale,
                "not_solved": not solved,
                "reopened": reopened,
                "changed": changed,
            },
        )
    publish(
        SurveyAnswered(
            workspace_id=survey.workspace_id,
            survey_id=survey.pk,
            kind=survey.kind,
            ticket_id=survey.ticket_id,
            contact_id=survey.contact_id,
            score=value,
            not_solved=not solved,
        )
    )
    return survey


def _reopen(ticket: Ticket, survey: Survey) -> bool:
    """The customer says the problem is not solved: the ticket of this solve opens again (as a customer reply to a
    solved ticket does). A closed ticket stays closed (the agent sees the answer); a later solve is another cycle."""
    current = Ticket.objects.get(pk=ticket.pk)
    if current.status != Status.SOLVED or current.solved_at != survey.solve_cycle_at:
        return False
    contact = survey.contact
    actor = Actor.for_contact(contact.pk, contact.name or contact.email or "")
    try:
        ticket_set_status(ticket=current, status=Status.OPEN, actor=actor)
    except Conflict:
        return False
    return True


# ---- NPS ------------------------------------------------------------------------------------------------------


@transaction.atomic
def nps_answer(*, survey: Survey, actor: Actor, score: int, comment: str = "") -> Survey:
    """Record (or change, until the survey expires) an NPS answer: 0–10 and a comment."""
    authorize(actor, Perm.SURVEY_ANSWER, workspace_id=survey.workspace_id)
    at = now()
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    _check_answerable(survey, actor, SurveyKind.NPS, at)
    survey.score = _score(score, low=scores.NPS_MIN, high=scores.NPS_MAX)
    survey.comment = _comment(comment)
    survey.status, survey.answered_at = SurveyStatus.ANSWERED, at
    survey.save(update_fields=["score", "comment", "status", "answered_at", "updated_at"])
    publish(
        SurveyAnswered(
            workspace_id=survey.workspace_id,
            survey_id=survey.pk,
            kind=survey.kind,
            ticket_id=None,
            contact_id=survey.contact_id,
            score=survey.score,
        )
    )
    return survey


def _clean_question(question: Any) -> dict[str, str]:
    if not question:
        return {}
    if not isinstance(question, dict):  # form input, typed loosely
        raise ValidationFailed(gettext("The question is text per language."), code=SurveyErrorCode.INVALID_VALUE)
    cleaned: dict[str, str] = {}
    for language in ("zh-hans", "en"):
        text = str(without_nul(str(question.get(language) or ""))).strip()
        if len(text) > 300:
            raise ValidationFailed(
                gettext("A question is at most 300 characters."),
                code=SurveyErrorCode.INVALID_VALUE,
                details={"question": "too_long"},
            )
        if text:
            cleaned[language] = text
    return cleaned


@transaction.atomic
def nps_campaign_save(
    *,
    workspace: Workspace,
    actor: Actor,
    name: str,
    cadence_days: int,
    organization: CustomerOrganization | None = None,
    question: dict[str, str] | None = None,
    active: bool = True,
    next_run_at: dt.datetime | None = None,
    campaign: NpsCampaign | None = None,
) -> NpsCampaign:
    """Create or change an NPS campaign: who (one organization's contacts, or every organization's), how often
    (every `cadence_days`; nobody is asked twice within that many days), and optionally the question's wording."""
    authorize(actor, Perm.SURVEYS_MANAGE, workspace_id=workspace.pk)
    name = str(without_nul(str(name or ""))).strip()
    if not name or len(name) > 120:
        raise ValidationFailed(
            gettext("A name is 1–120 characters."), code=SurveyErrorCode.INVALID_VALUE, details={"name": "length"}
        )
    try:
        cadence = int(cadence_days)
    except (TypeError, ValueError):
        cadence = 0
    if not 7 <= cadence <= 730:
        raise ValidationFailed(
            gettext("The cadence is 7–730 days."), code=SurveyErrorCode.INVALID_VALUE, details={"cadence_days": "range"}
        )
    if organization is not None and organization.workspace_id != workspace.pk:
        raise ValidationFailed(gettext("Unknown organization."), code=SurveyErrorCode.INVALID_VALUE)
    if campaign is not None and campaign.workspace_id != workspace.pk:
        raise ValidationFailed(gettext("Unknown campaign."), code=SurveyErrorCode.INVALID_VALUE)
    target = campaign or NpsCampaign(workspace=workspace, next_run_at=next_run_at or now())
    target.name, target.organization, target.cadence_days = name, organization, cadence
    target.question, target.active = _clean_question(question), bool(active)
    if next_run_at is not None:
        target.next_run_at = next_run_at
    elif target.active and target.next_run_at is None:
        target.next_run_at = now()
    target.save()
    return target


def campaign_contacts(campaign: NpsCampaign, at: dt.datetime) -> QuerySet[Contact]:
    """Who a run of the campaign asks: the organization's (or every organization's) reachable contacts that no NPS
    survey reached within the cadence."""
    contacts = Contact.objects.filter(workspace_id=campaign.workspace_id, merged_into__isnull=True)
    if campaign.organization_id is not None:
        contacts = contacts.filter(organization_id=campaign.organization_id)
    else:
        contacts = contacts.filter(organization__isnull=False)
    recent = Survey.objects.filter(
        contact_id=OuterRef("pk"),
        kind=SurveyKind.NPS,
        invited_at__gt=at - dt.timedelta(days=campaign.cadence_days),
    )
    return contacts.filter(_reachable_q()).exclude(Exists(recent)).order_by("pk")


def _run(campaign: NpsCampaign, at: dt.datetime) -> int:
    workspace = Workspace.objects.get(pk=campaign.workspace_id)
    config = settings_for(campaign.workspace_id)
    created = 0
    for contact in campaign_contacts(campaign, at)[:MAX_NPS_PER_RUN]:
        survey = Survey.objects.create(
            workspace_id=campaign.workspace_id,
            kind=SurveyKind.NPS,
            contact=contact,
            organization_id=contact.organization_id,
            campaign=campaign,
            language=survey_language(contact.language, workspace.default_language),
            nonce=tokens.new_nonce(),
            status=SurveyStatus.INVITED,
            send_at=at,
            invited_at=at,
            expires_at=at + dt.timedelta(days=config.nps_expiry_days),
        )
        _announce(survey)
        created += 1
    NpsCampaign.objects.filter(pk=campaign.pk).update(
        last_run_at=at, last_run_count=created, next_run_at=at + dt.timedelta(days=campaign.cadence_days)
    )
    return created


@transaction.atomic
def nps_campaign_run(*, campaign: NpsCampaign, actor: Actor, at: dt.datetime | None = None) -> int:
    """Run a campaign now ("run now"): survey who is due, and count the cadence from now. Returns how many."""
    authorize(actor, Perm.SURVEYS_MANAGE, workspace_id=campaign.workspace_id)
    campaign = NpsCampaign.objects.select_for_update().get(pk=campaign.pk)
    return _run(campaign, at or now())


def nps_campaigns_run_due(*, actor: Actor, at: dt.datetime | None = None) -> int:
    """The beat job: run every active campaign whose time has come (each claimed by a compare-and-set on its
    `next_run_at`, so two schedulers never run one twice). Returns how many surveys were created."""
    authorize_system(actor)
    at = at or now()
    total = 0
    due = NpsCampaign.objects.filter(active=True, next_run_at__lte=at).order_by("next_run_at", "pk")
    for campaign in list(due[:200]):
        with transaction.atomic():
            claimed = NpsCampaign.objects.filter(pk=campaign.pk, next_run_at=campaign.next_run_at).update(
                next_run_at=at + dt.timedelta(days=campaign.cadence_days)
            )
            if claimed:
                total += _run(campaign, at)
    return total


# ---- the sweep and the settings -------------------------------------------------------------------------------


def surveys_send_due(*, actor: Actor, at: dt.datetime | None = None) -> dict[str, int]:
    """The beat job: send delayed CSAT invitations whose time has come (withdrawn when the ticket was reopened or
    solved again meanwhile) and close unanswered surveys past their expiry."""
    authorize_system(actor)
    at = at or now()
    sent = cancelled = 0
    due = Survey.objects.filter(status=SurveyStatus.SCHEDULED, send_at__lte=at).select_related("ticket")
    for survey in list(due.order_by("send_at", "pk")[:1000]):
        with transaction.atomic():
            ticket = survey.ticket
            still_solved = ticket is not None and (
                ticket.status in SOLVED_CATEGORIES and (ticket.solved_at or ticket.closed_at) == survey.solve_cycle_at
            )
            status = SurveyStatus.INVITED if still_solved else SurveyStatus.CANCELLED
            if not Survey.objects.filter(pk=survey.pk, status=SurveyStatus.SCHEDULED).update(
                status=status, invited_at=at if still_solved else None, updated_at=at
            ):
                continue
            if still_solved:
                survey.status, survey.invited_at = status, at
                _announce(survey)
                sent += 1
            else:
                cancelled += 1
    expired = Survey.objects.filter(status=SurveyStatus.INVITED, expires_at__lte=at).update(
        status=SurveyStatus.EXPIRED, updated_at=at
    )
    return {"sent": sent, "cancelled": cancelled, "expired": expired}


@transaction.atomic
def survey_settings_save(
    *,
    workspace: Workspace,
    actor: Actor,
    csat_enabled: bool,
    csat_delay_hours: int = 0,
    csat_expiry_days: int = 14,
    csat_scale: str = CsatScale.FIVE,
    nps_expiry_days: int = 30,
) -> SurveySettings:
    """The workspace's CSAT switch, the delay after a solve (0–168 h), how long a link answers, and the scale."""
    authorize(actor, Perm.SURVEYS_MANAGE, workspace_id=workspace.pk)
    values: dict[str, int] = {}
    for key, value, low, high in (
        ("csat_delay_hours", csat_delay_hours, 0, 168),
        ("csat_expiry_days", csat_expiry_days, 1, 90),
        ("nps_expiry_days", nps_expiry_days, 1, 90),
    ):
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = -1
        if not low <= number <= high:
            raise ValidationFailed(
                gettext("%(low)d–%(high)d, please.") % {"low": low, "high": high},
                code=SurveyErrorCode.INVALID_VALUE,
                details={key: "range"},
            )
        values[key] = number
    if csat_scale not in CsatScale.values:
        raise ValidationFailed(gettext("Unknown scale."), code=SurveyErrorCode.INVALID_VALUE)
    row, _ = SurveySettings.objects.update_or_create(
        workspace=workspace, defaults={"csat_enabled": bool(csat_enabled), "csat_scale": csat_scale, **values}
    )
    return row
