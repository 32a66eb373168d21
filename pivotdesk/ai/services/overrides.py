"""People reviewing the AI: overrides (from any edit of an AI-set field), one-click corrections and confirmations.

The training signal: a prediction someone changed becomes `overridden` with the person's value (`human_value`,
always the latest, so training on resolved tickets uses the final value); one someone confirmed becomes `confirmed`.
Predictions the AI did not apply (abstained, out of scope, suggested) keep their status and gain the human value.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile
from pivotdesk.accounts.permissions import Perm, authorize, authorize_system
from pivotdesk.ai import selectors
from pivotdesk.ai.errors import AIErrorCode
from pivotdesk.ai.models import Prediction, PredictionStatus
from pivotdesk.ai.services.apply import NEGATIVE_LABELS, SENTIMENT_LABELS, ai_actor, current_value
from pivotdesk.common.errors import Conflict, ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Ticket, TicketEvent

APPLIED_LIKE = (PredictionStatus.APPLIED, PredictionStatus.CONFIRMED, PredictionStatus.OVERRIDDEN)
OPEN_FOR_TRIAGE = (PredictionStatus.ABSTAINED, PredictionStatus.OUT_OF_SCOPE)


def _event_value(field: str, value: Any) -> Any:
    if field in ("category", "team"):
        return value.get("id") if isinstance(value, dict) else value
    return value


def _same(a: Any, b: Any) -> bool:
    return a == b or (a is not None and b is not None and str(a) == str(b))


def _mark_human(prediction: Prediction, value: Any, agent: AgentProfile | None) -> Prediction:
    """Record a person's value on a prediction: applied → overridden/confirmed; not applied → value only."""
    prediction.human_value = value
    prediction.human_agent = agent
    prediction.reviewed_at = now()
    if prediction.status in APPLIED_LIKE:
        prediction.status = (
            PredictionStatus.CONFIRMED if _same(value, prediction.value) else PredictionStatus.OVERRIDDEN
        )
    prediction.save(update_fields=["human_value", "human_agent", "reviewed_at", "status", "updated_at"])
    return prediction


@transaction.atomic
def predictions_track_overrides(*, actor: Actor, ticket_id: int, fields: list[str]) -> int:
    """After a ticket change: each AI field a person (agent or API client) changed since the newest prediction for
    it gets that person's latest value. Safe to run twice. Returns how many predictions were updated. System only
    (the task reacting to ticket changes)."""
    authorize_system(actor)
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None:
        return 0
    wanted = [f for f in fields if f in selectors.TICKET_FIELDS]
    if not wanted:
        return 0
    latest = selectors.latest_predictions(ticket=ticket)
    updated = 0
    for field in wanted:
        prediction = latest.get(field)
        if prediction is None:
            continue
        event = (
            TicketEvent.objects.filter(
                ticket=ticket,
                field=field,
                actor_type__in=selectors.HUMAN_ACTORS,
                created_at__gte=prediction.created_at,
            )
            .order_by("-created_at", "-pk")
            .first()
        )
        if event is None:
            continue
        value = _event_value(field, event.new_value)
        if (
            prediction.reviewed_at is not None
            and _same(prediction.human_value, value)
            and prediction.human_agent_id == event.actor_agent_id
        ):
            continue
        _mark_human(prediction, value, event.actor_agent)
        updated += 1
    if updated:
        _refresh_needs_triage(ticket, Actor(kind="ai", label="triage"))
    return updated


def _refresh_needs_triage(ticket: Ticket, actor: Actor) -> None:
    """Drop the needs_triage tag once every classification the AI left open has a person's value."""
    if not ticket.tags.filter(name=selectors.NEEDS_TRIAGE_TAG).exists():
        return
    latest = selectors.latest_predictions(ticket=ticket)
    still_open = [
        p
        for f, p in latest.items()
        if f in selectors.CLASSIFY_FIELDS and p.status in OPEN_FOR_TRIAGE and p.reviewed_at is None
    ]
    if not still_open and ticket.merged_into_id is None:
        ticket_services.ticket_update(ticket=ticket, actor=actor, changes={"remove_tags": [selectors.NEEDS_TRIAGE_TAG]})


