"""Leave moves from routing (AgentLeave) to workforce (Leave): availability has one owner."""

from django.db import migrations


def copy_leave(apps, schema_editor):
    old = apps.get_model("routing", "AgentLeave")
    new = apps.get_model("workforce", "Leave")
    new.objects.bulk_create(
        [
            new(
                workspace_id=row.workspace_id,
                agent_id=row.agent_id,
                start=row.start,
                end=row.end,
                reason=row.reason,
                leave_type="other",
                created_at=row.created_at,
                updated_at=row.updated_at,
            )
            for row in old.objects.all().iterator()
        ],
        batch_size=500,
    )


def copy_back(apps, schema_editor):
    old = apps.get_model("routing", "AgentLeave")
    new = apps.get_model("workforce", "Leave")
    old.objects.bulk_create(
        [
            old(workspace_id=r.workspace_id, agent_id=r.agent_id, start=r.start, end=r.end, reason=r.reason)
            for r in new.objects.all().iterator()
        ],
        batch_size=500,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("workforce", "0001_initial"),
        ("routing", "0002_queuedticket_last_reason_data"),
    ]

    operations = [migrations.RunPython(copy_leave, copy_back)]
