"""Row-level diff of two versions of a table (a sheet of a workbook, a table of a DOCX).

"5 new data shares approved, 2 of them for the Home Office" needs rows, not bytes. Tables are
matched by sheet name (ignoring case and spacing; a lone table on each side is matched whatever
its name, so a renamed single-sheet workbook or a CSV that became an XLSX still compares). Rows
are **keyed by an identifier column** and compared through a dict — linear, and immune to
re-sorting, where difflib is quadratic and reports a re-sorted sheet as entirely rewritten.
Without a usable key, rows are compared as a multiset (added and removed only). Cells are
compared on the columns both versions share; added and removed columns are reported once, not
on every row.

The identifier column is chosen in ``keys``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from monitor.compare.keys import Column, ColumnValues, choose_key, counter_column
from monitor.compare.text import norm_label as _norm
from monitor.model import Cell, Table


@dataclass(frozen=True)
class CellChange:
    column: str
    before: Cell
    after: Cell


@dataclass(frozen=True)
class RowChange:
    key: str
    cells: tuple[CellChange, ...]
    # The whole row as it now reads, so a reader (and the watch-list) sees whose row it is.
    row: dict[str, Cell] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class TableDiff:
    """Row and column changes of one sheet present in both versions."""

    sheet: str
    key_column: str | None
    columns_added: tuple[str, ...] = ()
    columns_removed: tuple[str, ...] = ()
    rows_added: tuple[dict[str, Cell], ...] = ()
    rows_removed: tuple[dict[str, Cell], ...] = ()
    rows_changed: tuple[RowChange, ...] = ()
    rows_before: int = 0
    rows_after: int = 0

    @property
    def is_empty(self) -> bool:
        return not (
            self.columns_added
            or self.columns_removed
            or self.rows_added
            or self.rows_removed
            or self.rows_changed
        )


def match_tables(
    old: Sequence[Table], new: Sequence[Table]
) -> tuple[list[tuple[Table, Table]], list[Table], list[Table]]:
    """(pairs in new order, tables only in new, tables only in old)."""
    old_by_name: dict[str, Table] = {}
    for table in old:
        old_by_name.setdefault(_norm(table.name), table)
    pairs: list[tuple[Table, Table]] = []
    added: list[Table] = []
    matched: set[int] = set()
    for table in new:
        previous = old_by_name.get(_norm(table.name))
        if previous is not None and id(previous) not in matched:
            pairs.append((previous, table))
            matched.add(id(previous))
        else:
            added.append(table)
    removed = [table for table in old if id(table) not in matched]
    if not pairs and len(added) == 1 and len(removed) == 1:
        return [(removed[0], added[0])], [], []
    return pairs, added, removed


def diff_tables(old: Table, new: Table, *, row_key: str | None = None) -> TableDiff:
    """Row-level diff of two versions of one sheet."""
    old_cols = {_norm(name): i for i, name in enumerate(old.header)}
    new_cols = {_norm(name): i for i, name in enumerate(new.header)}
    common = [
        (old_cols[_norm(name)], j, name)
        for j, name in enumerate(new.header)
        if _norm(name) in old_cols
    ]
    columns_added = tuple(name for name in new.header if _norm(name) not in old_cols)
    columns_removed = tuple(name for name in old.header if _norm(name) not in new_cols)
    old_values, new_values = ColumnValues(old), ColumnValues(new)
    key = choose_key(old_values, new_values, common, row_key)
    # A 1..n row counter on both sides is presentation, not data: an inserted row renumbers
    # every row after it. Leave it out of the comparison (rows added/removed still show it).
    common = [c for c in common if c == key or not counter_column(old, new, c)]
    if key is None:
        added, removed, changed = _multiset_diff(old, new, common)
    else:
        keys = (old_values(key[0]), new_values(key[1]))
        added, removed, changed = _keyed_diff(old, new, common, keys)
    return TableDiff(
        sheet=new.name,
        key_column=None if key is None else key[2],
        columns_added=columns_added,
        columns_removed=columns_removed,
        rows_added=tuple(_row_dict(new.header, row) for row in added),
        rows_removed=tuple(_row_dict(old.header, row) for row in removed),
        rows_changed=tuple(changed),
        rows_before=len(old.rows),
        rows_after=len(new.rows),
    )




IndexedRow = tuple[int, tuple[Cell, ...]]  # (position in its table, row)


def _keyed_diff(
    old: Table,
    new: Table,
    common: Sequence[Column],
    keys: tuple[list[str | None], list[str | None]],
) -> tuple[list[tuple[Cell, ...]], list[tuple[Cell, ...]], list[RowChange]]:
    """Rows matched through a dict by key. A key held by several rows on one side (or a missing
    key) falls back to a multiset comparison of that group, a lone leftover pair becoming a
    change."""
    old_keys, new_keys = keys
    old_at, old_shared = _index_keys(old_keys)
    new_at, new_shared = _index_keys(new_keys)
    awkward = old_shared | new_shared | {None}
    same_layout = len(old.header) == len(new.header) and all(i == j for i, j, _ in common)
    added: list[int] = []
    changed: list[tuple[int, RowChange]] = []
    for j, key in enumerate(new_keys):
        if key in awkward:
            continue
        i = old_at.get(key)
        if i is None:
            added.append(j)
            continue
        before, after = old.rows[i], new.rows[j]
        if same_layout and before == after:
            continue
        change = _row_change(key, before, after, common)  # type: ignore[arg-type]
        if change is not None:
            changed.append((j, change))
    removed = [i for i, key in enumerate(old_keys) if key not in awkward and key not in new_at]
    if len(awkward) > 1 or None in old_keys or None in new_keys:
        _diff_awkward_groups(old, new, common, keys, awkward, added, removed, changed)
    added.sort()
    removed.sort()
    changed.sort(key=lambda item: item[0])
    return [new.rows[j] for j in added], [old.rows[i] for i in removed], [c for _, c in changed]


def _index_keys(keys: list[str | None]) -> tuple[dict[str | None, int], set[str | None]]:
    """Position of each key, and the keys held by more than one row."""
    at: dict[str | None, int] = {}
    shared: set[str | None] = set()
    for index, key in enumerate(keys):
        if key in at:
            shared.add(key)
        else:
            at[key] = index
    return at, shared


def _diff_awkward_groups(
    old: Table,
    new: Table,
    common: Sequence[Column],
    keys: tuple[list[str | None], list[str | None]],
    awkward: set[str | None],
    added: list[int],
    removed: list[int],
    changed: list[tuple[int, RowChange]],
) -> None:
    old_groups: dict[str | None, list[IndexedRow]] = defaultdict(list)
    new_groups: dict[str | None, list[IndexedRow]] = defaultdict(list)
    for i, key in enumerate(keys[0]):
        if key in awkward:
            old_groups[key].append((i, old.rows[i]))
    for j, key in enumerate(keys[1]):
        if key in awkward:
            new_groups[key].append((j, new.rows[j]))
    for key in list(new_groups) + [k for k in old_groups if k not in new_groups]:
        group_added, group_removed = _multiset(old_groups[key], new_groups[key], common)
        if key is not None and len(group_added) == 1 and len(group_removed) == 1:
            change = _row_change(key, group_removed[0][1], group_added[0][1], common)
            if change is not None:
                changed.append((group_added[0][0], change))
        else:
            added.extend(j for j, _ in group_added)
            removed.extend(i for i, _ in group_removed)


def _multiset_diff(
    old: Table, new: Table, common: Sequence[Column]
) -> tuple[list[tuple[Cell, ...]], list[tuple[Cell, ...]], list[RowChange]]:
    added, removed = _multiset(list(enumerate(old.rows)), list(enumerate(new.rows)), common)
    return [row for _, row in added], [row for _, row in removed], []


def _multiset(
    old_rows: Sequence[IndexedRow], new_rows: Sequence[IndexedRow], common: Sequence[Column]
) -> tuple[list[IndexedRow], list[IndexedRow]]:
    """Rows only in new and only in old, comparing the shared columns, multiplicity counted."""
    available = Counter(tuple(row[i] for i, _, _ in common) for _, row in old_rows)
    added = []
    for item in new_rows:
        projected = tuple(item[1][j] for _, j, _ in common)
        if available[projected] > 0:
            available[projected] -= 1
        else:
            added.append(item)
    removed = []
    for item in old_rows:
        projected = tuple(item[1][i] for i, _, _ in common)
        if available[projected] > 0:  # left over after the new rows took their matches
            available[projected] -= 1
            removed.append(item)
    return added, removed


def _row_change(
    key: str, old_row: tuple[Cell, ...], new_row: tuple[Cell, ...], common: Sequence[Column]
) -> RowChange | None:
    cells = tuple(
        CellChange(name, old_row[i], new_row[j])
        for i, j, name in common
        if old_row[i] != new_row[j]
    )
    if not cells:
        return None
    return RowChange(key=key, cells=cells, row={name: new_row[j] for _, j, name in common})


def _row_dict(header: Sequence[str], row: Sequence[Cell]) -> dict[str, Cell]:
    return dict(zip(header, row, strict=False))
