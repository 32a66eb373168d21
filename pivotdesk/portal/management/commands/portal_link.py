"""`manage.py portal_link <email or phone> [--workspace SLUG]`: print a single-use magic link that signs a customer in
to the portal (for people at the shell, the demo and the screenshots). Nothing is sent."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.common.errors import DomainError
from pivotdesk.portal import links, selectors
from pivotdesk.portal.services.signin import magic_link_path, signin_request


def _local_base() -> str:
    bind = os.environ.get("PIVOTDESK_BIND", "") or "127.0.0.1:8000"
    host, _, port = bind.rpartition(":")
    if host in ("", "0.0.0.0", "::", "[::]"):  # noqa: S104 - reading a bind address, not binding
        host = "127.0.0.1"
    return f"http://{host}:{port}"


class Command(BaseCommand):
    help = "Print a magic link that signs a customer (by e-mail or phone) in to the customer portal."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("address", help="The customer's e-mail address or phone number.")
        parser.add_argument("--workspace", default="", help="The workspace slug (default: the only one, or 'demo').")

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = self._workspace(options["workspace"])
        contact, _kind = selectors.contact_for_address(workspace=workspace, address=options["address"])
        if contact is None:
            raise CommandError(f"No customer of workspace '{workspace.slug}' has the address {options['address']}.")
        email = contact.email or options["address"]
        try:
            result = signin_request(
                actor=Actor.system("portal_link"), workspace=workspace, address=email, deliver=False
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        if result.method != "link" or not result.secret:
            raise CommandError("This customer has no e-mail address: sign in by SMS code in the portal instead.")
        url = links.absolute(workspace, magic_link_path(workspace, result.secret))
        if url.startswith("/"):
            url = _local_base() + url
        self.stdout.write(url)

    def _workspace(self, slug: str) -> Workspace:
        if slug:
            found = Workspace.objects.filter(slug=slug).first()
        else:
            found = Workspace.objects.filter(slug="demo").first() or (
                Workspace.objects.first() if Workspace.objects.count() == 1 else None
            )
        if found is None:
            raise CommandError("Name the workspace with --workspace SLUG.")
        return found
