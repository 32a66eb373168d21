"""`manage.py rotate_field_key` (also `pivotdesk rotate_field_key`): re-encrypt every stored secret under the current
field key (the first of PIVOTDESK_FIELD_KEY), so older keys — PIVOTDESK_FIELD_KEY_OLD, the keys after the first, the
legacy SECRET_KEY-derived ones — can be removed afterwards. Idempotent: run it again and it rotates nothing.

`ENCRYPTED_COLUMNS` is the one list of where secrets are stored encrypted (`pivotdesk.common.crypto.encrypt_json`);
a test checks that every app that encrypts has its column here.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.permissions import authorize_system
from pivotdesk.common.crypto import ColumnRotation, reencrypt_column

# (model label, field, key path inside a JSON field)
ENCRYPTED_COLUMNS: list[tuple[str, str, tuple[str, ...]]] = [
    ("channels.ChannelAccount", "secret_config", ()),
    ("channels.MailboxOAuth", "token_secret", ()),
    ("ai.Connector", "secret_config", ()),
    ("notifications.NotificationTarget", "secret", ()),
    ("webhooks.WebhookEndpoint", "secret_config", ()),
    ("accounts.TwoFactorDevice", "secret_config", ()),
    ("accounts.Workspace", "settings", ("ai", "llm", "api_key_secret")),
    ("oncall.Partner", "targets_secret", ()),
]


def field_key_rotate(*, actor: Actor) -> list[ColumnRotation]:
    """Re-encrypt every column of ENCRYPTED_COLUMNS under the current key; the counts per column. System only."""
    authorize_system(actor)
    results = []
    for label, field, path in ENCRYPTED_COLUMNS:
        model = apps.get_model(label)
        if not any(f.name == field for f in model._meta.get_fields()):
            continue  # a column not (or no longer) in this version's schema
        results.append(reencrypt_column(model=model, field=field, path=path))
    return results


class Command(BaseCommand):
    help = "Re-encrypt every stored secret under the current PIVOTDESK_FIELD_KEY (the first key); prints counts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet-ok", action="store_true", help="Print only the columns that changed or failed.")

    def handle(self, *args: Any, **options: Any) -> None:
        results = field_key_rotate(actor=Actor.system("cli"))
        for r in results:
            if options["quiet_ok"] and not (r.rotated or r.failed):
                continue
            self.stdout.write(f"{r.column}: {r.rotated} rotated, {r.current} already current, {r.failed} unreadable")
        rotated = sum(r.rotated for r in results)
        failed = sum(r.failed for r in results)
        self.stdout.write(
            f"total: {rotated} rotated, {sum(r.current for r in results)} already current, {failed} unreadable"
        )
        if failed:
            raise CommandError(
                f"{failed} secret(s) could not be decrypted with any configured key and were left as they are: "
                "add the key they were written with to PIVOTDESK_FIELD_KEY_OLD and run this again."
            )
