"""An agent's unsent reply on a ticket, kept on the server while they type (see `ReplyDraft`)."""

from __future__ import annotations

from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import AgentProfile
from pivotdesk.accounts.permissions import Perm, authorize
from pivotdesk.common.errors import PermissionDenied, ValidationFailed
from pivotdesk.common.text import without_nul
from pivotdesk.tickets.models import MessageKind, ReplyDraft, Ticket

MAX_DRAFT = 200_000  # characters: a draft longer than this is refused, not cut


def authorize_own_draft(actor: Actor, ticket: Ticket, agent: AgentProfile, perm: Perm) -> None:
    """A draft (its text, the files uploaded for it) is its author's own: an agent keeps and drops their own (the
    system may prepare one for an agent), with the permission the message would need."""
    authorize(actor, perm, workspace_id=ticket.workspace_id)
    if agent.workspace_id != ticket.workspace_id or (actor.agent is not None and not actor.is_agent(agent.pk)):
        raise PermissionDenied(gettext("A draft belongs to the agent who writes it."))


def draft_save(
    *, actor: Actor, ticket: Ticket, agent: AgentProfile, body: str, kind: str = MessageKind.PUBLIC
) -> ReplyDraft | None:
    """Keep what the agent has typed (replacing their earlier draft of the ticket); text of only spaces drops the
    draft and returns None. Idempotent: the same text saved twice is one draft."""
    if kind not in MessageKind.values:
        raise ValidationFailed(
            gettext("Unknown message kind '%(kind)s'.") % {"kind": kind}, details={"kind": MessageKind.values}
        )
    authorize_own_draft(
        actor, ticket, agent, Perm.TICKET_REPLY_PUBLIC if kind == MessageKind.PUBLIC else Perm.TICKET_NOTE
    )
    body = without_nul(body or "")
    if len(body) > MAX_DRAFT:
        raise ValidationFailed(gettext("A draft is at most 200,000 characters."))
    if not body.strip():
        ReplyDraft.objects.filter(ticket=ticket, agent=agent).delete()
        return None
    draft, _ = ReplyDraft.objects.update_or_create(
        ticket=ticket, agent=agent, defaults={"workspace_id": ticket.workspace_id, "kind": kind, "body": body}
    )
    return draft


def draft_discard(*, actor: Actor, ticket: Ticket, agent: AgentProfile) -> None:
    """Forget the agent's draft of the ticket (it was sent, or thrown away). Nothing to forget is no error."""
    authorize_own_draft(actor, ticket, agent, Perm.TICKET_VIEW)
    ReplyDraft.objects.filter(ticket=ticket, agent=agent).delete()
