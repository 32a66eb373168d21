"""Channels benchmark: how fast inbound messages become ticket messages, against bare ticket creation.

`python -m bench.channels [--quick]` (10,000 mails; --quick: 1,000). In its own process on a fresh SQLite database
in a temp dir, with domain events queued on the embedded SQLite broker as in `make run` (the foundation
benchmark's setting), it measures:

- **IMAP poll**: a real dovecot (Debian dovecot-imapd, started on a loopback port) holding N mails in the support
  mailbox; one `mailbox_poll` fetches, stores raw, parses, threads and files them (\\Seen). About 80 % open a
  ticket; 20 % are replies (In-Reply-To an earlier mail) and thread onto one; a third are Chinese (GBK or UTF-8).
- **webhook (raw mail)**: the same kind of mails POSTed to `/channels/in/email/<key>/` through the whole Django
  stack (django.test.Client, no socket): the request stores the payload and queues its processing; the processing
  a worker does (`inbound_process`) is timed separately and both are added up.
- **webhook (generic JSON)**: the same for `/channels/in/generic/<key>/` JSON payloads, when that adapter exists.
- **bare ticket creation**: `contact_resolve` + `ticket_create` (the foundation's "create: service layer"), in the
  same process and database, so the ratio compares like with like; the foundation's own figure from its latest
  results file is shown beside it.

`run(size=...)` runs all that in a subprocess and returns the report (for bench/__main__.py); `rows(report)` gives
the table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
import time
import traceback
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

from bench.process import configure_django, run_worker_module
from pivotdesk.accounts.actors import Actor

RESULTS = Path(__file__).resolve().parent / "results"
SIZES = {"full": 10_000, "quick": 1_000}


def run(*, size: str, log: Any = print) -> dict[str, Any]:
    """Run the channels benchmark in a fresh process (Django settings are process-global)."""
    log(f"  channels ({SIZES[size]:,} mails) …")
    return run_worker_module("bench.channels", size=size, timeout_s=4 * 3600)


def _mails(n: int, *, to: str, seed: int, domain: str) -> list[bytes]:
    """N customer mails: new questions and replies to earlier ones (In-Reply-To), a third in Chinese."""
    rng = random.Random(seed)
    customers = max(1, n // 5)
    sent: list[str] = []
    out = []
    for i in range(n):
        c = rng.randrange(customers)
        msg = EmailMessage()
        chinese = i % 3 == 0
        msg["From"] = f"{'王芳' if chinese else 'Customer'} {c} <c{c}@{domain}>"
        msg["To"] = to
        msg["Message-ID"] = f"<m{seed}.{i}@{domain}>"
        msg["Date"] = "Sat, 21 Nov 2026 10:00:00 +0800"
        if sent and rng.random() < 0.2:
            parent = rng.choice(sent)
            msg["Subject"] = "Re: follow-up"
            msg["In-Reply-To"] = parent
            msg["References"] = parent
            body = "Still broken after the restart.\n\nOn Mon, support wrote:\n> Please restart it."
        else:
            msg["Subject"] = f"打印机卡纸 {i}" if chinese else f"Printer jammed on floor {i}"
            body = (
                "打印机卡纸了，急！请尽快处理，订单号 " if chinese else "The printer is jammed again, order "
            ) + str(i)
            sent.append(msg["Message-ID"])
        msg.set_content(body, charset="gbk" if chinese and i % 2 else "utf-8")
        out.append(msg.as_bytes(policy=SMTP))
    return out


def _fill_maildir(servers: Any, address: str, mails: list[bytes]) -> None:
    import mailbox

    box = mailbox.Maildir(servers.dovecot.mail_root / address, create=True)
    box.lock()
    for raw in mails:
        box.add(raw)
    box.unlock()
    servers.dovecot.deliver(address, None)  # hands the files to the mail user


def _rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1) if seconds > 0 else 0.0


def _bare_creation(workspace: Any, n: int) -> dict[str, Any]:
    from pivotdesk.accounts.actors import Actor
    from pivotdesk.customers.services import contact_resolve
    from pivotdesk.tickets.services import ticket_create

    started = time.perf_counter()
    for i in range(n):
        requester = contact_resolve(
            actor=Actor.system("bench"), workspace=workspace, kind="email", value=f"bare{i % 200}@bench.example"
        )
        ticket_create(
            workspace=workspace,
            requester=requester,
            subject=f"Printer jammed {i}",
            body="The printer is jammed again.",
            actor=Actor.for_contact(requester.pk, requester.display_name),
            channel="email",
        )
    seconds = time.perf_counter() - started
    return {"n": n, "seconds": round(seconds, 2), "per_s": _rate(n, seconds)}


def _imap(workspace: Any, n: int) -> dict[str, Any]:
    from pivotdesk.channels.mailboxes import mailbox_poll
    from pivotdesk.channels.models import InboundPayload
    from pivotdesk.channels.services.accounts import channel_account_create
    from pivotdesk.channels.tests.mailservers import PASSWORD, MailServers, find_dovecot

    binary = find_dovecot()
    if binary is None:
        return {"problem": "dovecot not found (apt-get install dovecot-imapd)"}
    servers = MailServers(binary).start()
    try:
        support = servers.mailbox("support")
        started = time.perf_counter()
        _fill_maildir(servers, support, _mails(n, to=support, seed=1, domain="imap.example"))
        fill = time.perf_counter() - started
        account = channel_account_create(
            actor=Actor.system("bench"),
            workspace=workspace,
            kind="email",
            name="bench imap",
            config=servers.account_config(support, poll_limit=n),
            secrets={"password": PASSWORD},
        )
        started = time.perf_counter()
        result = mailbox_poll(account=account, limit=n)
        seconds = time.perf_counter() - started
        statuses = dict.fromkeys(["processed", "ignored", "duplicate", "failed"], 0)
        for status in InboundPayload.objects.filter(account=account).values_list("status", flat=True):
            statuses[status] = statuses.get(status, 0) + 1
        return {
            "n": n,
            "fill_maildir_s": round(fill, 2),
            "seconds": round(seconds, 2),
            "per_s": _rate(result.stored, seconds),
            "fetched": result.fetched,
            "stored": result.stored,
            "error": result.error,
            "statuses": statuses,
        }
    finally:
        servers.stop()


def _webhook(workspace: Any, n: int, kind: str) -> dict[str, Any]:
    from django.test import Client

    from pivotdesk.channels.models import InboundPayload
    from pivotdesk.channels.services.accounts import channel_account_create
    from pivotdesk.channels.services.inbound import inbound_process

    secrets: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if kind == "generic":
        secrets = {"bearer_token": "bench-token"}
        headers = {"Authorization": "Bearer bench-token"}
    try:
        account = channel_account_create(actor=Actor.system("bench"),
            workspace=workspace, kind=kind, name=f"bench {kind}", config={"address": "hook@bench.example"},
            secrets=secrets,
        )  # fmt: skip
    except Exception as exc:  # the adapter may not exist in this checkout
        return {"problem": f"{type(exc).__name__}: {exc}"}
    if kind == "email":
        bodies = _mails(n, to="hook@bench.example", seed=2, domain="hook.example")
        content_type = "message/rfc822"
    else:
        bodies = [
            json.dumps(
                {
                    "id": f"g{i}",
                    "from": {"id": f"user-{i % 200}", "name": f"User {i % 200}"},
                    "subject": f"Order {i} missing",
                    "text": f"My order {i} has not arrived.",
                }
            ).encode()
            for i in range(n)
        ]
        content_type = "application/json"
    client = Client(headers=headers)
    url = f"/channels/in/{kind}/{account.webhook_key}/"
    started = time.perf_counter()
    for body in bodies:
        response = client.post(url, data=body, content_type=content_type)
        if response.status_code != 202:
            return {"problem": f"POST answered {response.status_code}: {response.content[:300]!r}"}
    accept = time.perf_counter() - started
    payloads = list(
        InboundPayload.objects.filter(account=account).select_related("workspace", "account").order_by("pk")
    )
    started = time.perf_counter()
    for payload in payloads:  # what the worker's channels.process_inbound does, in arrival order
        inbound_process(actor=Actor.system("channel"), payload=payload)
    process = time.perf_counter() - started
    statuses: dict[str, int] = {}
    for status in InboundPayload.objects.filter(account=account).values_list("status", flat=True):
        statuses[status] = statuses.get(status, 0) + 1
    return {
        "n": n,
        "accept_s": round(accept, 2),
        "accept_per_s": _rate(n, accept),
        "process_s": round(process, 2),
        "seconds": round(accept + process, 2),
        "per_s": _rate(n, accept + process),
        "statuses": statuses,
    }


def _foundation_figure() -> dict[str, Any] | None:
    """The latest foundation result's PivotDesk 'create: service layer' median on SQLite, if any was written."""
    files = sorted(RESULTS.glob("foundation-*.json"), key=lambda p: p.stat().st_mtime)
    for path in reversed(files):
        data = json.loads(path.read_text())
        for r in data.get("results", []):
            if r.get("system") == "pivotdesk" and r.get("database") == "sqlite" and r.get("create_service"):
                return {"file": path.name, "per_s": r["create_service"].get("median"), "size": data.get("size")}
    return None


