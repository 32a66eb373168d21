"""The one outbox: back-off arithmetic (property-tested), claims with a lease, fencing, the keyset retry scan.

`common` has no concrete outbox model (and no migrations of its own here), so these tests define a probe model on
the mixin and create its table for the session. The apps' own tests (webhooks, notifications, channels) run the
same functions against their real tables, including a worker killed mid-send.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import statistics
import threading
import time

import pytest
from django.db import OperationalError, connection, models
from hypothesis import given
from hypothesis import strategies as st

from pivotdesk.common import outbox
from pivotdesk.common.domain.backoff import backoff_ceiling, backoff_seconds, expected_backoff_seconds
from pivotdesk.common.outbox import OutboxRow, OutboxStatus
from pivotdesk.common.time import now


class Probe(OutboxRow):
    """A test-only outbox row."""

    body = models.CharField(max_length=50, blank=True)

    class Meta:
        app_label = "common"
        indexes = outbox.outbox_indexes("common_probe")


@pytest.fixture(scope="session")
def _probe_table(django_db_setup, django_db_blocker):
    """The probe's table: made by syncdb while `common` has no migrations, else created here for the session."""
    with django_db_blocker.unblock():
        if Probe._meta.db_table not in connection.introspection.table_names():
            with connection.schema_editor() as editor:
                editor.create_model(Probe)


@pytest.fixture
def probe(_probe_table, transactional_db):
    Probe.objects.all().delete()  # the table is created once per session

    def make(**values: object) -> Probe:
        row = Probe(**values)
        row.save()
        return row

    return make


LEASE = 30.0

# --- back-off (pure) ---------------------------------------------------------------------------------------------

bases = st.floats(min_value=0.5, max_value=600.0, allow_nan=False)
caps = st.floats(min_value=1.0, max_value=86_400.0, allow_nan=False)
attempts = st.integers(min_value=1, max_value=200)


@given(attempt=attempts, base=bases, cap=caps, seed=st.integers(0, 2**32))
def test_a_backoff_is_within_half_and_all_of_its_capped_ceiling(attempt, base, cap, seed):
    delay = backoff_seconds(attempt, base_s=base, cap_s=cap, rng=random.Random(seed))
    ceiling = backoff_ceiling(attempt, base_s=base, cap_s=cap)
    assert ceiling <= cap
    assert ceiling / 2 <= delay <= ceiling
    assert ceiling == min(cap, base * 2 ** (attempt - 1))


@given(attempt=attempts, base=bases, cap=caps)
def test_the_expected_backoff_never_decreases_with_more_attempts(attempt, base, cap):
    assert expected_backoff_seconds(attempt + 1, base_s=base, cap_s=cap) >= expected_backoff_seconds(
        attempt, base_s=base, cap_s=cap
    )


@given(attempt=st.integers(1, 12), seed=st.integers(0, 2**32))
def test_the_sample_mean_of_backoffs_tracks_three_quarters_of_the_ceiling(attempt, seed):
    rng = random.Random(seed)
    samples = [backoff_seconds(attempt, base_s=10.0, cap_s=10_000.0, rng=rng) for _ in range(400)]
    mean = sum(samples) / len(samples)
    # uniform on [c/2, c]: sd = c/(2√12) ≈ 0.144c, so the mean of 400 is within ±0.05c far beyond 5 sigma
    assert abs(mean - expected_backoff_seconds(attempt, base_s=10.0, cap_s=10_000.0)) <= 0.05 * backoff_ceiling(
        attempt, base_s=10.0, cap_s=10_000.0
    )


@given(attempt=attempts, retry_after=st.floats(min_value=0, max_value=10**7, allow_nan=False))
def test_a_platforms_retry_after_is_honoured_when_longer_but_never_beyond_the_cap(attempt, retry_after):
    delay = backoff_seconds(attempt, base_s=30.0, cap_s=3600.0, retry_after=retry_after, rng=random.Random(1))
    assert delay <= 3600.0
    assert delay >= min(retry_after, 3600.0)


def test_sampled_backoffs_grow_from_attempt_to_attempt_until_the_cap():
    rng = random.Random(7)
    means = [statistics.fmean(backoff_seconds(n, rng=rng) for _ in range(400)) for n in range(1, 10)]
    assert all(a <= b for a, b in itertools.pairwise(means))
    assert means[-1] <= backoff_ceiling(9)


