from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "pivotdesk.tickets"
    label = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        from pivotdesk.customers.services import register_contact_merge_handler
        from pivotdesk.tickets.services.contacts import move_tickets_on_contact_merge

        register_contact_merge_handler(move_tickets_on_contact_merge)
