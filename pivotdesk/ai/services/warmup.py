"""Loading at worker start what the first triage would otherwise load (issue 13 §3: the first mail in a fresh
worker paid 5.3 CPU-s): jieba's dictionary, the language detector, the workspaces' active models (unpickled and
run once on a sample text, so their featurisers are built), the steps' own default models, the step modules (and
the libraries they import), and the embedding encoder when `pivotdesk.ai.services.embeddings` provides
`warm_up()`.

`start_in_background()` is what the Celery worker (config/celery.py) and the events relay call: a daemon thread, so
start-up is not blocked and a failure is logged, never fatal. Off when AI is off, when
`PIVOTDESK_AI_WARMUP` (setting or environment) is "off"/"0"/"false", and under pytest (a thread reading the database
behind a test's transaction).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
import time
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection

log = logging.getLogger(__name__)

SAMPLE_TEXT = "你好，我的订单还没有发货。Hello, my order has not arrived yet."
MAX_WORKSPACES = 200  # a bound on start-up work; other workspaces load their models at their first ticket
_started = threading.Event()


def enabled() -> bool:
    """Whether warming up is wanted here (see the module docstring)."""
    value = str(getattr(settings, "PIVOTDESK_AI_WARMUP", os.environ.get("PIVOTDESK_AI_WARMUP", "on")))
    if value.strip().lower() in ("off", "0", "false", "no"):
        return False
    if "pytest" in sys.modules:
        return False
    from pivotdesk.ai import selectors

    return selectors.ai_enabled()


def warm_up() -> dict[str, Any]:
    """Load everything now, in this thread; returns what was loaded and the seconds each part took. Each part's
    failure is logged and the rest still loads."""
    report: dict[str, Any] = {}
    for name, part in (
        # The encoder first: it loads with passive OpenMP threads only when the embedding service loads it.
        ("embeddings", _embeddings),
        ("jieba", _jieba),
        ("language", _language),
        ("models", _models),
        ("steps", _steps),
        ("pipeline", _pipeline),
    ):
        started = time.perf_counter()
        try:
            report[name] = part()
        except Exception:  # warming up is an optimisation: the first ticket loads whatever is missing
            log.warning("AI warm-up: %s failed", name, exc_info=True)
            report[name] = "failed"
        report[f"{name}_s"] = round(time.perf_counter() - started, 3)
    return report


def _jieba() -> str:
    from pivotdesk.common.segment import jieba

    jieba().initialize()
    return "loaded"


def _workspace_languages() -> list[tuple[str, ...]]:
    from pivotdesk.accounts.models import Workspace

    seen: set[tuple[str, ...]] = {("zh", "en")}
    for languages, default in Workspace.objects.values_list("languages", "default_language")[:MAX_WORKSPACES]:
        seen.add(tuple(languages or ()) or (default,))
    return sorted(seen)


def _language() -> int:
    from pivotdesk.ai.domain import language

    sets = _workspace_languages()
    for languages in sets:
        language.detect_language(SAMPLE_TEXT, languages)
    return len(sets)


def _models() -> int:
    from pivotdesk.ai.models import ModelVersion
    from pivotdesk.ai.services import training

    loaded = 0
    versions = ModelVersion.objects.filter(active=True).order_by("-updated_at")[: MAX_WORKSPACES * 5]
    for mv in versions:
        try:
            model = training.load_model(mv)
            model.predict_proba([SAMPLE_TEXT])  # builds what the first prediction would (featurisers, tokenizer)
            loaded += 1
        except Exception:
            log.warning("AI warm-up: model %s could not be loaded", mv, exc_info=True)
    return loaded


def _steps() -> int:
    """A dry classify and sentiment step per workspace with active models (nothing is written): what the steps
    load on their own (a default sentiment model, say) is loaded too."""
    from pivotdesk.ai.domain.steps import TriageInput
    from pivotdesk.ai.models import ModelVersion
    from pivotdesk.ai.services import training

    workspace_ids = list(
        ModelVersion.objects.filter(active=True).values_list("workspace_id", flat=True).distinct()[:MAX_WORKSPACES]
    )
    for workspace_id in workspace_ids or []:
        inp = TriageInput(workspace_id=workspace_id, ticket_id=0, subject="", text=SAMPLE_TEXT)
        training.classify_step(inp)
        training.sentiment_step(inp)
    return len(workspace_ids)


def _pipeline() -> int:
    """The step modules (the LLM client library alone took seconds to import on the first ticket) and the pure
    steps' first run on a sample text."""
    from pivotdesk.ai import pipeline
    from pivotdesk.ai.domain import sentiment_lexicon, summary
    from pivotdesk.ai.domain.entities import EntityConfig, extract_entities

    found = sum(pipeline.entry_point(step) is not None for step in pipeline.ENTRY_POINTS)
    sentiment_lexicon.score_sentiment(SAMPLE_TEXT)
    summary.summarize("", SAMPLE_TEXT, facts=[])
    extract_entities(SAMPLE_TEXT, EntityConfig.from_settings({}, catalog=[]))
    return found


def _embeddings() -> str:
    try:
        module = importlib.import_module("pivotdesk.ai.services.embeddings")
    except ImportError:
        return "not installed"
    fn = getattr(module, "warm_up", None)
    if not callable(fn):
        return "no warm_up()"
    fn()
    return "loaded"


def _run() -> None:
    close_old_connections()
    try:
        started = time.process_time()
        report = warm_up()
        log.info("AI warm-up done in %.2f CPU-s: %s", time.process_time() - started, report)
    finally:
        connection.close()  # this thread's own connection


def start_in_background() -> threading.Thread | None:
    """Warm up in a daemon thread (once per process); None when it is off here or already started."""
    if _started.is_set() or not enabled():
        return None
    _started.set()
    thread = threading.Thread(target=_run, name="ai-warmup", daemon=True)
    thread.start()
    return thread