def _sentiment_tags(ticket: Ticket, actor: Actor, label: str) -> None:
    if label in NEGATIVE_LABELS:
        changes: dict[str, Any] = {"add_tags": ["negative_sentiment", *(["angry"] if label == "angry" else [])]}
        if label != "angry":
            changes["remove_tags"] = ["angry"]
    else:
        changes = {"remove_tags": ["negative_sentiment", "angry"]}
    ticket_services.ticket_update(ticket=ticket, actor=actor, changes=changes)


def _agent_of(actor: Actor, prediction: Prediction) -> AgentProfile | None:
    authorize(actor, Perm.TICKET_UPDATE, workspace_id=prediction.workspace_id)
    return actor.agent


@transaction.atomic
def prediction_correct(*, prediction: Prediction, value: Any, actor: Actor) -> Prediction:
    """A person picks another value for an AI field: the ticket changes as that person, the prediction keeps the
    person's value as a training signal (overridden, or confirmed when they picked the AI's value)."""
    agent = _agent_of(actor, prediction)
    ticket = Ticket.objects.get(pk=prediction.ticket_id)
    if prediction.field == "sentiment":
        if value not in SENTIMENT_LABELS:
            raise ValidationFailed(
                gettext("Unknown sentiment “%(value)s”.") % {"value": value},
                code=AIErrorCode.INVALID_VALUE,
                details={"value": list(SENTIMENT_LABELS)},
            )
        _sentiment_tags(ticket, actor, str(value))
        return _mark_human(prediction, value, agent)
    if prediction.field not in selectors.TICKET_FIELDS:
        raise ValidationFailed(gettext("This suggestion cannot be corrected."), code=AIErrorCode.NOT_CORRECTABLE)
    if prediction.field in ("category", "team"):
        try:
            value = int(value) if value not in (None, "") else None
        except (TypeError, ValueError) as exc:
            raise ValidationFailed(
                gettext("%(field)s must be an id.") % {"field": prediction.field}, code=AIErrorCode.INVALID_VALUE
            ) from exc
    ticket_services.ticket_update(ticket=ticket, actor=actor, changes={prediction.field: value})
    ticket.refresh_from_db()
    _mark_human(prediction, current_value(ticket, prediction.field), agent)
    _refresh_needs_triage(ticket, actor)
    return prediction


@transaction.atomic
def prediction_confirm(*, prediction: Prediction, actor: Actor) -> Prediction:
    """A person confirms the AI's value (applying it first when the AI had only proposed it)."""
    agent = _agent_of(actor, prediction)
    if prediction.status == PredictionStatus.OVERRIDDEN:
        raise Conflict(
            gettext("A person already changed this field; correct it instead."), code=AIErrorCode.ALREADY_OVERRIDDEN
        )
    ticket = Ticket.objects.get(pk=prediction.ticket_id)
    if prediction.field == "sentiment":
        if prediction.status != PredictionStatus.APPLIED:
            _sentiment_tags(ticket, actor, str(prediction.value))
    elif prediction.field in selectors.TICKET_FIELDS:
        if not _same(current_value(ticket, prediction.field), prediction.value):
            ticket_services.ticket_update(ticket=ticket, actor=actor, changes={prediction.field: prediction.value})
    else:
        raise ValidationFailed(gettext("This suggestion cannot be confirmed."), code=AIErrorCode.NOT_CONFIRMABLE)
    prediction.status = PredictionStatus.CONFIRMED
    prediction.human_value = prediction.value
    prediction.human_agent = agent
    prediction.reviewed_at = now()
    prediction.save(update_fields=["status", "human_value", "human_agent", "reviewed_at", "updated_at"])
    _refresh_needs_triage(ticket, actor)
    return prediction


__all__ = ["ai_actor", "prediction_confirm", "prediction_correct", "predictions_track_overrides"]
