import io
import random
import struct
import time
import zipfile
from pathlib import Path

import pytest

from monitor.document.files.extract import extract_file, extract_file_in_process
from monitor.document.files.safety import (
    ExtractionRefused,
    GiB,
    Limits,
    MiB,
    check_archive,
    check_xml_members,
    check_zip,
    cpu_limit,
    scan_prolog,
    zip_entry_bound,
)
from monitor.model import FileContent

FILES = Path(__file__).parent / "fixtures" / "files"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def fixture(name: str) -> bytes:
    return (FILES / name).read_bytes()


def zip_bytes(members: dict[str, bytes], compress: bool = True) -> bytes:
    buffer = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def xml_refusal(xml: bytes) -> str:
    archive = zipfile.ZipFile(io.BytesIO(zip_bytes({"xl/worksheets/sheet1.xml": xml})))
    with pytest.raises(ExtractionRefused) as caught:
        check_xml_members(archive)
    return str(caught.value)


def test_limits_defaults():
    limits = Limits()
    assert limits.max_members == 10_000
    assert limits.max_uncompressed_bytes == 300 * MiB
    assert limits.max_ratio == 200
    assert limits.timeout_seconds == 60
    assert limits.memory_bytes == 1 * GiB
    assert limits.max_rows == 500_000
    assert cpu_limit(limits) == 60  # follows the wall-clock timeout unless set
    assert cpu_limit(Limits(timeout_seconds=90.5)) == 91
    assert cpu_limit(Limits(timeout_seconds=90, cpu_seconds=5)) == 5
    with pytest.raises(AttributeError):
        limits.max_rows = 1  # type: ignore[misc]


# --- zip checks ----------------------------------------------------------------------------


def test_zip_bomb_is_refused_for_its_compression_ratio():
    with pytest.raises(
        ExtractionRefused,
        match=r"'content.xml' has compression ratio \d+:1, over the limit of 200:1",
    ):
        check_zip(fixture("hostile-zip-bomb.ods"), Limits())


def test_small_members_may_compress_well():
    check_zip(zip_bytes({"a.xml": b" " * 500_000}), Limits())  # ratio ~500, but only 0.5 MB


def test_too_many_members():
    data = zip_bytes({f"m{i}.xml": b"<a/>" for i in range(30)})
    with pytest.raises(ExtractionRefused, match="archive has 30 members, over the limit of 10"):
        check_zip(data, Limits(max_members=10))


def test_too_much_uncompressed_data():
    data = zip_bytes({"a.bin": bytes(range(256)) * 4096}, compress=False)
    with pytest.raises(
        ExtractionRefused, match="archive expands to 1 MiB, over the 512 bytes limit"
    ):
        check_zip(data, Limits(max_uncompressed_bytes=512))


def test_encrypted_member_is_refused():
    data = bytearray(zip_bytes({"content.xml": b"<a/>"}))
    # Set the "encrypted" flag bit in the local header and the central directory entry.
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature) + flag_offset
        (flags,) = struct.unpack_from("<H", data, at)
        struct.pack_into("<H", data, at, flags | 1)
    with pytest.raises(ExtractionRefused, match="archive member 'content.xml' is encrypted"):
        check_zip(bytes(data), Limits())


def test_not_a_zip():
    with pytest.raises(ExtractionRefused, match="not a readable zip archive"):
        check_zip(b"PK\x03\x04 this is not really a zip", Limits())


def test_entry_bound_reads_zip64_counts_without_listing_members():
    # An end-of-central-directory record claiming 0xFFFF entries, pointing at a ZIP64 record
    # that claims a billion: refused before zipfile builds a billion ZipInfo objects.
    zip64_record = b"PK\x06\x06" + struct.pack("<QHHIIQQQQ", 44, 45, 45, 0, 0, 10**9, 10**9, 0, 0)
    locator = b"PK\x06\x07" + struct.pack("<IQI", 0, 4, 1)
    eocd = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    data = b"PK\x03\x04" + zip64_record + locator + eocd
    assert zip_entry_bound(data) == 10**9
    with pytest.raises(ExtractionRefused, match="too many members"):
        check_zip(data, Limits())
    assert zip_entry_bound(b"no zip here") is None


