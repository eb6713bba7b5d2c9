"""Checks that run before any parser sees a downloaded file: every file is hostile until proven
otherwise.

We read files published by a government department, but through mirrors, replays and
redirects we cannot vouch for, and the parsers we rely on (zip readers, XML parsers, pypdf)
regularly publish denial-of-service advisories. The cheap structural checks here refuse the
classic attacks up front, with a short human message naming what was exceeded:

* zip bombs: too many members, too much declared uncompressed data, or a member whose
  compression ratio is implausible for an office document;
* encrypted members (nothing useful can be read, and password prompts have no place here);
* XML members whose prolog carries a ``DOCTYPE`` or ``ENTITY`` declaration — entity expansion
  ("billion laughs") and external entities (``file:///etc/passwd``). Legitimate ODF and OOXML
  never declare a DOCTYPE, so refusing them costs nothing.

Declared sizes in a zip can lie; what is not caught here is caught by the resource limits of
the extraction child process (see ``sandbox.py``), which ``Limits`` also describes.
"""

from __future__ import annotations

import io
import lzma
import math
import re
import zipfile
import zlib
from dataclasses import dataclass
from typing import IO

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

MiB = 1024 * 1024
GiB = 1024 * MiB

# What reading a damaged archive can raise: zipfile's own errors, and the decompressors' below it.
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    OSError,
    EOFError,
    ValueError,
    RuntimeError,
    KeyError,
    NotImplementedError,
)


class ExtractionRefused(Exception):
    """A file failed a safety check; ``str()`` is a short message for humans."""


@dataclass(frozen=True)
class Limits:
    """Resource limits for reading one file. Defaults suit DfE attachments with a wide margin
    (the largest real ones are a few MB and a few thousand rows)."""

    max_file_bytes: int = 200 * MiB  # refuse larger downloads outright
    max_members: int = 10_000  # zip members (an ODS/XLSX/DOCX has a few dozen)
    max_uncompressed_bytes: int = 300 * MiB  # sum of declared member sizes
    max_ratio: float = 200.0  # per member: uncompressed / compressed
    ratio_min_bytes: int = 1 * MiB  # members smaller than this are too small to be a bomb
    max_prolog_bytes: int = 16 * 1024  # XML before the root element (real ones: < 200 bytes)
    timeout_seconds: float = 60.0  # wall clock for the extraction child
    cpu_seconds: int | None = None  # RLIMIT_CPU of the child; None: the wall-clock timeout
    memory_bytes: int = 1 * GiB  # RLIMIT_AS of the child
    max_rows: int = 500_000  # table rows over the whole file
    max_columns: int = 16_384  # per table (the XLSX maximum)
    max_pages: int = 5_000  # PDF pages


def cpu_limit(limits: Limits) -> int:
    """The child's CPU-seconds limit: ``cpu_seconds``, or the wall-clock timeout rounded up."""
    if limits.cpu_seconds is not None:
        return max(1, int(limits.cpu_seconds))
    return max(1, math.ceil(limits.timeout_seconds))


def check_size(data: bytes, limits: Limits) -> None:
    if len(data) > limits.max_file_bytes:
        raise ExtractionRefused(
            f"file is {_size(len(data))}, over the {_size(limits.max_file_bytes)} limit"
        )


