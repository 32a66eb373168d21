"""The knowledge graph in the database: the workspace's catalogue, the entities each ticket and article mentions,
the edges between them (co-mentions, and for a solution its successes in resolved tickets), and the reads of the
graph view. The pure matching and counting is `domain/graph.py`; the tips an agent sees are `graph_tips.py`.

A ticket's solution mentions are what its resolution says (the article's title or the root cause, and catalogued
solutions named in the agent's words), never solutions merely named in the conversation ("have you tried a
reset?"): the evidence counts what was done, not what was talked about.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.accounts.permissions import Perm, authorize, authorize_system
from pivotdesk.ai.models import ExtractedEntity
from pivotdesk.common.errors import NotFound, ValidationFailed
from pivotdesk.common.text import without_nul
from pivotdesk.tickets.models import Message, MessageKind, Ticket

from ..domain import graph as domain
from ..errors import KnowledgeErrorCode
from ..graph_tips import Tip, tips
from ..models import Article, EntityKind, GraphEdge, GraphEntity, Mention, Resolution

__all__ = [
    "Tip",
    "access_entity",
    "catalogue",
    "catalogue_save",
    "entities",
    "evidence",
    "index_article",
    "index_ticket",
    "index_workspace",
    "neighbours",
    "rebuild",
    "tips",
]

MAX_LABEL = 200
MAX_KEY = 120
MAX_ALIASES = 50
BATCH = 500
# What the AI step's entity kinds are in the graph (order numbers, phones, addresses, … are not knowledge).
AI_KINDS = {"device_model": EntityKind.MODEL, "error_code": EntityKind.FAULT_CODE}
MODEL_KINDS = frozenset({EntityKind.MODEL, EntityKind.PRODUCT})


def _invalid(message: str, field: str) -> ValidationFailed:
    return ValidationFailed(message, code=KnowledgeErrorCode.INVALID_VALUE, details={field: message})


# --- the catalogue ----------------------------------------------------------------------------------------------


def _clean_aliases(aliases: Iterable[str]) -> list[str]:
    out = list(dict.fromkeys(a for a in (without_nul(str(a)).strip() for a in aliases) if a))
    if len(out) > MAX_ALIASES or any(len(a) > MAX_LABEL for a in out):
        raise _invalid(
            gettext("At most %(n)s other spellings, each of 1 to %(m)s characters.")
            % {"n": MAX_ALIASES, "m": MAX_LABEL},
            "aliases",
        )
    return out


def catalogue_save(
    *, actor: Actor, workspace: Workspace, kind: str, label: str, aliases: Sequence[str] = ()
) -> GraphEntity:
    """Enter an entity in the workspace's catalogue (or update the entry of the same kind and name): it is then
    found in tickets and articles by its label and its other spellings."""
    authorize(actor, Perm.KNOWLEDGE_MANAGE, workspace_id=workspace.pk)
    if kind not in EntityKind.values:
        raise _invalid(gettext("Unknown kind of entity “%(kind)s”.") % {"kind": kind}, "kind")
    label = without_nul(label or "").strip()
    key = domain.normal_key(label)
    if not key or len(label) > MAX_LABEL or len(key) > MAX_KEY:
        raise _invalid(gettext("A name of 1 to %(n)s characters is needed.") % {"n": MAX_KEY}, "label")
    cleaned = [a for a in _clean_aliases(aliases) if domain.normal_key(a) != key]
    with transaction.atomic():
        entity, _created = GraphEntity.objects.select_for_update().get_or_create(
            workspace=workspace, kind=kind, key=key, defaults={"label": label}
        )
        entity.label, entity.aliases, entity.catalogued = label, cleaned, True
        entity.save(update_fields=["label", "aliases", "catalogued", "updated_at"])
    return entity


def catalogue(workspace_id: int) -> list[domain.CatalogueEntry]:
    """The workspace's catalogue as the matcher takes it."""
    rows = GraphEntity.objects.filter(workspace_id=workspace_id, catalogued=True).order_by("kind", "key")
    return [domain.CatalogueEntry(e.kind, e.key, e.label, tuple(str(a) for a in e.aliases or ())) for e in rows]


# --- indexing ---------------------------------------------------------------------------------------------------


