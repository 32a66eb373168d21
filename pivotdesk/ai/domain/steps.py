"""The contract between the pipeline and its steps (pure).

A step reads a TriageInput and returns a StepOutput. The pipeline (pivotdesk.ai.pipeline) runs the steps in
order, records each as a TriageRun, applies predictions with provenance and never lets a failing step block the
ticket. Steps must be deterministic for the same input and model version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The order steps run in; later steps see the text added by earlier ones. Enrichment looks up the entities, so it
# follows them; classification and the summary come after it, so they read what the connectors found ("物流: 运输延误,
# 最后节点 上海分拣中心"), not only the customer's "物流太慢".
STEP_ORDER = ("multimodal", "language", "entities", "enrichment", "classify", "sentiment", "summary")


@dataclass
class TriageInput:
    """What a step may read about a ticket."""

    workspace_id: int
    ticket_id: int
    subject: str
    text: str  # the customer's messages, newest last
    languages: tuple[str, ...] = ("zh", "en")  # the workspace's languages
    extra_text: list[str] = field(default_factory=list)  # text read from attachments (OCR / speech)
    facts: list[str] = field(default_factory=list)  # what the enrichment connectors said, set by that step
    language: str = ""  # set by the language step for the following ones
    channel: str = ""
    customer_tier: str = ""
    config: dict[str, Any] = field(default_factory=dict)  # the workspace's AI settings

    @property
    def full_text(self) -> str:
        """Everything known about the ticket: the customer's words, attachment text and enrichment facts."""
        return "\n".join([self.subject, self.text, *self.extra_text, *self.facts]).strip()

    @property
    def customer_text(self) -> str:
        """What the customer said or sent (messages, attachment text), without the connectors' facts: a "delivery
        delayed" status says nothing about how the customer feels."""
        return "\n".join([self.subject, self.text, *self.extra_text]).strip()


@dataclass(frozen=True)
class FieldPrediction:
    """A proposed value for a ticket field, with calibrated confidence and provenance."""

    field: str
    value: Any
    confidence: float
    model_name: str
    model_version: str
    label: str = ""
    alternatives: tuple[tuple[Any, float], ...] = ()
    out_of_scope: bool = False
    min_confidence: float = 0.0  # the model's own learned threshold; the pipeline applies the stricter one


@dataclass(frozen=True)
class Entity:
    kind: str
    value: str
    raw: str = ""
    source: str = "text"
    confidence: float = 1.0
    start: int = -1
    end: int = -1


@dataclass
class StepOutput:
    """What a step found. `predictions` become fields (or abstentions); `entities` are stored; `facts` are shown."""

    model_name: str = ""
    model_version: str = ""
    predictions: list[FieldPrediction] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    extra_text: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
