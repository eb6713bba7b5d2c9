"""Stored bytes: each distinct body or Document once, zlib-compressed, named by its sha256 (and
checked against it on every read: SQLite keeps no checksums)."""

from __future__ import annotations

import hashlib
import zlib
from datetime import datetime

from sqlalchemy.orm import Session

from storage.db import DatabaseCorrupt
from storage.schema import Blob


def put_blob(session: Session, data: bytes, now: datetime) -> str:
    """Store bytes once; returns their sha256."""
    sha = hashlib.sha256(data).hexdigest()
    if session.get(Blob, sha) is None:
        session.add(Blob(sha256=sha, size=len(data), compression="zlib", data=zlib.compress(data, 6), created_at=now))
        session.flush()
    return sha


def get_blob(session: Session, sha: str) -> bytes:
    blob = session.get(Blob, sha)
    if blob is None:
        raise KeyError(f"blob {sha} is missing")
    data = zlib.decompress(blob.data) if blob.compression == "zlib" else blob.data
    if hashlib.sha256(data).hexdigest() != sha:  # SQLite keeps no checksums: we do
        raise DatabaseCorrupt(f"stored bytes {sha[:12]}… no longer match their sha256")
    return data
