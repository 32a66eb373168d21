"""One ticket per `(workspace, external_id)` when the key is not empty (issue 11, finding 13).

Before this constraint, concurrent API calls with the same `external_id` could each open a ticket. Existing
duplicates are resolved first: in each workspace the **oldest** ticket (lowest id) keeps the key; every later one
keeps its data and gets the key **suffixed** with its own number, `<key>~dup#<number>` (cut so that it fits 255
characters), so nothing is lost and the old key can still be searched. Should that suffixed key itself be taken
(virtually impossible), the later ticket's key is **cleared** instead. Reversing drops the constraint and leaves
the suffixed keys as they are.
"""

from typing import Any

from django.db import migrations, models
from django.db.models import Count

MAX_KEY = 255


def resolve_duplicates(apps: Any, schema_editor: Any) -> None:
    Ticket = apps.get_model("tickets", "Ticket")
    clashes = (
        Ticket.objects.exclude(external_id="")
        .values("workspace_id", "external_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    for clash in clashes.iterator():
        rows = list(
            Ticket.objects.filter(workspace_id=clash["workspace_id"], external_id=clash["external_id"])
            .order_by("pk")
            .values_list("pk", "number")
        )
        for pk, number in rows[1:]:
            suffix = f"~dup#{number}"
            key = clash["external_id"][: MAX_KEY - len(suffix)] + suffix
            if Ticket.objects.filter(workspace_id=clash["workspace_id"], external_id=key).exists():
                key = ""
            Ticket.objects.filter(pk=pk).update(external_id=key)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_login_audit"),
        ("customers", "0001_initial"),
        ("tickets", "0007_search_documents_to_search_app"),
    ]

    operations = [
        migrations.AlterField(
            model_name="ticket",
            name="external_id",
            field=models.CharField(
                blank=True,
                help_text="The client's key for this ticket (API idempotency key, import id).",
                max_length=255,
            ),
        ),
        migrations.RunPython(resolve_duplicates, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="ticket",
            constraint=models.UniqueConstraint(
                condition=models.Q(("external_id", ""), _negated=True),
                fields=("workspace", "external_id"),
                name="ticket_unique_external_id",
            ),
        ),
    ]
