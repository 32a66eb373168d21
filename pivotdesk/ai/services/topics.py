"""Emerging topics: the workspace's recent out-of-scope tickets grouped by what they are about, refreshed hourly
(and after `ai_triage_all`); a supervisor turns one into a category with one click, or dismisses it.

The input is every uncategorised ticket of the last `days` whose newest category prediction is out of scope (the
triage step stores it as a `Prediction` with status `out_of_scope`); the grouping and the labels are pure
(`pivotdesk.ai.domain.topics`). A refresh rebuilds the open topics only: a promoted or dismissed topic keeps its
decision, and its tickets are not grouped again.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.accounts.permissions import Perm, authorize, authorize_system
from pivotdesk.ai.errors import AIErrorCode
from pivotdesk.ai.models import EmergingTopic, Prediction, PredictionStatus, TopicStatus
from pivotdesk.common.errors import Conflict, NotFound, ValidationFailed
from pivotdesk.common.time import now
from pivotdesk.tickets import services as ticket_services
from pivotdesk.tickets.models import Category, Message, Status, Ticket

if TYPE_CHECKING:
    from pivotdesk.ai.domain import topics as topics_domain

DEFAULT_DAYS = 30
MAX_BACKGROUND = 3000  # newest tickets whose words say what is everyday in this desk
TEXT_LIMIT = 2000  # characters of a ticket read (subject and the customer's first messages)
EXAMPLES = 5
CATEGORY_NAME_MAX = 120  # Category.name
SHOWN = 20


@dataclass(frozen=True)
class RefreshResult:
    """What a refresh did: the open topics now, how many were created, updated and removed."""

    topics: list[EmergingTopic]
    created: int
    updated: int
    removed: int


# --- reads ---------------------------------------------------------------------------------------------------------
def out_of_scope_ticket_ids(*, workspace: Workspace, since: dt.datetime) -> list[int]:
    """Tickets opened since `since` (not merged away) whose newest category prediction is out of scope and that
    still have no category, oldest first. Why no category: a ticket someone filed under an existing category is
    covered by it (the customer's form, or an agent who decided), whatever the detector thought."""
    newest = Prediction.objects.filter(ticket=OuterRef("pk"), field="category").order_by("-created_at", "-pk")
    return list(
        Ticket.objects.filter(
            workspace=workspace, created_at__gte=since, merged_into__isnull=True, category__isnull=True
        )
        .annotate(newest_status=Subquery(newest.values("status")[:1]))
        .filter(newest_status=PredictionStatus.OUT_OF_SCOPE)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
    )


def _texts(ticket_ids: Iterable[int], subjects: dict[int, str]) -> dict[int, str]:
    """Each ticket's subject and its customer's public messages (oldest first), cut to TEXT_LIMIT characters."""
    ids = list(ticket_ids)
    parts: dict[int, list[str]] = defaultdict(list)
    for ticket_id in ids:
        parts[ticket_id].append(subjects.get(ticket_id, ""))
    bodies = (
        Message.objects.filter(ticket_id__in=ids, author_type="contact", kind="public")
        .order_by("ticket_id", "created_at", "pk")
        .values_list("ticket_id", "body_text")
    )
    for ticket_id, body in bodies.iterator(chunk_size=2000):
        if sum(len(p) for p in parts[ticket_id]) < TEXT_LIMIT:
            parts[ticket_id].append(body or "")
    return {ticket_id: "\n".join(p for p in parts[ticket_id] if p)[:TEXT_LIMIT] for ticket_id in ids}


def emerging_topics(*, workspace: Workspace, status: str = TopicStatus.OPEN, limit: int = SHOWN) -> list[EmergingTopic]:
    """The workspace's topics of one status, the largest and most recent first."""
    return list(
        EmergingTopic.objects.filter(workspace=workspace, status=status)
        .select_related("category")
        .order_by("-size", "-last_seen_at", "pk")[:limit]
    )


def access_topic(*, workspace: Workspace, topic_id: int, for_update: bool = False) -> EmergingTopic:
    """A topic of this workspace by id (NotFound for another workspace's or none)."""
    qs = EmergingTopic.objects.filter(workspace=workspace, pk=topic_id)
    topic = (qs.select_for_update() if for_update else qs).first()
    if topic is None:
        raise NotFound(gettext("No such topic."))
    return topic


# --- writes --------------------------------------------------------------------------------------------------------
def topics_refresh(
    *,
    actor: Actor,
    workspace: Workspace,
    days: int = DEFAULT_DAYS,
    config: topics_domain.TopicConfig | None = None,
) -> RefreshResult:
    """Rebuild the workspace's open topics from its out-of-scope tickets of the last `days` (idempotent: the same
    tickets give the same topics, updated in place). Promoted and dismissed topics stay as they are, and their
    tickets are left out. The system (the hourly job) or AI_CONFIGURE."""
    authorize(actor, Perm.AI_CONFIGURE, workspace_id=workspace.pk)
    since = now() - dt.timedelta(days=max(1, days))
    decided = set(
        EmergingTopic.tickets.through.objects.filter(
            emergingtopic__workspace=workspace, emergingtopic__status__in=[TopicStatus.PROMOTED, TopicStatus.DISMISSED]
        ).values_list("ticket_id", flat=True)
    )
    candidates = [i for i in out_of_scope_ticket_ids(workspace=workspace, since=since) if i not in decided]
    recent = list(
        Ticket.objects.filter(workspace=workspace, created_at__gte=since, merged_into__isnull=True)
        .order_by("-created_at", "-pk")
        .values_list("pk", "subject", "number", "created_at")[:MAX_BACKGROUND]
    )
    info = {pk: (subject, number, created) for pk, subject, number, created in recent}
    missing = [i for i in candidates if i not in info]  # older than the background's newest MAX_BACKGROUND
    for pk, subject, number, created in Ticket.objects.filter(pk__in=missing).values_list(
        "pk", "subject", "number", "created_at"
    ):
        info[pk] = (subject, number, created)
    subjects = {pk: row[0] for pk, row in info.items()}
    texts = _texts(info, subjects)
    from pivotdesk.ai.domain import topics as topics_domain  # scikit-learn and scipy: loaded by the job only

    found = topics_domain.find_topics(
        [(i, texts[i]) for i in candidates], [texts[pk] for pk, *_rest in recent], config=config
    )
    with transaction.atomic():
        return _store(workspace, found, info)


def _match(
    existing: list[EmergingTopic], members: dict[int, set[int]], found: list[topics_domain.Topic]
) -> tuple[dict[int, EmergingTopic], set[int]]:
    """Which stored topic each found one is (index → row), and the found ones that are a decided topic (skipped):
    first by key, then the open topic sharing at least half of its tickets (its terms moved a little)."""
    by_key = {t.key: t for t in existing}
    matched: dict[int, EmergingTopic] = {}
    skipped: set[int] = set()
    for index, topic in enumerate(found):
        row = by_key.get(topic.key)
        if row is not None and row.status == TopicStatus.OPEN:
            matched[index] = row
        elif row is not None:
            skipped.add(index)
    taken = {row.pk for row in matched.values()}
    for index, topic in enumerate(found):
        if index in matched or index in skipped:
            continue
        ids = set(topic.members)
        best = max(
            (t for t in existing if t.pk in members and t.pk not in taken),
            key=lambda t: (len(members[t.pk] & ids), -t.pk),
            default=None,
        )
        if best is not None and 2 * len(members[best.pk] & ids) >= len(ids):
            matched[index] = best
            taken.add(best.pk)
    return matched, skipped


def _store(
    workspace: Workspace, found: list[topics_domain.Topic], info: dict[int, tuple[str, int, dt.datetime]]
) -> RefreshResult:
    existing = list(EmergingTopic.objects.select_for_update().filter(workspace=workspace).order_by("pk"))
    members = {t.pk: set(t.tickets.values_list("pk", flat=True)) for t in existing if t.status == TopicStatus.OPEN}
    keys = {t.key for t in existing}
    matched, skipped = _match(existing, members, found)
    created = updated = 0
    kept: list[EmergingTopic] = []
    for index, topic in enumerate(found):
        if index in skipped:
            continue
        seen = [info[i][2] for i in topic.members]
        fields: dict[str, object] = {
            "label": topic.label[:200],
            "terms": list(topic.terms),
            "size": len(topic.members),
            "examples": [{"number": info[i][1], "subject": info[i][0][:200]} for i in topic.members[:EXAMPLES]],
            "last_seen_at": max(seen),
        }
        row = matched.get(index)
        if row is None:
            row = EmergingTopic.objects.create(
                workspace=workspace, key=topic.key, first_seen_at=min(seen), status=TopicStatus.OPEN, **fields
            )
            created += 1
        else:
            if topic.key not in keys:
                fields["key"] = topic.key
            fields["first_seen_at"] = min(row.first_seen_at, *seen)
            for name, value in fields.items():
                setattr(row, name, value)
            row.save(update_fields=[*fields, "updated_at"])
            updated += 1
        row.tickets.set(topic.members)
        kept.append(row)
    stale = [pk for pk in members if pk not in {row.pk for row in kept}]
    EmergingTopic.objects.filter(pk__in=stale).delete()
    return RefreshResult(topics=kept, created=created, updated=updated, removed=len(stale))


def topics_refresh_all(*, actor: Actor, days: int = DEFAULT_DAYS) -> dict[str, int]:
    """Refresh every workspace that has out-of-scope predictions or open topics (the hourly job): slug → open
    topics. System only (it crosses workspaces)."""
    authorize_system(actor)
    since = now() - dt.timedelta(days=max(1, days))
    workspace_ids = set(
        Prediction.objects.filter(
            field="category", status=PredictionStatus.OUT_OF_SCOPE, created_at__gte=since
        ).values_list("workspace_id", flat=True)
    )
    workspace_ids |= set(EmergingTopic.objects.filter(status=TopicStatus.OPEN).values_list("workspace_id", flat=True))
    done: dict[str, int] = {}
    for workspace in Workspace.objects.filter(pk__in=workspace_ids).order_by("pk"):
        done[workspace.slug] = len(topics_refresh(actor=actor, workspace=workspace, days=days).topics)
    return done


def _category_name(name: str | None, topic: EmergingTopic) -> str:
    cleaned = " ".join((name if name is not None else topic.label).split())
    if not cleaned:
        raise ValidationFailed(
            gettext("The category needs a name."), code=AIErrorCode.INVALID_NAME, details={"name": "required"}
        )
    if len(cleaned) > CATEGORY_NAME_MAX:
        raise ValidationFailed(
            gettext("A category name has at most %(max)d characters.") % {"max": CATEGORY_NAME_MAX},
            code=AIErrorCode.INVALID_NAME,
            details={"name": "too_long"},
        )
    return cleaned


def _is_chinese(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in text)


@transaction.atomic
def topic_promote(
    *, actor: Actor, workspace: Workspace, topic_id: int, name: str | None = None
) -> tuple[EmergingTopic, Category]:
    """Make an open topic a category, named from its label (or `name`): the category is created (or found) through
    the ticket configuration service, the topic is marked promoted, and its open tickets that have no category are
    filed under it, each change on the ticket's timeline as the person who decided (their training signal).
    WORKSPACE_CONFIGURE, as creating any category."""
    authorize(actor, Perm.CATEGORY_MANAGE, workspace_id=workspace.pk)
    topic = access_topic(workspace=workspace, topic_id=topic_id, for_update=True)
    if topic.status != TopicStatus.OPEN:
        raise Conflict(gettext("This topic was already made a category or dismissed."))
    cleaned = _category_name(name, topic)
    category = ticket_services.category_create(
        workspace=workspace, actor=actor, name=cleaned, name_zh=cleaned if _is_chinese(cleaned) else ""
    )
    topic.status = TopicStatus.PROMOTED
    topic.category = category
    topic.save(update_fields=["status", "category", "updated_at"])
    tickets = topic.tickets.filter(category__isnull=True, merged_into__isnull=True).exclude(status=Status.CLOSED)
    for ticket in tickets.order_by("pk"):
        ticket_services.ticket_update(ticket=ticket, actor=actor, changes={"category": category})
    return topic, category


@transaction.atomic
def topic_dismiss(*, actor: Actor, workspace: Workspace, topic_id: int) -> EmergingTopic:
    """Dismiss an open topic: it stays dismissed, and its tickets are not grouped again. WORKSPACE_CONFIGURE (the
    people who decide on categories)."""
    authorize(actor, Perm.CATEGORY_MANAGE, workspace_id=workspace.pk)
    topic = access_topic(workspace=workspace, topic_id=topic_id, for_update=True)
    if topic.status != TopicStatus.OPEN:
        raise Conflict(gettext("This topic was already made a category or dismissed."))
    topic.status = TopicStatus.DISMISSED
    topic.save(update_fields=["status", "updated_at"])
    return topic
