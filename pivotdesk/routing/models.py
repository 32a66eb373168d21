"""Tables of the routing app."""

from __future__ import annotations
