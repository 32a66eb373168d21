"""Secrets at rest have a key of their own, rotatable: `manage.py rotate_field_key` re-encrypts every stored secret
under the current key, after which the old key (and the legacy SECRET_KEY-derived ones) can be removed.
Issue 11, finding 6."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from io import StringIO
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError

from config import keyfiles
from pivotdesk.accounts.actors import Actor
from pivotdesk.accounts.models import Workspace
from pivotdesk.ai.models import Connector
from pivotdesk.channels.models import ChannelAccount
from pivotdesk.cli.management.commands.rotate_field_key import ENCRYPTED_COLUMNS, field_key_rotate
from pivotdesk.common import crypto
from pivotdesk.common.crypto import decrypt_json, encrypt_json
from pivotdesk.common.errors import PermissionDenied
from pivotdesk.notifications.tests.factories import make_target

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def _legacy_token(value: dict[str, object], secret_key: str) -> str:
    """What a version before issue 11 stored: encrypted with a key derived from SECRET_KEY."""
    key = base64.urlsafe_b64encode(hashlib.sha256(("pivotdesk-field:" + secret_key).encode()).digest())
    return Fernet(key).encrypt(json.dumps(value).encode()).decode()


def _rotate() -> str:
    out = StringIO()
    call_command("rotate_field_key", stdout=out)
    return out.getvalue()


def _total(output: str) -> tuple[int, int, int]:
    match = re.search(r"total: (\d+) rotated, (\d+) already current, (\d+) unreadable", output)
    assert match, output
    rotated, current, failed = (int(g) for g in match.groups())
    return rotated, current, failed


@pytest.fixture
def stored_secrets(settings, workspace, agent):
    """Secrets of every kind written under the OLD key, and two from before issue 11 (SECRET_KEY-derived keys)."""
    settings.PIVOTDESK_FIELD_KEY = OLD
    channel = ChannelAccount(workspace=workspace, kind="email", name="Support")
    channel.set_secrets({"password": "imap-pw"})
    channel.save()
    legacy_channel = ChannelAccount.objects.create(
        workspace=workspace,
        kind="email",
        name="Legacy",
        secret_config=_legacy_token({"password": "from-the-public-default"}, keyfiles.PUBLIC_DEFAULT_SECRET_KEY),
    )
    connector = Connector.objects.create(
        workspace=workspace,
        name="ERP",
        entity_kind="order",
        url_template="https://erp.example.com/{value}",
        secret_config=_legacy_token({"Authorization": "Bearer erp"}, settings.SECRET_KEY),
    )
    target = make_target(agent, "json://hooks.example.com/x")
    workspace.settings = {
        "ai": {"llm": {"base_url": "https://llm.example", "api_key_secret": encrypt_json({"api_key": "sk-1"})}}
    }
    workspace.save()
    return {"channel": channel, "legacy_channel": legacy_channel, "connector": connector, "target": target}


def _plain(stored) -> dict[str, object]:
    """Every stored secret, decrypted with the keys configured now."""
    workspace = Workspace.objects.get(pk=stored["channel"].workspace_id)
    return {
        "channel": decrypt_json(ChannelAccount.objects.get(pk=stored["channel"].pk).secret_config),
        "legacy_channel": decrypt_json(ChannelAccount.objects.get(pk=stored["legacy_channel"].pk).secret_config),
        "connector": decrypt_json(Connector.objects.get(pk=stored["connector"].pk).secret_config),
        "target": stored["target"].__class__.objects.get(pk=stored["target"].pk).url,
        "llm": decrypt_json(workspace.settings["ai"]["llm"]["api_key_secret"]),
    }


EXPECTED = {
    "channel": {"password": "imap-pw"},
    "legacy_channel": {"password": "from-the-public-default"},
    "connector": {"Authorization": "Bearer erp"},
    "target": "json://hooks.example.com/x",
    "llm": {"api_key": "sk-1"},
}


@pytest.mark.django_db
def test_after_rotation_the_old_and_legacy_keys_can_be_removed(settings, stored_secrets):
    # Given a new key in front of the old one: everything still reads (the legacy values through the derived keys).
    settings.PIVOTDESK_FIELD_KEY = f"{NEW},{OLD}"
    assert _plain(stored_secrets) == EXPECTED
    # Without the old keys, before rotating, nothing of it would read: the removal below is what the rotation enables.
    settings.PIVOTDESK_FIELD_KEY, settings.PIVOTDESK_FIELD_KEY_LEGACY = NEW, False
    with pytest.raises(ValueError):
        _plain(stored_secrets)
    settings.PIVOTDESK_FIELD_KEY, settings.PIVOTDESK_FIELD_KEY_LEGACY = f"{NEW},{OLD}", True

    # When rotating: every secret is re-encrypted, and a second run finds nothing to do.
    assert _total(_rotate()) == (5, 0, 0)
    assert _total(_rotate()) == (0, 5, 0)

    # Then the old key and the legacy keys go, and every value still decrypts.
    settings.PIVOTDESK_FIELD_KEY, settings.PIVOTDESK_FIELD_KEY_LEGACY = NEW, False
    assert _plain(stored_secrets) == EXPECTED
    # The workspace's other settings are untouched.
    assert Workspace.objects.get(pk=stored_secrets["channel"].workspace_id).settings["ai"]["llm"]["base_url"] == (
        "https://llm.example"
    )


@pytest.mark.django_db
def test_the_old_key_may_also_be_given_as_field_key_old(settings, stored_secrets):
    settings.PIVOTDESK_FIELD_KEY, settings.PIVOTDESK_FIELD_KEY_OLD = NEW, OLD
    assert _total(_rotate()) == (5, 0, 0)
    settings.PIVOTDESK_FIELD_KEY_OLD, settings.PIVOTDESK_FIELD_KEY_LEGACY = "", False
    assert _plain(stored_secrets) == EXPECTED


@pytest.mark.django_db
def test_a_secret_no_key_reads_is_reported_and_kept(settings, workspace):
    stranger = Fernet(Fernet.generate_key()).encrypt(b'{"password": "x"}').decode()
    account = ChannelAccount.objects.create(workspace=workspace, kind="email", name="Lost", secret_config=stranger)
    settings.PIVOTDESK_FIELD_KEY = NEW
    out = StringIO()
    with pytest.raises(CommandError, match="could not be decrypted"):
        call_command("rotate_field_key", stdout=out)
    assert "1 unreadable" in out.getvalue()
    assert ChannelAccount.objects.get(pk=account.pk).secret_config == stranger  # nothing lost


def test_new_secrets_are_encrypted_with_the_field_key_not_one_derived_from_secret_key(settings):
    settings.PIVOTDESK_FIELD_KEY = f"{NEW},{OLD}"
    token = encrypt_json({"a": 1})
    assert Fernet(NEW.encode()).decrypt(token.encode()) == b'{"a": 1}'


def test_the_legacy_default_is_the_one_the_settings_refuse():
    assert crypto._PUBLIC_DEFAULT_SECRET_KEY == keyfiles.PUBLIC_DEFAULT_SECRET_KEY


def test_every_app_that_encrypts_has_its_columns_in_the_rotation():
    """Read as text: a module that calls encrypt_json names a model whose app must be in ENCRYPTED_COLUMNS."""
    root = Path(__file__).resolve().parents[2] / "pivotdesk"
    covered = {label.split(".")[0] for label, _, _ in ENCRYPTED_COLUMNS}
    encrypting = {
        path.relative_to(root).parts[0]
        for path in root.rglob("*.py")
        if "tests" not in path.parts
        and path.name != "crypto.py"
        and "encrypt_json(" in path.read_text(encoding="utf-8")
    }
    # The web and cli packages encrypt through the apps' services and models; `ai` also stores the workspace LLM key
    # in accounts.Workspace.settings (covered by the accounts row).
    assert encrypting - {"web", "cli"} <= covered, encrypting - covered


@pytest.mark.django_db
def test_only_the_system_may_rotate(admin_agent):
    with pytest.raises(PermissionDenied):
        field_key_rotate(actor=Actor.for_agent(admin_agent))
