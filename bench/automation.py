"""Automation benchmark (issue 16): the trigger cycle's cost per event with 500 active rules, and how fast tickets
are created with 50 active triggers relative to none.

`python -m bench.automation [--quick]` runs in its own process on a fresh SQLite database (the embedded default):

- **evaluation per event, 500 rules** (pure, in process, no database): 500 varied trigger rules (seeded; `all`/`any`
  groups of 2–6 conditions over priority, status, channel, tags, category, zh/en keywords, safe regexes, sentiment
  and its confidence, hours since created, changed-to…; each accepted by `conditions.validate`), picked from a
  larger random pool so that 10 match most new tickets, 15 some and the rest none as the ticket arrives (with the
  rules that then match the changed facts, ≈ 5 % of the rules fire per event; a lighter mix, 2 + 5, too); 200 fact
  snapshots of new tickets with zh/en subjects and bodies of 200–2,000 characters. Per snapshot, the median of
  several repetitions of `run_cycle(triggers, facts, simulate)` (restarting from the top after each firing, as the
  trigger runner does), and of one `evaluate` pass over the 500 rules. Target p99 ≤ 2 ms.
- **creation rate, 50 triggers vs none** (same run, same database): two workspaces set up alike, one with 50
  active triggers (saved by a supervisor through `rule_save`; 2 match most tickets, 3 some: ≈ 2.4 fire per ticket;
  actions: add tags, set priority, internal note), one with none. A ticket is `ticket_create` (from the customer) and then the event
  relay drained in process (`relay.relay_batch`, which hands each event to `config.subscribers.dispatch`: the
  trigger task, routing, SLA, on-call…, and the events the rules' own changes publish), i.e. the work the relay
  process does in `make run`, without its 0.1 s polling. A third workspace has 50 triggers of which none matches
  (the cost of having triggers, apart from the work they do when they fire). AI triage is switched off (PIVOTDESK_AI_ENABLED=false):
  its local models would dominate both sides and hide the triggers' cost. Rounds alternate A/B; ratio = median of
  the pairs' rate(50) / rate(0). Target ≥ 0.8. Also SQL statements per ticket in each case (load-independent).
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import json
import pstats
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bench.measure import latency_summary, rate
from bench.process import configure_django, run_worker_module

SIZES: dict[str, dict[str, int]] = {
    "full": {"snapshots": 200, "reps": 5, "tickets": 200, "pairs": 3, "counted": 30},
    "quick": {"snapshots": 200, "reps": 3, "tickets": 50, "pairs": 2, "counted": 15},
}
RULES, DB_TRIGGERS = 500, 50
TARGET_P99_MS, TARGET_RATIO = 2.0, 0.8
SEED = 16

# --- realistic text and vocabulary ---------------------------------------------------------------------------------

ZH = [
    "我的订单{order}一直没有发货，已经等了三天了。", "请问什么时候可以退款？钱一直没有退回到原账户。",
    "快递显示已签收，但是我根本没有收到包裹。", "账号登录不上去，一直提示密码错误，验证码也收不到。",
    "发票抬头开错了，需要重新开具增值税专用发票。", "客服电话一直打不通，非常失望。",
    "如果今天还不处理，我就去12315投诉，还要在网上曝光。", "收到的商品质量有问题，屏幕上有明显划痕。",
    "我想修改收货地址，改成上海市浦东新区张江路88号。", "上个月的会员积分到现在还没有到账。",
    "支付已经扣款了，但是订单页面显示未支付。", "麻烦尽快帮我处理一下，谢谢。", "我的手机号是{phone}，请尽快联系我。",
    "贷款申请提交一周了，审批进度怎么样了？", "物流信息三天没有更新了，包裹是不是丢了？",
    "优惠券在结算的时候无法使用，提示不满足条件。", "安装师傅预约了两次都没有上门。", "保修期内维修还要收费吗？",
    "我要求赔偿因为延误造成的损失。", "App 打开结算页面就闪退，已经重装过了。", "同一笔订单被重复扣款两次，共{amount}元。",
]  # fmt: skip
EN = [
    "My order {order} has not shipped yet, it has been three days.", "When will I get my refund? It is late.",
    "The tracking says delivered but I never received the parcel.", "I cannot log in, it says my password is wrong.",
    "Please send a corrected invoice with our VAT number.", "This is the third time I contact you, very disappointed.",
    "If this is not fixed today I will talk to my lawyer.", "The screen arrived scratched and the box was damaged.",
    "Please change my delivery address to 12 Harbour Road.", "My loyalty points from last month are missing.",
    "I was charged twice for the same order, {amount} in total.", "Call me back at {phone} please.",
    "Thanks a lot for your help.", "The app crashes when I open the checkout page (error code 5003).",
    "The coupon is rejected at checkout.", "The technician did not show up for the installation.",
    "Is the repair covered by the warranty?", "I want compensation for the delay.", "Our SSO login fails since v2.4.1.",
    "Please cancel my subscription and stop charging my card.", "The package is stuck in customs for a week.",
]  # fmt: skip
SUBJECTS = {
    "zh": ["订单未发货", "申请退款", "没有收到包裹", "无法登录", "发票开错", "投诉客服", "商品质量问题", "修改地址",
           "积分未到账", "重复扣款", "贷款审批进度", "物流不更新", "优惠券不能用", "维修收费", "要求赔偿"],
    "en": ["Order not shipped", "Refund request", "Parcel not received", "Cannot log in", "Wrong invoice",
           "Complaint about support", "Damaged item", "Change address", "Missing points", "Charged twice",
           "App crashes at checkout", "Coupon rejected", "Warranty repair", "Cancel subscription", "Stuck in customs"],
}  # fmt: skip
WORDS = [
    "退款", "退货", "发票", "投诉", "曝光", "12315", "快递", "物流", "登录", "密码", "扣款", "积分", "地址", "质量", "划痕", "贷款", "审批", "发货",
    "签收", "会员", "优惠券", "赔偿", "律师", "媒体", "差评", "维修", "保修", "安装", "取消订单", "加急", "转账", "冻结", "诈骗", "海关", "清关", "预售",
    "团购", "直播", "保单", "理赔", "医保", "退订", "换货", "补发", "缺货", "refund", "invoice", "complaint", "lawyer", "chargeback",
    "delivery", "parcel", "password", "login", "crash", "scratched", "warranty", "cancel", "urgent", "fraud",
    "customs", "subscription", "upgrade", "downgrade", "gdpr", "outage", "api", "webhook", "sso", "migration",
    "coupon", "compensation", "damaged", "missing", "charged", "twice", "refund_request", "escalate", "manager",
    "supervisor", "police", "court", "review",
]  # fmt: skip
PATTERNS = [
    r"PD\d{8}", r"\border\s+#?\d{5,}", r"1[3-9]\d{9}", r"退(款|货)", r"(refund|chargeback)", r"\bcancel", r"\d+\s*元",
    r"(?:not|never)\s+(?:received|arrived)", r"投诉|曝光|12315", r"invoice\s+\w+", r"error\s+code\s+\d+",
    r"v\d+\.\d+\.\d+", r"[A-Z]{2}\d{9}CN", r"lawyer|attorney|律师", r"charged\s+twice", r"重复扣款",
]  # fmt: skip
CHANNELS = ["email", "web_form", "chat", "wechat", "wecom", "sms", "voice", "telegram"]
PRIORITIES = ["low", "normal", "high", "urgent"]
TAGS = ["vip", "refund", "logistics", "billing", "login", "app", "invoice", "complaint", "warranty", "b2b", "夜间",
        "加急", "退款", "物流", "复购", "新客", "promo", "beta", "enterprise", "churn-risk"]  # fmt: skip
CATEGORY_PATHS = [[1], [1, 4], [1, 4, 11], [2], [2, 6], [2, 7, 15], [3], [3, 9], [3, 9, 20], [5, 12]]


def _text(rng: random.Random, lang: str, length: int) -> str:
    sentences = ZH if lang == "zh" else EN
    out = ""
    while len(out) < length:
        sentence = rng.choice(sentences)
        out += sentence.format(order=f"PD{rng.randrange(10**8):08d}", phone=f"13{rng.randrange(10**9):09d}",
                               amount=rng.randrange(20, 5000)) + ("" if lang == "zh" else " ")  # fmt: skip
    return out[:length]


def ticket_text(rng: random.Random) -> dict[str, Any]:
    """A new ticket's subject, body, language, priority and channel (shared by both measurements)."""
    lang = "zh" if rng.random() < 0.6 else "en"
    subject = rng.choice(SUBJECTS[lang])
    if rng.random() < 0.3:
        subject += f" PD{rng.randrange(10**8):08d}"
    priority = rng.choices(PRIORITIES, weights=[2, 6, 2, 1])[0]
    body = _text(rng, lang, rng.randint(200, 2000))
    return {"language": lang, "subject": subject, "body": body, "priority": priority, "channel": rng.choice(CHANNELS)}


