"""Every write to tickets goes through these services (split by purpose)."""

from pivotdesk.tickets.services.configuration import (
    category_create,
    custom_field_create,
    custom_field_update,
    saved_view_create,
    saved_view_delete,
    status_definition_create,
    tag_get_or_create,
)
from pivotdesk.tickets.services.drafts import draft_discard, draft_save
from pivotdesk.tickets.services.links import ticket_link, ticket_merge, ticket_set_parent, ticket_unlink
from pivotdesk.tickets.services.messages import (
    attachment_add,
    message_create,
    message_set_delivery_status,
    message_set_external_id,
    reply_upload,
    ticket_add_cc,
)
from pivotdesk.tickets.services.queue_layout import queue_columns_save
from pivotdesk.tickets.services.tickets import (
    ticket_assign,
    ticket_create,
    ticket_set_status,
    ticket_update,
    tickets_bulk_update,
)

__all__ = [
    "attachment_add",
    "category_create",
    "custom_field_create",
    "custom_field_update",
    "draft_discard",
    "draft_save",
    "message_create",
    "message_set_delivery_status",
    "message_set_external_id",
    "queue_columns_save",
    "reply_upload",
    "saved_view_create",
    "saved_view_delete",
    "status_definition_create",
    "tag_get_or_create",
    "ticket_add_cc",
    "ticket_assign",
    "ticket_create",
    "ticket_link",
    "ticket_merge",
    "ticket_set_parent",
    "ticket_set_status",
    "ticket_unlink",
    "ticket_update",
    "tickets_bulk_update",
]
