"""Read an attachment file into a ``FileContent``, safely, without ever raising for bad input.

``extract_file`` is what the pipeline calls for every downloaded attachment:

1. ``sniff_format`` decides the format from the bytes (see ``sniff.py``);
2. the cheap structural checks of ``safety.py`` run in this process (size, zip bombs, encrypted
   members, DOCTYPE/ENTITY declarations) before any parser sees the file;
3. the parsing itself runs in a child process (``sandbox.py``) with memory, CPU and wall-clock
   limits, because PDF and office parsers are where denial-of-service bugs live.

Like feedparser's ``bozo``, failure is data: a refused, unreadable, unsupported or runaway file
comes back as ``FileContent(format=..., error="one clear line")`` so that one bad attachment
never stops a run, and the error itself can be stored and shown.

``EXTRACTOR_VERSION`` names the output format of this package: bump it whenever the same bytes
would extract differently, so stored versions can be re-derived ("reprocessed") knowingly.
"""

from __future__ import annotations

from monitor.extract.safety import (
    ExtractionRefused,
    Limits,
    check_archive,
    check_size,
    check_zip,
)
from monitor.extract.sniff import claimed_format, sniff_format
from monitor.model import FileContent

EXTRACTOR_VERSION = 2

_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_OOXML = "EncryptedPackage".encode("utf-16-le")


def extract_file(
    data: bytes,
    *,
    content_type: str | None = None,
    filename: str | None = None,
    limits: Limits = Limits(),  # noqa: B008 - frozen, so a shared default is safe
) -> FileContent:
    """Sniff, check, then parse in a resource-limited child process. Never raises for bad
    input; only a run being stopped (its reader killed by SIGTERM or SIGINT) raises RunStopped."""
    fmt = sniff_format(data, content_type, filename)
    early = _precheck(data, fmt, content_type, filename, limits)
    if early is not None:
        return early
    if fmt == "text":  # decoding text cannot run away: no need for a child
        return run_extractor(data, fmt, limits)
    from monitor.extract.sandbox import run_in_child

    return run_in_child(data, fmt, limits)


def extract_file_in_process(
    data: bytes,
    *,
    content_type: str | None = None,
    filename: str | None = None,
    limits: Limits = Limits(),  # noqa: B008
) -> FileContent:
    """``extract_file`` without the child process: same checks and results, no resource
    limits. For tests and benchmarks, and for callers that are already sandboxed."""
    fmt = sniff_format(data, content_type, filename)
    early = _precheck(data, fmt, content_type, filename, limits)
    if early is not None:
        return early
    return run_extractor(data, fmt, limits)


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
        from monitor.extract.sheets import extract_workbook

        return extract_workbook(data, fmt, limits)
    if fmt == "csv":
        from monitor.extract.sheets import extract_csv

        return extract_csv(data, limits)
    if fmt == "pdf":
        from monitor.extract.pdf import extract_pdf

        return extract_pdf(data, limits)
    if fmt == "docx":
        from monitor.extract.docx import extract_docx

        return extract_docx(data)
    if fmt == "text":
        from monitor.extract.text import extract_text

        return extract_text(data)
    return FileContent(format="unknown", error="unsupported file format")


def _precheck(
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
