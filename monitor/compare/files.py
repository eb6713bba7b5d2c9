"""What changed between two extracted versions of an attachment file, in campaigners' terms.

"5 new data shares approved, 2 of them for the Home Office" needs rows, not bytes, so:

* **Tables** (sheets of a workbook, tables of a DOCX) are matched by sheet name (ignoring case
  and spacing; a lone table on each side is matched whatever its name, so a renamed single-sheet
  workbook or a CSV that became an XLSX still compares). Rows are **keyed by an identifier
  column** and compared through a dict — linear, and immune to re-sorting, where difflib is
  quadratic and reports a re-sorted sheet as entirely rewritten. Without a usable key, rows are
  compared as a multiset (added and removed only). Cells are compared on the columns both
  versions share; added and removed columns are reported once, not on every row.
* **Sections** (PDF, DOCX, text) are matched by number and title, then by title alone (a
  section that was renumbered is "moved", not rewritten), then by number alone (a retitled
  section). Within a matched section, sentences are diffed with ``monitor.compare.text``.

Key column choice (the same column for both versions), best first:

1. ``row_key`` when given and present in both versions (header matched ignoring case/spaces);
2. a column whose values are all non-empty, unique and id-like (``DS00752``, ``R0043``,
   ``DSAP-2023-0012``, ``NPD-1234``: letters and digits, no spaces);
3. a column at least 90% id-like and 90% distinct (one duplicated or missing id in a new
   version should not cost us the "changed" rows);
4. any column whose values are all non-empty and unique, except a 1..n row counter (those are
   renumbered whenever a row is inserted; a counter is also left out of cell comparisons).

Ties go to header names that say "reference", "ref", "id", "identifier", "request number" ...,
then to the leftmost column. ``compare_quarterly`` is the same function: comparing two
different quarters' workbooks with overlapping ids yields exactly the rows new this quarter as
``rows_added``.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from monitor.compare.text import diff_sequences
from monitor.model import Cell, FileContent, Section, Table

# An id: letters and digits (at least one of each), optionally joined by - _ / or dots.
_ID = r"(?=[^\s]*\d)(?=[^\s]*[A-Za-z])[A-Za-z0-9]+(?:[-_/.][A-Za-z0-9]+)*"
_ID_RE = re.compile(_ID)
_IDS_RE = re.compile(rf"(?:{_ID}\n)*{_ID}")  # a whole column at once: one C-level match
_ID_MAX_LENGTH = 40
_KEY_HINT_RE = re.compile(
    r"\b(ref|reference|references|id|ids|identifier|urn|code|request number|"
    r"reference number|case number|number)\b"
)
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+")
_MAX_SUMMARY_PARTS = 4


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

    def summary(self) -> str:
        """ "3 rows added, 1 removed, 1 changed in 'DSAP approved shares'" (and columns)."""
        parts = []
        counts = [
            (len(self.rows_added), "added"),
            (len(self.rows_removed), "removed"),
            (len(self.rows_changed), "changed"),
        ]
        counted = [f"{n} {verb}" for n, verb in counts if n]
        if counted:
            first = next(n for n, _ in counts if n)
            counted[0] = counted[0].replace(" ", " row " if first == 1 else " rows ", 1)
            parts.append(f"{', '.join(counted)} in {_quote(self.sheet)}")
        for names, verb in ((self.columns_added, "added"), (self.columns_removed, "removed")):
            if names:
                noun = "column" if len(names) == 1 else "columns"
                parts.append(f"{noun} {_quote_all(names)} {verb} in {_quote(self.sheet)}")
        return "; ".join(parts)


@dataclass(frozen=True)
class SectionChange:
    """A section added, removed, changed, or moved (renumbered; possibly changed too)."""

    label: str
    status: str  # added | removed | changed | moved
    sentences_added: tuple[str, ...] = ()
    sentences_removed: tuple[str, ...] = ()
    previous_label: str | None = None  # for moved and retitled sections

    def summary(self) -> str:
        name = "opening text" if self.label == "(opening text)" else f"section {self.label}"
        if self.status == "moved":
            was = (self.previous_label or "").split(" ", 1)[0]
            text = f"{name} renumbered (was {was})"
            if self.sentences_added or self.sentences_removed:
                text += " and changed"
            return text
        if self.status == "changed" and self.previous_label and self.previous_label != self.label:
            return f"{name} retitled (was {self.previous_label})"
        return f"{name} {self.status}"


@dataclass(frozen=True)
class FileDiff:
    """Everything that changed between two versions of one attachment file."""

    format_before: str
    format_after: str
    sheets_added: tuple[str, ...] = ()
    sheets_removed: tuple[str, ...] = ()
    tables: tuple[TableDiff, ...] = ()  # one per sheet present in both versions
    sections: tuple[SectionChange, ...] = ()  # changed sections only
    error: str | None = None  # why the versions could not be compared

    @property
    def is_empty(self) -> bool:
        return (
            self.error is None
            and self.format_before == self.format_after
            and not self.sheets_added
            and not self.sheets_removed
            and all(table.is_empty for table in self.tables)
            and not self.sections
        )

    def summary(self) -> str:
        """One line: "3 rows added, 1 removed, 1 changed in 'DSAP approved shares'"."""
        if self.error:
            return self.error
        parts: list[str] = []
        if self.format_before != self.format_after:
            parts.append(f"file format changed from {self.format_before} to {self.format_after}")
        for names, verb in ((self.sheets_added, "added"), (self.sheets_removed, "removed")):
            if names:
                parts.append(
                    f"{'sheet' if len(names) == 1 else 'sheets'} {_quote_all(names)} {verb}"
                )
        parts.extend(table.summary() for table in self.tables if not table.is_empty)
        renumbered = [
            c
            for c in self.sections
            if c.status == "moved" and not (c.sentences_added or c.sentences_removed)
        ]
        parts.extend(c.summary() for c in self.sections if c not in renumbered)
        if len(renumbered) == 1:
            parts.append(renumbered[0].summary())
        elif renumbered:
            parts.append(f"{len(renumbered)} sections renumbered")
        if not parts:
            return "no changes"
        if len(parts) > _MAX_SUMMARY_PARTS:
            more = len(parts) - (_MAX_SUMMARY_PARTS - 1)
            parts = parts[: _MAX_SUMMARY_PARTS - 1] + [f"and {more} more changes"]
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (tuples become lists); ``from_dict`` reverses it."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileDiff:
        return cls(
            format_before=data["format_before"],
            format_after=data["format_after"],
            sheets_added=tuple(data.get("sheets_added", ())),
            sheets_removed=tuple(data.get("sheets_removed", ())),
            tables=tuple(_table_diff_from_dict(t) for t in data.get("tables", ())),
            sections=tuple(
                SectionChange(
                    label=s["label"],
                    status=s["status"],
                    sentences_added=tuple(s.get("sentences_added", ())),
                    sentences_removed=tuple(s.get("sentences_removed", ())),
                    previous_label=s.get("previous_label"),
                )
                for s in data.get("sections", ())
            ),
            error=data.get("error"),
        )


def _table_diff_from_dict(data: dict[str, Any]) -> TableDiff:
    return TableDiff(
        sheet=data["sheet"],
        key_column=data.get("key_column"),
        columns_added=tuple(data.get("columns_added", ())),
        columns_removed=tuple(data.get("columns_removed", ())),
        rows_added=tuple(dict(r) for r in data.get("rows_added", ())),
        rows_removed=tuple(dict(r) for r in data.get("rows_removed", ())),
        rows_changed=tuple(
            RowChange(key=r["key"], cells=tuple(CellChange(**c) for c in r["cells"]), row=dict(r.get("row", {})))
            for r in data.get("rows_changed", ())
        ),
        rows_before=data.get("rows_before", 0),
        rows_after=data.get("rows_after", 0),
    )


# --- entry points --------------------------------------------------------------------------


def diff_files(old: FileContent, new: FileContent, *, row_key: str | None = None) -> FileDiff:
    """Compare two extracted versions of one attachment (see the module docstring)."""
    formats = {"format_before": old.format, "format_after": new.format}
    if new.error:
        if old.error == new.error:
            return FileDiff(**formats)  # unreadable both times, in the same way: no news
        return FileDiff(**formats, error=f"the new version could not be read: {new.error}")
    if old.error:
        return FileDiff(
            **formats,
            error=f"the previous version could not be read ({old.error}), so "
            "there is nothing to compare with",
        )
    pairs, added, removed = match_tables(old.tables, new.tables)
    return FileDiff(
        **formats,
        sheets_added=tuple(t.name for t in added),
        sheets_removed=tuple(t.name for t in removed),
        tables=tuple(diff_tables(a, b, row_key=row_key) for a, b in pairs),
        sections=diff_sections(old.sections, new.sections),
    )


def compare_quarterly(old_content: FileContent, new_content: FileContent) -> FileDiff:
    """Compare two quarters' registers: ``rows_added`` are the rows new this quarter (their ids
    were not in the previous quarter), ``rows_removed`` those no longer listed."""
    return diff_files(old_content, new_content)


# --- tables --------------------------------------------------------------------------------


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
    old_values, new_values = _ColumnValues(old), _ColumnValues(new)
    key = _choose_key(old_values, new_values, common, row_key)
    # A 1..n row counter on both sides is presentation, not data: an inserted row renumbers
    # every row after it. Leave it out of the comparison (rows added/removed still show it).
    common = [c for c in common if c == key or not _counter_column(old, new, c)]
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


Column = tuple[int, int, str]  # (index in old, index in new, name in new)
IndexedRow = tuple[int, tuple[Cell, ...]]  # (position in its table, row)


class _ColumnValues:
    """A table's columns as key strings (see ``_key_text``), computed once per column."""

    def __init__(self, table: Table) -> None:
        self.rows = table.rows
        self.cache: dict[int, list[str | None]] = {}

    def __call__(self, index: int) -> list[str | None]:
        if index not in self.cache:
            values = [row[index] for row in self.rows]
            # Extraction's usual output (non-empty strings) needs no conversion.
            if set(map(type, values)) != {str} or "" in values:
                values = [_key_text(v) for v in values]
            self.cache[index] = values
        return self.cache[index]


