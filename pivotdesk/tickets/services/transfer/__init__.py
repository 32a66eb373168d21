"""Import and export of tickets as CSV or JSON. Imports go through the ticket services, one row at a time.

A row becomes a ticket (requester resolved by email or phone, first message, tags, custom fields, original
`created_at`); JSON rows may carry the rest of the conversation in `messages`. A bad row is reported with its line
and reason and does not stop the others. Each imported ticket keeps a stable key in `Ticket.external_id` (the
row's `external_id`/`id`, or a hash of the row), so importing the same file twice creates nothing the second time.
Exports stream (CSV rows or one JSON object per line inside an array) and import back as they are.
"""

from pivotdesk.tickets.services.transfer.exporting import export_row, tickets_export
from pivotdesk.tickets.services.transfer.formats import FORMATS, decode_text, detect_format, read_rows
from pivotdesk.tickets.services.transfer.importing import ImportReport, RowProblem, row_key, tickets_import

__all__ = [
    "FORMATS",
    "ImportReport",
    "RowProblem",
    "decode_text",
    "detect_format",
    "export_row",
    "read_rows",
    "row_key",
    "tickets_export",
    "tickets_import",
]
