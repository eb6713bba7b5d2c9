"""Stored bytes: each distinct body or Document once, named by its sha256 (and checked against
it on every read: SQLite keeps no checksums).

Most blobs are compressed on their own by Zstandard (``compression = "zstd"``; blobs written
before 0.3.0 are ``"zlib"``: six times slower to write for 12% less). A new version of
something already stored (the next body of the same address, the next Document of the same
target) is usually the old one with a paragraph changed, so it is stored as a **delta**
(``compression = "zstd-delta"``): Zstandard, with the raw bytes of the earlier blob named in
``base_sha256`` as its dictionary. A delta is kept only when it is at most half the size of the
blob compressed alone (a 114 KB page with one paragraph added: 67 bytes against 21 KB). A base
is always a blob compressed on its own, so reading any blob takes at most two decompressions,
and a delta never depends on another delta. docs/schema.md says how to read one by hand.
"""

from __future__ import annotations

import hashlib
import importlib
import zlib
from datetime import datetime
from functools import cache
from types import ModuleType

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import DatabaseCorrupt
from storage.schema import Blob

ZLIB = "zlib"
ZSTD = "zstd"
DELTA = "zstd-delta"
LEVEL = 3  # zstd's default: 1 ms per 80 KB page (zlib level 6: 7 ms)
# Deltas for blobs and bases up to this size: both fit in the window below, which every zstd
# decoder accepts by default (up to 2**27).
DELTA_MAX_BYTES = 8 * 1024 * 1024
MIN_BASE_BYTES = 64  # below this a dictionary is no help (and under 8 bytes zstd refuses it)
DELTA_WINDOW_LOG = 25


@cache
def zstd_module() -> ModuleType:
    """Python 3.14's ``compression.zstd``, or its backport before that; imported on first use
    (20 ms: a run that meets only 304s never needs it)."""
    try:
        return importlib.import_module("compression.zstd")
    except ImportError:  # before Python 3.14
        return importlib.import_module("backports.zstd")


def put_blob(session: Session, data: bytes, now: datetime, *, like: str | None = None) -> str:
    """Store bytes once; returns their sha256. ``like`` names an earlier blob these bytes are
    probably a new version of: they are stored as a delta against it when that is much smaller."""
    sha = hashlib.sha256(data).hexdigest()
    if session.get(Blob, sha) is None:
        compression, stored, base = ZSTD, zstd_module().compress(data, LEVEL), None
        if like is not None and like != sha and len(data) <= DELTA_MAX_BYTES:
            delta = _delta(session, data, like)
            if delta is not None and len(delta[1]) * 2 <= len(stored):
                compression, (base, stored) = DELTA, delta
        session.add(Blob(sha256=sha, size=len(data), compression=compression, base_sha256=base, data=stored, created_at=now))
        session.flush()
    return sha


def _delta(session: Session, data: bytes, like: str) -> tuple[str, bytes] | None:
    """``data`` as a delta against ``like`` (or against ``like``'s own base, when ``like`` is a
    delta itself); None when there is no such blob or it is too large."""
    row = session.execute(select(Blob.compression, Blob.base_sha256, Blob.size).where(Blob.sha256 == like)).first()
    if row is None or row.size > DELTA_MAX_BYTES:
        return None
    base_sha = row.base_sha256 if row.compression == DELTA else like
    if base_sha is None:
        return None
    base = get_blob(session, base_sha)
    if not MIN_BASE_BYTES <= len(base) <= DELTA_MAX_BYTES:
        return None
    zstd = zstd_module()
    options = {zstd.CompressionParameter.compression_level: LEVEL, zstd.CompressionParameter.window_log: DELTA_WINDOW_LOG}
    try:
        return base_sha, zstd.compress(data, options=options, zstd_dict=zstd.ZstdDict(base, is_raw=True))
    except (zstd.ZstdError, ValueError):  # a base zstd cannot take as a dictionary: stored alone
        return None


def get_blob(session: Session, sha: str) -> bytes:
    blob = session.get(Blob, sha)
    if blob is None:
        raise KeyError(f"blob {sha} is missing")
    if blob.compression == DELTA:
        data = _undelta(session, blob)
    elif blob.compression == ZSTD:
        data = _unzstd(blob.data)
    elif blob.compression == ZLIB:
        data = zlib.decompress(blob.data)
    else:
        data = blob.data
    if hashlib.sha256(data).hexdigest() != sha:  # SQLite keeps no checksums: we do
        raise DatabaseCorrupt(f"stored bytes {sha[:12]}… no longer match their sha256")
    return data


def _undelta(session: Session, blob: Blob) -> bytes:
    base = session.get(Blob, blob.base_sha256) if blob.base_sha256 else None
    if base is None or base.compression == DELTA:
        raise DatabaseCorrupt(f"stored bytes {blob.sha256[:12]}… are a delta against {'a delta' if base is not None else 'bytes that are missing'}")
    return _unzstd(blob.data, get_blob(session, base.sha256))


def _unzstd(data: bytes, base: bytes | None = None) -> bytes:
    zstd = zstd_module()
    try:
        return zstd.decompress(data, zstd_dict=zstd.ZstdDict(base, is_raw=True) if base is not None else None)
    except (zstd.ZstdError, ValueError) as exc:
        raise DatabaseCorrupt(f"a stored blob is damaged ({exc})") from exc
