"""`manage.py poll_mailboxes [--account ID ...]`: fetch new mail from IMAP mailboxes once, now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pivotdesk.channels.mailboxes import mailbox_poll, pollable_account_ids
from pivotdesk.channels.models import ChannelAccount


class Command(BaseCommand):
    help = "Poll IMAP mailboxes once: store, process and file away their new mail."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", type=int, action="append", help="channel account id (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        ids: list[int] = options["account"] or pollable_account_ids()
        failed = 0
        for account_id in ids:
            account = ChannelAccount.objects.select_related("workspace").filter(pk=account_id, kind="email").first()
            if account is None:
                raise CommandError(f"No email channel with id {account_id}.")
            result = mailbox_poll(account=account)
            line = f"{account.name}: {result.fetched} fetched, {result.stored} stored, {result.duplicates} already seen"
            if result.error:
                failed += 1
                self.stderr.write(f"{line}; error: {result.error}")
            else:
                self.stdout.write(line)
        if failed:
            raise CommandError(f"{failed} mailbox(es) could not be polled.")
