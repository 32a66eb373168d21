# The clear-text secret column goes once 0003 has encrypted every row (a separate migration: on PostgreSQL a table
# cannot be altered in the transaction that just updated its rows).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0003_encrypted_secret"),
    ]

    operations = [
        migrations.AlterField(
            model_name="webhookendpoint",
            name="secret",
            field=models.CharField(blank=True, default="", max_length=128),
        ),
        migrations.RemoveField(
            model_name="webhookendpoint",
            name="secret",
        ),
    ]
