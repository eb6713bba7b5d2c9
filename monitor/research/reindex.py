"""``dfe-monitor reindex``: rebuild every research table from the stored versions.

For a database from before the research tables (or after the indexer changed), and as a check
that a run's rows are what the stored data says. Files never read (0.1.0 read files only to
compare them) are read first and their extractions stored, as a run would; then every row is
deleted and written again in one transaction, so a reader sees the old index or the new one,
never half of one. Running it twice gives the same rows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from monitor.config import Config
from monitor.document.files.extract import EXTRACTOR_VERSION
from monitor.model import FileContent, document_from_json
from monitor.record.run import process_settings
from monitor.record.versions import Processor
from monitor.research.index import index_change, stored_content, write_version
from storage import index, queries, repo
from storage.db import Database

# version_texts: one row per version and piece (the view); version_text_spans: what is stored.
COUNTED = ("version_texts", "version_text_spans", "file_texts", "version_files", "register_rows", "change_details")


@dataclass
class ReindexResult:
    versions: int
    changes: int
    files_read: int
    seconds: float
    rows: dict[str, int]

    def summary_line(self) -> str:
        rows = ", ".join(f"{n} {name}" for name, n in self.rows.items())
        return f"reindexed {self.versions} versions and {self.changes} changes in {self.seconds:.1f} s ({self.files_read} files read first): {rows}"


def reindex(config: Config, db: Database, now: datetime) -> ReindexResult:
    started = time.perf_counter()
    settings = process_settings(config)
    files_read = _read_unread_files(db, Processor(db, settings, run_id=0, now=now))
    with db.write() as session:
        index.clear_index(session)
        targets = {t.id: t for t in repo.all_targets(session)}

        @lru_cache(maxsize=16)
        def content_of(sha: str) -> FileContent | None:
            return stored_content(session, sha)

        versions = queries.all_versions(session)
        for version in versions:
            document = document_from_json(repo.get_blob(session, version.document_sha256))
            write_version(session, version, document, content_of, row_key=settings.row_keys.get(targets[version.target_id].url))
        changes = queries.filter_changes(session, queries.ChangeFilter())
        for change, _ in changes:
            index_change(session, change)
    with db.read() as session:
        rows = {name: queries.count_rows(session, name) for name in COUNTED}
    return ReindexResult(len(versions), len(changes), files_read, time.perf_counter() - started, rows)


def _read_unread_files(db: Database, processor: Processor) -> int:
    """Extract (and store) every file of every version that has no extraction yet."""
    with db.read() as session:
        versions = queries.all_versions(session)
    seen: set[str] = set()
    read = 0
    for version in versions:
        with db.read() as session:
            document = document_from_json(repo.get_blob(session, version.document_sha256))
            wanted = [a for a in document.attachments if a.sha256 and a.sha256 not in seen]
            unread = [a for a in wanted if repo.get_extraction(session, a.sha256 or "", EXTRACTOR_VERSION) is None]
        seen.update(a.sha256 for a in wanted if a.sha256)
        for attachment in unread:
            assert attachment.sha256 is not None
            processor.extract(attachment.sha256, attachment.content_type, attachment.filename)
            read += 1
    return read
