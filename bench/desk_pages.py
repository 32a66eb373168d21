"""The agent's two pages at 100,000 tickets, and live updates from a change to another agent's browser
(`python -m bench --only desk_pages [--quick]`, or `python -m bench.desk_pages [--quick]`; issue 18).

1. **Server time** of the queue page (`/queue/`, the default view: 50 rows, counts) and of a ticket page
   (`/tickets/<n>/`, a conversation of 12 messages) on SQLite with 100,000 bulk-loaded tickets: p50 / p99 over
   repeated requests through Django's full stack in-process (middleware, view, template; no socket), and the SQL
   statements per page (a count that does not depend on the machine's load). The same pages are timed at 1,000
   tickets in the same run (the baseline: how much the page pays for the extra 99,000 tickets).
2. **Push latency**: the real web server of `make run` (gunicorn with the uvicorn worker serving `config.asgi`) on
   that database; one agent's Chromium (Debian's, through Playwright) has the ticket page open; another agent adds
   an internal note. Measured from the change's commit to the moment the note is in the first agent's page
   (a MutationObserver stamps `Date.now()`; same machine, same clock):
   - *same process*: the note is POSTed to the web server (the stream of that process is woken in-process);
   - *other process*: the note is written by this benchmark process through the service (as the event relay or a
     worker would): the web process finds it by its 0.25 s read of the event table — or, with `REDIS_URL` set, by
     Redis pub/sub.
   The old design's figure is the polling interval it replaces: the queue polled every 10 s (5 s on average) and
   the ticket page's pulse every 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.measure import latency_summary

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("PIVOTDESK_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "bench-pass-4731"


def run(quick: bool) -> dict[str, Any]:
    from bench.process import run_worker_module

    return run_worker_module("bench.desk_pages", size="quick" if quick else "full", timeout_s=3600)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _conversation(desk: Any) -> Any:
    """The first bulk-loaded ticket, given a conversation of 12 messages (replies and notes) through the services
    (a ticket made by the service would take a number the next bulk load hands out)."""
    from pivotdesk.accounts.actors import Actor
    from pivotdesk.tickets.models import MessageKind, Ticket
    from pivotdesk.tickets.services import message_create

    ticket = Ticket.objects.filter(workspace=desk.workspace).order_by("number").first()
    agent_actor = Actor.for_agent(desk.admin)
    for i in range(11):
        message_create(
            ticket=ticket,
            actor=agent_actor,
            body=f"Update {i}: we have asked the carrier for the delivery photos and will replace the unit.",
            kind=MessageKind.NOTE if i % 3 == 0 else MessageKind.PUBLIC,
        )
    return ticket


def _time_pages(client: Any, urls: dict[str, str], n: int) -> dict[str, Any]:
    from django.db import connection

    out: dict[str, Any] = {}
    for name, url in urls.items():
        for _ in range(3):  # warm-up: templates compiled, caches filled
            assert client.get(url).status_code == 200
        statements: list[str] = []  # counted by a wrapper: the request's start resets Django's own query log

        def count(
            execute: Any, sql: str, params: Any, many: bool, context: Any, *, seen: list[str] = statements
        ) -> Any:
            seen.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            client.get(url)
        samples = []
        for _ in range(n):
            started = time.perf_counter()
            response = client.get(url)
            samples.append(time.perf_counter() - started)
            assert response.status_code == 200
        out[name] = {**latency_summary(samples), "statements": len(statements)}
    return out


def _serve(var_dir: str, database_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PIVOTDESK_VAR_DIR": var_dir,
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "PIVOTDESK_WEB_THREADS": "4",
    }
    cmd = [
        str(Path(sys.executable).parent / "gunicorn"),
        "config.asgi:application",
        "--worker-class",
        "uvicorn_worker.UvicornWorker",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--log-level",
        "warning",
        "--graceful-timeout",
        "3",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import urllib.request

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5)
            return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("the web server did not answer within 120 s")


WATCH = """(marker) => {
  window.__seenAt = 0;
  const box = () => document.getElementById('conversation');
  const seen = () => box() && box().textContent.includes(marker);
  const obs = new MutationObserver(() => { if (seen()) { obs.disconnect(); window.__seenAt = Date.now(); } });
  obs.observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def _push_latency(base: str, ticket: Any, desk: Any, n: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from pivotdesk.accounts.actors import Actor
    from pivotdesk.tickets.models import MessageKind
    from pivotdesk.tickets.services import message_create

    url = f"{base}/tickets/{ticket.number}/"
    results: dict[str, list[float]] = {"same process (POST to the web server)": [], "other process (service)": []}
    missed = 0
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        pages = []
        for username in ("bench-watcher", "bench-writer"):
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            page = context.new_page()
            page.goto(f"{base}/login/")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/queue/**")
            page.goto(url)
            pages.append(page)
        watcher, writer = pages
        watcher.wait_for_function("document.documentElement.dataset.live === 'on'", timeout=30_000)
        token = next(c["value"] for c in writer.context.cookies() if c["name"] == "csrftoken")
        writer_actor = Actor.for_agent(desk.writer)
        for i in range(n):
            for mode, samples in results.items():
                marker = f"live-{mode[:5]}-{i}-{time.monotonic_ns()}"
                watcher.evaluate(WATCH, marker)  # installs the observer (returns at once; it stamps window.__seenAt)
                time.sleep(0.3)
                if mode.startswith("same"):
                    before = time.time()
                    answer = writer.request.post(
                        f"{url}reply/", form={"kind": "note", "body": marker}, headers={"X-CSRFToken": token}
                    )
                    assert answer.status == 200, answer.status
                    # The commit happened inside the request: between sending and the answer; count from its middle
                    # is unknowable here, so count from the answer (a lower bound of the latency seen by the other
                    # agent after the writer saw theirs) and from the request's start (an upper bound).
                    committed = (before + time.time()) / 2
                else:
                    message_create(ticket=ticket, actor=writer_actor, body=marker, kind=MessageKind.NOTE)
                    committed = time.time()
                # polled from here (the page stamps the moment itself; a string predicate would need eval, which
                # the page's CSP refuses)
                shown, deadline = -1.0, time.monotonic() + 15
                while shown < 0 and time.monotonic() < deadline:
                    stamp = float(watcher.evaluate("() => window.__seenAt"))
                    shown = stamp if stamp > 0 else -1.0
                    time.sleep(0.02)
                if shown < 0:
                    missed += 1
                    continue
                samples.append(max(0.0, shown / 1000 - committed))
        browser.close()
    return {mode: latency_summary(samples) for mode, samples in results.items()} | {"missed": missed}


def _worker(size: str, out: Path) -> None:
    from bench.pivotdesk_worker import _configure

    quick = size == "quick"
    var_dir = tempfile.mkdtemp(prefix="bench-desk-pages-")
    database_url = f"sqlite:///{var_dir}/bench.sqlite3"
    _configure({"var_dir": var_dir, "database_url": database_url})
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from bench.pivotdesk_worker import Desk
    from pivotdesk.accounts.actors import Actor
    from pivotdesk.accounts.services import agent_create

    call_command("migrate", verbosity=0, interactive=False)
    sizes = [1_000, 5_000] if quick else [1_000, 100_000]
    desk = Desk(sizes[-1])
    report: dict[str, Any] = {"pages": {}, "sizes": sizes}
    n = 10 if quick else 30
    try:
        loaded = 0
        ticket = None
        for size_n in sizes:
            desk.load_tickets(size_n)
            loaded = size_n
            if ticket is None:
                ticket = _conversation(desk)
            client = Client()
            client.force_login(desk.admin.user)
            urls = {"queue": "/queue/", "ticket": f"/tickets/{ticket.number}/"}
            report["pages"][str(loaded)] = _time_pages(client, urls, n)
        assert ticket is not None
        for username in ("bench-watcher", "bench-writer"):
            # admins: they see every ticket whatever its team (an agent's ticket access is not what is measured)
            agent = agent_create(actor=Actor.system("bench"), workspace=desk.workspace, username=username, role="admin")
            agent.user.set_password(PASSWORD)
            agent.user.save(update_fields=["password"])
            if username == "bench-writer":
                desk.writer = agent
        if shutil.which(CHROMIUM) or Path(CHROMIUM).exists():
            from django.db import connections

            connections.close_all()
            port = _free_port()
            server = _serve(var_dir, database_url, port)
            try:
                report["push"] = _push_latency(f"http://127.0.0.1:{port}", ticket, desk, 5 if quick else 25)
                report["push"]["redis"] = bool(os.environ.get("REDIS_URL"))
            finally:
                server.terminate()  # open streams hold a worker up to gunicorn's graceful timeout
                try:
                    server.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait(timeout=15)
        else:
            report["push"] = {"skipped": f"no Chromium at {CHROMIUM} (apt-get install chromium)"}
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    out.write_text(json.dumps(report))


def lines(report: dict[str, Any]) -> list[str]:
    if "fatal" in report:
        return [f"desk pages benchmark FAILED:\n{report['fatal']}"]
    sizes = [str(s) for s in report["sizes"]]
    out = ["", "== the agent's pages: server time in-process (p50 / p99 ms, SQL statements per page) =="]
    out.append(f"  {'page':<8}" + "".join(f"  {int(s):>9,} tickets        " for s in sizes) + "  ratio p50")
    for page in ("queue", "ticket"):
        cells = []
        for s in sizes:
            r = report["pages"][s][page]
            cells.append(f"  {r['p50_ms']:>7} / {r['p99_ms']:<7} {r['statements']:>3} st")
        small, large = report["pages"][sizes[0]][page], report["pages"][sizes[-1]][page]
        ratio = large["p50_ms"] / small["p50_ms"] if small["p50_ms"] else float("nan")
        out.append(f"  {page:<8}" + "".join(cells) + f"   ×{ratio:.2f}")
    push = report.get("push", {})
    out.append("")
    if "skipped" in push:
        out.append(f"== push latency skipped: {push['skipped']} ==")
        return out
    backend = "Redis pub/sub" if push.get("redis") else "embedded (in-process wake, 0.25 s table read)"
    out.append(f"== push latency: a note by one agent → in another agent's Chromium ({backend}); ms ==")
    for mode, r in push.items():
        if isinstance(r, dict):
            out.append(f"  {mode:<38} p50 {r['p50_ms']:>6}  p99 {r['p99_ms']:>6}  (n={r['n']})")
    out.append(f"  missed (not shown within 15 s): {push.get('missed', 0)}")
    out.append("  before (polling): queue every 10 s (5,000 ms on average), ticket pulse every 10 s")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.desk_pages", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5,000 tickets instead of 100,000, fewer samples")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--size", choices=["quick", "full"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.size, args.out)
        return
    from bench import machine

    print(json.dumps(machine.describe(None)))
    print("\n".join(lines(run(args.quick))))


if __name__ == "__main__":
    main()
