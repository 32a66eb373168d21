"""Versioned prompt files (TOML data, one per prompt) and their loader.

A prompt file holds `name`, `version`, `system` and `user` (templates with `{placeholder}`s from KNOWN_PLACEHOLDERS;
`{{`/`}}` for literal braces). The loader refuses unknown placeholders, positional `{}`, attribute/index access and
format specs, so a typo fails at load time (and in the tests), not silently at a customer's ticket. Every LLM call
records the prompt's name and version.
"""

from __future__ import annotations

import functools
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROMPT_DIR = Path(__file__).resolve().parent

KNOWN_PLACEHOLDERS = frozenset(
    {
        "subject",  # the ticket's subject
        "text",  # the customer's messages, newest last (the tail is kept when long)
        "language",  # the customer's language code (zh, en, …)
        "language_name",  # its readable name, e.g. "简体中文 (Simplified Chinese)"
        "facts",  # text found by earlier steps: OCR/speech text, connector facts
        "entities",  # what local extraction found, one "kind: value" a line
        "channel",  # email, web, chat, …
        "customer_tier",  # e.g. vip
    }
)


class PromptError(ValueError):
    """A prompt file is missing, malformed or uses a placeholder the code does not fill."""


@dataclass(frozen=True)
class Prompt:
    """One version of one prompt: a system message and a user message template."""

    name: str
    version: str
    system: str
    user: str
    description: str = ""

    @property
    def placeholders(self) -> frozenset[str]:
        return _placeholders(self.system, "system") | _placeholders(self.user, "user")

    def messages(self, **values: Any) -> list[dict[str, str]]:
        """The chat messages with the placeholders filled; a placeholder without a value becomes empty text."""
        unknown = set(values) - KNOWN_PLACEHOLDERS
        if unknown:
            raise PromptError(f"Prompt {self.name}: unknown values {sorted(unknown)}.")
        filled = dict.fromkeys(KNOWN_PLACEHOLDERS, "") | {k: str(v) for k, v in values.items()}
        return [
            {"role": "system", "content": self.system.format_map(filled).strip()},
            {"role": "user", "content": self.user.format_map(filled).strip()},
        ]


def _placeholders(template: str, where: str) -> frozenset[str]:
    names: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:  # an unmatched single brace
        raise PromptError(f"{where}: {exc} (write {{{{ and }}}} for literal braces)") from exc
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field:
            raise PromptError(f"{where}: positional placeholder {{}} is not allowed; name it.")
        if field not in KNOWN_PLACEHOLDERS:
            raise PromptError(
                f"{where}: unknown placeholder {{{field}}}; known: {', '.join(sorted(KNOWN_PLACEHOLDERS))}."
            )
        if spec or conversion:
            raise PromptError(f"{where}: {{{field}}} must not carry a format spec or conversion.")
        names.add(field)
    return frozenset(names)


def parse_prompt(data: dict[str, Any], *, source: str) -> Prompt:
    """Validate a prompt file's content (already parsed from TOML)."""
    missing = [
        key
        for key in ("name", "version", "system", "user")
        if not isinstance(data.get(key), str) or not data[key].strip()
    ]
    if missing:
        raise PromptError(f"{source}: missing or empty {', '.join(missing)}.")
    extra = set(data) - {"name", "version", "system", "user", "description"}
    if extra:
        raise PromptError(f"{source}: unknown keys {sorted(extra)}.")
    prompt = Prompt(
        name=data["name"].strip(),
        version=data["version"].strip(),
        system=data["system"],
        user=data["user"],
        description=str(data.get("description", "")).strip(),
    )
    if len(prompt.name) > 64 or len(prompt.version) > 32:
        raise PromptError(f"{source}: name is at most 64 and version at most 32 characters (the LLM call log).")
    try:
        _ = prompt.placeholders
    except PromptError as exc:
        raise PromptError(f"{source}: {exc}") from exc
    return prompt


def load_prompt_file(path: Path) -> Prompt:
    """Load and validate one prompt file; its `name` must match the file name."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PromptError(f"No prompt file {path}.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PromptError(f"{path.name}: not valid TOML ({exc}).") from exc
    prompt = parse_prompt(data, source=path.name)
    if prompt.name != path.stem:
        raise PromptError(f"{path.name}: name {prompt.name!r} differs from the file name.")
    return prompt


@functools.cache
def load_prompt(name: str) -> Prompt:
    """The packaged prompt of this name (cached for the process)."""
    if not name.replace("_", "").isalnum():
        raise PromptError(f"Bad prompt name {name!r}.")
    return load_prompt_file(PROMPT_DIR / f"{name}.toml")


def available_prompts() -> list[str]:
    """Names of the packaged prompt files."""
    return sorted(p.stem for p in PROMPT_DIR.glob("*.toml"))
