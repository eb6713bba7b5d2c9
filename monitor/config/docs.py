"""The README's settings table, generated from the models so the two cannot disagree.

``python -m monitor.config.docs`` prints the table; ``--write README.md`` replaces the block
between the settings-table markers. tests/test_docs.py fails when the README's block is stale.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo

from monitor.config.settings import ARRAYS, SECTIONS

START = "<!-- settings-table:start -->"
END = "<!-- settings-table:end -->"
HEADER = ("| setting | default | what it does |", "|---|---|---|")


def settings_table() -> str:
    """One row per setting: tables first, then arrays of tables, in declaration order."""
    rows = [f"| `{name}` | {default} | {help_} |" for name, default, help_ in _rows()]
    return "\n".join([*HEADER, *rows]) + "\n"


def _rows() -> Iterator[tuple[str, str, str]]:
    for section, model in SECTIONS.items():
        for key, field in model.model_fields.items():
            yield f"{section}.{key}", _default(field), _help(field)
    for array, model in ARRAYS.items():
        for key, field in model.model_fields.items():
            yield f"{array}[].{key}", _default(field), _help(field)


def _default(field: FieldInfo) -> str:
    """The default as it would be written in config.toml."""
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    return "(none)" if value is None else f"`{_toml(value)}`"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _help(field: FieldInfo) -> str:
    """The description, with the allowed range when the field has one."""
    text = field.description or ""
    low = next((m.ge for m in field.metadata if hasattr(m, "ge")), None)
    high = next((m.le for m in field.metadata if hasattr(m, "le")), None)
    if low is not None and high is not None:
        text += f"; {_number(low)} to {_number(high)}"
    elif low is not None:
        text += f"; at least {_number(low)}"
    return text.replace("|", "\\|")


def _number(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,g}"


def replace_block(text: str, table: str) -> str:
    """``text`` with the block between the markers replaced by ``table``."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"no {START} ... {END} block")
    return text[: start + len(START)] + "\n" + table + text[end:]


def block_of(text: str) -> str:
    """The table currently between the markers (what ``replace_block`` would have written)."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"no {START} ... {END} block")
    return text[start + len(START) + 1 : end]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitor.config.docs", description=__doc__.splitlines()[0])
    parser.add_argument("--write", metavar="README", type=Path, help="replace the settings table block in this file")
    args = parser.parse_args(argv)
    table = settings_table()
    if args.write is None:
        sys.stdout.write(table)
        return 0
    text = args.write.read_text(encoding="utf-8")
    try:
        updated = replace_block(text, table)
    except ValueError as exc:
        parser.error(f"{args.write}: {exc}")
    if updated != text:
        args.write.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
