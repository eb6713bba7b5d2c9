"""Benchmark: extract and row-diff a 50,000-row register (XLSX) before and after an update.

    .venv/bin/python bench/bench_rowdiff.py [--rows 50000] [--edits 300]

The "after" workbook has a few hundred cell edits, some rows removed and added, and is fully
re-sorted (by organisation, then reference), which is what defeats line-based diffs. Files are
written to a temporary directory. Prints timings; the target is a row diff under 1 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from openpyxl import Workbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.compare.files import diff_files  # noqa: E402
from monitor.compare.wording import file_summary  # noqa: E402
from monitor.document.files.extract import extract_file, extract_file_in_process  # noqa: E402

HEADER = [
    "Reference",
    "Organisation",
    "Purpose",
    "Data items",
    "Legal basis",
    "Identifiable?",
    "Date approved",
]
ORGANISATIONS = [f"Organisation {n:03d}" for n in range(300)] + ["Home Office"]
PURPOSES = [
    f"Research purpose number {n}: outcomes of pupils in group {n % 17}" for n in range(500)
]
ITEMS = ["Key stage 2 results", "Attendance; exclusions", "Ethnicity; first language", "FSM"]
BASES = ["Public task", "Legitimate interests", "Statutory gateway"]


def make_rows(count: int, rng: random.Random) -> list[list]:
    start = dt.date(2015, 1, 1)
    return [
        [
            f"DS{n:06d}",
            rng.choice(ORGANISATIONS),
            rng.choice(PURPOSES),
            rng.choice(ITEMS),
            rng.choice(BASES),
            rng.choice(["Yes", "No"]),
            start + dt.timedelta(days=n % 3650),
        ]
        for n in range(count)
    ]


def make_after(rows: list[list], edits: int, rng: random.Random) -> tuple[list[list], dict]:
    after = [row[:] for row in rows]
    edited = rng.sample(range(len(after)), edits)
    for index in edited:
        after[index][2] = after[index][2] + " (amended)"
    removed = set(rng.sample([i for i in range(len(after)) if i not in set(edited)], edits // 3))
    after = [row for i, row in enumerate(after) if i not in removed]
    added = [
        [f"DS{len(rows) + n:06d}", "Home Office", "New share", "FSM", "Public task", "Yes",
         dt.date(2025, 1, 1)]
        for n in range(edits // 2)
    ]  # fmt: skip
    after.extend(added)
    after.sort(key=lambda row: (row[1], row[0]))  # a full re-sort
    return after, {"changed": edits, "removed": len(removed), "added": len(added)}


def write_xlsx(path: Path, rows: list[list]) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("DSAP approved shares")
    sheet.append(["DfE external data shares: DSAP approved shares"])
    sheet.append([])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def timed(function, repeat: int = 3):
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return result, min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--edits", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(2025)
    rows = make_rows(args.rows, rng)
    after_rows, expected = make_after(rows, args.edits, rng)
    with tempfile.TemporaryDirectory() as tmp:
        before_path, after_path = Path(tmp) / "before.xlsx", Path(tmp) / "after.xlsx"
        started = time.perf_counter()
        write_xlsx(before_path, rows)
        write_xlsx(after_path, after_rows)
        print(f"rows: {args.rows} before, {len(after_rows)} after; expected {expected}")
        print(f"write both XLSX files (openpyxl, not part of the pipeline): "
              f"{time.perf_counter() - started:.2f} s; sizes "
              f"{before_path.stat().st_size / 1e6:.1f} MB / {after_path.stat().st_size / 1e6:.1f} MB")  # fmt: skip
        before_bytes, after_bytes = before_path.read_bytes(), after_path.read_bytes()

    old, t_min, t_med = timed(lambda: extract_file_in_process(before_bytes))
    print(
        f"extract 'before' in process (sniff + safety + calamine): min {t_min:.3f} s, median {t_med:.3f} s"
    )
    new, t_min, t_med = timed(lambda: extract_file_in_process(after_bytes))
    print(
        f"extract 'after' in process:                               min {t_min:.3f} s, median {t_med:.3f} s"
    )
    sandboxed, t_min, t_med = timed(lambda: extract_file(before_bytes))
    assert sandboxed == old, "the sandbox must give the same result"
    print(
        f"extract 'before' in the sandbox child (incl. JSON):       min {t_min:.3f} s, median {t_med:.3f} s"
    )

    diff, t_min, t_med = timed(lambda: diff_files(old, new), repeat=5)
    (table,) = diff.tables
    print(
        f"row diff (key detection + keyed diff):                    min {t_min:.3f} s, median {t_med:.3f} s"
    )
    print(f"  key column {table.key_column!r}: {len(table.rows_added)} added, "
          f"{len(table.rows_removed)} removed, {len(table.rows_changed)} changed")  # fmt: skip
    print(f"  summary: {file_summary(diff)}")
    assert (len(table.rows_added), len(table.rows_removed), len(table.rows_changed)) == (
        expected["added"], expected["removed"], expected["changed"])  # fmt: skip
    resorted_only = type(new)(format=new.format, tables=(
        type(old.tables[0])(old.tables[0].name, old.tables[0].header,
                            tuple(sorted(old.tables[0].rows, key=lambda r: (r[1], r[0])))),))  # fmt: skip
    same, t_min, t_med = timed(lambda: diff_files(old, resorted_only), repeat=5)
    assert same.is_empty
    print(
        f"row diff of a pure re-sort (must be empty):                min {t_min:.3f} s, median {t_med:.3f} s"
    )
    print("target: row diff < 1 s ->", "met" if t_med < 1 else "NOT met")


if __name__ == "__main__":
    main()