def _ensure(workspace_id: int, found: Iterable[domain.Found]) -> set[int]:
    """The ids of the entities found, created (not catalogued) where the workspace has none of that kind and key."""
    wanted = {(f.kind, f.key[:MAX_KEY]): f.label[:MAX_LABEL] for f in found if f.key}
    if not wanted:
        return set()
    keys = {key for _kind, key in wanted}

    def existing() -> dict[tuple[str, str], int]:
        rows = GraphEntity.objects.filter(workspace_id=workspace_id, key__in=keys).values_list("kind", "key", "pk")
        return {(kind, key): pk for kind, key, pk in rows}

    have = existing()
    missing = [
        GraphEntity(workspace_id=workspace_id, kind=kind, key=key, label=label)
        for (kind, key), label in wanted.items()
        if (kind, key) not in have
    ]
    if missing:
        GraphEntity.objects.bulk_create(missing, ignore_conflicts=True)
        have = existing()
    return {have[k] for k in wanted if k in have}


def _store_mentions(
    workspace_id: int, ids: set[int], *, ticket_id: int | None = None, article_id: int | None = None
) -> None:
    """Make the document's mentions exactly `ids` (running twice changes nothing)."""
    own = Q(ticket_id=ticket_id) if ticket_id is not None else Q(article_id=article_id)
    with transaction.atomic():
        Mention.objects.filter(own, workspace_id=workspace_id).exclude(entity_id__in=ids).delete()
        have = set(Mention.objects.filter(own, workspace_id=workspace_id).values_list("entity_id", flat=True))
        Mention.objects.bulk_create(
            [
                Mention(workspace_id=workspace_id, entity_id=pk, ticket_id=ticket_id, article_id=article_id)
                for pk in sorted(ids - have)
            ],
            ignore_conflicts=True,
        )


def _ai_found(ticket: Ticket, entries: Sequence[domain.CatalogueEntry]) -> list[domain.Found]:
    """The AI step's device models and error codes, as the catalogue names them where it knows them."""
    out: list[domain.Found] = []
    rows = ExtractedEntity.objects.filter(ticket=ticket, kind__in=AI_KINDS).values_list("kind", "value")
    for kind, value in rows:
        graph_kind = AI_KINDS[kind]
        known = [
            f
            for f in domain.extract(value, entries)
            if f.kind in (MODEL_KINDS if kind == "device_model" else {graph_kind})
        ]
        label = domain.fault_code_label(value) if graph_kind == EntityKind.FAULT_CODE else value
        out.extend(known or [domain.Found(graph_kind, domain.normal_key(label), label)])
    return out


def _solution_found(resolution: Resolution | None, entries: Sequence[domain.CatalogueEntry]) -> list[domain.Found]:
    """What the resolution says was done: its article or root cause, and catalogued solutions in its words."""
    if resolution is None or resolution.resolved_at is None:
        return []
    solutions = [e for e in entries if e.kind == EntityKind.SOLUTION]
    named = ""
    if resolution.article is not None:
        named = resolution.article.title
    elif resolution.root_cause is not None:
        cause = resolution.root_cause
        named = cause.name_zh or cause.name_en or cause.code
    out = domain.extract(named, solutions) if named else []
    if named and not out:
        out = [domain.Found(EntityKind.SOLUTION, domain.normal_key(named), named)]
    return out + domain.extract(resolution.solution or "", solutions)


def _ticket_text(ticket: Ticket) -> str:
    bodies = (
        Message.objects.filter(ticket=ticket)
        .exclude(kind=MessageKind.SYSTEM)
        .order_by("created_at", "pk")
        .values_list("body_text", flat=True)
    )
    return "\n".join([ticket.subject, *bodies])[: domain.MAX_TEXT]


def index_ticket(*, actor: Actor, ticket_id: int) -> set[int]:
    """Record the entities a ticket mentions: the AI step's models and error codes, catalogue entries and
    patterns in its subject and messages, and the solution its resolution names. Returns the entity ids; run by
    the system (a task), idempotent."""
    authorize_system(actor)
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None:
        return set()
    entries = catalogue(ticket.workspace_id)
    found = [f for f in domain.extract(_ticket_text(ticket), entries) if f.kind != EntityKind.SOLUTION]
    found += _ai_found(ticket, entries)
    resolution = Resolution.objects.filter(ticket_id=ticket.pk).select_related("article", "root_cause").first()
    found += _solution_found(resolution, entries)
    ids = _ensure(ticket.workspace_id, found)
    _store_mentions(ticket.workspace_id, ids, ticket_id=ticket.pk)
    return ids


def index_article(*, actor: Actor, article_id: int) -> set[int]:
    """Record the entities an article's title and body mention (catalogue entries and patterns). Idempotent."""
    authorize_system(actor)
    article = Article.objects.filter(pk=article_id).first()
    if article is None:
        return set()
    entries = catalogue(article.workspace_id)
    ids = _ensure(article.workspace_id, domain.extract(f"{article.title}\n{article.body}", entries))
    _store_mentions(article.workspace_id, ids, article_id=article.pk)
    return ids


