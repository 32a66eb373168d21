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
    entries: list[Entry] = []
    current = Entry()
    started = False
    target: tuple[str, int] | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line or (line.startswith("#") and not line.startswith("#,")):
            continue
        if line.startswith("#,"):
            if started:
                entries.append(current)
                current, started = Entry(), False
            current.flags |= {f.strip() for f in line[2:].split(",")}
            continue
        match = _KEYWORD.match(line)
        if match:
            keyword, index, value = match.group(1), match.group(2), ast.literal_eval(match.group(3))
            if keyword in ("msgctxt", "msgid") and started and (keyword == "msgctxt" or current.msgid or current.msgstr):
                if keyword == "msgctxt" or current.msgstr:
                    entries.append(current)
                    current, started = Entry(), False
            started = True
            current.obsolete = current.obsolete or obsolete
            if keyword == "msgctxt":
                current.context, target = value, ("context", 0)
            elif keyword == "msgid":
                current.msgid, target = value, ("msgid", 0)
            elif keyword == "msgid_plural":
                current.msgid_plural, target = value, ("msgid_plural", 0)
            else:
                current.msgstr[int(index or 0)], target = value, ("msgstr", int(index or 0))
            continue
        if line.startswith('"') and target:
            value = ast.literal_eval(line)
            name, index_ = target
            if name == "msgstr":
                current.msgstr[index_] += value
            elif name == "context":
                current.context = (current.context or "") + value
            elif name == "msgid":
                current.msgid += value
            else:
                current.msgid_plural = (current.msgid_plural or "") + value
    if started:
        entries.append(current)
    return [e for e in entries if e.msgid]
