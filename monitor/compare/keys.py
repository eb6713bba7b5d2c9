"""Which column identifies a row, in both versions of a table.

Key column choice (the same column for both versions), best first:

1. ``row_key`` when given and present in both versions (header matched ignoring case/spaces);
2. a column whose values are all non-empty, unique and id-like (``DS00752``, ``R0043``,
   ``DSAP-2023-0012``, ``NPD-1234``: letters and digits, no spaces);
3. a column at least 90% id-like and 90% distinct (one duplicated or missing id in a new
   version should not cost us the "changed" rows);
4. any column whose values are all non-empty and unique, except a 1..n row counter (those are
   renumbered whenever a row is inserted; a counter is also left out of cell comparisons).

Ties go to header names that say "reference", "ref", "id", "identifier", "request number" ...,
then to the leftmost column. Comparing two different quarters'
workbooks with overlapping ids yields exactly the rows new this quarter as
``rows_added``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from monitor.compare.text import norm_label as _norm
from monitor.model import Cell, Table

# An id: letters and digits (at least one of each), optionally joined by - _ / or dots.
_ID = r"(?=[^\s]*\d)(?=[^\s]*[A-Za-z])[A-Za-z0-9]+(?:[-_/.][A-Za-z0-9]+)*"


_ID_RE = re.compile(_ID)


_IDS_RE = re.compile(rf"(?:{_ID}\n)*{_ID}")  # a whole column at once: one C-level match


_ID_MAX_LENGTH = 40


_KEY_HINT_RE = re.compile(
    r"\b(ref|reference|references|id|ids|identifier|urn|code|request number|"
    r"reference number|case number|number)\b"
)


Column = tuple[int, int, str]  # (index in old, index in new, name in new)


class ColumnValues:
    """A table's columns as key strings (see ``key_text``), computed once per column."""

    def __init__(self, table: Table) -> None:
        self.rows = table.rows
        self.cache: dict[int, list[str | None]] = {}

    def __call__(self, index: int) -> list[str | None]:
        if index not in self.cache:
            cells = [row[index] for row in self.rows]
            # Extraction's usual output (non-empty strings) needs no conversion.
            if set(map(type, cells)) != {str} or "" in cells:
                self.cache[index] = [key_text(v) for v in cells]
            else:
                self.cache[index] = cells  # type: ignore[assignment]  # all non-empty str
        return self.cache[index]


def choose_key(
    old: ColumnValues, new: ColumnValues, common: Sequence[Column], row_key: str | None
) -> Column | None:
    if row_key is not None:
        wanted = _norm(row_key)
        for column in common:
            if _norm(column[2]) == wanted:
                return column
    hinted = [bool(_KEY_HINT_RE.search(_norm(column[2]))) for column in common]
    # Hinted columns first: the first of them in tier 1 is the best possible answer.
    order = sorted(range(len(common)), key=lambda position: not hinted[position])
    scored: list[tuple[int, int, int]] = []
    for position in order:
        column = common[position]
        tier = _key_tier([v for v in (old(column[0]), new(column[1])) if v])
        if tier is None:
            continue
        if tier == 1 and hinted[position]:
            return column
        scored.append((tier, 0 if hinted[position] else 1, position))
    return common[min(scored)[2]] if scored else None


def _key_tier(sides: list[list[str | None]]) -> int | None:
    if not sides:
        return None
    distinct = [len(set(values)) for values in sides]
    complete = all(
        d == len(values) and None not in values for d, values in zip(distinct, sides, strict=True)
    )
    if complete and all(_all_id_like(values) for values in sides):  # type: ignore[arg-type]
        return 1
    mostly_distinct = all(d >= 0.9 * len(v) for d, v in zip(distinct, sides, strict=True))
    if mostly_distinct and all(_mostly_ids(values) for values in sides):
        return 2
    if complete and not any(_is_row_counter(values) for values in sides):
        return 3
    return None


def counter_column(old: Table, new: Table, column: Column) -> bool:
    """True when the column counts rows 1..n in both versions."""
    for table, index in ((old, column[0]), (new, column[1])):
        first = key_text(table.rows[0][index]) if table.rows else "1"
        if first is None or not first.isdigit():  # cheap rejection on the first row
            return False
    return _is_row_counter([key_text(r[column[0]]) for r in old.rows]) and _is_row_counter(
        [key_text(r[column[1]]) for r in new.rows]
    )


def _all_id_like(values: list[str]) -> bool:
    if max(map(len, values)) > _ID_MAX_LENGTH:
        return False
    return _IDS_RE.fullmatch("\n".join(values)) is not None


def _is_id_like(value: str | None) -> bool:
    if value is None or len(value) > _ID_MAX_LENGTH:
        return False
    return _ID_RE.fullmatch(value) is not None


def _mostly_ids(values: list[str | None]) -> bool:
    ids = [value for value in values if _is_id_like(value)]
    return len(ids) >= 0.9 * len(values) and len(set(ids)) >= 0.9 * len(values)


def _is_row_counter(values: list[str | None]) -> bool:
    if not values or not all(v is not None and v.isdigit() for v in values):
        return False
    return sorted(int(v) for v in values) == list(range(1, len(values) + 1))  # type: ignore[arg-type]


def key_text(value: Cell) -> str | None:
    if value is None:
        return None
    text = value.strip() if isinstance(value, str) else str(value)
    return text or None
