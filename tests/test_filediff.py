import json
import random
from dataclasses import asdict, fields
from pathlib import Path

import pytest

from monitor.compare.files import FileDiff, diff_files
from monitor.compare.sections import SectionChange, sentences_of
from monitor.compare.tables import CellChange, RowChange, TableDiff, diff_tables
from monitor.compare.wording import file_summary, table_summary
from monitor.document.files.extract import extract_file_in_process
from monitor.model import FileContent, Section, Table

FILES = Path(__file__).parent / "fixtures" / "files"
HEADER = ("Reference", "Organisation", "Purpose", "Date approved")


def read(name: str) -> FileContent:
    return extract_file_in_process((FILES / name).read_bytes(), filename=name)


def sheet(rows, header=HEADER, name="DSAP approved shares") -> FileContent:
    return FileContent(format="xlsx", tables=(Table(name, header, tuple(map(tuple, rows))),))


def register_rows(count: int, start: int = 1):
    return [
        (f"DS{n:05d}", f"Organisation {n % 7}", f"Purpose {n}", f"2024-07-{n % 28 + 1:02d}")
        for n in range(start, start + count)
    ]


# --- the register fixtures -----------------------------------------------------------------


@pytest.mark.parametrize("ext", ["ods", "xlsx", "csv"])
def test_register_before_and_after(ext):
    diff = diff_files(read(f"register-before.{ext}"), read(f"register-after.{ext}"))
    sheet_name = "data" if ext == "csv" else "DSAP approved shares"
    assert file_summary(diff) == f"3 rows added, 1 removed, 1 changed in '{sheet_name}'"
    assert not diff.is_empty
    assert diff.sheets_added == diff.sheets_removed == ()
    changed_tables = [t for t in diff.tables if not t.is_empty]
    assert len(changed_tables) == 1
    dsap = changed_tables[0]
    assert dsap.sheet == sheet_name
    assert dsap.key_column == "Reference"
    assert [row["Reference"] for row in dsap.rows_added] == ["DS00780", "DS00781", "DS00782"]
    assert [row["Organisation"] for row in dsap.rows_added] == [
        "Home Office",
        "Home Office",
        "University of Northfield",
    ]
    assert [row["Reference"] for row in dsap.rows_removed] == ["DS00761"]
    assert dsap.rows_changed == (
        RowChange(
            key="DS00752",
            cells=(
                CellChange(
                    "Data items",
                    "Attendance; exclusions; school characteristics",
                    "Attendance; exclusions; school characteristics; pupil nationality",
                ),
                CellChange("Identifiable?", "No", "Yes"),
            ),
        ),
    )
    assert (dsap.rows_before, dsap.rows_after) == (80, 82)
    assert dsap.columns_added == dsap.columns_removed == ()


def test_resorted_regular_shares_sheet_shows_no_change():
    before, after = read("register-before.ods"), read("register-after.ods")
    regular_before = [t for t in before.tables if t.name == "Regular shares"][0]
    regular_after = [t for t in after.tables if t.name == "Regular shares"][0]
    assert regular_before.rows != regular_after.rows  # really re-sorted
    (regular,) = [t for t in diff_files(before, after).tables if t.sheet == "Regular shares"]
    assert regular.is_empty
    assert (regular.rows_before, regular.rows_after, regular.key_column) == (20, 20, "Reference")


def test_same_register_in_another_format_is_only_a_format_change():
    diff = diff_files(read("register-after.ods"), read("register-after.xlsx"))
    assert all(t.is_empty for t in diff.tables)
    assert not diff.is_empty
    assert file_summary(diff) == "file format changed from ods to xlsx"


def test_identical_files_are_empty():
    content = read("register-before.xlsx")
    diff = diff_files(content, content)
    assert diff.is_empty
    assert file_summary(diff) == "no changes"


# --- the PDF and DOCX fixtures --------------------------------------------------------------


