"""Read a run's new files side by side before the targets are processed one by one.

Processing is serial: one target's captures become a version and its changes before the next
target is looked at, so that a failure stays with its target. Reading a PDF or a workbook is
the slow part of that (a 150-page PDF takes seconds in its sandboxed child process), and it
would leave every other core idle. So, before processing, every file this run downloaded whose
bytes have never been read is read here, several child processes at a time, and the results
go to the ``extractions`` cache that processing reads from. Processing then does exactly what
it did before, only without the wait.

Only files whose format their own bytes prove (a PDF, OOXML/ODF or Word signature) are read
ahead: for text, the page's claims (file name, declared type) choose between CSV and plain
text, and those are known only once the page is read. A file that fails here in an unexpected
way is simply left for processing, which reads it again and reports the failure against its
target. A stop (``RunStopped``) and a database failure end the run as they would anywhere.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime

from monitor.console import NO_PROGRESS, Progress
from monitor.document.files.extract import EXTRACTOR_VERSION
from monitor.document.files.safety import Limits
from monitor.document.files.sniff import format_from_magic
from monitor.errors import RunStopped
from monitor.model import FileContent, file_content_to_json
from storage import repo
from storage.db import Database, DatabaseCorrupt, StorageFailure

log = logging.getLogger("dfe-monitor.run")

# Each reader is a child process with its own memory limit, so this also bounds what reading
# ahead can take from the machine: at most this many limits at once.
MAX_READERS = 4


def readers() -> int:
    """How many files to read at once: one per core, at most ``MAX_READERS``."""
    return max(1, min(MAX_READERS, os.cpu_count() or 1))


def read_ahead(
    db: Database,
    shas: Iterable[str],
    extractor: Callable[..., FileContent],
    limits: Limits,
    now: datetime,
    *,
    workers: int,
    progress: Progress = NO_PROGRESS,
) -> int:
    """Read every file among ``shas`` that has no extraction yet; returns how many were read."""
    wanted = sorted(set(shas))
    if workers < 2 or len(wanted) < 2:
        return 0  # nothing to overlap: processing reads them as it goes
    with db.read() as session:
        todo = repo.shas_without_extraction(session, wanted, EXTRACTOR_VERSION)
    if len(todo) < 2:
        return 0
    progress.stage("reading files", len(todo))
    read = 0
    running: dict[Future[FileContent], str] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="read-ahead") as pool:
        try:
            for sha in todo:
                while len(running) >= workers:
                    read += _collect(db, running, now, progress)
                with db.read() as session:
                    data = repo.get_blob(session, sha)
                fmt = format_from_magic(data)
                if fmt is None or fmt == "unknown":
                    progress.advance()
                    continue  # text (its claims decide) or unreadable: cheap, left to processing
                running[pool.submit(extractor, data, content_type=None, filename=None, limits=limits)] = sha
                del data
            while running:
                read += _collect(db, running, now, progress)
        except BaseException:
            for future in running:
                future.cancel()
            raise
    return read


def _collect(db: Database, running: dict[Future[FileContent], str], now: datetime, progress: Progress) -> int:
    """Wait for at least one reader, store what finished; returns how many were stored."""
    done, _ = wait(running, return_when=FIRST_COMPLETED)
    stored = 0
    for future in done:
        sha = running.pop(future)
        progress.advance()
        try:
            content = future.result()
        except (RunStopped, StorageFailure, DatabaseCorrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - processing reads it again and reports it against its target
            log.debug("reading %s ahead failed (%s); it is read again while processing", sha[:12], exc)
            continue
        payload = None if content.error else file_content_to_json(content).encode()
        with db.write() as session:
            repo.put_extraction(session, sha, EXTRACTOR_VERSION, content.format, content.error, payload, now)
        stored += 1
    return stored
