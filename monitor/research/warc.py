"""Every stored capture as evidence: a WARC 1.1 file with a ``warcinfo`` record, then a
``request`` and a ``response`` record per capture whose body was received, oldest first.

Each response carries the original status line and every stored response header (the three
0.1.0 stored — Content-Type, ETag, Last-Modified — for captures made before headers were
kept), its ``WARC-Date`` is the capture time, and its payload is exactly the stored bytes,
with sha256 block and payload digests (``sha256:`` + base32, as warcio writes them). Stored
bodies are already decoded, so the headers that described the transfer (Content-Encoding,
Transfer-Encoding, Content-Length) are kept as ``X-Archive-Orig-*`` and a Content-Length for
the stored bytes is added, as web archives do. Request records hold the request line and Host
only: the request headers were not stored.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from monitor import __version__
from storage import queries, repo
from storage.db import Database
from storage.rows import FetchRow

TRANSFER_HEADERS = ("content-encoding", "transfer-encoding", "content-length")
RECORD_IDS = uuid.UUID("3b1f6a52-5c0e-4bd4-9d55-0f4f8f0e7a11")  # namespace of our record ids


class Sha256WARCWriter(WARCWriter):
    """warcio's writer with sha256 digests instead of its default sha1."""

    @staticmethod
    def _create_digester() -> Digester:
        return Digester("sha256")


def write_warc(db: Database, out: IO[bytes], *, gzip: bool, config_bytes: bytes, since: Any = None) -> int:
    """Write the WARC to ``out``; returns the number of captures written."""
    writer = Sha256WARCWriter(out, gzip=gzip, warc_version="1.1")
    info = {
        "software": f"dfe-monitor/{__version__}",
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "description": "Captures of GOV.UK pages and files stored by dfe-monitor, oldest first",
        "config-sha256": hashlib.sha256(config_bytes).hexdigest(),
        "database": db.name,
    }
    writer.write_record(writer.create_warcinfo_record("dfe-monitor.warc", info))
    with db.read() as session:
        fetches = list(queries.body_fetches(session, since))
    count = 0
    for fetch in fetches:
        assert fetch.sha256 is not None
        with db.read() as session:
            body = repo.get_blob(session, fetch.sha256)
        request, response = capture_records(writer, fetch, body)
        writer.write_request_response_pair(request, response)
        count += 1
    return count


def capture_records(writer: WARCWriter, fetch: FetchRow, body: bytes) -> tuple[Any, Any]:
    uri = fetch.final_url or fetch.url
    date = fetch.requested_at.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fetch.requested_at.microsecond:06d}" if fetch.requested_at.microsecond else "") + "Z"
    extra = {"WARC-Date": date, "X-DFE-Monitor-Fetch-Id": str(fetch.id), "X-DFE-Monitor-Role": fetch.role}
    if fetch.headers_dropped:
        extra["X-DFE-Monitor-Headers-Dropped"] = str(fetch.headers_dropped)
    status = fetch.status or 200
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    http = StatusAndHeaders(f"{status} {phrase}".strip(), response_headers(fetch, len(body)), protocol="HTTP/1.1")
    response = writer.create_warc_record(
        uri, "response", payload=BytesIO(body), length=len(body), http_headers=http,
        warc_headers_dict={**extra, "WARC-Record-ID": _record_id(fetch, "response")},
    )
    parts = urlsplit(uri)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request_line = StatusAndHeaders(f"GET {path} HTTP/1.1", [("Host", parts.netloc)], is_http_request=True)
    request = writer.create_warc_record(uri, "request", http_headers=request_line, warc_headers_dict={"WARC-Date": date, "WARC-Record-ID": _record_id(fetch, "request")})
    return request, response


def response_headers(fetch: FetchRow, size: int) -> list[tuple[str, str]]:
    """The stored headers (or the three 0.1.0 kept), transfer headers renamed, the length set."""
    if fetch.headers:
        stored = [(str(name), str(value)) for name, value in json.loads(fetch.headers)]
    else:
        stored = [(name, value) for name, value in (("Content-Type", fetch.content_type), ("ETag", fetch.etag), ("Last-Modified", fetch.last_modified)) if value]
    headers = [(f"X-Archive-Orig-{name}" if name.lower() in TRANSFER_HEADERS else name, value) for name, value in stored]
    headers.append(("Content-Length", str(size)))
    return headers


def _record_id(fetch: FetchRow, kind: str) -> str:
    """The same capture gets the same record id in every export."""
    return f"<urn:uuid:{uuid.uuid5(RECORD_IDS, f'{fetch.id}:{fetch.sha256}:{kind}')}>"


def export_warc(db: Database, path: Path, *, config_path: Path, since: Any = None) -> int:
    """Write the WARC to ``path`` (gzipped per record when it ends in .gz), atomically."""
    temporary = path.with_name(path.name + ".partial")
    with temporary.open("wb") as out:
        count = write_warc(db, out, gzip=path.name.endswith(".gz"), config_bytes=config_path.read_bytes(), since=since)
    temporary.replace(path)
    return count