def test_census_guide_before_and_after():
    diff = diff_files(read("census-guide-before.pdf"), read("census-guide-after.pdf"))
    assert diff.sections == (
        SectionChange(
            label="(opening text)",
            status="changed",
            sentences_added=("1.2 1 July 2025 Added section 3.4 Pupil nationality",),
        ),
        SectionChange(
            label="3.4 Pupil nationality",
            status="added",
            sentences_added=(
                "From the autumn census 2025 schools record the nationality of each pupil when a "
                "parent chooses to provide it.",
                "Parents are not required to provide this information and schools must not ask "
                "to see a passport.",
                "Where a parent declines, record the code REF.",
                "Nationality is never shared with the Home Office for immigration enforcement.",
                "It is used only to produce statistics about the school population.",
            ),
        ),
    )
    assert file_summary(diff) == "opening text changed; section 3.4 Pupil nationality added"


def test_privacy_notice_before_and_after():
    diff = diff_files(read("privacy-notice-before.docx"), read("privacy-notice-after.docx"))
    assert diff.sections == (
        SectionChange(
            label="4 How long we keep pupil data",
            status="changed",
            sentences_added=(
                "We hold pupil data securely until the pupil reaches the age of 25, after which "
                "it is deleted.",
            ),
            sentences_removed=(
                "We hold pupil data securely for the set amount of time shown in our data "
                "retention schedule.",
            ),
        ),
    )
    assert [t.is_empty for t in diff.tables] == [True]
    assert file_summary(diff) == "section 4 How long we keep pupil data changed"


# --- keys and rows --------------------------------------------------------------------------


def test_full_resort_of_a_large_sheet_is_no_change():
    rows = register_rows(5000)
    shuffled = rows[:]
    random.Random(3).shuffle(shuffled)
    diff = diff_files(sheet(rows), sheet(shuffled))
    assert diff.is_empty
    assert diff.tables[0].key_column == "Reference"


def test_key_column_need_not_come_first_and_header_hints_break_ties():
    header = ("Case", "Purpose", "Ref")
    old = [(f"C{n}", f"Purpose {n}", f"R{n:04d}") for n in range(10)]
    new = [row if row[2] != "R0003" else ("C3", "Changed purpose", "R0003") for row in old]
    diff = diff_files(sheet(old, header), sheet(new, header))
    (table,) = diff.tables
    assert table.key_column == "Ref"  # both are id-like; "Ref" says it is a reference
    assert table.rows_changed == (
        RowChange("R0003", (CellChange("Purpose", "Purpose 3", "Changed purpose"),)),
    )


def test_explicit_row_key_is_matched_ignoring_case_and_spaces():
    header = ("Name", "Count")
    old = [("Alpha", 1), ("Beta", 2)]
    new = [("Beta", 3), ("Alpha", 1)]
    table = diff_files(sheet(old, header), sheet(new, header), row_key="  NAME ").tables[0]
    assert table.key_column == "Name"
    assert table.rows_changed == (RowChange("Beta", (CellChange("Count", 2, 3),)),)
    # Not present: detection takes over ("Name" is unique, the only usable key).
    table = diff_files(sheet(old, header), sheet(new, header), row_key="Reference").tables[0]
    assert table.key_column == "Name"


def test_one_duplicated_id_in_the_new_version_keeps_the_key():
    old = register_rows(30)
    new = old[:] + [("DS00005", "Organisation 5", "Purpose 5 again", "2024-07-06")]
    new[10] = (new[10][0], new[10][1], "Edited purpose", new[10][3])
    table = diff_files(sheet(old), sheet(new)).tables[0]
    assert table.key_column == "Reference"
    assert [row["Purpose"] for row in table.rows_added] == ["Purpose 5 again"]
    assert table.rows_removed == ()
    assert table.rows_changed == (
        RowChange("DS00011", (CellChange("Purpose", "Purpose 11", "Edited purpose"),)),
    )


def test_row_counter_is_not_a_key_and_without_a_key_rows_are_a_multiset():
    header = ("No.", "Organisation", "Outcome")
    old = [(1, "Police", "Yes"), (2, "Police", "Yes"), (3, "Council", "No")]
    # Re-sorted and renumbered, and one of the two identical Police rows now says "No".
    new = [(1, "Council", "No"), (2, "Police", "Yes"), (3, "Police", "No")]
    table = diff_files(sheet(old, header), sheet(new, header)).tables[0]
    assert table.key_column is None
    assert table.rows_added == ({"No.": 3, "Organisation": "Police", "Outcome": "No"},)
    assert table.rows_removed == ({"No.": 1, "Organisation": "Police", "Outcome": "Yes"},)
    assert table.rows_changed == ()
    assert table_summary(table) == "1 row added, 1 removed in 'DSAP approved shares'"