def _worker(size: str, out: Path) -> None:
    n = SIZES[size]
    var_dir = Path(tempfile.mkdtemp(prefix="pd-bench-channels-var-"))
    configure_django(var_dir)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from pivotdesk.accounts.services import workspace_create

    report: dict[str, Any] = {"size": size, "n": n, "database": "sqlite", "errors": []}
    for name, fn in (
        ("bare_create", lambda ws: _bare_creation(ws, min(n, 2000))),
        ("imap", lambda ws: _imap(ws, n)),
        ("webhook_email", lambda ws: _webhook(ws, n, "email")),
        ("webhook_generic", lambda ws: _webhook(ws, n, "generic")),
    ):
        workspace = workspace_create(
            actor=Actor.system("bench"), name=f"Bench {name}", slug=f"bench-{name.replace('_', '-')}"
        )
        try:
            report[name] = fn(workspace)
        except Exception:
            report[name] = {"problem": traceback.format_exc()[-2000:]}
        print(f"  {name}: {report[name]}", flush=True)
    report["foundation"] = _foundation_figure()
    out.write_text(json.dumps(report, indent=2))


def rows(report: dict[str, Any]) -> list[list[str]]:
    """Table rows: what, items, items/s, ratio to bare ticket creation in the same run."""
    bare = (report.get("bare_create") or {}).get("per_s")
    table = []
    labels = {
        "bare_create": "bare ticket creation (contact_resolve + ticket_create)",
        "imap": "IMAP poll: fetch, store, parse, thread (dovecot)",
        "webhook_email": "webhook raw mail: POST + process",
        "webhook_generic": "webhook generic JSON: POST + process",
    }
    for key, label in labels.items():
        r = report.get(key) or {}
        if "problem" in r:
            table.append([label, "-", "not measured: " + r["problem"].strip().splitlines()[-1][:90], "-"])
            continue
        per_s = r.get("per_s")
        ratio = f"{per_s / bare:.2f}" if per_s and bare else "-"
        table.append([label, f"{r.get('n', 0):,}", f"{per_s}", ratio])
    return table


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.channels", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000 messages instead of 10,000")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--size", choices=sorted(SIZES), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.size, args.out)
        return
    size = "quick" if args.quick else "full"
    started = time.perf_counter()
    report = run(size=size)
    if "fatal" in report:
        print(f"channels benchmark FAILED:\n{report['fatal']}")
        sys.exit(1)
    from bench.__main__ import _table

    print(f"\n== channels ({size}: {report['n']:,} messages, SQLite, events on the embedded broker) ==")
    print(_table(["ingestion", "messages", "per second", "ratio to bare creation"], rows(report)))
    found = report.get("foundation")
    if found:
        print(f"foundation's own 'create: service layer' figure: {found['per_s']} tickets/s ({found['file']})")
    when = dt.datetime.now(dt.UTC).astimezone()
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"channels-{size}-{when:%Y%m%dT%H%M%S}.json"
    path.write_text(
        json.dumps({"when": when.isoformat(), "elapsed_s": round(time.perf_counter() - started, 1), **report}, indent=2)
    )
    print(f"results written to {path}")


if __name__ == "__main__":
    main()
