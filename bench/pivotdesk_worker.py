"""PivotDesk's side of the foundation benchmark, run in its own process against one fresh database.

Usage (the orchestrator in bench/foundation.py does this): python -m bench.pivotdesk_worker CONFIG_JSON OUT_JSON

Settings are process-global, so the database (SQLite in a temp dir or a fresh PostgreSQL database) is chosen
through the environment before django.setup(); migrations run programmatically.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench import bulk, dataset
from bench.measure import latency_summary, rate, throughput_summary, time_requests
from bench.process import configure_django
from pivotdesk.accounts.actors import Actor

BATCH = 5000


def _configure(config: dict[str, Any]) -> None:
    var_dir = Path(config["var_dir"])
    var_dir.mkdir(parents=True, exist_ok=True)
    # The benchmark client sends thousands of requests a minute with one token (the limiter itself still runs); the
    # embedded default broker (Celery on SQLite in the var dir) receives the domain events, as in `make run`.
    configure_django(
        var_dir,
        database_url=config["database_url"],
        log_level="WARNING",
        PIVOTDESK_API_RATE_LIMIT_PER_MINUTE=str(10**9),
    )


class Desk:
    """The fixed part of the data set: workspace, agents, teams, tags, customers, and the API client."""

    def __init__(self, tickets: int) -> None:
        from django.test import Client

        from pivotdesk.accounts.actors import Actor
        from pivotdesk.accounts.services import agent_create, api_token_create, team_create, workspace_create
        from pivotdesk.tickets.models import Tag

        self.contacts = dataset.contact_count(tickets)
        self.workspace = workspace_create(actor=Actor.system("bench"), name="Bench Desk", slug="bench")
        self.admin = agent_create(
            actor=Actor.system("bench"), workspace=self.workspace, username="bench-admin", role="admin"
        )
        self.agents = [
            agent_create(
                actor=Actor.system("bench"),
                workspace=self.workspace,
                username=f"agent{i}",
                email=f"agent{i}@desk.example",
            )
            for i in range(dataset.AGENTS)
        ]
        self.teams = [
            team_create(
                actor=Actor.system("bench"),
                workspace=self.workspace,
                name=f"Team {t}",
                members=[a for i, a in enumerate(self.agents) if dataset.agent_team(i) == t],
            )
            for t in range(dataset.TEAMS)
        ]
        Tag.objects.bulk_create([Tag(workspace=self.workspace, name=name) for name in dataset.TAGS])
        self.tag_ids = dict(Tag.objects.filter(workspace=self.workspace).values_list("name", "pk"))
        self.actor = Actor.for_agent(self.admin)
        _token, secret = api_token_create(actor=Actor.system("bench"), agent=self.admin, name="bench")
        self.client = Client(headers={"Authorization": f"Bearer {secret}"})
        self.loaded = 0
        self._load_contacts()

    def _load_contacts(self) -> None:
        from pivotdesk.common.time import now
        from pivotdesk.customers.models import ChannelIdentity, Contact, CustomerOrganization

        orgs = CustomerOrganization.objects.bulk_create(
            [
                CustomerOrganization(workspace=self.workspace, name=f"Org {i}")
                for i in range(max(1, self.contacts // 40))
            ]
        )
        stamp = {"workspace_id": self.workspace.pk, "created_at": now(), "updated_at": now()}
        for start in range(0, self.contacts, BATCH):
            bulk.insert(
                Contact,
                [
                    {
                        **stamp,
                        "name": dataset.contact_name(i),
                        "email": dataset.contact_email(i),
                        "organization_id": orgs[i % len(orgs)].pk if i % 5 else None,
                    }
                    for i in range(start, min(self.contacts, start + BATCH))
                ],
            )
        self.contact_ids = list(
            Contact.objects.filter(workspace=self.workspace).order_by("pk").values_list("pk", "organization_id")
        )
        for start in range(0, self.contacts, BATCH):
            bulk.insert(
                ChannelIdentity,
                [
                    {**stamp, "contact_id": self.contact_ids[i][0], "kind": "email", "value": dataset.contact_email(i)}
                    for i in range(start, min(self.contacts, start + BATCH))
                ],
            )

    def load_tickets(self, upto: int) -> float:
        """Bulk-insert tickets (with their first message and tags) up to `upto`, bypassing the service layer."""
        from django.db import transaction

        from pivotdesk.tickets.models import TicketSequence

        started = time.perf_counter()
        for start in range(self.loaded, upto, BATCH):
            with transaction.atomic():
                self._load_batch(list(dataset.rows(start, min(upto, start + BATCH), contacts=self.contacts)))
        TicketSequence.objects.update_or_create(workspace=self.workspace, defaults={"last_number": 10000 + upto})
        self.loaded = upto
        return time.perf_counter() - started

    def build_search_documents(self) -> float:
        """The search documents of the bulk-loaded tickets (in production the sweep builds them after each change)."""
        from pivotdesk.search.services import reindex

        started = time.perf_counter()
        reindex(kind="ticket", workspace_id=self.workspace.pk, missing_only=True)
        return time.perf_counter() - started

    def _load_batch(self, rows: list[dataset.TicketRow]) -> None:
        from pivotdesk.tickets.models import Message, Ticket

        ws = self.workspace.pk
        tickets = []
        for r in rows:
            contact_id, org_id = self.contact_ids[r.requester]
            tickets.append(
                {
                    "workspace_id": ws,
                    "number": 10001 + r.index,
                    "subject": r.subject,
                    "status": r.status,
                    "priority": r.priority,
                    "channel": "email",
                    "requester_id": contact_id,
                    "organization_id": org_id,
                    "assignee_id": self.agents[r.assignee].pk if r.assignee is not None else None,
                    "team_id": self.teams[r.team].pk if r.team is not None else None,
                    "created_at": r.created_at,
                    "updated_at": r.updated_at,
                    "assigned_at": r.created_at if r.assignee is not None else None,
                    "last_customer_message_at": r.created_at,
                    "message_count": 1,
                    "solved_at": r.updated_at if r.status in ("solved", "closed") else None,
                    "closed_at": r.updated_at if r.status == "closed" else None,
                }
            )
        bulk.insert(Ticket, tickets)
        ids = dict(
            Ticket.objects.filter(
                workspace_id=ws, number__gte=tickets[0]["number"], number__lte=tickets[-1]["number"]
            ).values_list("number", "pk")
        )
        messages = []
        tags = []
        for t, r in zip(tickets, rows, strict=True):
            pk = ids[t["number"]]
            messages.append(
                {
                    "workspace_id": ws,
                    "ticket_id": pk,
                    "kind": "public",
                    "author_type": "contact",
                    "author_contact_id": t["requester_id"],
                    "body_text": r.body,
                    "body_html": f"<p>{r.body}</p>",
                    "channel": "email",
                    "created_at": r.created_at,
                    "updated_at": r.created_at,
                }
            )
            tags += [{"ticket_id": pk, "tag_id": self.tag_ids[dataset.TAGS[tag]]} for tag in r.tags]
        bulk.insert(Message, messages)
        bulk.insert(Ticket.tags.through, tags)

    def list_url(self, s: dataset.ListScenario, offset: int = 0) -> str:
        params: list[str] = []
        if s.status:
            params.append("status=" + ",".join(s.status))
        if s.assignee is not None:
            params.append(f"assignee={self.agents[s.assignee].pk}")
        if s.team is not None:
            params.append(f"team={self.teams[s.team].pk}")
        if s.tag:
            params.append(f"tag={s.tag}")
        if s.q:
            params.append(f"q={s.q}")
        params += [f"sort={s.sort}", f"limit={dataset.PAGE_SIZE}", f"offset={offset}"]
        return "/api/v1/tickets?" + "&".join(params)


def _api_probe(desk: Desk) -> str | None:
    """None when the tickets API answers as the contract says, else why not."""
    try:
        listed = desk.client.get(desk.list_url(dataset.LIST_SCENARIOS[0]))
        if listed.status_code != 200:
            return f"GET /api/v1/tickets answered {listed.status_code} (the tickets API is not implemented yet?)"
        body = listed.json()
        missing = {"items", "count", "limit", "offset", "next_offset"} - set(body)
        if missing:
            return f"GET /api/v1/tickets lacks {sorted(missing)} in its answer"
    except Exception as exc:
        return f"GET /api/v1/tickets failed: {exc!r}"
    return None


def _query_counts(desk: Desk, api_ok: bool) -> dict[str, dict[str, int]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from pivotdesk.tickets.selectors import TicketFilters, ticket_list

    counts: dict[str, dict[str, int]] = {}
    for s in dataset.LIST_SCENARIOS:
        if api_ok:  # steady state: the token's last_used_at is written at most once a minute, not in the capture
            desk.client.get(desk.list_url(s))
        with CaptureQueriesContext(connection) as ctx:
            if api_ok:
                response = desk.client.get(desk.list_url(s))
                assert response.status_code == 200, response.content[:300]
                matching = response.json()["count"]
            else:  # the selector the API will call: one page and its count
                qs = _selector_query(desk, s, TicketFilters, ticket_list)
                matching = qs.count()
                list(qs[: dataset.PAGE_SIZE])
        counts[s.name] = {"queries": len(ctx.captured_queries), "matching": matching}
    return counts


def _selector_query(desk: Desk, s: dataset.ListScenario, filters_cls: Any, ticket_list: Any) -> Any:
    data: dict[str, Any] = {"status": list(s.status), "tag": s.tag, "q": s.q or ""}
    if s.assignee is not None:
        data["assignee"] = str(desk.agents[s.assignee].pk)
    if s.team is not None:
        data["team"] = desk.teams[s.team].pk
    return ticket_list(workspace=desk.workspace, agent=desk.admin, filters=filters_cls.from_dict(data), sort=s.sort)


def _list_latency(desk: Desk, config: dict[str, Any], api_ok: bool) -> dict[str, Any]:
    from pivotdesk.tickets.selectors import TicketFilters, ticket_list

    out: dict[str, Any] = {}
    for s in dataset.LIST_SCENARIOS:
        url = desk.list_url(s)
        total: int | None = None
        if api_ok:
            first = desk.client.get(url).json()
            total = first["count"]

            def call(url: str = url) -> None:
                response = desk.client.get(url)
                if response.status_code != 200:
                    raise RuntimeError(f"{url} -> {response.status_code}")
        else:

            def call(s: dataset.ListScenario = s) -> None:
                qs = _selector_query(desk, s, TicketFilters, ticket_list)
                qs.count()
                list(qs[: dataset.PAGE_SIZE])

            total = _selector_query(desk, s, TicketFilters, ticket_list).count()
        samples = time_requests(
            call, warmup=config["list_warmup"], n=config["list_n"], budget_s=config["list_budget_s"]
        )
        out[s.name] = {**latency_summary(samples), "matching": total, "via": "api" if api_ok else "selector"}
    return out


def _create_service(desk: Desk, config: dict[str, Any], offset: int) -> dict[str, Any]:
    """What the API's create endpoint does below HTTP: resolve the requester by email, then ticket_create."""
    from pivotdesk.customers.services import contact_resolve
    from pivotdesk.tickets.services import ticket_create

    n = config["create_n"]
    rates = []
    for run in range(-1, config["create_runs"]):  # run -1 is an untimed warm-up
        payloads = [dataset.new_ticket_payload(offset + run * n + i, contacts=desk.contacts) for i in range(n)]
        t0 = time.perf_counter()
        for p in payloads:
            requester = contact_resolve(
                actor=Actor.system("bench"), workspace=desk.workspace, kind="email", value=p["email"], name=p["name"]
            )
            ticket_create(
                workspace=desk.workspace,
                actor=desk.actor,
                requester=requester,
                subject=p["subject"],
                body=p["body"],
                priority=p["priority"],
                channel="api",
            )
        if run >= 0:
            rates.append(rate(n, time.perf_counter() - t0))
    return throughput_summary(rates, n)


