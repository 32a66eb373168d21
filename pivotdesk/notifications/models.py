"""Tables of the notifications app."""

from __future__ import annotations