def snapshot(rng: random.Random) -> dict[str, Any]:
    """The facts of a new ticket as `services.facts.build` makes them for `ticket.created`, every costly fact in."""
    t = ticket_text(rng)
    negative = rng.random() < 0.25
    tier = rng.choices(["", "standard", "vip", "strategic"], weights=[5, 3, 1, 1])[0]
    path = rng.choice(CATEGORY_PATHS)
    return {
        "status": "new", "priority": t["priority"], "type": rng.choice(["question", "incident", "complaint"]),
        "category": path[-1], "category_path": path, "channel": t["channel"], "team": None, "assignee": None,
        "organization": rng.choice([None, 3, 8]), "tier": tier, "vip": tier in ("vip", "strategic"),
        "language": t["language"], "tags": sorted(rng.sample(TAGS, rng.randint(0, 3))), "sla_state": "",
        "minutes_to_breach": None, "hours_since_created": 0.0, "hours_since_updated": 0.0,
        "hours_since_customer_reply": 0.0, "event": "ticket.created", "event_type": "", "changes": {},
        "subject": t["subject"], "body": t["body"],
        "sentiment": "negative" if negative else rng.choice(["neutral", "positive", ""]),
        "sentiment_confidence": round(rng.uniform(0.4, 0.99), 2), "business_hours": rng.random() < 0.7,
        "requester_recent_tickets": rng.choice([0, 0, 0, 1, 2, 4]), "cf.order_value": rng.randrange(0, 20000),
        "cf.region": rng.choice(["华东", "华南", "华北", "EU", "US"]),
    }  # fmt: skip


