import datetime as dt
import io
from pathlib import Path

import pytest
from openpyxl import Workbook

from monitor.document.files.extract import extract_file_in_process
from monitor.document.files.safety import Limits
from monitor.document.files.sheets import (
    build_table,
    detect_delimiter,
    extract_csv,
    extract_workbook,
    find_header_row,
    normalise_cell,
)
from monitor.document.files.text import decode_text
from monitor.model import Table

FILES = Path(__file__).parent / "fixtures" / "files"
REGISTER_HEADER = (
    "Reference",
    "Organisation",
    "Purpose",
    "Data items",
    "Legal basis",
    "Identifiable?",
    "Date approved",
)
DS00752 = (
    "DS00752",
    "Westvale Academy Partnership",
    "Measure progression to apprenticeships by local area",
    "Attendance; exclusions; school characteristics",
    "Public task (UK GDPR Article 6(1)(e))",
    "No",
    "2024-08-22",
)


def read(name: str):
    return extract_file_in_process((FILES / name).read_bytes(), filename=name)


def table(content, name: str) -> Table:
    (found,) = [t for t in content.tables if t.name == name]
    return found


@pytest.mark.parametrize("name", ["register-before.ods", "register-before.xlsx"])
def test_register_workbook(name):
    content = read(name)
    assert content.error is None
    assert content.format == name.rsplit(".", 1)[1]
    assert [t.name for t in content.tables] == [
        "Contents",
        "DSAP approved shares",
        "Regular shares",
        "Home Office",
        "Police",
    ]
    dsap = table(content, "DSAP approved shares")
    # The title, period and notes rows above the header are not data.
    assert dsap.header == REGISTER_HEADER
    assert len(dsap.rows) == 80
    assert dsap.rows[0][0] == "DS00700"
    assert dsap.rows[-1][0] == "DS00779"
    assert dsap.rows[52] == DS00752
    assert all(len(row) == 7 for row in dsap.rows)  # the far-away styled cell adds nothing
    home_office = table(content, "Home Office")
    assert home_office.header == (
        "Reference",
        "Date of request",
        "Reason",
        "Number of pupils matched",
        "Outcome",
    )
    assert home_office.rows[0] == (
        "HO-2024-001",
        "2024-07-08",
        "Locate a child reported missing from education",
        2,
        "Data provided",
    )
    assert type(home_office.rows[0][3]) is int
    assert table(content, "Contents").header == ("Sheet", "What it lists")
    assert sum(len(t.rows) for t in content.tables) == 4 + 80 + 20 + 15 + 10


def test_ods_and_xlsx_of_the_same_register_extract_identically():
    assert read("register-after.ods").tables == read("register-after.xlsx").tables


def test_register_csv_in_two_encodings():
    before, after = read("register-before.csv"), read("register-after.csv")
    for content in (before, after):
        assert content.format == "csv"
        (data,) = content.tables
        assert data.name == "data"
        assert data.header == REGISTER_HEADER
    assert before.tables[0].rows[52] == DS00752[:6] + ("22/08/2024",)  # CSV cells stay text
    assert len(before.tables[0].rows) == 80
    assert len(after.tables[0].rows) == 82
    # Windows-1252 before, UTF-8 with a BOM after: the same text either way.
    for content in (before, after):
        organisations = {row[1] for row in content.tables[0].rows}
        purposes = {row[2] for row in content.tables[0].rows}
        assert "Fondation Éducation Nord" in organisations
        assert "Estimate the cost of transport to specialist provision (£ per pupil)" in purposes


def test_normalise_cell():
    assert normalise_cell(5.0) == 5 and type(normalise_cell(5.0)) is int
    assert normalise_cell(2.5) == 2.5
    assert normalise_cell(7) == 7
    assert normalise_cell(True) is True
    assert normalise_cell(dt.datetime(2024, 3, 1)) == "2024-03-01"
    assert normalise_cell(dt.datetime(2024, 3, 1, 10, 30)) == "2024-03-01T10:30:00"
    assert normalise_cell(dt.date(2024, 3, 1)) == "2024-03-01"
    assert normalise_cell(dt.time(9, 5)) == "09:05:00"
    assert normalise_cell(dt.timedelta(hours=1, seconds=3)) == "PT3603S"
    assert normalise_cell("  Home\n Office\u00a0 ") == "Home Office"
    assert normalise_cell("") is None
    assert normalise_cell(" \t ") is None
    assert normalise_cell(None) is None
    assert normalise_cell(float("nan")) == "nan"
    assert normalise_cell(1e20) == 100000000000000000000
    assert normalise_cell(1e300) == 1e300  # beyond exact integers: stays a float