def test_encrypted_odf_is_refused():
    manifest = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        b'<manifest:file-entry manifest:full-path="content.xml"><manifest:encryption-data '
        b'manifest:checksum="x"/></manifest:file-entry></manifest:manifest>'
    )
    data = zip_bytes({"mimetype": ODS_MIMETYPE, "META-INF/manifest.xml": manifest})
    with pytest.raises(ExtractionRefused, match="password-protected"):
        check_archive(data, Limits())


# --- XML prologs ---------------------------------------------------------------------------


def test_doctype_and_entity_declarations_are_refused():
    assert xml_refusal(b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "b">]><x/>') == (
        "XML member 'xl/worksheets/sheet1.xml' has a DOCTYPE declaration"
    )
    assert xml_refusal(b"<!ENTITY a 'b'><x/>").endswith("has an ENTITY declaration")
    assert xml_refusal(b"<?xml version='1.0'?><!-- innocent --> <!doctype x><x/>").endswith(
        "has a DOCTYPE declaration"
    )


def test_doctype_hidden_by_utf16_is_refused():
    xml = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>'
    assert xml_refusal(xml.encode("utf-16")).endswith("has a DOCTYPE declaration")
    assert xml_refusal(xml.encode("utf-16-be")).endswith("has a DOCTYPE declaration")


def test_doctype_hidden_behind_a_long_prolog_is_refused():
    xml = b'<?xml version="1.0"?>' + b" " * 40_000 + b"<!DOCTYPE x><x/>"
    assert xml_refusal(xml).endswith("has a prolog longer than 16384 bytes")


def test_unusual_encodings_are_refused():
    assert xml_refusal(b'<?xml version="1.0" encoding="UTF-7"?><x/>').endswith(
        "declares an unusual encoding (UTF-7)"
    )
    assert xml_refusal('<?xml version="1.0" encoding="UTF-16"?><x/>'.encode("utf-32")).endswith(
        "uses an unusual text encoding"
    )


def test_clean_members_pass():
    members = {
        "mimetype": ODS_MIMETYPE,
        "content.xml": b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- c --><?pi x?><root>'
        + b"<!DOCTYPE in the body is not a prolog>" * 3
        + b"</root>",
        "Pictures/a.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
        "empty.xml": b"",
    }
    archive = zipfile.ZipFile(io.BytesIO(zip_bytes(members)))
    check_xml_members(archive)
    for name in ("register-before.ods", "register-after.xlsx", "privacy-notice-before.docx"):
        check_archive(fixture(name), Limits())


def test_scan_prolog_verdicts():
    assert scan_prolog(b'<?xml version="1.0"?><a/>') is None
    assert scan_prolog(b"plain text, not XML") is None
    assert scan_prolog(b"<!DOCTYPE a><a/>") == "has a DOCTYPE declaration"
    assert scan_prolog(b"\xef\xbb\xbf<!ENTITY x 'y'>") == "has an ENTITY declaration"
    assert scan_prolog(b"<![CDATA[x]]><a/>") == "has a markup declaration before its root element"
    more = scan_prolog(b"<?xml version='1.0'?><!DOC", complete=False)
    assert more is not None and not isinstance(more, str)


# --- hostile files through the whole pipeline ----------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt", "error"),
    [
        (
            "hostile-zip-bomb.ods",
            "ods",
            "refused: archive member 'content.xml' has compression ratio 1027:1, over the limit of 200:1",
        ),
        (
            "hostile-billion-laughs.xlsx",
            "xlsx",
            "refused: XML member 'xl/worksheets/sheet2.xml' has a DOCTYPE declaration",
        ),
        (
            "hostile-external-entity.xlsx",
            "xlsx",
            "refused: XML member 'xl/worksheets/sheet3.xml' has a DOCTYPE declaration",
        ),
        (
            "hostile-garbage.docx",
            "unknown",
            "unsupported file format (called docx, but the content is not docx)",
        ),
        (
            "hostile-cyclic-pages.pdf",
            "pdf",
            "could not read pdf file: PdfReadError: Detected cyclic page references.",
        ),
        ("hostile-deep-nesting.pdf", "pdf", "pdf file is nested too deeply to read"),
    ],
)
def test_hostile_files_come_back_as_errors_quickly(name, fmt, error):
    started = time.monotonic()
    content = extract_file(fixture(name), filename=name)
    elapsed = time.monotonic() - started
    assert content == FileContent(format=fmt, error=error)
    assert elapsed < 10  # the limit is 60 s; these take well under a second