# --- rules -----------------------------------------------------------------------------------------------------


def _words(rng: random.Random) -> dict[str, Any]:
    field = rng.choice(["subject", "body", "body"])
    return {"field": field, "op": "contains_any_words", "value": rng.sample(WORDS, rng.randint(2, 6))}


LEAVES: dict[str, Callable[[random.Random], dict[str, Any]]] = {
    "priority": lambda r: {"field": "priority", "op": "in", "value": r.sample(PRIORITIES, r.randint(1, 2))},
    "status": lambda r: {"field": "status", "op": r.choice(["is", "is_not"]), "value": r.choice(["new", "open"])},
    "channel": lambda r: {"field": "channel", "op": "in", "value": r.sample(CHANNELS, r.randint(1, 3))},
    "type": lambda r: {"field": "type", "op": "is", "value": r.choice(["incident", "complaint", "task"])},
    "tags": lambda r: {"field": "tags", "op": r.choice(["contains", "contains", "not_contains"]), "value": r.choice(TAGS)},
    "category": lambda r: {"field": "category", "op": "under", "value": r.randint(1, 24)},
    "words": _words,
    "regex": lambda r: {"field": r.choice(["subject", "body"]), "op": "matches", "value": r.choice(PATTERNS)},
    "sentiment": lambda r: {"all": [{"field": "sentiment", "op": "is", "value": "negative"},
                                    {"field": "sentiment_confidence", "op": "gte", "value": r.choice([0.6, 0.8, 0.9])}]},
    "hours": lambda r: {"field": "hours_since_created", "op": "gte", "value": r.choice([1, 4, 24, 72])},
    "changed": lambda r: r.choice([{"field": "priority", "op": "changed_to", "value": r.choice(["high", "urgent"])},
                                   {"field": "tags", "op": "changed"},
                                   {"field": "team", "op": "changed_to", "value": r.randint(1, 6)}]),
    "vip": lambda r: r.choice([{"field": "vip", "op": "is", "value": True},
                               {"field": "tier", "op": "in", "value": ["vip", "strategic"]}]),
    "language": lambda r: {"field": "language", "op": "is", "value": r.choice(["zh", "en"])},
    "custom": lambda r: r.choice([{"field": "cf.order_value", "op": "gt", "value": r.choice([1000, 5000, 15000])},
                                  {"field": "cf.region", "op": "is", "value": r.choice(["华东", "EU"])}]),
    "recent": lambda r: {"field": "requester_recent_tickets", "op": "gte", "value": r.choice([2, 3])},
}  # fmt: skip
WEIGHTS = [8, 3, 6, 3, 7, 5, 12, 6, 4, 3, 5, 3, 3, 3, 2]
EVENT = {"field": "event", "op": "is", "value": "ticket.created"}


