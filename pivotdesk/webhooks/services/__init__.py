"""Every write of outgoing webhooks: endpoints (configuration) and deliveries (fan-out, sending, retries, replay)."""

from pivotdesk.webhooks.services.deliveries import (
    webhook_deliver,
    webhook_delivery_replay,
    webhook_fan_out,
    webhook_retry_due,
)
from pivotdesk.webhooks.services.endpoints import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_ping,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)

__all__ = [
    "webhook_deliver",
    "webhook_delivery_replay",
    "webhook_endpoint_create",
    "webhook_endpoint_delete",
    "webhook_endpoint_ping",
    "webhook_endpoint_rotate_secret",
    "webhook_endpoint_update",
    "webhook_fan_out",
    "webhook_retry_due",
]
