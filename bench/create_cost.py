"""Load-independent cost of creating a ticket: SQL statements, database commits and broker messages per ticket.

`python bench/create_cost.py REPO` measures the checkout at REPO (this one, or the worktree of today's code that
bench/foundation.py makes) in a fresh SQLite database, with the embedded broker as in `make run`: 50 warm-up
tickets, then 200 counted ones (`contact_resolve` + `ticket_create`, 40 returning customers), and prints one JSON
line. The counts do not depend on the machine's load; the rate is printed for reference only.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def measure(repo: Path, n: int = 200) -> dict[str, Any]:
    sys.path.insert(0, str(repo))
    os.chdir(repo)
    from bench.process import configure_django

    configure_django(Path(tempfile.mkdtemp(prefix="pd-create-cost-")))
    import django

    django.setup()
    from celery.signals import before_task_publish
    from django.core.management import call_command
    from django.db import connection

    from pivotdesk.accounts.actors import Actor
    from pivotdesk.accounts.services import workspace_create
    from pivotdesk.customers.services import contact_resolve
    from pivotdesk.tickets.services import ticket_create

    call_command("migrate", verbosity=0, interactive=False)

    def actor_kw(fn: Any) -> dict[str, Any]:  # today's code takes no actor in some services
        return {"actor": Actor.system()} if "actor" in inspect.signature(fn).parameters else {}

    workspace = workspace_create(name="Cost", slug="cost", **actor_kw(workspace_create))

    def create(count: int, offset: int) -> None:
        for i in range(count):
            requester = contact_resolve(
                workspace=workspace, kind="email", value=f"c{(offset + i) % 40}@cost.example", name="C",
                **actor_kw(contact_resolve),
            )  # fmt: skip
            ticket_create(
                workspace=workspace, actor=Actor.system(), requester=requester, subject=f"Order {offset + i}",
                body="Please check my order.", channel="api",
            )  # fmt: skip

    create(50, 0)
    counts = {"statements": 0, "commits": 0, "broker_messages": 0}

    def statement(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        counts["statements"] += 1
        return execute(sql, params, many, context)

    def published(**kwargs: Any) -> None:
        counts["broker_messages"] += 1

    real_commit = connection.commit

    def commit() -> None:
        counts["commits"] += 1
        real_commit()

    before_task_publish.connect(published, weak=False)
    connection.commit = commit  # type: ignore[method-assign]
    started = time.perf_counter()
    with connection.execute_wrapper(statement):
        create(n, 1000)
    seconds = time.perf_counter() - started
    return {**{k: v / n for k, v in counts.items()}, "n": n, "tickets_per_s": round(n / seconds, 1)}


if __name__ == "__main__":
    print(json.dumps(measure(Path(sys.argv[1]).resolve())))