def _leaf(rng: random.Random, *, changed: bool) -> dict[str, Any]:
    """A random leaf; "changed…" ones only where every item must hold (an `any` of "tags changed" would fire after
    every tagging rule, which no desk writes)."""
    while True:
        name = rng.choices(list(LEAVES), WEIGHTS)[0]
        if changed or name != "changed":
            return LEAVES[name](rng)


def rule_conditions(rng: random.Random) -> dict[str, Any]:
    """One random condition tree: an `all` (70 %) or `any` group of 2–6 items, sometimes a nested group."""
    key = "all" if rng.random() < 0.7 else "any"
    items: list[dict[str, Any]] = []
    for _ in range(rng.randint(2, 6)):
        if rng.random() < 0.12:
            inner = "any" if key == "all" else "all"
            items.append({inner: [_leaf(rng, changed=False) for _ in range(2)]})
        else:
            items.append(_leaf(rng, changed=key == "all"))
    if key == "all" and rng.random() < 0.6:
        items.insert(0, dict(EVENT))
    return {key: items}


def rule_actions(rng: random.Random, *, db: bool) -> list[dict[str, Any]]:
    choices: list[dict[str, Any]] = [
        {"type": "add_tags", "tags": rng.sample(TAGS, rng.randint(1, 2))},
        {"type": "set", "field": "priority", "value": rng.choice(["high", "urgent"])},
        {"type": "note", "text": rng.choice(["请优先处理 {{ticket.number}}", "Check the order before replying."])},
    ]
    if not db:
        choices.append({"type": "assign", "team": rng.randint(1, 6)})
    return rng.sample(choices, rng.randint(1, 2))


def pick_rules(
    rng: random.Random, facts: list[dict[str, Any]], *, n: int, common: float, rare: float, db: bool = False
) -> list[dict[str, Any]]:
    """`n` valid rules from a random pool: a share `common` matching ≥ 50 % of the snapshots, `rare` matching some,
    the rest none (each checked on the snapshots as they arrive, before any rule fired)."""
    from pivotdesk.automation.domain import conditions as conds

    want = {"common": round(n * common), "rare": round(n * rare)}
    want["never"] = n - want["common"] - want["rare"]
    got: dict[str, list[dict[str, Any]]] = {k: [] for k in want}
    sample = facts[:100]
    for _ in range(200 * n):
        if all(len(got[k]) >= want[k] for k in want):
            break
        spec = rule_conditions(rng)
        problems = conds.validate(spec)
        if problems:
            raise AssertionError(f"generated an invalid rule {spec}: {problems}")
        share = sum(conds.evaluate(spec, f) for f in sample) / len(sample)
        bucket = "common" if share >= 0.5 else "rare" if share > 0 else "never"
        if len(got[bucket]) < want[bucket]:
            got[bucket].append({"conditions": spec, "actions": rule_actions(rng, db=db)})
    rules = [r for k in want for r in got[k]]
    if len(rules) != n:
        raise AssertionError(f"could not draw the rule mix {want}: got { ({k: len(v) for k, v in got.items()}) }")
    rng.shuffle(rules)
    return rules


# --- 1. evaluation per event (pure) -----------------------------------------------------------------------------