def index_workspace(*, actor: Actor, workspace_id: int) -> int:
    """Index every ticket and article of the workspace (after a catalogue change); returns how many."""
    authorize_system(actor)
    tickets = list(Ticket.objects.filter(workspace_id=workspace_id).values_list("pk", flat=True))
    articles = list(Article.objects.filter(workspace_id=workspace_id).values_list("pk", flat=True))
    for pk in tickets:
        index_ticket(actor=actor, ticket_id=pk)
    for pk in articles:
        index_article(actor=actor, article_id=pk)
    return len(tickets) + len(articles)


# --- edges ------------------------------------------------------------------------------------------------------


def _documents(workspace_id: int) -> Iterator[tuple[list[int], bool | None]]:
    """Each ticket's and article's entity ids with its outcome, streamed from one ordered query."""
    outcomes = dict(
        Resolution.objects.filter(workspace_id=workspace_id, resolved_at__isnull=False).values_list(
            "ticket_id", "succeeded"
        )
    )
    rows = (
        Mention.objects.filter(workspace_id=workspace_id)
        .order_by("ticket_id", "article_id", "entity_id")
        .values_list("ticket_id", "article_id", "entity_id")
        .iterator(chunk_size=2000)
    )
    current: tuple[int | None, int | None] | None = None
    ids: list[int] = []
    for ticket_id, article_id, entity_id in rows:
        if (ticket_id, article_id) != current:
            if current is not None:
                yield ids, outcomes.get(current[0]) if current[0] is not None else None
            current, ids = (ticket_id, article_id), []
        ids.append(entity_id)
    if current is not None:
        yield ids, outcomes.get(current[0]) if current[0] is not None else None


def rebuild(*, actor: Actor, workspace_id: int) -> int:
    """Recompute every edge of the workspace's graph from the mentions and the resolutions (weight = documents
    mentioning both; for a solution and another entity, resolved tickets tried and succeeded). Returns the number
    of edges. Run by the system; idempotent."""
    authorize_system(actor)
    solutions = frozenset(
        GraphEntity.objects.filter(workspace_id=workspace_id, kind=EntityKind.SOLUTION).values_list("pk", flat=True)
    )
    counts = domain.count_edges(_documents(workspace_id), solutions=solutions)
    edges = [
        GraphEdge(
            workspace_id=workspace_id,
            source_id=a,
            target_id=b,
            weight=c.weight,
            successes=c.successes,
            trials=c.trials,
        )
        for (a, b), c in counts.items()
    ]
    with transaction.atomic():
        GraphEdge.objects.filter(workspace_id=workspace_id).delete()
        GraphEdge.objects.bulk_create(edges, batch_size=BATCH)
    return len(edges)


# --- reads (the graph view) -------------------------------------------------------------------------------------


def entities(*, workspace_id: int, query: str = "", kind: str = "") -> QuerySet[GraphEntity]:
    """The workspace's entities, filtered by kind and by a query in the key, the label or (catalogue) aliases."""
    qs = GraphEntity.objects.filter(workspace_id=workspace_id)
    if kind in EntityKind.values:
        qs = qs.filter(kind=kind)
    query = without_nul(query or "").strip()[:MAX_LABEL]
    if query:
        qs = qs.filter(Q(key__icontains=query) | Q(label__icontains=query) | Q(aliases__icontains=query))
    return qs.order_by("kind", "key")


def access_entity(*, workspace_id: int, entity_id: int | None) -> GraphEntity:
    """An entity of the workspace, or NotFound (another workspace's is not told apart from none)."""
    entity = GraphEntity.objects.filter(workspace_id=workspace_id, pk=entity_id or 0).first()
    if entity is None:
        raise NotFound(gettext("No such entity."), code=KnowledgeErrorCode.NOT_FOUND)
    return entity


def neighbours(entity: GraphEntity, *, limit: int = 50) -> list[tuple[GraphEntity, GraphEdge]]:
    """The entities seen with this one, heaviest edge first, each with its edge."""
    edges = (
        GraphEdge.objects.filter(Q(source=entity) | Q(target=entity), workspace_id=entity.workspace_id)
        .select_related("source", "target")
        .order_by("-weight", "-trials", "pk")[:limit]
    )
    return [(edge.target if edge.source_id == entity.pk else edge.source, edge) for edge in edges]


def evidence(entity: GraphEntity, *, limit: int = 50) -> QuerySet[Ticket]:
    """The tickets that mention this entity, newest first."""
    mentioned = Mention.objects.filter(workspace_id=entity.workspace_id, entity=entity, ticket__isnull=False)
    return (
        Ticket.objects.filter(workspace_id=entity.workspace_id, pk__in=mentioned.values("ticket_id"))
        .select_related("resolution")
        .order_by("-created_at", "-pk")[:limit]
    )
