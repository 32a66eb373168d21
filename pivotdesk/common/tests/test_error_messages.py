"""Errors are translated where they are raised: every DomainError a person may read carries a message marked for
translation, in the request's language, with a stable code (see `pivotdesk/common/errors.py`)."""

from __future__ import annotations

import ast
from enum import StrEnum
from pathlib import Path

import pytest
from django.utils import translation

import pivotdesk
from pivotdesk.common.errors import DomainError, PermissionDenied, ValidationFailed

ROOT = Path(pivotdesk.__file__).parent

# Apps whose raises are converted; an app joins this list when its messages are translated at the source.
TRANSLATED_APPS = [
    "accounts",
    "ai",
    "channels",
    "cli",
    "common",
    "customers",
    "notifications",
    "oncall",
    "routing",
    "search",
    "sla",
    "tickets",
    "webhooks",
    "workforce",
]

_TRANSLATORS = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}


def _domain_error_names() -> set[str]:
    """DomainError and every subclass defined anywhere in the project (imported by Django's app loading)."""
    found, todo = {DomainError.__name__}, [DomainError]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub.__name__)
            todo.append(sub)
    return found


def _is_translated(node: ast.expr) -> bool:
    """`gettext("…")`, `_("…")`, `gettext("…") % {…}` or `gettext("…").format(…)`."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return _is_translated(node.left)
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "format":
            return _is_translated(func.value)
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        return name in _TRANSLATORS
    return False


def _untranslated_raises(app: str) -> list[str]:
    names = _domain_error_names()
    bad: list[str] = []
    for path in sorted((ROOT / app).rglob("*.py")):
        if {"tests", "migrations"} & set(path.relative_to(ROOT).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            func = node.exc.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name not in names:
                continue
            message = next(iter(node.exc.args), None) or next(
                (k.value for k in node.exc.keywords if k.arg == "message"), None
            )
            if message is None or not _is_translated(message):
                bad.append(f"{path.relative_to(ROOT.parent)}:{node.lineno}: {ast.unparse(node.exc)[:100]}")
    return bad


@pytest.mark.parametrize("app", TRANSLATED_APPS)
def test_every_domain_error_is_raised_with_a_message_marked_for_translation(app):
    # given the app's modules (tests and migrations aside)
    # when every `raise <DomainError subclass>(…)` is read
    bad = _untranslated_raises(app)
    # then each message is a gettext call (with named placeholders filled by %), never a bare or f-string
    assert not bad, (
        'Write the message as gettext("… %(name)s …") % {"name": value} and give it a code from the app\'s '
        "errors.py (see pivotdesk/common/errors.py):\n" + "\n".join(bad)
    )


def test_the_scan_catches_an_f_string_and_accepts_a_translated_message(tmp_path):
    # given two raises, one translated and one not
    tree = ast.parse(
        "raise ValidationFailed(f'Unknown {x}.')\nraise ValidationFailed(gettext('Unknown %(x)s.') % {'x': x})\n"
    )
    raises = [n.exc for n in ast.walk(tree) if isinstance(n, ast.Raise)]
    # then the scan tells them apart
    assert [_is_translated(r.args[0]) for r in raises] == [False, True]


def test_a_lazy_message_renders_in_the_language_active_when_read():
    # given an error raised with a lazy message and a code
    from django.utils.translation import gettext_lazy

    exc = PermissionDenied(gettext_lazy("Your role may not do this."), code="permission_denied")
    # when it is read in Chinese and in English
    with translation.override("zh-hans"):
        chinese = exc.as_dict()
    with translation.override("en"):
        english = str(exc)
    # then the message follows the language and the code does not
    assert chinese == {"code": "permission_denied", "message": "你的角色无权执行此操作。"}
    assert english == "Your role may not do this."


def test_a_code_from_an_app_enum_is_rendered_as_its_plain_value():
    # given an app's code enum (as in <app>/errors.py)
    class ExampleErrorCode(StrEnum):
        FILE_TOO_LARGE = "file_too_large"

    # when an error is raised with one of its codes
    exc = ValidationFailed("x", code=ExampleErrorCode.FILE_TOO_LARGE)
    # then the API sees the plain string
    assert exc.as_dict()["code"] == "file_too_large"
    assert type(exc.code) is str