def _median_time(call: Callable[[], Any], reps: int) -> float:
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        call()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def _evaluations(triggers: list[Any], facts: list[dict[str, Any]]) -> tuple[list[int], list[int]]:
    """Rules fired and rule evaluations per event, counted in an untimed run (`run_cycle`'s `stats`)."""
    from pivotdesk.automation.domain import cycle
    from pivotdesk.automation.domain.effects import simulate

    fired, evaluations = [], []
    for f in facts:
        stats: dict[str, int] = {}
        fired.append(len(cycle.run_cycle(triggers, f, simulate, stats=stats)[1]))
        evaluations.append(stats["evaluations"])
    return fired, evaluations


def _one_pass(triggers: list[Any], facts: Mapping[str, Any]) -> list[bool]:
    memo: dict[Any, Any] = {}
    return [t.program.run(facts, memo)[0] for t in triggers]


def measure_cycle(sizes: Mapping[str, int], *, common: float, rare: float) -> dict[str, Any]:
    from pivotdesk.automation.domain.cycle import Trigger, run_cycle
    from pivotdesk.automation.domain.effects import simulate

    rng = random.Random(SEED)
    facts = [snapshot(rng) for _ in range(sizes["snapshots"])]
    rules = pick_rules(rng, facts, n=RULES, common=common, rare=rare)
    triggers = [Trigger(i + 1, r["conditions"], tuple(r["actions"])) for i, r in enumerate(rules)]
    fired, evaluations = _evaluations(triggers, facts)  # also the warm-up: regexes and word patterns cached
    cycle_s = [_median_time(functools.partial(run_cycle, triggers, f, simulate), sizes["reps"]) for f in facts]
    one_pass_s = [_median_time(functools.partial(_one_pass, triggers, f), sizes["reps"]) for f in facts]
    return {
        "rules": len(triggers),
        "mix": {"common": common, "rare": rare},
        "snapshots": len(facts),
        "body_chars": {"min": min(len(f["body"]) for f in facts), "max": max(len(f["body"]) for f in facts)},
        "cycle": latency_summary(cycle_s),
        "one_pass": latency_summary(one_pass_s),
        "fired": {"mean": round(statistics.fmean(fired), 2), "median": statistics.median(fired), "max": max(fired)},
        "evaluations": {"mean": round(statistics.fmean(evaluations), 1), "max": max(evaluations)},
        "meets": latency_summary(cycle_s)["p99_ms"] <= TARGET_P99_MS,
        "_triggers": triggers,
        "_facts": facts,
    }


def profile_top(call: Callable[[], Any], n: int = 10) -> list[str]:
    """The top `n` functions by own time (tottime) while `call` runs, as pstats prints them."""
    profiler = cProfile.Profile()
    profiler.enable()
    call()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(n)
    text = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(text) if "ncalls" in line), 0)
    return [line for line in text[start:] if line.strip()]


# --- 2. creation rate with 50 triggers vs none (database) -------------------------------------------------------


def _desk(rng: random.Random, facts: list[dict[str, Any]]) -> dict[str, Any]:
    from pivotdesk.accounts.actors import Actor
    from pivotdesk.accounts.models import Role
    from pivotdesk.accounts.services import workspace_create
    from pivotdesk.accounts.tests.factories import AgentFactory
    from pivotdesk.automation.services.rules import rule_save
    from pivotdesk.customers.tests.factories import ContactFactory

    system = Actor.system("bench")
    desk: dict[str, Any] = {}
    for key, name in (("A", "none"), ("B", "fifty"), ("C", "quiet")):
        workspace = workspace_create(actor=system, name=f"Bench automation {name}", slug=f"bench-auto-{name}")
        supervisor = AgentFactory(workspace=workspace, role=Role.SUPERVISOR)  # type: ignore[no-untyped-call]
        for _ in range(3):
            AgentFactory(workspace=workspace)  # type: ignore[no-untyped-call]
        contacts = [ContactFactory(workspace=workspace) for _ in range(40)]  # type: ignore[no-untyped-call]
        desk[key] = {"workspace": workspace, "supervisor": supervisor, "contacts": contacts}
    for key, common, rare in (("B", 0.04, 0.06), ("C", 0.0, 0.0)):
        side = desk[key]
        for i, rule in enumerate(pick_rules(rng, facts, n=DB_TRIGGERS, common=common, rare=rare, db=True)):
            rule_save(actor=Actor.for_agent(side["supervisor"]), workspace=side["workspace"], name=f"Trigger {i:02d}",
                      conditions=rule["conditions"], actions=rule["actions"])  # fmt: skip
    return desk


