"""Encrypting secrets at rest (mailbox passwords, bot tokens, app secrets) with Fernet (AES-128-CBC + HMAC).

The key comes from PIVOTDESK_FIELD_KEY (a Fernet key) or is derived from SECRET_KEY. Rotating: set the new key in
PIVOTDESK_FIELD_KEY and the old one in PIVOTDESK_FIELD_KEY_OLD; values are read with either and re-encrypted on save.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _key_from_secret(secret: str) -> bytes:
    return base64.urlsafe_b64encode(hashlib.sha256(("pivotdesk-field:" + secret).encode()).digest())


@cache
def _fernet() -> MultiFernet:
    keys = []
    primary = getattr(settings, "PIVOTDESK_FIELD_KEY", "") or ""
    old = getattr(settings, "PIVOTDESK_FIELD_KEY_OLD", "") or ""
    keys.append(Fernet(primary.encode() if primary else _key_from_secret(settings.SECRET_KEY)))
    if old:
        keys.append(Fernet(old.encode()))
    return MultiFernet(keys)


def encrypt_json(value: dict[str, Any]) -> str:
    """Encrypt a JSON-serialisable dict to a text token."""
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
