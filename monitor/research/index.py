"""Keeping the research tables in step: a version's rows are written in the transaction that
stores the version, a change's detail rows in the one that stores the change.

What goes into the rows is decided in ``derive``; ``storage.index`` writes them. A file's
contents come from the extraction the run just made, or from the stored extraction of its
bytes; a file that was never read has no texts and no register cells (``reindex`` reads them).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from monitor.document.files.extract import EXTRACTOR_VERSION
from monitor.model import Document, FileContent, file_content_from_json
from monitor.research.derive import change_details, file_cells, file_texts, version_texts
from storage import index, repo
from storage.db import Session
from storage.index import IndexedFile
from storage.rows import ChangeRow, VersionRow

ContentOf = Callable[[str], "FileContent | None"]


def stored_content(session: Session, sha: str) -> FileContent | None:
    """The stored extraction of a file's bytes at this extractor version, if there is one."""
    extraction = repo.get_extraction(session, sha, EXTRACTOR_VERSION)
    if extraction is None:
        return None
    if extraction.content_sha256:
        return file_content_from_json(repo.get_blob(session, extraction.content_sha256))
    return FileContent(format=extraction.format, error=extraction.error)


def index_version(session: Session, version: VersionRow, document: Document, files: Mapping[str, FileContent], *, row_key: str | None) -> None:
    """Write the research rows of a version just stored (``files``: contents read this run)."""

    def content_of(sha: str) -> FileContent | None:
        return files.get(sha) or stored_content(session, sha)

    write_version(session, version, document, content_of, row_key=row_key)


def write_version(session: Session, version: VersionRow, document: Document, content_of: ContentOf, *, row_key: str | None) -> None:
    texts = [(row.part, row.section, row.text) for row in version_texts(document)]
    indexed: list[IndexedFile] = []
    for attachment in document.attachments:
        content = content_of(attachment.sha256) if attachment.sha256 else None
        readable = content is not None and content.error is None
        indexed.append(
            IndexedFile(
                title=attachment.title,
                url=attachment.url,
                sha256=attachment.sha256,
                status=attachment.status,
                attachment_type=attachment.attachment_type,
                content_type=attachment.content_type,
                format=content.format if content is not None else None,
                extraction_error=content.error if content is not None else None,
                texts=_texts_of(content) if readable and content is not None else None,
                cells=_cells_of(content, row_key) if readable and content is not None else None,
            )
        )
    index.index_version(session, version_id=version.id, target_id=version.target_id, texts=texts, files=indexed, now=version.created_at)


def _texts_of(content: FileContent) -> Callable[[], list[tuple[str, str, str]]]:
    return lambda: [(row.part, row.section, row.text) for row in file_texts(content)]


def _cells_of(content: FileContent, row_key: str | None) -> Callable[[], list[tuple[str, str | None, str, str, str]]]:
    return lambda: [(c.sheet, c.key_column, c.row_key, c.column_name, c.value) for c in file_cells(content, row_key)]


def index_change(session: Session, change: ChangeRow) -> None:
    """Write a change's detail rows; a change with no diff of its own (a page failing, back,
    gone, a new publication) gets one ``event`` row carrying its summary."""
    details = json.loads(change.details) if change.details else {}
    rows = [(r.detail, r.op, r.file_url, r.section, r.key, r.before, r.after) for r in change_details(details)]
    if not rows:
        rows = [("event", change.kind, None, None, None, None, change.summary)]
    index.index_change(session, change.id, rows)
