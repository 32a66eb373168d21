"""The texts the triage models read (pure): one builder for training and for triage, so the two cannot drift.

The field models (category, priority, team, type) read the customer's words, the text read from their attachments
and the connectors' facts ("物流: 运输延误, 最后节点 上海分拣中心"), so a fact can decide a label only if the model saw
such facts in training. The out-of-scope check and sentiment read only what the customer said or sent: a delivery
status says nothing about how the customer feels, and a fact line is not what makes a ticket in or out of domain.
Training (pivotdesk.ai.services.training) builds each resolved ticket's texts with `model_texts` from what triage
stored (messages, attachment text, the enrichment run's facts); the classify step builds them with `input_texts`
from its TriageInput.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pivotdesk.ai.domain.steps import TriageInput

MAX_MESSAGES_TEXT = 20_000  # characters of the customer's messages kept (the newest), as the pipeline's input


@dataclass(frozen=True)
class ModelTexts:
    """What a ticket's models read: `label` for the field models, `own` (the customer's words and attachment text,
    no facts) for the out-of-scope check and sentiment."""

    label: str
    own: str

    @property
    def has_facts(self) -> bool:
        return self.label != self.own


def model_texts(
    *, subject: str, messages: str, attachments: Sequence[str] = (), facts: Sequence[str] = ()
) -> ModelTexts:
    """The texts of a ticket: subject, the customer's messages (newest last), attachment text, then the facts."""
    own = "\n".join([subject, messages, *attachments]).strip()
    label = "\n".join([subject, messages, *attachments, *facts]).strip()
    return ModelTexts(label=label, own=own)


def input_texts(inp: TriageInput) -> ModelTexts:
    """The texts of a ticket being triaged (what the classify step reads)."""
    return model_texts(subject=inp.subject, messages=inp.text, attachments=inp.extra_text, facts=inp.facts)


def messages_text(bodies: Sequence[str], fallback: str = "", limit: int = MAX_MESSAGES_TEXT) -> str:
    """The customer's public messages (oldest first), joined and cut to the newest `limit` characters; when the
    customer wrote none (a ticket an agent opened), the first message's body (`fallback`)."""
    parts = list(bodies) if bodies else [fallback]
    return "\n".join(b for b in parts if b)[-limit:]


def passed_facts(items: Any) -> list[str]:
    """The facts an enrichment run passes on (its extra_text, fresh or as stored): the non-blank lines, in order."""
    if not isinstance(items, list | tuple):
        return []
    return [text for text in (str(t) for t in items if t is not None) if text.strip()]


def attachment_texts(texts: Iterable[str]) -> list[str]:
    """The attachment texts a ticket passes on (what the multimodal step returns): the non-blank ones, in order."""
    return [t for t in texts if t and t.strip()]
