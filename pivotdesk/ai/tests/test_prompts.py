"""Prompt files: versioned data, validated at load time (unknown placeholders are refused)."""

from __future__ import annotations

import pytest

from pivotdesk.ai.prompts import (
    KNOWN_PLACEHOLDERS,
    PromptError,
    available_prompts,
    load_prompt,
    load_prompt_file,
)


def _write(tmp_path, name, body):
    path = tmp_path / f"{name}.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_every_packaged_prompt_loads_with_a_name_and_version():
    names = available_prompts()
    assert "triage_summary" in names
    for name in names:
        prompt = load_prompt(name)
        assert prompt.name == name
        assert prompt.version
        assert prompt.placeholders <= KNOWN_PLACEHOLDERS


def test_triage_prompt_is_bilingual_and_fills_its_placeholders():
    prompt = load_prompt("triage_summary")
    assert {"subject", "text", "language_name", "facts", "entities"} <= prompt.placeholders
    system, user = prompt.messages(subject="物流太慢", text="三天没动", language_name="English", facts="物流: 延误")
    assert system["role"] == "system" and user["role"] == "user"
    assert "customer's language" in system["content"] and "客户使用的语言" in system["content"]
    assert "Write it in English." in system["content"]
    assert "Subject: 物流太慢" in user["content"] and "物流: 延误" in user["content"]
    assert "{" not in user["content"]


def test_values_with_braces_are_not_interpreted():
    prompt = load_prompt("triage_summary")
    _, user = prompt.messages(text="my JSON {text} {0} {__class__}")
    assert "my JSON {text} {0} {__class__}" in user["content"]


def test_unknown_placeholder_is_rejected(tmp_path):
    path = _write(tmp_path, "bad", 'name = "bad"\nversion = "1"\nsystem = "hi"\nuser = "{subject} {order_total}"\n')
    with pytest.raises(PromptError, match=r"unknown placeholder \{order_total\}"):
        load_prompt_file(path)


@pytest.mark.parametrize(
    ("user", "message"),
    [
        ("{}", "positional"),
        ("{text.upper}", "unknown placeholder"),
        ("{text[0]}", "unknown placeholder"),
        ("{text:>10}", "format spec"),
        ("{text!r}", "format spec or conversion"),
        ("a { b", "literal braces"),
    ],
)
def test_malformed_placeholders_are_rejected(tmp_path, user, message):
    path = _write(tmp_path, "bad", f'name = "bad"\nversion = "1"\nsystem = "hi"\nuser = "{user}"\n')
    with pytest.raises(PromptError, match=message):
        load_prompt_file(path)


def test_literal_braces_are_allowed(tmp_path):
    path = _write(tmp_path, "ok", 'name = "ok"\nversion = "2"\nsystem = "JSON like {{\\"a\\": 1}}"\nuser = "{text}"\n')
    prompt = load_prompt_file(path)
    assert prompt.messages(text="x")[0]["content"] == 'JSON like {"a": 1}'


@pytest.mark.parametrize(
    "body",
    [
        'name = "p"\nsystem = "s"\nuser = "u"\n',  # no version
        'name = "p"\nversion = ""\nsystem = "s"\nuser = "u"\n',  # empty version
        'name = "other"\nversion = "1"\nsystem = "s"\nuser = "u"\n',  # name differs from the file
        'name = "p"\nversion = "1"\nsystem = "s"\nuser = "u"\ntemperature = 0.3\n',  # unknown key
        'name = "p"\nversion = "1"\nsystem = "s"\nuser = "u',  # not TOML
    ],
)
def test_malformed_files_are_rejected(tmp_path, body):
    with pytest.raises(PromptError):
        load_prompt_file(_write(tmp_path, "p", body))


def test_unknown_values_are_refused_when_rendering():
    with pytest.raises(PromptError, match="unknown values"):
        load_prompt("triage_summary").messages(secret="x")


def test_missing_prompt_is_an_error():
    with pytest.raises(PromptError):
        load_prompt("no_such_prompt")
    with pytest.raises(PromptError):
        load_prompt("../settings")
