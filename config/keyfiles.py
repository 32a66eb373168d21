"""Secrets for the settings: from the environment, or generated once into the var folder (embedded default only).

`PIVOTDESK_PRODUCTION=true` is the switch that says "this is a real deployment": then SECRET_KEY and
PIVOTDESK_FIELD_KEY must come from the environment (the process refuses to start otherwise, with a message that
says what to set). Without it — the embedded default of `make run` — a missing key is generated once into
`VAR_DIR/<name>` (mode 0600) and read from there on every later start, so a laptop needs no configuration and no
two installations share a key.

Generated atomically: the key is written to a temporary file in the same folder and hard-linked to its name, which
fails if the name exists. Two processes starting together (web, worker, beat, relay) therefore never see a half
written file and always end up with the same key: the loser of the race reads the winner's.

Pure standard library plus `cryptography` (no Django): settings import this before Django is set up.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet

# The SECRET_KEY every installation used before issue 11 (it was in the public source): a production start refuses
# it, and the field encryption still reads what was encrypted with a key derived from it (pivotdesk.common.crypto).
PUBLIC_DEFAULT_SECRET_KEY = "pivotdesk-insecure-dev-key-change-me-in-production-0123456789"  # noqa: S105 - public

MIN_SECRET_KEY_LENGTH = 50  # what `manage.py check --deploy` asks for


class KeyConfigurationError(Exception):
    """A key is missing or unusable; settings turn it into ImproperlyConfigured."""


def new_secret_key() -> str:
    """A random SECRET_KEY (64 URL-safe characters, ~384 bits)."""
    return secrets.token_urlsafe(48)


def new_field_key() -> str:
    """A random Fernet key for the field encryption."""
    return Fernet.generate_key().decode()


def key_from_file(path: Path, make: Callable[[], str]) -> str:
    """The key stored at `path`, created with `make()` first if the file does not exist (atomically, mode 0600)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mkstemp creates it 0600
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(make() + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileExistsError):  # another process was first: its key is the one
                os.link(tmp, path)  # atomic: the name appears with the whole key, or not at all
        finally:
            os.unlink(tmp)
    value = path.read_text(encoding="ascii").strip()
    if not value:
        raise KeyConfigurationError(
            f"{path} is empty: delete it to generate a new key, or set the key in the environment."
        )
    return value


def secret_key(*, from_env: str, production: bool, var_dir: Path) -> str:
    """SECRET_KEY: the environment's, else (not in production) the one generated into VAR_DIR/secret_key."""
    if production:
        if not from_env:
            raise KeyConfigurationError(
                "PIVOTDESK_PRODUCTION is on but SECRET_KEY is not set: set SECRET_KEY to a random value of at least "
                f"{MIN_SECRET_KEY_LENGTH} characters (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(50))'`)."
            )
        if from_env == PUBLIC_DEFAULT_SECRET_KEY:
            raise KeyConfigurationError(
                "PIVOTDESK_PRODUCTION is on but SECRET_KEY is the public default from PivotDesk's source: set a random "
                "value of your own."
            )
        if len(from_env) < MIN_SECRET_KEY_LENGTH or len(set(from_env)) < 5:
            raise KeyConfigurationError(
                f"PIVOTDESK_PRODUCTION is on but SECRET_KEY is too short: use at least {MIN_SECRET_KEY_LENGTH} random "
                "characters."
            )
        return from_env
    return from_env or key_from_file(var_dir / "secret_key", new_secret_key)


def field_keys(*, from_env: str, production: bool, var_dir: Path) -> list[str]:
    """The field-encryption keys, current first: PIVOTDESK_FIELD_KEY (comma-separated Fernet keys), else (not in
    production) the one generated into VAR_DIR/field_key. Every key is checked to be a Fernet key."""
    keys = [k.strip() for k in from_env.split(",") if k.strip()]
    if not keys:
        if production:
            raise KeyConfigurationError(
                "PIVOTDESK_PRODUCTION is on but PIVOTDESK_FIELD_KEY is not set: set it to a Fernet key (e.g. "
                "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`); "
                'see docs/security.md, "Secrets and deployment settings".'
            )
        keys = [key_from_file(var_dir / "field_key", new_field_key)]
    for position, key in enumerate(keys, start=1):
        check_fernet_key(key, what=f"PIVOTDESK_FIELD_KEY (key {position})")
    return keys


def check_fernet_key(key: str, *, what: str) -> None:
    """Raise KeyConfigurationError unless `key` is a Fernet key (32 bytes, URL-safe base64)."""
    try:
        Fernet(key.encode())
    except (ValueError, TypeError) as exc:
        raise KeyConfigurationError(f"{what} is not a Fernet key (32 bytes, URL-safe base64).") from exc
