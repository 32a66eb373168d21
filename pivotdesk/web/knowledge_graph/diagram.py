"""The neighbourhood diagram, laid out on the server: the entity in the middle, its heaviest neighbours on a circle,
lines as thick as the edge is heavy. The template draws it as inline SVG (no script, no library)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 640, 400
RADIUS = 150
MAX_NODES = 12
MAX_LABEL = 16


@dataclass(frozen=True)
class Node:
    """A circle of the diagram: where, which entity (its id for the link), its kind (the colour) and label."""

    x: float
    y: float
    entity_id: int
    kind: str
    label: str
    width: float = 1.0  # the line to the centre (neighbours only)
    below: float = 30.0  # how far below the circle's centre its label sits

    @property
    def label_y(self) -> float:
        return round(self.y + self.below, 1)


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def layout(centre: tuple[int, str, str], neighbours: Sequence[tuple[int, str, str, int]]) -> tuple[Node, list[Node]]:
    """The centre node and up to MAX_NODES neighbours (id, kind, label, weight) evenly around it, the heaviest
    first from the top, clockwise; line widths 1 to 6 by weight."""
    cx, cy = WIDTH / 2, HEIGHT / 2
    shown = list(neighbours)[:MAX_NODES]
    heaviest = max((w for *_, w in shown), default=1) or 1
    nodes = []
    for i, (entity_id, kind, label, weight) in enumerate(shown):
        angle = -math.pi / 2 + 2 * math.pi * i / len(shown)
        nodes.append(
            Node(
                x=round(cx + RADIUS * math.cos(angle), 1),
                y=round(cy + RADIUS * math.sin(angle), 1),
                entity_id=entity_id,
                kind=kind,
                label=_short(label),
                width=round(1 + 5 * weight / heaviest, 1),
            )
        )
    entity_id, kind, label = centre
    return Node(cx, cy, entity_id, kind, _short(label), below=40.0), nodes