def test_attempts_are_counted_from_one():
    with pytest.raises(ValueError):
        backoff_seconds(0)


# --- claims ------------------------------------------------------------------------------------------------------


def test_a_due_queued_row_is_claimed_once_with_a_lease_and_its_attempt_number(probe):
    row = probe()
    at = now()
    claimed = outbox.claim(Probe, pk=row.pk, lease_seconds=LEASE, at=at)
    assert claimed is not None
    assert (claimed.status, claimed.attempts) == (OutboxStatus.SENDING, 1)
    assert claimed.lease_until == claimed.next_attempt_at == at + dt.timedelta(seconds=LEASE)
    # a second claim within the lease loses
    assert outbox.claim(Probe, pk=row.pk, lease_seconds=LEASE, at=at + dt.timedelta(seconds=LEASE - 1)) is None


def test_a_row_not_yet_due_or_terminal_cannot_be_claimed(probe):
    later = probe(next_attempt_at=now() + dt.timedelta(minutes=5))
    sent = probe(status=OutboxStatus.SENT, next_attempt_at=None)
    assert outbox.claim(Probe, pk=later.pk, lease_seconds=LEASE) is None
    assert outbox.claim(Probe, pk=sent.pk, lease_seconds=LEASE) is None


def test_a_send_whose_lease_ran_out_is_claimed_again_and_the_stale_worker_cannot_record_its_outcome(probe):
    row = probe()
    at = now()
    first = outbox.claim(Probe, pk=row.pk, lease_seconds=LEASE, at=at)
    assert first is not None
    # the first worker stalls past its lease; another takes the row over
    second = outbox.claim(Probe, pk=row.pk, lease_seconds=LEASE, at=at + dt.timedelta(seconds=LEASE + 1))
    assert second is not None and second.attempts == 2
    assert outbox.mark_sent(first) is False
    assert outbox.mark_failed(first, reason="late", max_attempts=5) is None
    assert outbox.mark_sent(second) is True
    row.refresh_from_db()
    assert (row.status, row.attempts, row.next_attempt_at, row.lease_until) == (OutboxStatus.SENT, 2, None, None)


def test_a_queryset_narrows_what_may_be_claimed(probe):
    row = probe(body="held")
    assert outbox.claim(Probe.objects.exclude(body="held"), pk=row.pk, lease_seconds=LEASE) is None
    assert outbox.claim(Probe.objects.filter(body="held"), pk=row.pk, lease_seconds=LEASE) is not None


def _claim_through_table_locks(pk: int) -> Probe | None:
    """Claim, waiting out SQLite's in-memory shared-cache table locks: that test database answers "table is locked"
    at once instead of honouring the busy timeout (a file database, and PostgreSQL, simply wait)."""
    for _attempt in range(200):
        try:
            return outbox.claim(Probe, pk=pk, lease_seconds=LEASE)
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(0.005)
    raise AssertionError("the table stayed locked")