def _create_one(side: Mapping[str, Any], rng: random.Random) -> None:
    """One ticket from a customer, then the relay drained in process: every subscriber of every event it led to."""
    from pivotdesk.accounts.actors import Actor
    from pivotdesk.common import relay
    from pivotdesk.tickets.services import ticket_create

    t = ticket_text(rng)
    contact = rng.choice(side["contacts"])
    ticket_create(
        workspace=side["workspace"], requester=contact, actor=Actor.for_contact(contact.pk, contact.display_name),
        subject=t["subject"], body=t["body"], priority=t["priority"], channel=t["channel"],
    )  # fmt: skip
    while relay.relay_batch(limit=relay.BATCH):
        pass


def _round(side: Mapping[str, Any], n: int, rng: random.Random) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        _create_one(side, rng)
    return rate(n, time.perf_counter() - t0)


def _statements(side: Mapping[str, Any], n: int, rng: random.Random) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for _ in range(n):
        with CaptureQueriesContext(connection) as queries:
            _create_one(side, rng)
        counts.append(len(queries.captured_queries))
    return int(statistics.median(counts))


def measure_creation(sizes: Mapping[str, int], facts: list[dict[str, Any]]) -> dict[str, Any]:
    from pivotdesk.automation.models import RuleRun
    from pivotdesk.common.models import EventRecord
    from pivotdesk.tickets.models import Ticket

    rng = random.Random(SEED + 1)
    desk = _desk(rng, facts)
    n = sizes["tickets"]
    for key in ("A", "B", "C"):  # warm-up, untimed: imports, caches, first statements
        _round(desk[key], 10, rng)
    rates: dict[str, list[float]] = {"A": [], "B": [], "C": []}
    for _ in range(sizes["pairs"]):
        for key in ("A", "B", "C"):
            rates[key].append(_round(desk[key], n, rng))
    ratios = [b / a for a, b in zip(rates["A"], rates["B"], strict=True)]
    quiet = [c / a for a, c in zip(rates["A"], rates["C"], strict=True)]
    statements = {key: _statements(desk[key], sizes["counted"], rng) for key in ("A", "B", "C")}
    b_workspace = desk["B"]["workspace"]
    b_tickets = Ticket.objects.filter(workspace=b_workspace).count()
    report: dict[str, Any] = {
        "tickets_per_round": n,
        "pairs": sizes["pairs"],
        "rate_none": [round(r, 1) for r in rates["A"]],
        "rate_fifty": [round(r, 1) for r in rates["B"]],
        "ratio_per_pair": [round(r, 3) for r in ratios],
        "ratio": round(statistics.median(ratios), 3),
        "statements_none": statements["A"],
        "statements_fifty": statements["B"],
        "rate_quiet": [round(r, 1) for r in rates["C"]],
        "ratio_quiet": round(statistics.median(quiet), 3),
        "statements_quiet": statements["C"],
        "fired_per_ticket": round(RuleRun.objects.filter(workspace_id=b_workspace.pk).count() / b_tickets, 2),
        "events_left": EventRecord.objects.exclude(state="done").count(),
    }
    report["meets"] = report["ratio"] >= TARGET_RATIO
    if not report["meets"]:
        report["profile_fifty"] = profile_top(lambda: _round(desk["B"], n, rng), 15)
        report["profile_none"] = profile_top(lambda: _round(desk["A"], n, rng), 15)
    return report


# --- the worker and the report -----------------------------------------------------------------------------------


