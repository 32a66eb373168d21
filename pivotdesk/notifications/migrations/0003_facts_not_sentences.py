"""Issue 12, bilingual at the source: notifications keep facts and are rendered in the reader's language.

Existing SLA notifications get the facts their English titles carried (metric, ticket number, warning label,
escalation level, the due time as it was written); delivery reasons written in English become a code with the
original text kept as the detail. A row whose text cannot be read keeps its stored text, which stays the fallback.
The patterns are copied here (not imported) so this migration does not change when the code does.
"""

import json
import re
from typing import Any

from django.db import migrations

METRIC_WORDS = {
    "first reply": "first_reply",
    "next reply": "next_reply",
    "periodic update": "periodic_update",
    "resolution": "resolution",
}
TITLES = {
    "sla.warning": re.compile(
        r"^SLA warning \((?P<label>[^)]*)\): (?P<metric>.+?) of #(?P<number>\d+) due (?P<due>.+)$"
    ),
    "sla.breach": re.compile(r"^SLA breached: (?P<metric>.+?) of #(?P<number>\d+) \(due (?P<due>.+)\)$"),
    "sla.escalation": re.compile(
        r"^SLA escalation level (?P<level>\d+): (?P<metric>.+?) of #(?P<number>\d+) breached \(due (?P<due>.+)\)$"
    ),
}
REASONS = {
    "the agent has no email address": "no_email",
    "the agent is deactivated": "agent_deactivated",
    "no active SMS / IM / push target for this kind": "no_target",
    "the target was removed or turned off": "target_removed",
    "earlier attempts never finished (their worker stopped)": "worker_stopped",
    "the mail backend accepted nothing": "mail_nothing_accepted",
    "not a valid apprise URL (unknown scheme or missing parts)": "bad_target_url",
}
TIMEOUT = re.compile(r"^timeout after ([\d.]+) s$")


def _facts(kind: str, title: str) -> dict[str, Any] | None:
    pattern = TITLES.get(kind)
    match = pattern.match((title or "").strip()) if pattern else None
    if match is None:
        return None
    groups = match.groupdict()
    metric = METRIC_WORDS.get(groups["metric"].lower())
    if metric is None:
        return None
    facts: dict[str, Any] = {"metric": metric, "number": int(groups["number"]), "due_text": groups["due"]}
    if groups.get("label") is not None:
        facts["label"] = groups["label"]
    if groups.get("level") is not None:
        facts["level"] = int(groups["level"])
    return facts


def _encode(code: str, detail: str = "", **params: Any) -> str:
    data: dict[str, Any] = {"code": code}
    if params:
        data["params"] = params
    if detail:
        data["detail"] = detail[:1500]
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _reason(text: str) -> str | None:
    if not text or text.startswith('{"code"'):
        return None
    if text in REASONS:
        return _encode(REASONS[text])
    timeout = TIMEOUT.match(text)
    if timeout:
        return _encode("timeout", seconds=timeout.group(1))
    if text.startswith("recipient refused: "):
        return _encode("mail_recipient_refused", text.removeprefix("recipient refused: "))
    return _encode("send_failed", text)


def forwards(apps: Any, schema_editor: Any) -> None:
    Notification = apps.get_model("notifications", "Notification")
    Delivery = apps.get_model("notifications", "Delivery")
    rows = Notification.objects.filter(kind__in=list(TITLES)).only("pk", "kind", "title", "data")
    changed = []
    for n in rows.iterator(chunk_size=500):
        data = dict(n.data or {})
        if data.get("due_at") or data.get("due_text"):
            continue
        facts = _facts(n.kind, n.title)
        if facts is None:
            continue
        n.data = {**facts, **{k: v for k, v in data.items() if v not in (None, "")}}
        changed.append(n)
    Notification.objects.bulk_update(changed, ["data"], batch_size=500)
    failed = []
    for d in Delivery.objects.exclude(last_error="").only("pk", "last_error").iterator(chunk_size=500):
        encoded = _reason(d.last_error)
        if encoded is not None:
            d.last_error = encoded
            failed.append(d)
    Delivery.objects.bulk_update(failed, ["last_error"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("notifications", "0002_outbox")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
