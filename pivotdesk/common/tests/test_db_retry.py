"""`retry_when_locked`: a unit of work that found the database locked runs again after a short pause; any other
error, an error inside an open transaction, and the last lock error go to the caller."""

from __future__ import annotations

import pytest
from django.db import OperationalError, transaction

from pivotdesk.common.db_retry import is_database_locked, retry_when_locked


class Work:
    """Fails with the given errors in turn, then answers 42."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return 42


def test_work_that_found_the_database_locked_runs_again_after_growing_pauses():
    pauses: list[float] = []
    work = Work(OperationalError("database is locked"), OperationalError("database table is locked: x"))
    assert retry_when_locked(work, sleep=pauses.append) == 42
    assert work.calls == 3
    assert 0.025 <= pauses[0] <= 0.05 and 0.05 <= pauses[1] <= 0.1


def test_the_last_lock_error_goes_to_the_caller():
    work = Work(*[OperationalError("database is locked")] * 5)
    with pytest.raises(OperationalError, match="locked"):
        retry_when_locked(work, attempts=3, sleep=lambda s: None)
    assert work.calls == 3


def test_other_errors_are_not_retried():
    work = Work(OperationalError("no such table: x"))
    with pytest.raises(OperationalError, match="no such table"):
        retry_when_locked(work, sleep=lambda s: None)
    assert work.calls == 1
    assert not is_database_locked(ValueError("database is locked"))


@pytest.mark.django_db
def test_inside_a_transaction_the_lock_error_is_raised_at_once():
    """The transaction is broken: only the block that opened it can run it again."""
    work = Work(OperationalError("database is locked"))
    with pytest.raises(OperationalError), transaction.atomic():
        retry_when_locked(work, sleep=lambda s: None)
    assert work.calls == 1