def test_row_counter_is_left_out_of_cell_comparisons():
    header = ("No.", "Reference", "Purpose")
    old = [(1, "DS1", "a"), (2, "DS2", "b"), (3, "DS3", "c")]
    new = [(1, "DS1", "a"), (2, "DS9", "new"), (3, "DS2", "b"), (4, "DS3", "c changed")]
    table = diff_files(sheet(old, header), sheet(new, header)).tables[0]
    assert table.key_column == "Reference"
    assert table.rows_added == ({"No.": 2, "Reference": "DS9", "Purpose": "new"},)
    assert table.rows_changed == (RowChange("DS3", (CellChange("Purpose", "c", "c changed"),)),)


def test_unique_text_column_is_a_last_resort_key():
    header = ("Organisation", "Count")
    old = [("Police", 1), ("Council", 2)]
    new = [("Council", 2), ("Police", 4)]
    table = diff_files(sheet(old, header), sheet(new, header)).tables[0]
    assert table.key_column == "Organisation"
    assert table.rows_changed == (RowChange("Police", (CellChange("Count", 1, 4),)),)


def test_columns_added_and_removed_are_reported_once():
    old = register_rows(5)
    new_header = ("Reference", "Organisation", "Date approved", "Legal basis")
    new = [(r[0], r[1], r[3], "Public task") for r in old]
    new[2] = (new[2][0], "Home Office", new[2][2], new[2][3])
    table = diff_tables(Table("S", HEADER, tuple(old)), Table("S", new_header, tuple(new)))
    assert table.columns_added == ("Legal basis",)
    assert table.columns_removed == ("Purpose",)
    assert table.rows_changed == (
        RowChange("DS00003", (CellChange("Organisation", "Organisation 3", "Home Office"),)),
    )
    assert table_summary(table) == (
        "1 row changed in 'S'; column 'Legal basis' added in 'S'; column 'Purpose' removed in 'S'"
    )


def test_header_case_and_spacing_do_not_matter():
    old = register_rows(3)
    header = ("REFERENCE", "Organisation ", "purpose", "Date  approved")
    assert diff_files(sheet(old), sheet(old, header)).is_empty


def test_compare_quarterly_gives_the_rows_new_this_quarter():
    q1 = register_rows(5, start=1)  # DS00001 .. DS00005
    q2 = register_rows(5, start=4)  # DS00004 .. DS00008
    q2[0] = (q2[0][0], "Home Office", q2[0][2], q2[0][3])
    diff = diff_files(sheet(q1), sheet(q2))
    (table,) = diff.tables
    assert [row["Reference"] for row in table.rows_added] == ["DS00006", "DS00007", "DS00008"]
    assert [row["Reference"] for row in table.rows_removed] == ["DS00001", "DS00002", "DS00003"]
    assert table.rows_changed == (
        RowChange("DS00004", (CellChange("Organisation", "Organisation 4", "Home Office"),)),
    )
    assert file_summary(diff) == "3 rows added, 3 removed, 1 changed in 'DSAP approved shares'"


def test_sheets_added_removed_and_a_lone_renamed_sheet():
    one = Table("Sheet1", HEADER, tuple(register_rows(3)))
    two = Table("Police", HEADER, tuple(register_rows(2)))
    diff = diff_files(
        FileContent("ods", tables=(one,)),
        FileContent("ods", tables=(Table("DSAP Approved  Shares", HEADER, one.rows), two)),
    )
    assert diff.sheets_added == ("DSAP Approved  Shares", "Police")
    assert diff.sheets_removed == ("Sheet1",)
    assert (
        file_summary(diff) == "sheets 'DSAP Approved  Shares', 'Police' added; sheet 'Sheet1' removed"
    )
    renamed = diff_files(
        FileContent("csv", tables=(Table("data", HEADER, one.rows),)),
        FileContent("xlsx", tables=(Table("Register", HEADER, one.rows),)),
    )
    assert renamed.sheets_added == renamed.sheets_removed == ()
    assert file_summary(renamed) == "file format changed from csv to xlsx"


# --- sections -------------------------------------------------------------------------------


def doc(*sections: Section) -> FileContent:
    return FileContent(format="pdf", sections=sections)


