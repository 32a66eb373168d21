"""Partner targets (apprise URLs, which hold keys) are stored encrypted, like the agents' notification targets."""

from django.db import migrations, models


def encrypt_targets(apps, schema_editor):
    from pivotdesk.common.crypto import encrypt_json

    Partner = apps.get_model("oncall", "Partner")
    for partner in Partner.objects.only("pk", "targets"):
        urls = [str(u) for u in partner.targets or [] if str(u).strip()]
        if urls:
            Partner.objects.filter(pk=partner.pk).update(targets_secret=encrypt_json({"urls": urls}))


def decrypt_targets(apps, schema_editor):
    from pivotdesk.common.crypto import decrypt_json

    Partner = apps.get_model("oncall", "Partner")
    for partner in Partner.objects.exclude(targets_secret="").only("pk", "targets_secret"):
        Partner.objects.filter(pk=partner.pk).update(targets=decrypt_json(partner.targets_secret).get("urls", []))


class Migration(migrations.Migration):
    dependencies = [("oncall", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="partner",
            name="targets_secret",
            field=models.TextField(blank=True, help_text="The apprise URLs, encrypted (they hold keys)."),
        ),
        migrations.RunPython(encrypt_targets, decrypt_targets),
        migrations.RemoveField(model_name="partner", name="targets"),
    ]
