"""Deployment settings are safe by default (issue 11, finding 6): no public SECRET_KEY, a field key of its own,
production refuses to start without its secrets, and `check --deploy` is clean with production settings.

Each case starts the real settings in a subprocess with its own environment and var folder (settings are read once
per process)."""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings

from config import keyfiles

BASE_DIR = Path(settings.BASE_DIR)
TIMEOUT_S = 120.0  # generous: each process boots Django on a shared machine
# The variables each case sets itself, and what other tests of the same process may have set (the browser tests set
# DJANGO_ALLOW_ASYNC_UNSAFE for Playwright; a deployment must not have it, and `check --deploy` says so).
OURS = (
    "SECRET_KEY",
    "PIVOTDESK_FIELD_KEY",
    "PIVOTDESK_FIELD_KEY_OLD",
    "PIVOTDESK_PRODUCTION",
    "DEBUG",
    "BEHIND_PROXY",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


def _env(var_dir: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in OURS and not k.startswith(("SECURE_", "PIVOTDESK_HTTPS"))}
    return {**env, "DJANGO_SETTINGS_MODULE": "config.settings", "PIVOTDESK_VAR_DIR": str(var_dir), **values}


def _production_env(var_dir: Path, **values: str) -> dict[str, str]:
    return _env(
        var_dir,
        PIVOTDESK_PRODUCTION="true",
        SECRET_KEY=secrets.token_urlsafe(45)[:60],
        PIVOTDESK_FIELD_KEY=Fernet.generate_key().decode(),
        BEHIND_PROXY="true",
        ALLOWED_HOSTS="desk.example.com",
        DEBUG="false",
        **values,
    )


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - a fixed command line
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )


def _settings_values(env: dict[str, str], *names: str) -> subprocess.Popen[str]:
    code = f"import config.settings as s; print(' '.join(str(getattr(s, n)) for n in {names!r}))"
    return subprocess.Popen(  # noqa: S603 - a fixed command line
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    assert not (tmp_path / "secret_key").exists() and not (tmp_path / "field_key").exists()  # nothing generated


def test_production_settings_turn_on_secure_cookies_and_hsts(tmp_path):
    names = ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS")
    proc = _settings_values(_production_env(tmp_path), *names)
    out, err = proc.communicate(timeout=TIMEOUT_S)
    assert proc.returncode == 0, err
    assert out.split() == ["True", "True", "31536000", "False"]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"SECRET_KEY": ""}, "PIVOTDESK_PRODUCTION is on but SECRET_KEY is not set"),
        ({"SECRET_KEY": keyfiles.PUBLIC_DEFAULT_SECRET_KEY}, "SECRET_KEY is the public default"),
        ({"SECRET_KEY": "short-but-set"}, "SECRET_KEY is too short"),
        ({"PIVOTDESK_FIELD_KEY": ""}, "PIVOTDESK_PRODUCTION is on but PIVOTDESK_FIELD_KEY is not set"),
        ({"PIVOTDESK_FIELD_KEY": "not-a-fernet-key"}, "PIVOTDESK_FIELD_KEY (key 1) is not a Fernet key"),
        ({"DEBUG": "true"}, "DEBUG must be off"),
    ],
)
def test_production_refuses_to_start_without_its_secrets(tmp_path, override, message):
    env = _production_env(tmp_path)
    env.update(override)
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr, result.stderr
    assert not (tmp_path / "secret_key").exists() and not (tmp_path / "field_key").exists()


def test_the_embedded_default_generates_its_keys_once_and_processes_starting_together_agree(tmp_path):
    env = _env(tmp_path)
    starting = [_settings_values(env, "SECRET_KEY", "PIVOTDESK_FIELD_KEY") for _ in range(4)]
    outputs = []
    for proc in starting:
        out, err = proc.communicate(timeout=TIMEOUT_S)
        assert proc.returncode == 0, err
        outputs.append(out.split())
    assert len({tuple(o) for o in outputs}) == 1  # one key for every process
    secret_key, field_key = outputs[0]
    assert secret_key != keyfiles.PUBLIC_DEFAULT_SECRET_KEY and len(secret_key) >= keyfiles.MIN_SECRET_KEY_LENGTH
    Fernet(field_key.encode())  # a Fernet key of its own, not derived from SECRET_KEY
    for name, value in (("secret_key", secret_key), ("field_key", field_key)):
        path = tmp_path / name
        assert path.read_text().strip() == value
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left behind
    # A later start reads the same keys.
    again = _settings_values(env, "SECRET_KEY", "PIVOTDESK_FIELD_KEY")
    assert again.communicate(timeout=TIMEOUT_S)[0].split() == outputs[0]
