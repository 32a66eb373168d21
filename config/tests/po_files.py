"""A small reader of gettext .po files (the catalogue check needs no third-party package)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")\s*$')


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    context: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.context, self.msgid)

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr.values()) and "fuzzy" not in self.flags


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file (the header, with an empty msgid, is left out; obsolete `#~` entries are marked)."""
    reader = _Reader()
    for raw in path.read_text(encoding="utf-8").splitlines():
        reader.line(raw.strip())
    reader.finish()
    return [e for e in reader.entries if e.msgid]


class _Reader:
    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.current = Entry()
        self.started = False
        self.target: tuple[str, int] = ("msgid", 0)

    def finish(self) -> None:
        if self.started:
            self.entries.append(self.current)
        self.current, self.started = Entry(), False

    def line(self, line: str) -> None:
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if line.startswith("#,"):
            if self.started:
                self.finish()
            self.current.flags |= {f.strip() for f in line[2:].split(",")}
        elif match := _KEYWORD.match(line):
            self.keyword(match.group(1), match.group(2), ast.literal_eval(match.group(3)), obsolete=obsolete)
        elif line.startswith('"'):
            self.append(ast.literal_eval(line))

    def keyword(self, keyword: str, index: str | None, value: str, *, obsolete: bool) -> None:
        if self.started and (keyword == "msgctxt" or (keyword == "msgid" and self.current.msgstr)):
            self.finish()  # a new entry begins
        self.started = True
        self.current.obsolete = self.current.obsolete or obsolete
        if keyword.startswith("msgstr"):
            self.target = ("msgstr", int(index or 0))
            self.current.msgstr[self.target[1]] = value
        else:
            self.target = (keyword, 0)
            setattr(self.current, _FIELD[keyword], value)

    def append(self, value: str) -> None:
        name, index = self.target
        if name == "msgstr":
            self.current.msgstr[index] += value
        else:
            field_name = _FIELD[name]
            setattr(self.current, field_name, (getattr(self.current, field_name) or "") + value)


_FIELD = {"msgctxt": "context", "msgid": "msgid", "msgid_plural": "msgid_plural"}