def choose_key(
    old: Table, new: Table, common: Sequence[Column], row_key: str | None = None
) -> Column | None:
    """The identifier column both versions are keyed by (rules in the module docstring)."""
    return _choose_key(_ColumnValues(old), _ColumnValues(new), common, row_key)


def _choose_key(
    old: _ColumnValues, new: _ColumnValues, common: Sequence[Column], row_key: str | None
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


def _counter_column(old: Table, new: Table, column: Column) -> bool:
    """True when the column counts rows 1..n in both versions."""
    for table, index in ((old, column[0]), (new, column[1])):
        first = _key_text(table.rows[0][index]) if table.rows else "1"
        if first is None or not first.isdigit():  # cheap rejection on the first row
            return False
    return _is_row_counter([_key_text(r[column[0]]) for r in old.rows]) and _is_row_counter(
        [_key_text(r[column[1]]) for r in new.rows]
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
        i = old_at.get(key)  # type: ignore[arg-type]
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


def _key_text(value: Cell) -> str | None:
    if value is None:
        return None
    text = value.strip() if isinstance(value, str) else str(value)
    return text or None


def _row_dict(header: Sequence[str], row: Sequence[Cell]) -> dict[str, Cell]:
    return dict(zip(header, row, strict=False))


# --- sections ------------------------------------------------------------------------------


def diff_sections(old: Sequence[Section], new: Sequence[Section]) -> tuple[SectionChange, ...]:
    """Changed, added, removed and renumbered sections, in reading order of the new version."""
    pairs = _match_sections(old, new)
    new_to_old = {j: i for i, j in pairs}
    placed: list[tuple[float, int, SectionChange]] = []
    for j, section in enumerate(new):
        i = new_to_old.get(j)
        if i is None:
            placed.append((j, 0, _whole_section(section, "added")))
            continue
        change = _compare_sections(old[i], section)
        if change is not None:
            placed.append((j, 0, change))
    old_to_new = dict(pairs)
    anchor = -1.0
    for i, section in enumerate(old):
        if i in old_to_new:
            anchor = float(old_to_new[i])
            continue
        placed.append((anchor + 0.5, i, _whole_section(section, "removed")))
    placed.sort(key=lambda item: (item[0], item[1]))
    return tuple(change for _, _, change in placed)


def _match_sections(old: Sequence[Section], new: Sequence[Section]) -> list[tuple[int, int]]:
    """(old index, new index) pairs: by number and title, then title, then number."""
    pairs: list[tuple[int, int]] = []
    free_old = set(range(len(old)))
    free_new = set(range(len(new)))
    keys = (
        lambda s: (s.number, _norm(s.title)),
        lambda s: _norm(s.title) if s.title else None,
        lambda s: s.number or None,
    )
    for key in keys:
        index: dict[Any, list[int]] = defaultdict(list)
        for i in sorted(free_old):
            value = key(old[i])
            if value is not None:
                index[value].append(i)
        for j in sorted(free_new):
            value = key(new[j])
            candidates = index.get(value) if value is not None else None
            if candidates:
                i = candidates.pop(0)
                pairs.append((i, j))
                free_old.discard(i)
                free_new.discard(j)
    return pairs


def _compare_sections(old: Section, new: Section) -> SectionChange | None:
    before, after = sentences_of(old.paragraphs), sentences_of(new.paragraphs)
    removed: list[str] = []
    added: list[str] = []
    if before != after:
        for tag, i1, i2, j1, j2 in diff_sequences(before, after):
            if tag != "equal":
                removed.extend(before[i1:i2])
                added.extend(after[j1:j2])
    if old.number != new.number:
        return SectionChange(new.label, "moved", tuple(added), tuple(removed), old.label)
    if _norm(old.title) != _norm(new.title):
        return SectionChange(new.label, "changed", tuple(added), tuple(removed), old.label)
    if added or removed:
        return SectionChange(new.label, "changed", tuple(added), tuple(removed))
    return None


def _whole_section(section: Section, status: str) -> SectionChange:
    sentences = tuple(sentences_of(section.paragraphs))
    if status == "added":
        return SectionChange(section.label, status, sentences_added=sentences)
    return SectionChange(section.label, status, sentences_removed=sentences)


def sentences_of(paragraphs: Iterable[str]) -> list[str]:
    """Sentences split simply after . ! or ? and white space; each paragraph ends one."""
    sentences: list[str] = []
    for paragraph in paragraphs:
        sentences.extend(
            s for s in (part.strip() for part in _SENTENCE_END_RE.split(paragraph)) if s
        )
    return sentences


# --- helpers -------------------------------------------------------------------------------


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _quote(name: str) -> str:
    return f"'{name}'"


def _quote_all(names: Sequence[str]) -> str:
    return ", ".join(_quote(name) for name in names)