def _worker(size: str, out: Path) -> None:
    from bench import machine

    sizes = SIZES[size]
    configure_django(Path(tempfile.mkdtemp(prefix="pd-bench-automation-")), PIVOTDESK_AI_ENABLED="false")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    report: dict[str, Any] = {"size": size, "machine": machine.describe(None), "sizes": sizes}
    report["cycle"] = measure_cycle(sizes, common=0.02, rare=0.03)  # ≈ 5 % of the rules fire per event
    report["cycle_light"] = measure_cycle(sizes, common=0.004, rare=0.01)  # ≈ 2 %
    main = report["cycle"]
    if not main["meets"]:
        from pivotdesk.automation.domain.cycle import run_cycle
        from pivotdesk.automation.domain.effects import simulate

        triggers, facts = main["_triggers"], main["_facts"]
        report["cycle_profile"] = profile_top(lambda: [run_cycle(triggers, f, simulate) for f in facts[:50]])
    facts = main["_facts"]
    for key in ("cycle", "cycle_light"):
        report[key] = {k: v for k, v in report[key].items() if not k.startswith("_")}
    report["creation"] = measure_creation(sizes, facts)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False))


def run(size: str) -> dict[str, Any]:
    return run_worker_module("bench.automation", size=size, timeout_s=3600)


def _cycle_line(name: str, c: Mapping[str, Any]) -> str:
    cy, one = c["cycle"], c["one_pass"]
    return (
        f"{name} ({round(c['mix']['common'] * c['rules'])} rules match ≥ half the new tickets, "
        f"{round(c['mix']['rare'] * c['rules'])} some, the rest none before any rule fired): run_cycle p50 "
        f"{cy['p50_ms']} ms, p99 {cy['p99_ms']} ms, max {cy['max_ms']} ms; rules fired per event mean "
        f"{c['fired']['mean']}, max {c['fired']['max']}; evaluate calls per event mean {c['evaluations']['mean']}, "
        f"max {c['evaluations']['max']}; one evaluate pass over the {c['rules']} rules p50 {one['p50_ms']} ms, p99 "
        f"{one['p99_ms']} ms — target p99 ≤ {TARGET_P99_MS} ms: {'meets' if c['meets'] else 'MISSES'}"
    )


def lines(report: dict[str, Any]) -> list[str]:
    if "fatal" in report:
        return [f"automation benchmark FAILED:\n{report['fatal']}"]
    c = report["creation"]
    out = [
        f"\n== automation ({report['size']}) ==",
        f"machine: {report['machine']}",
        f"evaluation per event, {RULES} triggers, {report['cycle']['snapshots']} new-ticket snapshots (bodies "
        f"{report['cycle']['body_chars']['min']}–{report['cycle']['body_chars']['max']} chars), median of "
        f"{report['sizes']['reps']} repetitions each:",
        "  " + _cycle_line("brief's mix", report["cycle"]),
        "  " + _cycle_line("lighter mix", report["cycle_light"]),
    ]
    if report.get("cycle_profile"):
        out += ["  where the cycle's time goes (cProfile, own time, 50 snapshots once, brief's mix):"]
        out += ["    " + line for line in report["cycle_profile"]]
    out += [
        f"creation with {DB_TRIGGERS} active triggers vs none (SQLite; ticket_create + the relay drained in process "
        f"through config.subscribers.dispatch; AI triage off), {c['pairs']} A/B pairs of {c['tickets_per_round']} "
        "tickets:",
        f"  tickets/s with none {c['rate_none']}, with {DB_TRIGGERS} {c['rate_fifty']}; ratio per pair "
        f"{c['ratio_per_pair']}, median {c['ratio']} — target ≥ {TARGET_RATIO}: {'meets' if c['meets'] else 'MISSES'}",
        f"  SQL statements per ticket (median): none {c['statements_none']}, {DB_TRIGGERS} triggers "
        f"{c['statements_fifty']}; rules fired per ticket {c['fired_per_ticket']}; events not done {c['events_left']}",
        f"  {DB_TRIGGERS} triggers of which none fires (what having them costs, without the work they do): tickets/s "
        f"{c['rate_quiet']}, ratio to none {c['ratio_quiet']}, {c['statements_quiet']} statements per ticket",
    ]
    for key in ("profile_fifty", "profile_none"):
        if c.get(key):
            out += [f"  where the time goes ({key.split('_')[1]}; cProfile, own time, one round):"]
            out += ["    " + line for line in c[key]]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.automation", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--size", choices=sorted(SIZES), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.size, args.out)
        return
    report = run(size="quick" if args.quick else "full")
    print("\n".join(lines(report)))


if __name__ == "__main__":
    main()