def _create_service_without_dispatch(desk: Desk, config: dict[str, Any], offset: int) -> dict[str, Any]:
    """The same with no event dispatcher installed (with events stored as rows, the web path does not use it)."""
    from config.subscribers import dispatch
    from pivotdesk.common.events import set_dispatcher

    set_dispatcher(None)
    try:
        return _create_service(desk, config, offset)
    finally:
        set_dispatcher(dispatch)


def _create_api(desk: Desk, config: dict[str, Any], offset: int) -> dict[str, Any]:
    n = config["create_n"]
    rates = []
    for run in range(-1, config["create_runs"]):  # run -1 is an untimed warm-up
        payloads = [dataset.new_ticket_payload(offset + run * n + i, contacts=desk.contacts) for i in range(n)]
        bodies = [
            json.dumps(
                {
                    "subject": p["subject"],
                    "body": p["body"],
                    "requester": {"name": p["name"], "email": p["email"]},
                    "priority": p["priority"],
                    "channel": "api",
                }
            )
            for p in payloads
        ]
        t0 = time.perf_counter()
        for body in bodies:
            response = desk.client.post("/api/v1/tickets", body, content_type="application/json")
            if response.status_code != 201:
                raise RuntimeError(f"POST /api/v1/tickets -> {response.status_code}: {response.content[:300]!r}")
        if run >= 0:
            rates.append(rate(n, time.perf_counter() - t0))
    return throughput_summary(rates, n)