def zip_entry_bound(data: bytes) -> int | None:
    """An upper bound on the members a zip reader will list, read from the end-of-central-
    directory record without building the member list (which a hostile file makes huge).
    None when there is no such record."""
    start = max(0, len(data) - (22 + 65_535))
    pos = data.rfind(b"PK\x05\x06", start)
    if pos < 0 or len(data) < pos + 22:
        return None
    declared = int.from_bytes(data[pos + 10 : pos + 12], "little")
    directory_size = int.from_bytes(data[pos + 12 : pos + 16], "little")
    if declared == 0xFFFF or directory_size == 0xFFFFFFFF:
        locator = pos - 20
        if locator >= 0 and data[locator : locator + 4] == b"PK\x06\x07":
            offset = int.from_bytes(data[locator + 8 : locator + 16], "little")
            if data[offset : offset + 4] == b"PK\x06\x06":
                declared = int.from_bytes(data[offset + 32 : offset + 40], "little")
                directory_size = int.from_bytes(data[offset + 40 : offset + 48], "little")
    # Readers walk the directory by size, whatever the count says; an entry takes >= 46 bytes.
    return max(declared, min(directory_size, len(data)) // 46)


def check_zip(data: bytes, limits: Limits) -> None:
    """Refuse zip bombs and encrypted archives, judging by the central directory."""
    bound = zip_entry_bound(data)
    if bound is not None and bound > 10 * limits.max_members:  # far too many even to list
        raise ExtractionRefused(f"archive has too many members (limit {limits.max_members})")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except ZIP_ERRORS as exc:
        raise ExtractionRefused(f"not a readable zip archive ({_first_line(exc)})") from None
    if len(infos) > limits.max_members:
        raise ExtractionRefused(
            f"archive has {len(infos)} members, over the limit of {limits.max_members}"
        )
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise ExtractionRefused(f"archive member {info.filename!r} is encrypted")
        total += info.file_size
        if info.file_size >= limits.ratio_min_bytes:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                raise ExtractionRefused(
                    f"archive member {info.filename!r} has compression ratio {ratio:.0f}:1, "
                    f"over the limit of {limits.max_ratio:.0f}:1"
                )
    if total > limits.max_uncompressed_bytes:
        raise ExtractionRefused(
            f"archive expands to {_size(total)}, over the "
            f"{_size(limits.max_uncompressed_bytes)} limit"
        )


def check_xml_members(archive: zipfile.ZipFile, limits: Limits | None = None) -> None:
    """Refuse any member that is XML with a DOCTYPE or ENTITY declaration in its prolog.

    Members are recognised as XML by their content, not their name: a relationship can point a
    parser at ``sheet1.dat``. Only the prolog (what precedes the root element) is read.
    """
    max_prolog = (limits or Limits()).max_prolog_bytes
    for info in archive.infolist():
        if info.is_dir():
            continue
        try:
            with archive.open(info) as member:
                problem = _member_prolog_problem(member, max_prolog)
        except NotImplementedError:
            raise ExtractionRefused(
                f"archive member {info.filename!r} uses an unsupported compression method"
            ) from None
        except ZIP_ERRORS as exc:
            raise ExtractionRefused(
                f"archive member {info.filename!r} is unreadable ({_first_line(exc)})"
            ) from None
        if problem:
            raise ExtractionRefused(f"XML member {info.filename!r} {problem}")


def check_odf_encryption(archive: zipfile.ZipFile) -> None:
    """ODF encrypts members itself (the zip looks plain): the manifest says so."""
    try:
        info = archive.getinfo("META-INF/manifest.xml")
    except KeyError:
        return
    if info.file_size > 4 * MiB:
        raise ExtractionRefused("ODF manifest is implausibly large")
    try:
        root = SafeET.fromstring(archive.read(info))
    except ZIP_ERRORS as exc:
        raise ExtractionRefused(f"ODF manifest is unreadable ({_first_line(exc)})") from None
    except (DefusedXmlException, SafeET.ParseError) as exc:
        raise ExtractionRefused(f"ODF manifest is not valid XML ({_first_line(exc)})") from None
    if any(element.tag.endswith("}encryption-data") for element in root.iter()):
        raise ExtractionRefused("document is password-protected")


def check_archive(data: bytes, limits: Limits) -> None:
    """All zip checks in the order that keeps each one cheap."""
    check_zip(data, limits)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        check_xml_members(archive, limits)
        check_odf_encryption(archive)


# --- XML prolog scanning -----------------------------------------------------------------

_MORE = object()  # the prolog has not ended yet: read on
_ENCODING_RE = re.compile(r"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_ASCII_FAMILY = {
    "utf-8",
    "utf8",
    "us-ascii",
    "ascii",
    "iso-8859-1",
    "latin-1",
    "latin1",
    "windows-1252",
    "cp1252",
}
_UTF16_FAMILY = {"utf-16", "utf16", "utf-16le", "utf-16be"}


def _member_prolog_problem(member: IO[bytes], max_prolog: int) -> str | None:
    buffer = b""
    while True:
        chunk = member.read(4096)
        buffer += chunk
        verdict = scan_prolog(buffer, complete=not chunk)
        if verdict is not _MORE:
            return verdict  # type: ignore[return-value]
        if len(buffer) > max_prolog:
            return f"has a prolog longer than {max_prolog} bytes"


def scan_prolog(raw: bytes, *, complete: bool = True) -> str | None | object:
    """Why the XML prolog at the start of ``raw`` is refused, None if it is fine (or ``raw`` is
    not XML at all), or ``_MORE`` when ``raw`` ends before the prolog does."""
    family, text = _decode_for_scan(raw)
    if family == "refuse":
        return "uses an unusual text encoding"
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            return None if complete else _MORE
        if text[i] != "<":
            return None  # not XML: nothing for an XML parser to expand
        if not complete and n - i < 9:
            return _MORE  # too little left to tell "<!DOCTYPE" from a root element
        if text.startswith("<?", i):
            end = text.find("?>", i)
            if end < 0:
                return None if complete else _MORE
            if i == 0 or text[:i].strip() == "":
                problem = _check_declared_encoding(text[i:end], family)
                if problem:
                    return problem
            i = end + 2
        elif text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            if end < 0:
                return None if complete else _MORE
            i = end + 3
        elif text.startswith("<!", i):
            upper = text[i : i + 9].upper()
            if upper.startswith("<!ENTITY"):
                return "has an ENTITY declaration"
            if upper.startswith("<!DOCTYPE"):
                return "has a DOCTYPE declaration"
            return "has a markup declaration before its root element"
        else:
            return None  # the root element starts: the prolog was clean


def _decode_for_scan(raw: bytes) -> tuple[str, str]:
    if raw.startswith(b"\xef\xbb\xbf"):
        return "ascii", raw[3:].decode("latin-1")
    if raw.startswith(
        (b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00", b"\x00\x00\x00<", b"<\x00\x00\x00")
    ):
        return "refuse", ""  # UTF-32: never used by office formats
    if raw.startswith(b"\xff\xfe") or raw.startswith(b"<\x00"):
        body = raw[2:] if raw.startswith(b"\xff\xfe") else raw
        return "utf16", body[: len(body) // 2 * 2].decode("utf-16-le", errors="replace")
    if raw.startswith(b"\xfe\xff") or raw.startswith(b"\x00<"):
        body = raw[2:] if raw.startswith(b"\xfe\xff") else raw
        return "utf16", body[: len(body) // 2 * 2].decode("utf-16-be", errors="replace")
    if raw.startswith(b"\x4c\x6f\xa7\x94"):
        return "refuse", ""  # EBCDIC "<?xm"
    return "ascii", raw.decode("latin-1")


def _check_declared_encoding(declaration: str, family: str) -> str | None:
    if not declaration.startswith("<?xml"):
        return None
    match = _ENCODING_RE.search(declaration)
    if not match:
        return None
    name = match.group(1).lower()
    allowed = _UTF16_FAMILY if family == "utf16" else _ASCII_FAMILY
    if name not in allowed:
        return f"declares an unusual encoding ({match.group(1)})"
    return None


def _size(n: int) -> str:
    if n >= GiB:
        return f"{n / GiB:.1f} GiB"
    if n >= MiB:
        return f"{n / MiB:.0f} MiB"
    return f"{n} bytes"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