def test_inserted_section_renumbers_later_ones_without_rewriting_them():
    old = doc(
        Section("1", "Intro", ("Hello. World.",)),
        Section("2", "Ethnicity", ("Record ethnicity.",)),
        Section("3", "Help", ("Call us.",)),
    )
    new = doc(
        Section("1", "Intro", ("Hello. World.",)),
        Section("2", "Nationality", ("Record nationality.",)),
        Section("3", "Ethnicity", ("Record ethnicity.",)),
        Section("4", "Help", ("Call us today.",)),
    )
    diff = diff_files(old, new)
    assert diff.sections == (
        SectionChange("2 Nationality", "added", ("Record nationality.",)),
        SectionChange("3 Ethnicity", "moved", previous_label="2 Ethnicity"),
        SectionChange("4 Help", "moved", ("Call us today.",), ("Call us.",), "3 Help"),
    )
    assert file_summary(diff) == (
        "section 2 Nationality added; section 4 Help renumbered (was 3) and changed; "
        "section 3 Ethnicity renumbered (was 2)"
    )


def test_retitled_and_removed_sections_and_unnumbered_matching():
    old = doc(
        Section("", "", ("Cover.",)),
        Section("1", "Old title", ("Same text.",)),
        Section("2", "Gone", ("Bye. Now.",)),
        Section("", "Contact", ("Write to us.",)),
    )
    new = doc(
        Section("", "", ("Cover.",)),
        Section("1", "New title", ("Same text.",)),
        Section("", "Contact", ("Write to us!",)),
    )
    diff = diff_files(old, new)
    assert diff.sections == (
        SectionChange("1 New title", "changed", previous_label="1 Old title"),
        SectionChange("2 Gone", "removed", sentences_removed=("Bye.", "Now.")),
        SectionChange("Contact", "changed", ("Write to us!",), ("Write to us.",)),
    )
    assert file_summary(diff) == (
        "section 1 New title retitled (was 1 Old title); section 2 Gone removed; "
        "section Contact changed"
    )


def test_sentences_of():
    assert sentences_of(["One. Two? Three!  Four", "", "Five."]) == [
        "One.",
        "Two?",
        "Three!",
        "Four",
        "Five.",
    ]


# --- errors, summaries and serialisation ----------------------------------------------------


def test_unreadable_versions():
    good = sheet(register_rows(2))
    bad = FileContent(format="pdf", error="extraction timed out after 60 s")
    diff = diff_files(good, bad)
    assert diff.error == "the new version could not be read: extraction timed out after 60 s"
    assert file_summary(diff) == diff.error
    assert not diff.is_empty
    assert diff_files(bad, bad).is_empty
    assert diff_files(bad, good).error == (
        "the previous version could not be read (extraction timed out after 60 s), so there is "
        "nothing to compare with"
    )


def test_long_summaries_are_cut():
    old = doc(*(Section(str(n), f"Part {n}", ("Old.",)) for n in range(1, 7)))
    new = doc(*(Section(str(n), f"Part {n}", ("New.",)) for n in range(1, 7)))
    assert file_summary(diff_files(old, new)) == (
        "section 1 Part 1 changed; section 2 Part 2 changed; section 3 Part 3 changed; "
        "and 3 more changes"
    )


def test_table_summary_wording():
    assert table_summary(TableDiff("S", None, rows_removed=({"a": 1},))) == "1 row removed in 'S'"
    two_changed = (RowChange("A", ()), RowChange("B", ()))
    assert table_summary(TableDiff("S", "Ref", rows_changed=two_changed)) == "2 rows changed in 'S'"
    assert table_summary(TableDiff("S", "Ref")) == ""


def test_to_dict_is_json_and_round_trips():
    diffs = [
        diff_files(read("register-before.ods"), read("register-after.ods")),
        diff_files(read("census-guide-before.pdf"), read("census-guide-after.pdf")),
        diff_files(sheet([]), FileContent("pdf", error="boom")),
    ]
    for diff in diffs:
        data = json.loads(json.dumps(diff.to_dict()))
        assert data == json.loads(json.dumps(asdict(diff)))
        assert set(data) == {f.name for f in fields(FileDiff)}
        assert [t["sheet"] for t in data["tables"]] == [t.sheet for t in diff.tables]
        assert [c["label"] for c in data["sections"]] == [c.label for c in diff.sections]