def _database_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("select sqlite_version()")
            return f"SQLite {cursor.fetchone()[0]}"
        cursor.execute("show server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


def run(config: dict[str, Any]) -> dict[str, Any]:
    _configure(config)
    import django

    django.setup()
    from django.core.management import call_command

    result: dict[str, Any] = {"system": "pivotdesk", "database": config["database"], "notes": [], "errors": []}
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    result["migrate_s"] = round(time.perf_counter() - t0, 2)
    result["database_version"] = _database_version()
    result["framework"] = f"Django {django.get_version()}"

    desk = Desk(config["tickets"])
    small = min(config["small"], config["tickets"])
    load_s = desk.load_tickets(small)
    index_s = desk.build_search_documents()
    api_problem = _api_probe(desk)
    api_ok = api_problem is None
    if not api_ok:
        result["errors"].append(f"API not measured: {api_problem}")
        result["notes"].append("list latency and query counts measured through the selector (ticket_list) instead")
    result["queries_per_page"] = {str(small): _query_counts(desk, api_ok)}
    load_s += desk.load_tickets(config["tickets"])
    index_s += desk.build_search_documents()
    result["bulk_load"] = {"tickets": config["tickets"], "seconds": round(load_s, 1), "contacts": desk.contacts}
    result["search_index"] = {
        "tickets": config["tickets"],
        "seconds": round(index_s, 1),
        "tickets_per_s": round(config["tickets"] / index_s, 1) if index_s else None,
    }
    result["notes"].append(
        f"search documents of the bulk-loaded tickets built in {index_s:.1f} s "
        f"({config['tickets'] / max(index_s, 1e-9):,.0f} tickets/s, one process)"
    )
    result["queries_per_page"][str(config["tickets"])] = _query_counts(desk, api_ok)
    from django.db import connection

    if connection.vendor == "postgresql":  # autovacuum would have analyzed a table this size; SQLite has no such job
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        result["notes"].append("ANALYZE run after the bulk load (as autovacuum would)")
    else:
        result["notes"].append("no ANALYZE after the bulk load (nothing in PivotDesk runs it on SQLite)")
    result["list"] = _list_latency(desk, config, api_ok)
    result["create_service"] = _create_service(desk, config, offset=1_000)
    result["create_service_no_dispatch"] = _create_service_without_dispatch(desk, config, offset=5_000_000)
    if api_ok:
        try:
            result["create_api"] = _create_api(desk, config, offset=10_000_000)
        except Exception as exc:
            result["errors"].append(f"API creation not measured: {exc}")
    result["list_via"] = "api" if api_ok else "selector"
    return result


def main() -> None:
    config = json.loads(sys.argv[1])
    out = Path(sys.argv[2])
    try:
        result = run(config)
    except Exception:
        result = {"system": "pivotdesk", "database": config.get("database"), "fatal": traceback.format_exc()}
    out.write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
