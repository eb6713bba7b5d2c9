"""Where each table and key of config.toml was written, so an error can name its line.

tomllib gives values without positions; this light scan of the text recovers them for the
shapes people write: ``[table]``, ``[[array]]``, ``key = value`` and ``table.key = value``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from monitor.config.fields import shown
from monitor.errors import ConfigError

_TABLE_RE = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\s*(#.*)?$")
_ARRAY_RE = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]\s*(#.*)?$")
_KEY_RE = re.compile(r"^\s*((?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*'))*)\s*=")
_PART_RE = re.compile(r"[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*'")

Table = tuple[str, int | None]


def _parts(dotted: str) -> list[str]:
    return [part.strip("\"'") for part in _PART_RE.findall(dotted)]


class LineIndex:
    """Line numbers of tables (by name and array index) and of keys within them."""

    def __init__(self, text: str) -> None:
        self.tables: dict[Table, int] = {}
        self.keys: dict[tuple[str, int | None, str], int] = {}
        counters: dict[str, int] = {}
        current: Table = ("", None)
        for number, line in enumerate(text.splitlines(), start=1):
            if match := _ARRAY_RE.match(line):
                name = match.group(1).strip().strip("\"'")
                counters[name] = counters.get(name, -1) + 1
                current = (name, counters[name])
                self.tables[current] = number
            elif match := _TABLE_RE.match(line):
                current = (match.group(1).strip().strip("\"'"), None)
                self.tables.setdefault(current, number)
            elif match := _KEY_RE.match(line):
                self._key(current, _parts(match.group(1)), number)

    def _key(self, current: Table, parts: list[str], number: int) -> None:
        """Records ``key`` in the current table; at the top, ``table.key`` and ``table`` too."""
        if current == ("", None):
            self.tables.setdefault((parts[0], None), number)
            if len(parts) == 2:
                self.keys.setdefault((parts[0], None, parts[1]), number)
                return
        self.keys.setdefault((current[0], current[1], parts[0]), number)

    def line_of(self, section: str, index: int | None, key: str | None) -> int | None:
        if key is not None and (section, index, key) in self.keys:
            return self.keys[(section, index, key)]
        return self.tables.get((section, index))


def _printable(name: str) -> str:
    """A name as written when it is plain and short, else its shortened repr: one line."""
    return name if name.isprintable() and len(name) <= 80 else shown(name)


@dataclass(frozen=True)
class Where:
    """Turns (section, index, key, message) into the one-line ConfigError people read."""

    path: Path
    lines: LineIndex

    def error(self, section: str, index: int | None, key: str | None, message: str) -> ConfigError:
        line = self.lines.line_of(section, index, key) if section else None
        location = f"{self.path}:{line}" if line else str(self.path)
        if not section:
            return ConfigError(f"{location}: {message}")
        name = f"[[{_printable(section)}]] #{index + 1}" if index is not None else f"[{_printable(section)}]"
        if key:
            name += f" {_printable(key)}"
        return ConfigError(f"{location}: {name}: {message}")