def test_sandbox_kills_a_child_past_the_wall_clock_timeout():
    started = time.monotonic()
    content = extract_file(fixture("hostile-slow-content.pdf"), limits=Limits(timeout_seconds=1.5))
    elapsed = time.monotonic() - started
    assert content == FileContent(format="pdf", error="extraction timed out after 1.5 s")
    assert elapsed < 5  # unlimited, pypdf spends over 10 s on this file


def test_sandbox_cpu_limit():
    started = time.monotonic()
    content = extract_file(
        fixture("hostile-slow-content.pdf"), limits=Limits(cpu_seconds=1, timeout_seconds=30)
    )
    assert content.error == "extraction exceeded its CPU time limit (1 s)"
    assert time.monotonic() - started < 10


def test_sandbox_memory_limit():
    limits = Limits(memory_bytes=100 * MiB)
    started = time.monotonic()
    content = extract_file(fixture("hostile-slow-content.pdf"), limits=limits)
    assert content.error == "ran out of memory while reading the file"
    assert time.monotonic() - started < 10
    # The same limit leaves room for an ordinary 20-page guide.
    assert extract_file(fixture("census-guide-before.pdf"), limits=limits).error is None


def test_sandbox_gives_the_same_result_as_in_process():
    for name in ("register-after.ods", "census-guide-after.pdf", "privacy-notice-after.docx"):
        data = fixture(name)
        in_child = extract_file(data, filename=name)
        assert in_child.error is None
        assert in_child == extract_file_in_process(data, filename=name)


def test_encrypted_office_file_is_refused():
    data = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64 + "EncryptedPackage".encode("utf-16-le")
    )
    content = extract_file(data, filename="register.xlsx")
    assert content == FileContent(format="unknown", error="refused: document is password-protected")


def test_oversized_file_is_refused():
    content = extract_file(fixture("register-before.ods"), limits=Limits(max_file_bytes=1000))
    assert content.error == "refused: file is 5397 bytes, over the 1000 bytes limit"


@pytest.mark.parametrize(
    "name",
    [
        "register-before.xlsx",
        "register-before.ods",
        "census-guide-before.pdf",
        "privacy-notice-before.docx",
    ],
)
def test_truncated_and_corrupted_files_never_raise(name):
    data = fixture(name)
    variants = [
        data[: len(data) // 2],
        data[:100],
        data[: len(data) - 30],
        data[:2000] + bytes(5000) + data[7000:],
        b"",
    ]
    for variant in variants:
        content = extract_file_in_process(variant, filename=name)
        assert isinstance(content, FileContent)
        if not content.tables and not content.sections:
            assert content.error, (name, len(variant))


def test_empty_file_is_an_error_not_an_empty_version():
    assert extract_file(b"", filename="register.ods") == FileContent(
        format="text", error="file is empty"
    )


@pytest.mark.parametrize(
    "name",
    [
        "register-before.xlsx",
        "register-before.ods",
        "register-before.csv",
        "census-guide-before.pdf",
        "privacy-notice-before.docx",
    ],
)
def test_randomly_damaged_files_never_raise(name):
    data = fixture(name)
    rng = random.Random(name)
    for attempt in range(25):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 20)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        if attempt % 3 == 0:
            damaged = damaged[: rng.randrange(len(damaged))]
        content = extract_file_in_process(bytes(damaged), filename=name)
        assert isinstance(content, FileContent)
        assert content.error is None or "\n" not in content.error


def test_a_reader_stopped_with_the_run_stops_the_run_instead_of_blaming_the_file(monkeypatch):
    import signal
    import subprocess

    from monitor.document.files import sandbox
    from monitor.errors import RunStopped

    def stopped(*args, **kwargs):
        return subprocess.CompletedProcess(args, -signal.SIGTERM, b"", b"")

    monkeypatch.setattr(sandbox.subprocess, "run", stopped)
    with pytest.raises(RunStopped, match="SIGTERM"):
        sandbox.run_in_child(b"%PDF-1.4 minimal", "pdf", Limits())
