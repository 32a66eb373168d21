# Webhook signing secrets at rest: the clear-text `secret` column becomes an encrypted `secret_config` (the field
# encryption channel secrets use) with a display hint; 0004 drops the clear column once every row is encrypted.

from django.db import migrations, models

from pivotdesk.common.crypto import decrypt_json, encrypt_json


def _hint(secret):
    # A frozen copy of pivotdesk.webhooks.models.secret_hint (migrations must not follow later changes of the model).
    prefix = secret.split("_", 1)[0] + "_" if "_" in secret[:8] else ""
    return f"{prefix}…{secret[-4:]}" if len(secret) > 8 else "…"


def encrypt_secrets(apps, schema_editor):
    """Encrypt every clear-text secret into secret_config, and keep its hint."""
    Endpoint = apps.get_model("webhooks", "WebhookEndpoint")
    for endpoint in Endpoint.objects.exclude(secret="").filter(secret_config="").iterator():
        endpoint.secret_config = encrypt_json({"current": endpoint.secret})
        endpoint.secret_hint = _hint(endpoint.secret)
        endpoint.save(update_fields=["secret_config", "secret_hint"])


def decrypt_secrets(apps, schema_editor):
    """Back to the clear-text column (reverse migration only)."""
    Endpoint = apps.get_model("webhooks", "WebhookEndpoint")
    for endpoint in Endpoint.objects.exclude(secret_config="").iterator():
        endpoint.secret = str(decrypt_json(endpoint.secret_config).get("current", ""))
        endpoint.save(update_fields=["secret"])


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0002_outbox"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhookendpoint",
            name="previous_secret_expires_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="Until then deliveries are signed with the old secret too.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="webhookendpoint",
            name="secret_config",
            field=models.TextField(
                blank=True, editable=False, help_text="Encrypted signing secrets (HMAC-SHA256 of every delivery)."
            ),
        ),
        migrations.AddField(
            model_name="webhookendpoint",
            name="secret_hint",
            field=models.CharField(blank=True, editable=False, max_length=32),
        ),
        migrations.AddField(
            model_name="webhookendpoint",
            name="secret_rotated_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(encrypt_secrets, decrypt_secrets),
    ]
