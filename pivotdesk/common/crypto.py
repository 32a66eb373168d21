"""Encrypting secrets at rest (mailbox passwords, bot tokens, connector headers, webhook and notification secrets)
with Fernet (AES-128-CBC + HMAC), under keys of their own — never derived from SECRET_KEY any more.

Keys (`config/settings.py`, docs/security.md "Secrets and deployment settings"):

- `PIVOTDESK_FIELD_KEY`: comma-separated Fernet keys. The first encrypts; every one decrypts (a `MultiFernet`).
  In the embedded default it is generated once into `VAR_DIR/field_key`; production must set it.
- `PIVOTDESK_FIELD_KEY_OLD`: more keys that only decrypt (the older way to say the same).
- Legacy, decrypt only (`PIVOTDESK_FIELD_KEY_LEGACY`, on by default): the keys this module used to derive from
  SECRET_KEY — from the configured one and from the public default every embedded install had — so what an older
  version encrypted still reads after an upgrade. They come last, so they never encrypt.

Rotating: put the new key first in PIVOTDESK_FIELD_KEY (keep the old one after it), run
`manage.py rotate_field_key` (it re-encrypts every stored secret under the first key via `reencrypt_column`,
idempotently, and reports counts), then drop the old key and turn PIVOTDESK_FIELD_KEY_LEGACY off.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction

# The SECRET_KEY in PivotDesk's source before issue 11 (the same value as config.keyfiles.PUBLIC_DEFAULT_SECRET_KEY;
# common may not import config): every embedded install's field key was derived from it.
_PUBLIC_DEFAULT_SECRET_KEY = "pivotdesk-insecure-dev-key-change-me-in-production-0123456789"  # noqa: S105 - public
_BATCH = 200


def _key_from_secret(secret: str) -> bytes:
    """The key older versions derived from SECRET_KEY (kept to decrypt what they wrote)."""
    return base64.urlsafe_b64encode(hashlib.sha256(("pivotdesk-field:" + secret).encode()).digest())


def _split(value: object) -> list[bytes]:
    return [k.strip().encode() for k in str(value or "").split(",") if k.strip()]


def _keys() -> tuple[bytes, ...]:
    """Every key, the encrypting one first, without repeats (read from the settings on each call: tests change them)."""
    current = _split(getattr(settings, "PIVOTDESK_FIELD_KEY", ""))
    if not current:
        raise ImproperlyConfigured("PIVOTDESK_FIELD_KEY is empty: secrets at rest need a key of their own.")
    keys = [*current, *_split(getattr(settings, "PIVOTDESK_FIELD_KEY_OLD", ""))]
    if getattr(settings, "PIVOTDESK_FIELD_KEY_LEGACY", True):
        keys += [_key_from_secret(settings.SECRET_KEY), _key_from_secret(_PUBLIC_DEFAULT_SECRET_KEY)]
    return tuple(dict.fromkeys(keys))


@cache
def _multi_fernet(keys: tuple[bytes, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k) for k in keys])


@cache
def _fernet_one(key: bytes) -> Fernet:
    return Fernet(key)


def _fernet() -> MultiFernet:
    return _multi_fernet(_keys())


def encrypt_json(value: dict[str, Any]) -> str:
    """Encrypt a JSON-serialisable dict to a text token (under the current key)."""
    return _fernet().encrypt(json.dumps(value, ensure_ascii=False).encode()).decode()


def decrypt_json(token: str) -> dict[str, Any]:
    """Decrypt a token made by encrypt_json; an empty token is an empty dict. Raises ValueError on a bad key."""
    if not token:
        return {}
    try:
        data = json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise ValueError("Secret could not be decrypted: wrong PIVOTDESK_FIELD_KEY?") from exc
    return data if isinstance(data, dict) else {}


def rotate_token(token: str) -> str | None:
    """The token re-encrypted under the current key, or None when it already is (nothing to write). Raises
    ValueError when no configured key decrypts it."""
    keys = _keys()
    try:
        _fernet_one(keys[0]).decrypt(token.encode())
        return None
    except InvalidToken:
        pass
    try:
        return _multi_fernet(keys).rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("Secret could not be decrypted with any configured key.") from exc


@dataclass
class ColumnRotation:
    """What `reencrypt_column` did to one column: tokens re-encrypted, already current, and unreadable (kept)."""

    column: str
    rotated: int = 0
    current: int = 0
    failed: int = 0


def reencrypt_column(*, model: type[models.Model], field: str, path: Sequence[str] = ()) -> ColumnRotation:
    """Re-encrypt every token stored in `model.field` (or, for a JSON field, at the key `path` inside it) under the
    current key. Idempotent: a token already under the current key is left alone. A token no key decrypts is counted
    as failed and kept as it is (nothing is lost). Each batch is one transaction that locks its rows (a concurrent
    save is not overwritten with a stale value); the write is the ciphertext only (no timestamps, no events: the
    value a service stored does not change)."""
    label = f"{model._meta.label}.{field}" + "".join(f"[{p}]" for p in path)
    result = ColumnRotation(column=label)
    manager = model._base_manager
    rows = manager.all() if path else manager.exclude(**{field: ""})
    pks = list(rows.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(pks), _BATCH):
        with transaction.atomic():
            locked = manager.select_for_update().filter(pk__in=pks[start : start + _BATCH])
            for pk, value in locked.values_list("pk", field):
                _reencrypt_value(manager, pk=pk, field=field, value=value, path=path, result=result)
    return result


def _reencrypt_value(
    manager: models.Manager[Any], *, pk: Any, field: str, value: Any, path: Sequence[str], result: ColumnRotation
) -> None:
    token: Any = value
    for step in path:
        token = token.get(step) if isinstance(token, dict) else None
    if not isinstance(token, str) or not token:
        return
    try:
        rotated = rotate_token(token)
    except ValueError:
        result.failed += 1
        return
    if rotated is None:
        result.current += 1
        return
    if path:
        holder = value
        for step in path[:-1]:
            holder = holder[step]
        holder[path[-1]] = rotated
        rotated_value: Any = value
    else:
        rotated_value = rotated
    manager.filter(pk=pk).update(**{field: rotated_value})
    result.rotated += 1


def secret_digest(secret: str) -> str:
    """The SHA-256 hex digest a single-use link token, API token or recovery code is stored as (never the secret)."""
    return hashlib.sha256(secret.encode()).hexdigest()
