import io
import zipfile
from pathlib import Path

import pytest

from monitor.document.files.sniff import claimed_format, looks_like_text, sniff_format

FILES = Path(__file__).parent / "fixtures" / "files"
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

LIES = [
    (None, None),
    ("text/csv", "register.csv"),
    ("application/pdf", "guide.pdf"),
    ("application/octet-stream", "notice.docx"),
    ("text/plain", "readme.txt"),
    ("application/vnd.oasis.opendocument.spreadsheet", "register.ods"),
    ("application/vnd.ms-excel", "old.xls"),
]


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("register-before.ods", "ods"),
        ("register-after.xlsx", "xlsx"),
        ("census-guide-before.pdf", "pdf"),
        ("privacy-notice-after.docx", "docx"),
        ("hostile-zip-bomb.ods", "ods"),
        ("hostile-billion-laughs.xlsx", "xlsx"),
    ],
)
def test_signature_wins_over_every_claim(name, expected):
    data = (FILES / name).read_bytes()
    answers = {sniff_format(data, content_type, filename) for content_type, filename in LIES}
    assert answers == {expected}


def test_csv_needs_a_claim_and_only_the_claim_decides_csv_or_text():
    data = (FILES / "register-before.csv").read_bytes()
    assert sniff_format(data, None, "register.csv") == "csv"
    assert sniff_format(data, "text/csv; charset=utf-8", None) == "csv"
    assert sniff_format(data, None, None) == "text"
    # The extension is consulted before the Content-Type.
    assert sniff_format(data, "text/csv", "register.txt") == "text"
    assert sniff_format(data, "text/plain", "register.CSV") == "csv"
    # A binary claim cannot make text bytes into a PDF or a workbook.
    assert sniff_format(data, "application/pdf", "register.pdf") == "text"
    assert sniff_format(data, None, "register.xlsx") == "text"


def test_garbage_is_unknown_whatever_it_is_called():
    data = (FILES / "hostile-garbage.docx").read_bytes()
    assert {sniff_format(data, ct, fn) for ct, fn in LIES + [(None, "x.docx")]} == {"unknown"}


def test_zip_containers_are_identified_by_their_members():
    ods = zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"})
    odt = zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.text"})
    xlsx = zip_bytes({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<w/>"})
    docx = zip_bytes({"word/document.xml": b"<d/>"})
    plain = zip_bytes({"readme.txt": b"hello"})
    assert sniff_format(ods, None, "a.xlsx") == "ods"
    assert sniff_format(odt, None, "a.ods") == "unknown"
    assert sniff_format(xlsx, "application/pdf", None) == "xlsx"
    assert sniff_format(docx, None, "a.xlsx") == "docx"
    assert sniff_format(plain, None, "a.docx") == "unknown"


def test_broken_zip_is_unknown_even_when_named_xlsx():
    assert sniff_format(b"PK\x03\x04" + b"\x00" * 200, None, "register.xlsx") == "unknown"


def test_ole2_is_xls_unless_it_is_a_word_file_or_encrypted_package():
    workbook = OLE2 + b"\x00" * 100 + "Workbook".encode("utf-16-le") + b"\x00" * 100
    word = OLE2 + b"\x00" * 100 + "WordDocument".encode("utf-16-le")
    encrypted = OLE2 + b"\x00" * 100 + "EncryptedPackage".encode("utf-16-le")
    assert sniff_format(workbook, "text/csv", "a.csv") == "xls"
    assert sniff_format(word, None, "a.xls") == "unknown"
    assert sniff_format(encrypted, None, "a.xlsx") == "unknown"


def test_pdf_signature_may_follow_some_junk():
    assert sniff_format(b"\r\n  junk\n%PDF-1.7\n...", None, "a.csv") == "pdf"
    assert sniff_format(b"x" * 2000 + b"%PDF-1.7", None, None) == "text"


def test_text_detection():
    assert looks_like_text("naïve café\r\n".encode())
    assert looks_like_text("\ufeffhello".encode("utf-16"))  # BOM, although it holds NULs
    assert not looks_like_text(b"abc\x00def")
    assert not looks_like_text(bytes(range(1, 9)) * 10)
    assert sniff_format("a,b\n1,2\n".encode("utf-16"), None, "x.csv") == "csv"


def test_claimed_format_reads_paths_and_parameters():
    assert claimed_format(None, "/media/abc/Register_Q3.ODS?download=1") == "ods"
    assert claimed_format("Application/PDF; qs=0.9", None) == "pdf"
    assert claimed_format("application/octet-stream", "noextension") is None
