"""Spreadsheets (ODS, XLSX, XLS, CSV) as plain ``Table`` objects, one per sheet.

Workbooks are read with python-calamine: a Rust reader that is fast on the 50,000-row
registers we diff, reads all three workbook formats with one API, never evaluates formulas or
macros, and uses an XML reader (quick-xml) that does not expand DTD entities at all — so even a
file that slipped past ``safety.check_xml_members`` cannot "billion laughs" us. openpyxl and
odfpy, by contrast, are slow pure-Python DOM builders and only resist entity expansion when
defusedxml happens to be installed.

CSV is read with the ``csv`` module after the deterministic decoding chain of ``text.py``
(BOM -> strict UTF-8 -> Windows-1252). CSV cells stay strings: guessing types would turn
"007" into 7.

Registers usually carry a title and notes above the real header. The **header rule**: among the
first 15 non-empty rows, a row is a candidate when more than half of its non-empty cells are
text; the header is the first candidate with at least two non-empty cells and at least 75% as
many as the widest row in that window (so a header with a blank cell still beats the data rows
beneath it, and a one-cell title or a two-cell "Source: DfE" note never wins). With no
candidate the sheet has no header: columns are named "Column 1", "Column 2", ... and every row
is data. Rows above the header are dropped.

Cells are normalised to JSON values: ints stay ints, integral floats become ints (spreadsheets
store every number as a float), dates and times become ISO 8601 strings (a datetime at midnight
is a date), strings have their white space collapsed, and empty cells are None. Fully empty rows
are dropped, empty leading and trailing columns trimmed, and every row is a tuple exactly as
long as the header.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from python_calamine import CalamineWorkbook, SheetTypeEnum

from monitor.document.files.safety import ExtractionRefused, Limits
from monitor.document.files.text import decode_text
from monitor.model import Cell, FileContent, Table

HEADER_WINDOW = 15
HEADER_MIN_SHARE = 0.75
CSV_TABLE_NAME = "data"  # constant, so a renamed CSV file still matches its previous version
_CSV_DELIMITERS = (",", "\t", ";", "|")
_MIDNIGHT = dt.time(0, 0)


def extract_workbook(data: bytes, fmt: str, limits: Limits | None = None) -> FileContent:
    """Every worksheet of an ODS, XLSX or XLS workbook, in workbook order."""
    limits = limits or Limits()
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    tables: list[Table] = []
    rows_left = limits.max_rows
    for meta in workbook.sheets_metadata:
        if meta.typ not in (SheetTypeEnum.WorkSheet,):
            continue  # chart, dialog and macro sheets hold no data cells
        sheet = workbook.get_sheet_by_name(meta.name)
        if sheet.width > limits.max_columns:
            raise ExtractionRefused(
                f"sheet {meta.name!r} has {sheet.width} columns, over the limit of "
                f"{limits.max_columns}"
            )
        if sheet.height > rows_left + HEADER_WINDOW:
            raise ExtractionRefused(f"workbook has more than {limits.max_rows} rows")
        table = build_table(meta.name, sheet.to_python(skip_empty_area=False))
        rows_left -= len(table.rows)
        if rows_left < 0:
            raise ExtractionRefused(f"workbook has more than {limits.max_rows} rows")
        tables.append(table)
    return FileContent(format=fmt, tables=tuple(tables))


def extract_csv(data: bytes, limits: Limits | None = None) -> FileContent:
    """A CSV file as one table named ``CSV_TABLE_NAME``; the delimiter is detected."""
    limits = limits or Limits()
    text = decode_text(data)
    delimiter = detect_delimiter(text[: 64 * 1024])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    raw_rows: list[list[str]] = []
    for row in reader:
        if len(raw_rows) > limits.max_rows + HEADER_WINDOW:
            raise ExtractionRefused(f"CSV file has more than {limits.max_rows} rows")
        if len(row) > limits.max_columns:
            raise ExtractionRefused(f"CSV row has more than {limits.max_columns} columns")
        raw_rows.append(row)
    table = build_table(CSV_TABLE_NAME, raw_rows)
    if len(table.rows) > limits.max_rows:
        raise ExtractionRefused(f"CSV file has more than {limits.max_rows} rows")
    return FileContent(format="csv", tables=(table,))


def detect_delimiter(sample: str) -> str:
    """The candidate delimiter that splits the most sample lines into the same number (> 1) of
    fields; ties go to the earlier of ``, TAB ; |``. A fixed rule, where ``csv.Sniffer`` guesses
    (and can pick a letter as the delimiter)."""
    cut = sample.rfind("\n")
    sample = sample[: cut + 1] if cut > 0 else sample
    best, best_score = ",", (0, 0)
    for delimiter in _CSV_DELIMITERS:
        try:
            widths = [
                len(row)
                for row in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
                if row
            ]
        except csv.Error:
            continue
        counts = Counter(width for width in widths if width > 1)
        if not counts:
            continue
        width, lines = max(counts.items(), key=lambda item: (item[1], item[0]))
        if (lines, width) > best_score:
            best, best_score = delimiter, (lines, width)
    return best


def build_table(name: str, raw_rows: Iterable[Sequence[Any]]) -> Table:
    """Normalise cells, find the header, trim empty rows and columns, align rows."""
    normalise = normalise_cell
    rows = [[normalise(value) for value in row] for row in raw_rows]
    rows = [row for row in rows if row.count(None) != len(row)]
    if not rows:
        return Table(name=name, header=(), rows=())
    header_index = find_header_row(rows)
    first, last = _used_columns(rows[header_index or 0 :])
    width = last - first + 1
    if header_index is None:
        header_cells: list[Cell] = [None] * width
        body = rows
    else:
        header_cells = _pad(rows[header_index][first:], width)
        body = rows[header_index + 1 :]
    header = header_names(header_cells)
    aligned = tuple(
        tuple(row[first : last + 1]) if len(row) > last else tuple(_pad(row[first:], width))
        for row in body
    )
    return Table(name=name, header=header, rows=tuple(r for r in aligned if r.count(None) != width))


def find_header_row(rows: Sequence[Sequence[Cell]]) -> int | None:
    """Index of the header row by the rule in the module docstring, or None."""
    window = rows[:HEADER_WINDOW]
    counts = [sum(cell is not None for cell in row) for row in window]
    widest = max(counts, default=0)
    if widest == 0:
        return None
    for index, row in enumerate(window):
        filled = counts[index]
        texts = sum(isinstance(cell, str) for cell in row)
        wide_enough = filled >= max(2, math.ceil(HEADER_MIN_SHARE * widest))
        if wide_enough and texts * 2 > filled:
            return index
    return None


def header_names(cells: Sequence[Cell]) -> tuple[str, ...]:
    """Column names: the header text, "Column N" for blanks, " (2)" suffixes for repeats."""
    names: list[str] = []
    seen: set[str] = set()
    for position, cell in enumerate(cells, start=1):
        base = str(cell) if cell is not None else f"Column {position}"
        name, copy = base, 1
        while name.casefold() in seen:
            copy += 1
            name = f"{base} ({copy})"
        seen.add(name.casefold())
        names.append(name)
    return tuple(names)


def normalise_cell(value: Any) -> Cell:
    """A spreadsheet value as a JSON value (see the module docstring)."""
    kind = type(value)  # exact-type fast paths first: this runs for every cell
    if kind is str:
        if value.isprintable() and "  " not in value and value[:1] != " " != value[-1:]:
            return value or None  # already normalised (isprintable() excludes \t \n NBSP ...)
        return " ".join(value.split()) or None
    if kind is float:
        if not math.isfinite(value):
            return str(value)
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
        return value
    if value is None or kind is int or kind is bool:
        return value
    return _normalise_other(value)


def _normalise_other(value: Any) -> Cell:
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return normalise_cell(float(value))
    if isinstance(value, dt.datetime):
        if value.time() == _MIDNIGHT and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return _iso_duration(value)
    return " ".join(str(value).split()) or None


def _iso_duration(value: dt.timedelta) -> str:
    seconds = value.total_seconds()
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    whole = int(seconds)
    return f"{sign}PT{whole}S" if whole == seconds else f"{sign}PT{seconds}S"


def _used_columns(rows: Sequence[Sequence[Cell]]) -> tuple[int, int]:
    first, last = None, -1
    for row in rows:
        for index, cell in enumerate(row):
            if cell is not None:
                first = index if first is None or index < first else first
                last = max(last, index)
                break
        for index in range(len(row) - 1, last, -1):
            if row[index] is not None:
                last = index
                break
    return (first or 0), last


def _pad(row: Sequence[Cell], width: int) -> list[Cell]:
    cells = list(row[:width])
    cells.extend([None] * (width - len(cells)))
    return cells