@pytest.mark.parametrize("contenders", [2, 4])
def test_concurrent_claimers_of_one_row_produce_exactly_one_winner(probe, contenders):
    rows = [probe() for _ in range(10)]
    for row in rows:
        barrier = threading.Barrier(contenders)
        results: list[object] = []
        errors: list[BaseException] = []

        def worker(
            pk: int = row.pk,
            barrier: threading.Barrier = barrier,
            results: list[object] = results,
            errors: list[BaseException] = errors,
        ) -> None:
            from django.db import connection as conn

            try:
                barrier.wait(10)
                results.append(_claim_through_table_locks(pk))
            except BaseException as exc:  # surfaced below
                errors.append(exc)
            finally:
                conn.close()

        threads = [threading.Thread(target=worker) for _ in range(contenders)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not errors
        assert len(results) == contenders
        assert sum(r is not None for r in results) == 1
        row.refresh_from_db()
        assert (row.status, row.attempts) == (OutboxStatus.SENDING, 1)


# --- outcomes ----------------------------------------------------------------------------------------------------


def test_a_failure_before_the_budget_is_queued_again_after_the_backoff(probe):
    row = probe()
    at = now()
    claimed = outbox.claim(Probe, pk=row.pk, lease_seconds=LEASE, at=at)
    assert claimed is not None
    status = outbox.mark_failed(claimed, reason="HTTP 500", max_attempts=3, base_s=10.0, cap_s=100.0, at=at)
    assert status == OutboxStatus.QUEUED
    row.refresh_from_db()
    assert row.status == OutboxStatus.QUEUED and row.last_error == "HTTP 500" and row.lease_until is None
    assert row.next_attempt_at is not None
    assert at + dt.timedelta(seconds=5) <= row.next_attempt_at <= at + dt.timedelta(seconds=10)


def test_the_last_allowed_failure_is_terminal_with_its_reason(probe):
    row = probe(attempts=2)
    claimed = outbox.claim(Probe, pk=row.pk, lease_seconds=LEASE)
    assert claimed is not None and claimed.attempts == 3
    assert outbox.mark_failed(claimed, reason="HTTP 500", max_attempts=3) == OutboxStatus.FAILED
    row.refresh_from_db()
    assert (row.status, row.next_attempt_at, row.last_error) == (OutboxStatus.FAILED, None, "HTTP 500")
    assert row.failed_at is not None


def test_a_permanent_failure_can_end_in_an_apps_own_terminal_state(probe):
    row = probe()
    claimed = outbox.claim(Probe, pk=row.pk, lease_seconds=LEASE)
    assert claimed is not None
    assert outbox.mark_failed(claimed, reason="no address", max_attempts=5, permanent=True, final_status="suppressed")
    row.refresh_from_db()
    assert (row.status, row.attempts, row.next_attempt_at) == ("suppressed", 1, None)


def test_a_claim_past_the_budget_is_exhausted(probe):
    row = probe(attempts=3, status=OutboxStatus.SENDING, lease_until=now() - dt.timedelta(seconds=1))
    claimed = outbox.claim(Probe, pk=row.pk, lease_seconds=LEASE)
    assert claimed is not None
    assert outbox.exhausted(claimed, max_attempts=3) is True
    assert outbox.exhausted(claimed, max_attempts=4) is False


def test_retry_now_requeues_a_failed_row_with_a_fresh_budget_but_never_a_live_send(probe):
    failed = probe(status=OutboxStatus.FAILED, attempts=6, next_attempt_at=None, failed_at=now())
    live = probe()
    assert outbox.claim(Probe, pk=live.pk, lease_seconds=LEASE) is not None
    ids = outbox.retry_now(
        Probe,
        pks=[failed.pk, live.pk],
        from_statuses=(OutboxStatus.FAILED, OutboxStatus.SENDING),
        fields={"body": "again"},
    )
    assert ids == [failed.pk]
    failed.refresh_from_db()
    live.refresh_from_db()
    assert (failed.status, failed.attempts, failed.failed_at, failed.body) == (OutboxStatus.QUEUED, 0, None, "again")
    assert live.status == OutboxStatus.SENDING


# --- the retry scan ----------------------------------------------------------------------------------------------


def test_the_scan_pages_through_every_due_row_once_in_due_order(probe):
    at = now()
    due_rows = [probe(next_attempt_at=at - dt.timedelta(seconds=i % 7)) for i in range(23)]
    probe(next_attempt_at=at + dt.timedelta(minutes=1))  # not yet due
    probe(status=OutboxStatus.SENT, next_attempt_at=None)
    abandoned = probe(status=OutboxStatus.SENDING, attempts=1)
    Probe.objects.filter(pk=abandoned.pk).update(
        lease_until=at - dt.timedelta(seconds=1), next_attempt_at=at - dt.timedelta(seconds=1)
    )
    seen = list(outbox.scan_due(Probe, at=at, batch_size=5, max_batches=10))
    assert sorted(seen) == sorted([r.pk for r in due_rows] + [abandoned.pk])
    keys = list(Probe.objects.filter(pk__in=seen).values_list("next_attempt_at", "pk"))
    assert [pk for _when, pk in sorted(keys)] == seen


def test_the_scan_stops_after_its_batches_and_the_next_scan_goes_on(probe):
    at = now()
    for _ in range(7):
        probe(next_attempt_at=at - dt.timedelta(seconds=1))
    assert len(list(outbox.scan_due(Probe, at=at, batch_size=3, max_batches=2))) == 6


@pytest.mark.skipif(connection.vendor != "sqlite", reason="reads SQLite's query plan")
def test_the_scan_is_a_range_over_the_due_index(probe):
    probe()
    sql, params = (
        Probe.objects.filter(next_attempt_at__lte=now(), status__in=outbox.OPEN_STATUSES)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", "next_attempt_at")[:200]
        .query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "common_probe_due" in plan and "next_attempt_at<?" in plan
    assert "TEMP B-TREE" not in plan
