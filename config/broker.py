"""Broker settings by URL: the embedded broker's transport and poll, Redis's visibility timeout.

Kept free of SQLAlchemy imports (settings import it in every process); the transport itself is
`config/broker_sqla.py`, loaded by kombu only when the broker URL is `sqla+…`.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import TRANSPORT_ALIASES


def install() -> None:
    """Make `sqla+…` / `sqlalchemy+…` broker URLs use this transport (call before the first connection)."""
    TRANSPORT_ALIASES["sqla"] = "config.broker_sqla:Transport"
    TRANSPORT_ALIASES["sqlalchemy"] = "config.broker_sqla:Transport"


def transport_options(broker_url: str, *, visibility_timeout: float) -> dict[str, Any]:
    """`broker_transport_options` for a broker URL: a 0.1 s poll for the embedded broker, a short visibility
    timeout for Redis (a killed worker's unacknowledged tasks come back within about a minute), nothing else."""
    scheme = broker_url.split("://", 1)[0].split("+", 1)[0].lower()
    if scheme in ("sqla", "sqlalchemy"):
        return {"polling_interval": 0.1}
    if scheme in ("redis", "rediss"):
        return {
            "visibility_timeout": visibility_timeout,
            # Look for abandoned messages every 5 s (kombu's default sweeps every 10 × 10 s).
            "unacked_restore_interval": 5,
            "unacked_restore_throttle": 1,
        }
    return {}
