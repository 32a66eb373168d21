"""Bilingual at the source (architecture rule 14; issue 12): every catalogue entry is translated (none empty, none
fuzzy), and every string the code marks for translation has a Chinese translation in some catalogue.

The second check runs Django's own `makemessages` (xgettext, from the gettext package) over a copy of the code in a
temporary folder, so the repository's catalogues are not touched; a string it extracts that no catalogue translates
is reported with the app it belongs to. Add the translation to that app's `locale/zh_Hans/LC_MESSAGES/django.po`
(or run `make messages` and fill in the empty `msgstr`s), then `compilemessages`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from config.tests.po_files import read_po

ROOT = Path(__file__).resolve().parents[2]
PIVOTDESK = ROOT / "pivotdesk"


def _catalogues(base: Path) -> list[Path]:
    return sorted(base.glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))


def test_no_catalogue_entry_is_empty_or_fuzzy():
    problems = []
    for path in _catalogues(PIVOTDESK):
        for entry in read_po(path):
            if entry.obsolete:
                continue
            if "fuzzy" in entry.flags:
                problems.append(f"{path.relative_to(ROOT)}: fuzzy: {entry.msgid!r}")
            elif not entry.translated:
                problems.append(f"{path.relative_to(ROOT)}: untranslated: {entry.msgid!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="xgettext (Debian package gettext) is not installed")
def test_every_marked_string_has_a_chinese_translation(tmp_path):
    copy = tmp_path / "src"
    shutil.copytree(
        PIVOTDESK,
        copy / "pivotdesk",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo", "tests", "static", "migrations"),
    )
    shutil.copytree(ROOT / "config", copy / "config", ignore=shutil.ignore_patterns("__pycache__", "tests"))
    env = {**os.environ, "PYTHONPATH": str(copy), "DJANGO_SETTINGS_MODULE": "config.settings"}
    env["PIVOTDESK_VAR_DIR"] = str(tmp_path / "var")
    # The django-admin script, not `python -m django`: run inside an app folder, `-m` would put that folder first on
    # sys.path, where a module such as `signals.py` shadows the standard library.
    django_admin = str(Path(sys.executable).parent / "django-admin")
    admin = [sys.executable, django_admin, "makemessages", "-l", "zh_Hans", "--no-obsolete", "--verbosity", "0"]
    # Each app with its own locale folder, then the project catalogue (LOCALE_PATHS) for the rest.
    for app in sorted(p.parent for p in (copy / "pivotdesk").glob("*/locale")):
        subprocess.run(admin, cwd=app, env=env, check=True, capture_output=True)  # noqa: S603 - our own command
    subprocess.run(admin, cwd=copy / "pivotdesk", env=env, check=True, capture_output=True)  # noqa: S603

    translated = {e.key for path in _catalogues(PIVOTDESK) for e in read_po(path) if e.translated and not e.obsolete}
    missing = []
    for path in _catalogues(copy / "pivotdesk"):
        app = path.relative_to(copy / "pivotdesk").parts[0]
        missing += [f"{app}: {e.msgid!r}" for e in read_po(path) if not e.obsolete and e.key not in translated]
    assert not missing, f"{len(missing)} strings without a Chinese translation:\n" + "\n".join(missing)
