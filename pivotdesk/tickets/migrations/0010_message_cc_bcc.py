# Issue 18, the reply composer: Cc/Bcc of one e-mail reply, and files pasted or dropped into the composer that wait
# (with no message yet) for the reply that uses them.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_two_factor"),
        ("tickets", "0009_reply_draft"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="cc",
            field=models.JSONField(blank=True, default=list, db_default=[]),
        ),
        migrations.AddField(
            model_name="message",
            name="bcc",
            field=models.JSONField(blank=True, default=list, db_default=[]),
        ),
        migrations.AddField(
            model_name="attachment",
            name="uploaded_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="accounts.agentprofile",
            ),
        ),
    ]
