"""The parsers behind ``extract_file``, and the structural checks run before any of them.

``run_extractor`` is what the sandbox child runs (and what in-process callers run): it picks the
parser for a format and turns every exception into ``FileContent.error``.
"""

from __future__ import annotations

from monitor.document.files.safety import (
    ExtractionRefused,
    Limits,
    check_archive,
    check_size,
    check_zip,
)
from monitor.document.files.sniff import claimed_format
from monitor.model import FileContent

_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_OOXML = "EncryptedPackage".encode("utf-16-le")


def run_extractor(data: bytes, fmt: str, limits: Limits) -> FileContent:
    """Run the parser for ``fmt``; every exception becomes ``FileContent.error``."""
    try:
        return _parse(data, fmt, limits)
    except ExtractionRefused as exc:
        return FileContent(format=fmt, error=f"refused: {exc}")
    except MemoryError:
        return FileContent(format=fmt, error="ran out of memory while reading the file")
    except RecursionError:
        return FileContent(format=fmt, error=f"{fmt} file is nested too deeply to read")
    except Exception as exc:  # parsers raise anything on hostile input: report, do not crash
        return FileContent(format=fmt, error=f"could not read {fmt} file: {describe_error(exc)}")


def describe_error(exc: BaseException) -> str:
    """``Type: first line of the message``, at most 200 characters."""
    lines = str(exc).strip().splitlines()
    message = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return message[:200]


def _parse(data: bytes, fmt: str, limits: Limits) -> FileContent:
    # Imports are local so that the child process loads only the parser it needs.
    if fmt in ("ods", "xlsx", "xls"):
        from monitor.document.files.sheets import extract_workbook

        return extract_workbook(data, fmt, limits)
    if fmt == "csv":
        from monitor.document.files.sheets import extract_csv

        return extract_csv(data, limits)
    if fmt == "pdf":
        from monitor.document.files.pdf import extract_pdf

        return extract_pdf(data, limits)
    if fmt == "docx":
        from monitor.document.files.docx import extract_docx

        return extract_docx(data)
    if fmt == "text":
        from monitor.document.files.text import extract_text

        return extract_text(data)
    return FileContent(format="unknown", error="unsupported file format")


def precheck(
    data: bytes, fmt: str, content_type: str | None, filename: str | None, limits: Limits
) -> FileContent | None:
    """The checks that run before any parser; a FileContent with ``error`` if one fails."""
    if not data:
        return FileContent(format=fmt, error="file is empty")
    try:
        check_size(data, limits)
        if fmt in ("ods", "xlsx", "docx"):
            check_archive(data, limits)
        elif data.startswith(_ZIP_MAGIC):
            check_zip(data, limits)  # an unsupported zip: still say so if it is a bomb
        if data.startswith(_OLE2_MAGIC) and _ENCRYPTED_OOXML in data[: 1024 * 1024]:
            raise ExtractionRefused("document is password-protected")
    except ExtractionRefused as exc:
        return FileContent(format=fmt, error=f"refused: {exc}")
    if fmt == "unknown":
        claimed = claimed_format(content_type, filename)
        detail = f" (called {claimed}, but the content is not {claimed})" if claimed else ""
        return FileContent(format="unknown", error=f"unsupported file format{detail}")
    return None