def test_header_found_below_title_and_notes():
    rows = [
        ["DfE external data shares", None, None, None],
        ["Notes: figures are provisional", None, None, None],
        [None, None, None, None],
        ["Reference", "Organisation", None, "Date approved"],  # one blank header cell
        ["DS1", "University of Northfield", "extra", dt.date(2024, 1, 2)],
        ["DS2", "Home Office", "extra", dt.date(2024, 1, 3)],
        [None, None, None, None],
        [None, None, None, None],
    ]
    result = build_table("S", rows)
    assert result.header == ("Reference", "Organisation", "Column 3", "Date approved")
    assert result.rows == (
        ("DS1", "University of Northfield", "extra", "2024-01-02"),
        ("DS2", "Home Office", "extra", "2024-01-03"),
    )


def test_header_rule_prefers_the_first_widest_mostly_text_row():
    rows = [
        ["Title only"],
        ["Source:", "DfE"],
        ["Year", "Schools", "Pupils", "Teachers"],
        [2021, 20, 3000, 150],
        [2022, 21, 3100, 152],
    ]
    assert find_header_row(rows) == 2
    assert find_header_row([[1, 2], [3, 4]]) is None
    assert find_header_row([]) is None


def test_sheet_without_a_text_row_gets_generated_names():
    result = build_table("numbers", [[1, 2], [3, 4.0]])
    assert result.header == ("Column 1", "Column 2")
    assert result.rows == ((1, 2), (3, 4))


def test_trimming_alignment_and_duplicate_names():
    rows = [
        [None, None, None, None, None],
        [None, "Ref", "Name", "name", None],
        [None, "A1", "x", None, None],
        [None, None, None, None, None],
        [None, "A2", None, "z", None, None, None],
        [None, "A3"],
        [None, None, None, None, None],
    ]
    result = build_table("S", rows)
    assert result.header == ("Ref", "Name", "name (2)")
    assert result.rows == (("A1", "x", None), ("A2", None, "z"), ("A3", None, None))
    assert build_table("empty", [[None], []]) == Table("empty", (), ())


def test_detect_delimiter():
    assert detect_delimiter("Title\n\nRef;Name;Date\nA;B;C\nD;E;F\n") == ";"
    assert detect_delimiter("Ref\tName\nA\tB, with comma\n") == "\t"
    assert detect_delimiter('"a,b";c\n"d,e";f\n"g,h";i\n') == ";"
    assert detect_delimiter("just one column\nof text\n") == ","


def test_csv_quoting_and_semicolons():
    data = (
        'Register of shares\n\nRef;Purpose;Count\nDS1;"Research; with ""quotes""\nover lines";3\n'
    )
    content = extract_csv(data.encode("cp1252"))
    assert content.tables[0].header == ("Ref", "Purpose", "Count")
    assert content.tables[0].rows == (("DS1", 'Research; with "quotes" over lines', "3"),)


def test_decoding_chain_is_fixed():
    assert decode_text("\ufeffcafé".encode()) == "café"
    assert decode_text("café".encode("utf-16")) == "café"
    assert decode_text("café".encode("utf-16-be").join([b"\xfe\xff", b""])) == "café"
    assert decode_text("café".encode()) == "café"
    assert decode_text("café £5".encode("cp1252")) == "café £5"
    assert decode_text(b"caf\xe9 \x81") == "café \ufffd"  # 0x81 is unassigned in cp1252


def test_row_limit_is_enforced():
    data = (FILES / "register-before.xlsx").read_bytes()
    content = extract_file_in_process(data, limits=Limits(max_rows=50))
    assert content.error == "refused: workbook has more than 50 rows"
    csv_data = (FILES / "register-before.csv").read_bytes()
    content = extract_file_in_process(csv_data, filename="r.csv", limits=Limits(max_rows=50))
    assert content.error == "refused: CSV file has more than 50 rows"


def test_workbook_cell_types_survive(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Types"
    sheet.append(["Ref", "When", "Count", "Share", "Flag", "Stamp"])
    sheet.append(["R0043", dt.date(2023, 4, 1), 12, 0.25, True, dt.datetime(2023, 4, 1, 8, 15)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    content = extract_workbook(buffer.getvalue(), "xlsx")
    assert content.tables[0].rows == (
        ("R0043", "2023-04-01", 12, 0.25, True, "2023-04-01T08:15:00"),
    )
