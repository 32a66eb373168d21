from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "pivotdesk.tickets"
    label = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        from pivotdesk.customers.services import register_contact_merge_handler
        from pivotdesk.tickets.services.contacts import move_tickets_on_contact_merge

        register_contact_merge_handler(move_tickets_on_contact_merge)

        from pivotdesk.search.registry import register_kind
        from pivotdesk.tickets.search import TICKET_DOCUMENTS

        register_kind(TICKET_DOCUMENTS)  # tickets are found by full-text search (subject, messages, attachments)
