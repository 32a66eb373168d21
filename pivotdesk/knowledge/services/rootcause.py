"""Root cause from context: the workspace's tree of root-cause / resolution codes, the code an agent sets at solve
time, and the code the model suggests from the ticket's words and its enrichment facts.

- `root_cause_save` writes a code of the tree (gated by `knowledge.manage`; a code never ends up inside itself);
- `resolution_record` stores how a ticket was resolved (gated like a ticket update; one row per ticket), with what
  the model had suggested before the agent chose, so acceptance can be measured;
- `suggest` reads the ticket's subject and the customer's messages, and the facts the connectors attached to its
  entities (`ExtractedEntity.enrichment`), and answers a code with its solution template, or abstains; the reasons
  say which facts decided, in the reader's language;
- `mark_reopened` marks a ticket's resolution as not having worked (the reopen subscriber calls it);
- `evaluate_holdout` and `template_acceptance` measure it.

The per-workspace model (`domain.rootcause`) is trained from the workspace's resolutions that have a root cause and
cached per process, keyed by a one-row stamp of its resolutions (count, newest change): a new or changed resolution
retrains it on the next suggestion.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import IntegrityError, transaction
from django.db.models import Count, Max
from django.utils.translation import get_language, gettext

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.accounts.permissions import Perm, authorize, authorize_system
from pivotdesk.ai.domain import texts as ai_texts
from pivotdesk.ai.models import ExtractedEntity
from pivotdesk.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from pivotdesk.common.text import without_nul
from pivotdesk.common.time import now
from pivotdesk.tickets import selectors as ticket_selectors
from pivotdesk.tickets.models import Message, Ticket

from ..domain import rootcause as domain
from ..errors import KnowledgeErrorCode
from ..models import Article, ArticleStatus, Resolution, RootCause

MAX_CODE = 64
MAX_NAME = 120
MAX_SOLUTION = 20_000
MAX_TRAINING = 5_000  # the newest resolutions a model learns from
MAX_DEPTH = 32  # a tree deeper than this is refused (and bounds the walk up a corrupted one)
_CODE = re.compile(r"^[-a-z0-9_]+$")
_ENRICHMENT_META = frozenset({"kind", "value", "connector", "summary"})
INACTIVE = "inactive"  # abstained: the likeliest code was switched off or deleted since the model learnt it


def _invalid(message: str, field_name: str) -> ValidationFailed:
    return ValidationFailed(message, code=KnowledgeErrorCode.INVALID_VALUE, details={field_name: message})


def _not_found() -> NotFound:
    return NotFound(gettext("Not found."), code=KnowledgeErrorCode.NOT_FOUND)


# ---- the tree -----------------------------------------------------------------------------------------------------


def _clean_names(code: str, name_zh: str, name_en: str) -> tuple[str, str, str]:
    code = without_nul(code or "").strip().lower()
    name_zh, name_en = without_nul(name_zh or "").strip(), without_nul(name_en or "").strip()
    if not _CODE.match(code) or len(code) > MAX_CODE:
        raise _invalid(
            gettext("A root-cause code is 1 to %(n)s lower-case letters, digits, hyphens or underscores.")
            % {"n": MAX_CODE},
            "code",
        )
    if not name_zh or len(name_zh) > MAX_NAME or len(name_en) > MAX_NAME:
        raise _invalid(
            gettext("A root cause needs a Chinese name of 1 to %(n)s characters.") % {"n": MAX_NAME}, "name_zh"
        )
    return code, name_zh, name_en


def _check_parent(root_cause: RootCause | None, parent: RootCause | None) -> None:
    """Refuse a parent that is the code itself or one of its descendants, or that makes the tree too deep."""
    ancestor, depth = parent, 0
    while ancestor is not None:
        if root_cause is not None and ancestor.pk == root_cause.pk:
            raise _invalid(gettext("A root cause cannot be inside itself."), "parent")
        depth += 1
        if depth >= MAX_DEPTH:
            raise _invalid(gettext("The root-cause tree is at most %(n)s levels deep.") % {"n": MAX_DEPTH}, "parent")
        ancestor = ancestor.parent


def root_cause_save(
    *,
    actor: Actor,
    workspace: Workspace,
    code: str,
    name_zh: str,
    name_en: str = "",
    parent: RootCause | None = None,
    template: Article | None = None,
    is_active: bool = True,
    root_cause: RootCause | None = None,
) -> RootCause:
    """Create a root-cause code (under `parent`, answered by the solution `template`), or change `root_cause`."""
    authorize(actor, Perm.KNOWLEDGE_MANAGE, workspace_id=workspace.pk)
    code, name_zh, name_en = _clean_names(code, name_zh, name_en)
    for obj in (parent, template, root_cause):
        if obj is not None and obj.workspace_id != workspace.pk:
            raise _not_found()
    _check_parent(root_cause, parent)
    values = {
        "code": code,
        "name_zh": name_zh,
        "name_en": name_en,
        "parent": parent,
        "template": template,
        "is_active": is_active,
    }
    try:
        with transaction.atomic():
            if root_cause is None:
                return RootCause.objects.create(workspace=workspace, **values)
            for name, value in values.items():
                setattr(root_cause, name, value)
            root_cause.save()
            return root_cause
    except IntegrityError as exc:
        raise Conflict(
            gettext("A root cause with the code “%(code)s” exists already.") % {"code": code},
            code=KnowledgeErrorCode.DUPLICATE_NAME,
        ) from exc


# ---- what a ticket says -------------------------------------------------------------------------------------------


def _entity_facts(enrichment: object) -> object:
    """What a connector said about one entity: its picked fields (the lookup's metadata left out)."""
    if not isinstance(enrichment, Mapping) or not enrichment:
        return None
    fields = enrichment.get("fields")
    if isinstance(fields, Mapping):
        return fields
    return {k: v for k, v in enrichment.items() if k not in _ENRICHMENT_META}


def ticket_facts(ticket_ids: Iterable[int], workspace_id: int) -> dict[int, dict[str, list[object]]]:
    """Per ticket, the enrichment facts of its entities by entity kind (`{"order": [{"last_node": …}]}`)."""
    out: dict[int, dict[str, list[object]]] = {}
    rows = (
        ExtractedEntity.objects.filter(workspace_id=workspace_id, ticket_id__in=list(ticket_ids))
        .order_by("ticket_id", "pk")
        .values_list("ticket_id", "kind", "enrichment")
    )
    for ticket_id, kind, enrichment in rows:
        facts = _entity_facts(enrichment)
        if facts:
            out.setdefault(ticket_id, {}).setdefault(kind, []).append(facts)
    return out


def ticket_texts(subjects: Mapping[int, str]) -> dict[int, str]:
    """Per ticket, its subject and the customer's public messages (newest last; the first message when the customer
    wrote none), as triage reads them."""
    bodies: dict[int, list[str]] = {}
    first: dict[int, str] = {}
    rows = (
        Message.objects.filter(ticket_id__in=list(subjects))
        .order_by("ticket_id", "created_at", "pk")
        .values_list("ticket_id", "author_type", "kind", "body_text")
    )
    for ticket_id, author_type, kind, body in rows:
        first.setdefault(ticket_id, body or "")
        if author_type == "contact" and kind == "public":
            bodies.setdefault(ticket_id, []).append(body or "")
    return {
        ticket_id: f"{subject}\n{ai_texts.messages_text(bodies.get(ticket_id, []), first.get(ticket_id, ''))}"
        for ticket_id, subject in subjects.items()
    }


def ticket_features(ticket: Ticket) -> domain.Features:
    """The features the model reads for one ticket."""
    text = ticket_texts({ticket.pk: ticket.subject})[ticket.pk]
    return domain.featurize(text, ticket_facts([ticket.pk], ticket.workspace_id).get(ticket.pk, {}))


def training_samples(workspace_id: int) -> list[tuple[int, domain.Sample]]:
    """(ticket id, (features, root-cause id)) for the workspace's newest resolutions that have a root cause."""
    rows = list(
        Resolution.objects.filter(workspace_id=workspace_id, root_cause__isnull=False)
        .order_by("-updated_at", "-pk")
        .values_list("ticket_id", "ticket__subject", "root_cause_id")[:MAX_TRAINING]
    )
    rows.sort()
    texts = ticket_texts({ticket_id: subject for ticket_id, subject, _ in rows})
    facts = ticket_facts([ticket_id for ticket_id, _, _ in rows], workspace_id)
    return [
        (ticket_id, (domain.featurize(texts[ticket_id], facts.get(ticket_id, {})), str(cause_id)))
        for ticket_id, _, cause_id in rows
    ]


# ---- the per-workspace model --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Trained:
    stamp: tuple[Any, ...]
    model: domain.RootCauseModel


_models: dict[int, _Trained] = {}
_models_lock = threading.Lock()


def _stamp(workspace_id: int) -> tuple[Any, ...]:
    row = Resolution.objects.filter(workspace_id=workspace_id).aggregate(n=Count("pk"), m=Max("updated_at"))
    return (row["n"], row["m"])


def workspace_model(workspace_id: int) -> domain.RootCauseModel:
    """The workspace's model, retrained when its resolutions moved since it was cached."""
    stamp = _stamp(workspace_id)
    cached = _models.get(workspace_id)
    if cached is not None and cached.stamp == stamp:
        return cached.model
    with _models_lock:
        cached = _models.get(workspace_id)
        if cached is None or cached.stamp != stamp:
            model = domain.fit(sample for _, sample in training_samples(workspace_id))
            cached = _Trained(stamp=stamp, model=model)
            _models[workspace_id] = cached
        return cached.model


def forget_models() -> None:
    """Drop every cached model (tests)."""
    _models.clear()


# ---- suggesting ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    """The root cause the model suggests for a ticket, with its solution template, or an abstention (`root_cause`
    None; `abstain_reason` a stable code). `reasons` are readable in the active language; `evidence` the deciding
    features with their share of the log-odds (facts first)."""

    root_cause: RootCause | None
    confidence: float
    abstained: bool
    reasons: list[str]
    template: Article | None = None
    abstain_reason: str = ""
    evidence: list[tuple[str, float]] = field(default_factory=list)


def _chinese() -> bool:
    return (get_language() or "zh-hans").lower().startswith("zh")


def cause_name(cause: RootCause | None) -> str:
    """A code's name in the reader's language (the Chinese name when it has no English one)."""
    if cause is None:
        return "?"
    return cause.name_zh if _chinese() or not cause.name_en else cause.name_en


def _evidence_text(feature: str, cause: str) -> str:
    if domain.is_fact(feature):
        name, _, value = feature.removeprefix(domain.FACT_PREFIX).partition("=")
        return gettext("The fact %(fact)s = %(value)s points to “%(cause)s”.") % {
            "fact": name,
            "value": value,
            "cause": cause,
        }
    word = feature.removeprefix(domain.WORD_PREFIX)
    return gettext("The word “%(word)s” points to “%(cause)s”.") % {"word": word, "cause": cause}


def _abstain_text(prediction: domain.Prediction, causes: Mapping[str, RootCause], samples: int) -> str:
    best, other = cause_name(causes.get(prediction.best or "")), cause_name(causes.get(prediction.runner_up or ""))
    why = prediction.abstain_reason
    if why == domain.Abstain.UNTRAINED:
        return gettext("No resolved ticket has a root cause yet: there is nothing to learn from.")
    if why == domain.Abstain.ONE_LABEL:
        return gettext("Every resolved ticket so far has the same root cause: there is nothing to tell apart.")
    if why == domain.Abstain.FEW_SAMPLES:
        return gettext("Only %(n)s resolved tickets had the root cause “%(cause)s”: too few to suggest it.") % {
            "n": samples,
            "cause": best,
        }
    if why == domain.Abstain.LOW_CONFIDENCE:
        return gettext("Not sure enough: “%(cause)s” is only %(percent)s%% likely.") % {
            "cause": best,
            "percent": round(prediction.confidence * 100),
        }
    if why == domain.Abstain.SMALL_MARGIN:
        return gettext("Undecided between “%(cause)s” and “%(other)s”.") % {"cause": best, "other": other}
    return gettext("The likeliest root cause “%(cause)s” is no longer in use.") % {"cause": best}


def _template_for(cause: RootCause, language: str) -> Article | None:
    """The code's solution template, in the ticket's language when a translation exists (never an archived one)."""
    template = cause.template
    if template is None or template.status == ArticleStatus.ARCHIVED:
        return None
    if language and not template.language.startswith(language[:2].lower()):
        translation = (
            Article.objects.filter(
                workspace_id=template.workspace_id, group=template.group, language__startswith=language[:2].lower()
            )
            .exclude(status=ArticleStatus.ARCHIVED)
            .first()
        )
        return translation or template
    return template


def _causes(workspace_id: int, prediction: domain.Prediction) -> dict[str, RootCause]:
    ids = [int(label) for label in (prediction.best, prediction.runner_up) if label]
    rows = RootCause.objects.filter(workspace_id=workspace_id, pk__in=ids).select_related("template")
    return {str(c.pk): c for c in rows}


def suggest(ticket: Ticket) -> Suggestion:
    """The root cause of a ticket from its words and its enrichment facts, with the solution template; or an
    abstention saying why."""
    model = workspace_model(ticket.workspace_id)
    prediction = model.predict(ticket_features(ticket))
    causes = _causes(ticket.workspace_id, prediction)
    best = causes.get(prediction.best or "")
    if not prediction.abstained and (best is None or not best.is_active):
        prediction = domain.Prediction(
            None, prediction.confidence, True, prediction.reasons, prediction.best, prediction.runner_up, INACTIVE
        )
    reasons = [_evidence_text(f, cause_name(best)) for f, _ in prediction.reasons]
    if prediction.abstained:
        index = model.labels.index(prediction.best) if prediction.best in model.labels else -1
        samples = int(model.class_samples[index]) if index >= 0 else 0
        reasons.insert(0, _abstain_text(prediction, causes, samples))
    cause = None if prediction.abstained else best
    return Suggestion(
        root_cause=cause,
        confidence=prediction.confidence,
        abstained=prediction.abstained,
        reasons=reasons,
        template=_template_for(cause, ticket.language) if cause is not None else None,
        abstain_reason=prediction.abstain_reason,
        evidence=list(prediction.reasons),
    )


# ---- recording how a ticket was resolved --------------------------------------------------------------------------


def _check_resolution_input(
    actor: Actor, ticket: Ticket, root_cause: RootCause | None, article: Article | None
) -> None:
    if actor.agent is not None:
        visible = ticket_selectors.visible_tickets(workspace=ticket.workspace, agent=actor.agent)
        if not visible.filter(pk=ticket.pk).exists():
            raise NotFound(gettext("Ticket not found."), code=KnowledgeErrorCode.NOT_FOUND)
    for obj in (root_cause, article):
        if obj is not None and obj.workspace_id != ticket.workspace_id:
            raise _not_found()
    if root_cause is not None and not root_cause.is_active:
        raise _invalid(gettext("This root cause is no longer in use."), "root_cause")


def resolution_record(
    *, actor: Actor, ticket: Ticket, root_cause: RootCause | None, article: Article | None = None, solution: str = ""
) -> Resolution:
    """Record (or change) how a ticket was resolved: its root cause, the article that solved it, the solution in
    the agent's words. The first record also keeps what the model suggested then; recording the same again
    changes nothing."""
    authorize(actor, Perm.TICKET_UPDATE, workspace_id=ticket.workspace_id)
    if actor.kind == "contact":  # a customer may update its own request at intake, never the desk's diagnosis
        raise PermissionDenied(gettext("Your role may not do this."), code="permission_denied")
    _check_resolution_input(actor, ticket, root_cause, article)
    solution = without_nul(solution or "").strip()
    if len(solution) > MAX_SOLUTION:
        raise _invalid(gettext("The solution is longer than %(n)s characters.") % {"n": MAX_SOLUTION}, "solution")
    existing = Resolution.objects.filter(ticket=ticket).first()
    suggestion = suggest(ticket) if existing is None or existing.suggested_confidence is None else None
    with transaction.atomic():
        resolution, created = Resolution.objects.select_for_update().get_or_create(
            ticket=ticket, defaults={"workspace_id": ticket.workspace_id}
        )
        wanted: dict[str, Any] = {
            "root_cause_id": root_cause.pk if root_cause is not None else None,
            "article_id": article.pk if article is not None else None,
            "solution": solution,
            "succeeded": True,
        }
        if suggestion is not None and resolution.suggested_confidence is None:
            wanted["suggested_id"] = suggestion.root_cause.pk if suggestion.root_cause is not None else None
            wanted["suggested_confidence"] = suggestion.confidence
        if not created and all(getattr(resolution, name) == value for name, value in wanted.items()):
            return resolution
        for name, value in wanted.items():
            setattr(resolution, name, value)
        resolution.resolved_by = actor.agent
        resolution.resolved_at = now()
        resolution.save()
        return resolution


def mark_reopened(*, actor: Actor, ticket: Ticket) -> int:
    """The ticket was reopened: its resolution did not work (`succeeded` False). The number of rows changed (0 when
    it had no resolution or was marked already)."""
    authorize_system(actor)
    return Resolution.objects.filter(ticket=ticket, succeeded=True).update(succeeded=False, updated_at=now())


# ---- measuring ----------------------------------------------------------------------------------------------------


class HoldoutResult(NamedTuple):
    """Accuracy on the held-out tickets the model answered, the share it answered, and how many were held out."""

    accuracy: float
    coverage: float
    n: int


def _rank(ticket_id: int, seed: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{ticket_id}".encode()).digest()[:8], "big")


def held_out_ids(samples: list[tuple[int, domain.Sample]], test_share: float, seed: int) -> set[int]:
    """The held-out tickets: of each root cause's tickets, the share `test_share` (rounded, leaving at least one to
    train on) that come first in a hash of their ids. The split is the same on every run, its size depends only on
    how many tickets each cause has (not on which ids a database handed out), and every cause is in both parts."""
    by_label: dict[str, list[int]] = {}
    for ticket_id, (_, label) in samples:
        by_label.setdefault(label, []).append(ticket_id)
    chosen: set[int] = set()
    for ids in by_label.values():
        take = min(round(len(ids) * test_share), len(ids) - 1)
        chosen.update(sorted(ids, key=lambda ticket_id: _rank(ticket_id, seed))[:take])
    return chosen


def evaluate_holdout(workspace_id: int, test_share: float = 0.3, seed: int = 0) -> HoldoutResult:
    """Train on the workspace's resolved tickets outside the held-out part, and score the held-out part."""
    samples = training_samples(workspace_id)
    held = held_out_ids(samples, test_share, seed)
    train = [sample for ticket_id, sample in samples if ticket_id not in held]
    test = [sample for ticket_id, sample in samples if ticket_id in held]
    model = domain.fit(train)
    predictions = [(model.predict(features), label) for features, label in test]
    answered = [(p.label, label) for p, label in predictions if not p.abstained]
    right = sum(predicted == label for predicted, label in answered)
    return HoldoutResult(
        accuracy=right / len(answered) if answered else 0.0,
        coverage=len(answered) / len(test) if test else 0.0,
        n=len(test),
    )


def template_acceptance(workspace_id: int) -> tuple[float, int]:
    """Of the resolutions whose suggested root cause had a solution template, the share solved with that template
    (the article recorded with the resolution), and how many there were."""
    rows = list(
        Resolution.objects.filter(workspace_id=workspace_id, suggested__template__isnull=False).values_list(
            "article_id", "suggested__template_id", "suggested__template__group"
        )
    )
    if not rows:
        return 0.0, 0
    groups = dict(
        Article.objects.filter(workspace_id=workspace_id, pk__in=[r[0] for r in rows if r[0]]).values_list(
            "pk", "group"
        )
    )
    accepted = sum(article_id is not None and groups.get(article_id) == group for article_id, _, group in rows)
    return accepted / len(rows), len(rows)
