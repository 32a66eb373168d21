"""`pivotdesk ai eval FILE.csv` and `pivotdesk ai train`."""

from __future__ import annotations

import csv
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from pivotdesk.ai.models import ModelVersion
from pivotdesk.ai.tests.synthetic import dataset
from pivotdesk.ai.tests.test_training import _resolved_workspace


def _run(*args: str) -> str:
    out = StringIO()
    call_command("ai", *args, stdout=out)
    return out.getvalue()


def _write(path, n_per_class=15, seed=0):
    texts, labels = dataset(n_per_class, seed=seed)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        writer.writerows(zip(texts, labels, strict=True))


def test_eval_trains_on_a_split_and_reports_accuracy_f1_ece_and_latency(tmp_path):
    path = tmp_path / "tickets.csv"
    _write(path)
    out = _run("eval", str(path), "--per-class")
    assert "trained" in out and "testing on 9" in out  # 20 % of 45 rows
    assert "accuracy=" in out and "macro-F1=" in out and "ECE=" in out
    assert "latency per text: p50" in out and "p99" in out
    assert "shipping" in out  # the per-class table


def test_eval_with_a_separate_test_file(tmp_path):
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    _write(train)
    _write(test, n_per_class=4, seed=7)
    out = _run("eval", str(train), "--test", str(test))
    assert "testing on 12" in out


def test_eval_refuses_a_csv_without_text_and_label(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(CommandError, match="text and label"):
        _run("eval", str(path))


@pytest.mark.django_db
def test_train_command_prints_the_report_and_eval_uses_the_active_model(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    workspace, _, _ = _resolved_workspace(n_per_class=8, open_too=False)
    out = _run("train", "--workspace", workspace.slug, "--field", "category")
    assert f"== {workspace.slug}" in out
    assert "category: v1" in out and "activated: first model" in out
    assert "precision" in out and "confusion" in out
    assert ModelVersion.objects.get(workspace=workspace, field="category").active

    path = tmp_path / "tickets.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        for text, label in zip(*dataset(3, seed=3), strict=True):
            writer.writerow([text, label])
    out = _run("eval", str(path), "--model", f"{workspace.slug}/category")
    assert "accuracy=" in out
