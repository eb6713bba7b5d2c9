"""Decide what kind of file a download is, trusting the bytes before anything the server says.

GOV.UK attachments usually carry a sensible ``Content-Type`` and file name, but mirrors, replays
and the occasional mislabelled upload do not. A file is therefore classified by its *magic bytes*
first; the file extension and then the Content-Type are consulted only for what bytes cannot
tell apart (a CSV from other plain text). Because a claim can never override a signature, and a
claim of a binary format is ignored when its signature is missing, the same bytes always get the
same answer — a re-served file with a different header never shows up as a "format change".

Returned formats: ``ods xlsx xls csv pdf docx text unknown``.
"""

from __future__ import annotations

import io
import zipfile

from monitor.document.files.safety import ZIP_ERRORS, zip_entry_bound

FORMATS = ("ods", "xlsx", "xls", "csv", "pdf", "docx", "text", "unknown")

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
# Stream names inside an OLE2 container, stored as UTF-16LE in its directory.
_OLE2_WORKBOOK_STREAMS = ("Workbook".encode("utf-16-le"), "Book".encode("utf-16-le"))
_OLE2_NOT_A_SHEET = (
    "WordDocument".encode("utf-16-le"),
    "PowerPoint Document".encode("utf-16-le"),
    "EncryptedPackage".encode("utf-16-le"),  # a password-protected OOXML file
)

_EXTENSIONS = {
    ".ods": "ods",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".csv": "csv",
    ".pdf": "pdf",
    ".docx": "docx",
    ".txt": "text",
    ".text": "text",
    ".md": "text",
}
_CONTENT_TYPES = {
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.ms-excel": "xls",
    "text/csv": "csv",
    "application/csv": "csv",
    "text/comma-separated-values": "csv",
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "text/plain": "text",
}
_TEXT_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_TEXT_SAMPLE = 64 * 1024
# Listing a zip's members costs memory per member; past this many, sniffing gives up (the
# safety checks then refuse the file with a clear message).
_SNIFF_MAX_MEMBERS = 100_000


def sniff_format(data: bytes, content_type: str | None, filename: str | None) -> str:
    """Classify ``data``: signature first, then extension, then Content-Type.

    The claims (extension, Content-Type) only choose between ``csv`` and ``text`` for bytes that
    look like text; bytes that carry no known signature and do not look like text are
    ``unknown`` whatever they are called.
    """
    by_magic = format_from_magic(data)
    if by_magic is not None:
        return by_magic
    if not looks_like_text(data):
        return "unknown"
    claimed = claimed_format(content_type, filename)
    return "csv" if claimed == "csv" else "text"


def claimed_format(content_type: str | None, filename: str | None) -> str | None:
    """What the file name (preferred) or the Content-Type say the file is, if anything."""
    if filename:
        name = filename.rsplit("/", 1)[-1].split("?", 1)[0].lower()
        dot = name.rfind(".")
        if dot >= 0 and name[dot:] in _EXTENSIONS:
            return _EXTENSIONS[name[dot:]]
    if content_type:
        mime = content_type.split(";", 1)[0].strip().lower()
        return _CONTENT_TYPES.get(mime)
    return None


def format_from_magic(data: bytes) -> str | None:
    """The format the signature proves, ``"unknown"`` for a recognised but unsupported
    container (a plain zip, a Word 97 file), or None when there is no signature at all."""
    if b"%PDF-" in data[:1024]:  # readers accept junk before the header; so do we
        return "pdf"
    if data.startswith(_ZIP_MAGICS):
        return _zip_format(data)
    if data.startswith(_OLE2_MAGIC):
        directory = data[: 1024 * 1024]
        if any(name in directory for name in _OLE2_NOT_A_SHEET):
            return "unknown"
        return "xls"
    return None


def _zip_format(data: bytes) -> str:
    bound = zip_entry_bound(data)
    if bound is not None and bound > _SNIFF_MAX_MEMBERS:
        return "unknown"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                with archive.open("mimetype") as member:
                    mimetype = member.read(200).strip()
                return "ods" if mimetype == _ODS_MIMETYPE else "unknown"
            if "xl/workbook.xml" in names:
                return "xlsx"
            if "word/document.xml" in names:
                return "docx"
    except ZIP_ERRORS:
        return "unknown"
    return "unknown"


def looks_like_text(data: bytes) -> bool:
    """True when the start of ``data`` has a text BOM or no NUL and few control bytes."""
    sample = data[:_TEXT_SAMPLE]
    if sample.startswith(_TEXT_BOMS):
        return True
    if b"\x00" in sample:
        return False
    controls = sum(sample.count(bytes([c])) for c in range(32) if c not in (9, 10, 12, 13, 27))
    return controls * 100 <= len(sample)
