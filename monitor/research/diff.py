"""Any two versions of one target compared: title, summary, body, files and register rows.

The same comparison a run makes between consecutive versions (``monitor.compare``), on the
stored extractions of each version's files; a file never read is read here, in the sandbox,
without storing anything (the database stays read-only).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from monitor.compare.document import diff_documents
from monitor.document.files.extract import extract_file
from monitor.document.files.safety import Limits
from monitor.errors import UsageError
from monitor.model import Document, FileContent, document_from_json
from monitor.research.derive import change_details
from monitor.research.index import stored_content
from monitor.times import rfc3339
from storage import queries, repo
from storage.db import Database, Session
from storage.rows import VersionRow


def diff_versions(db: Database, first: int, second: int, *, row_keys: dict[str, str] | None = None, limits: Limits = Limits()) -> dict[str, Any]:  # noqa: B008
    """What changed from version ``first`` to version ``second`` (one object; ``changes`` is a
    list of detail rows like ``change_details``)."""
    with db.read() as session:
        old_row, new_row = _version(session, first), _version(session, second)
        target = repo.get_target(session, new_row.target_id)
        if old_row.target_id != new_row.target_id:
            other = repo.get_target(session, old_row.target_id)
            raise UsageError(
                f"versions {first} and {second} belong to different targets ({other.name!r} and {target.name!r}): "
                "compare two versions of one target (`dfe-monitor history TARGET` lists them)"
            )
        old, new = (document_from_json(repo.get_blob(session, v.document_sha256)) for v in (old_row, new_row))
        files, unread = _stored_files(session, old, new)
        captured = {v.id: _captured(session, v) for v in (old_row, new_row)}
    for sha, attachment in unread.items():
        with db.read() as session:
            data = repo.get_blob(session, sha)
        files[sha] = extract_file(data, content_type=attachment[0], filename=attachment[1], limits=limits)
    report = diff_documents(old, new, files, row_key=(row_keys or {}).get(target.url))
    rows = change_details(report.to_dict()) if report is not None else []
    return {
        "target": target.name,
        "url": target.url,
        "from": first,
        "to": second,
        "from_captured_at": captured[first],
        "to_captured_at": captured[second],
        "headline": report.headline if report is not None else "no change",
        "silent_edit": report.silent_edit if report is not None else None,
        "changes": [asdict(row) for row in rows],
    }


def _version(session: Session, version_id: int) -> VersionRow:
    version = queries.get_version(session, version_id)
    if version is None:
        raise UsageError(f"no version has id {version_id}: `dfe-monitor history TARGET` lists a target's versions")
    return version


def _captured(session: Session, version: VersionRow) -> str:
    page = queries.get_fetch(session, version.page_fetch_id) if version.page_fetch_id else None
    return rfc3339(page.requested_at if page else version.created_at)


def _stored_files(session: Session, old: Document, new: Document) -> tuple[dict[str, FileContent], dict[str, tuple[str | None, str | None]]]:
    """Stored extractions of both versions' files, and the files that were never read."""
    files: dict[str, FileContent] = {}
    unread: dict[str, tuple[str | None, str | None]] = {}
    for attachment in (*old.attachments, *new.attachments):
        sha = attachment.sha256
        if not sha or sha in files or sha in unread:
            continue
        content = stored_content(session, sha)
        if content is not None:
            files[sha] = content
        else:
            unread[sha] = (attachment.content_type, attachment.filename)
    return files, unread
