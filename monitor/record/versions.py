"""After the crawl: turn each target's stored fetches into versions, changes and watch health.

Works from storage only (never the network): versions are derived from raw captures, so the
same code serves a normal run and a reprocess. Each target is committed in its own
``BEGIN IMMEDIATE`` transaction, so a kill mid-run loses at most the target in hand and never
leaves a version without its change.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from monitor.compare.document import ChangeReport, diff_documents
from monitor.compare.wording import sentence, shorten
from monitor.document.assemble import (
    NORMALISER_VERSION,
    FetchView,
    Outcome,
    TargetContext,
    assemble,
)
from monitor.document.files.extract import EXTRACTOR_VERSION, extract_file
from monitor.document.files.safety import Limits
from monitor.model import (
    Document,
    FileContent,
    document_from_json,
    file_content_from_json,
    file_content_to_json,
)
from monitor.publish.atom import tag_id
from storage import repo
from storage.db import Database
from storage.schema import Fetch, Target


@dataclass(frozen=True)
class ProcessSettings:
    base_url: str
    allowed_hosts: tuple[str, ...]
    feed_url: str
    terms: tuple[str, ...]
    failing_after: int
    gone_after: int
    selectors: dict[str, str] = field(default_factory=dict)  # target url -> CSS selector
    row_keys: dict[str, str] = field(default_factory=dict)  # target url -> row key column
    extract_limits: Limits = Limits()


@dataclass
class RunCounts:
    checked: int = 0
    unchanged: int = 0
    changed: int = 0
    baseline: int = 0
    failed: int = 0
    gone: int = 0
    new: int = 0
    changes: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "errors"}


def fetch_view(fetch: Fetch) -> FetchView:
    return FetchView(
        role=fetch.role,
        url=fetch.url,
        final_url=fetch.final_url,
        status=fetch.status,
        error=fetch.error,
        sha256=fetch.sha256,
        content_type=fetch.content_type,
        redirects=tuple(json.loads(fetch.redirects or "[]")),
        fetch_id=fetch.id,
    )


class Processor:
    """Processes one run's fetches. ``now`` is the run's detection time."""

    def __init__(self, db: Database, settings: ProcessSettings, run_id: int, now: datetime, extractor: Callable[..., FileContent] = extract_file) -> None:
        self.db = db
        self.settings = settings
        self.run_id = run_id
        self.now = now
        self.extractor = extractor
        self.counts = RunCounts()

    # -- whole run ----------------------------------------------------------------------------
    def process(self, target_urls: Sequence[str] | None = None) -> RunCounts:
        with self.db.read() as session:
            fetches = repo.fetches_of_run(session, self.run_id)
            by_target: dict[str, list[FetchView]] = defaultdict(list)
            for fetch in fetches:
                if fetch.target_url:
                    by_target[fetch.target_url].append(fetch_view(fetch))
            targets = [(t.id, t.url) for t in repo.active_targets(session)]
        for target_id, url in targets:
            if target_urls is not None and url not in target_urls:
                continue
            if url not in by_target:
                continue
            self.process_target(target_id, by_target[url])
        return self.counts

    # -- one target ---------------------------------------------------------------------------
    def process_target(self, target_id: int, fetches: list[FetchView]) -> None:
        self.counts.checked += 1
        with self.db.read() as session:
            target = session.get(Target, target_id)
            assert target is not None
            latest = repo.latest_version(session, target_id)
            previous = document_from_json(repo.get_blob(session, latest.document_sha256)) if latest else None
            ctx = TargetContext(
                target_url=target.url,
                fetch_url=target.fetch_url,
                base_url=self.settings.base_url,
                allowed_hosts=self.settings.allowed_hosts,
                selector=self.settings.selectors.get(target.url, "main#content"),
            )

            def body_of(sha: str) -> bytes:
                return repo.get_blob(session, sha)

            def stored_body_of_url(url: str) -> bytes | None:
                fetch = repo.latest_body_fetch(session, url)
                return repo.get_blob(session, fetch.sha256) if fetch and fetch.sha256 else None

            rederived = None
            if latest is not None and latest.extractor_version != NORMALISER_VERSION:
                rederived = self._rederive(session, ctx, latest, previous, body_of, stored_body_of_url)
                previous = rederived or previous
            outcome = assemble(ctx, fetches, body_of, stored_body_of_url, previous)
        files: dict[str, FileContent] = {}
        if outcome.kind == "ok" and outcome.document is not None and previous is not None:
            if outcome.document.fingerprint() != (latest.fingerprint if latest else None):
                files = self.file_contents(previous, outcome.document)
        with self.db.write() as session:
            target = session.get(Target, target_id)
            assert target is not None
            if rederived is not None and latest is not None and rederived.fingerprint() != latest.fingerprint:
                repo.add_version(session, target_id=target.id, run_id=latest.run_id, now=self.now, document_json=rederived.to_json().encode(), fingerprint=rederived.fingerprint(), page_fetch_id=latest.page_fetch_id, extractor_version=NORMALISER_VERSION, technical=True)
            if outcome.kind == "failed":
                self._failed(session, target, outcome)
            elif outcome.kind == "gone":
                self._gone(session, target, outcome)
            elif outcome.kind == "moved" and outcome.moved_to:
                self._moved(session, target, outcome.moved_to)
                self._healthy(session, target)
                self.counts.changed += 1
            else:
                assert outcome.document is not None
                main = next((f.fetch_id for f in fetches if f.role in ("api", "page") and f.has_body), None)
                self._ok(session, target, outcome, previous, files, main)

    def _rederive(self, session: Session, ctx: TargetContext, latest: Any, previous: Document | None, body_of: Callable[[str], bytes], stored_body_of_url: Callable[[str], bytes | None]) -> Document | None:
        """The last version as the current code reads its captures, or None if it cannot."""
        old_fetches = [fetch_view(f) for f in repo.fetches_of_run(session, latest.run_id) if f.target_url == ctx.target_url]
        outcome = assemble(ctx, old_fetches, body_of, stored_body_of_url, previous)
        return outcome.document if outcome.kind == "ok" else None

    def _ok(self, session: Session, target: Target, outcome: Outcome, previous: Document | None, files: dict[str, FileContent], main_fetch_id: int | None) -> None:
        document = outcome.document
        assert document is not None
        was_removed = target.state == "removed"
        self._healthy(session, target)
        if outcome.moved_to:
            self._moved(session, target, outcome.moved_to)
        fingerprint = document.fingerprint()
        latest = repo.latest_version(session, target.id)
        if latest is not None and latest.fingerprint == fingerprint:
            if was_removed:
                self._add(session, target, kind="restored", headline="back on GOV.UK", summary="The page answers again, unchanged since it disappeared.", silent_edit=None)
            self.counts.unchanged += 1
            return
        version = repo.add_version(
            session,
            target_id=target.id,
            run_id=self.run_id,
            now=self.now,
            document_json=document.to_json().encode(),
            fingerprint=fingerprint,
            page_fetch_id=main_fetch_id,
            extractor_version=NORMALISER_VERSION,
        )
        if previous is None or latest is None:
            self.counts.baseline += 1
            return
        report = diff_documents(previous, document, files, terms=self.settings.terms, row_key=self.settings.row_keys.get(target.url), file_redirects=outcome.file_redirects)
        if report is None:
            if was_removed:
                self._add(session, target, kind="restored", headline="back on GOV.UK", summary="The page answers again.", silent_edit=None)
            self.counts.unchanged += 1
            return
        self.counts.changed += 1
        kind = "restored" if was_removed else report.kind
        self._add_report(session, target, report, kind, latest.id, version.id)

    def _add_report(self, session: Session, target: Target, report: ChangeReport, kind: str, old_id: int, new_id: int) -> None:
        note = report.new_notes[0].note if report.new_notes else None
        headline = report.headline
        suffix = ""
        if report.silent_edit:
            suffix = ", no change note"
        elif note:
            suffix = ", with change note"
        details = report.to_dict()
        self._add(
            session,
            target,
            kind=kind,
            headline=headline + suffix,
            summary=sentence(headline) + (" No change note: silent edit." if report.silent_edit else ""),
            silent_edit=report.silent_edit,
            change_note=note,
            details=details,
            terms=report.terms,
            old_version_id=old_id,
            new_version_id=new_id,
        )

    # -- health -------------------------------------------------------------------------------
    def _healthy(self, session: Session, target: Target) -> None:
        if target.state == "failing":
            failures = target.consecutive_failures
            self._add(session, target, kind="recovered", headline="working again", summary=f"The page answers normally again after {failures} failed checks in a row.", silent_edit=None)
        target.state = "ok"
        target.consecutive_failures = 0
        target.consecutive_gone = 0
        target.last_error = None
        target.last_checked_at = self.now
        target.last_success_at = self.now

    def _failed(self, session: Session, target: Target, outcome: Outcome) -> None:
        self.counts.failed += 1
        error = outcome.error or "unknown error"
        self.counts.errors.append(f"{target.name}: {error}")
        target.consecutive_failures += 1
        target.last_error = error
        target.last_checked_at = self.now
        if target.consecutive_failures >= self.settings.failing_after and target.state not in ("failing", "removed"):
            target.state = "failing"
            self._add(
                session,
                target,
                kind="failing",
                headline=f"failing: {shorten(error, 90)}",
                summary=f"The page has failed {target.consecutive_failures} checks in a row. Last error: {error}",
                silent_edit=None,
                details={"error": error, "consecutive_failures": target.consecutive_failures},
            )

    def _gone(self, session: Session, target: Target, outcome: Outcome) -> None:
        self.counts.gone += 1
        target.consecutive_gone += 1
        target.consecutive_failures = 0
        target.last_checked_at = self.now
        target.last_error = outcome.error
        if target.consecutive_gone >= self.settings.gone_after and target.state != "removed":
            target.state = "removed"
            self._add(
                session,
                target,
                kind="removed",
                headline=f"removed from GOV.UK ({outcome.error})",
                summary=f"The page has been gone on {target.consecutive_gone} checks in a row: {outcome.error}.",
                silent_edit=None,
                details={"error": outcome.error},
            )

    def _moved(self, session: Session, target: Target, moved_to: str) -> None:
        old = target.fetch_url
        if old.rstrip("/") == moved_to.rstrip("/"):
            return
        target.fetch_url = moved_to
        self._add(
            session,
            target,
            kind="moved",
            headline=f"moved to {moved_to}",
            summary=f"The page moved from {old} to {moved_to}; it is followed there from now on.",
            silent_edit=None,
            details={"moved_from": old, "moved_to": moved_to},
        )

    # -- storing changes ----------------------------------------------------------------------
    def _add(self, session: Session, target: Target, *, kind: str, headline: str, summary: str, silent_edit: bool | None, change_note: str | None = None, details: dict[str, Any] | None = None, terms: Sequence[str] = (), old_version_id: int | None = None, new_version_id: int | None = None) -> None:
        self.counts.changes += 1
        target.last_change_at = self.now
        feed_url = self.settings.feed_url
        repo.add_change(
            session,
            feed_id_for=lambda change: tag_id(feed_url, self.now, change.id),
            target_id=target.id,
            run_id=self.run_id,
            kind=kind,
            detected_at=self.now,
            title=f"{target.name} — {headline}",
            summary=summary,
            silent_edit=silent_edit,
            priority="high" if terms else "normal",
            terms=json.dumps(list(terms)) if terms else None,
            change_note=change_note,
            old_version_id=old_version_id,
            new_version_id=new_version_id,
            details=json.dumps({**(details or {}), "url": target.url}, ensure_ascii=False),
        )

    def add_discovered(self, session: Session, target: Target, title: str, description: str, announce: bool) -> None:
        self.counts.new += 1
        if announce:
            self._add(
                session,
                target,
                kind="new",
                headline="new publication",
                summary=f"New DfE publication: {title}",
                silent_edit=None,
                details={"description": description},
            )

    # -- attachments --------------------------------------------------------------------------
    def file_contents(self, old: Document, new: Document) -> dict[str, FileContent]:
        """Extracted contents of every file whose bytes differ between the two versions.

        When a file was added, every old file is read too, so a new quarterly workbook can be
        compared with the last quarter's. Results are cached by sha256 in ``extractions``.
        """
        old_shas = {a.sha256: a for a in old.attachments if a.sha256}
        new_shas = {a.sha256: a for a in new.attachments if a.sha256}
        wanted = {**{s: a for s, a in new_shas.items() if s not in old_shas}, **{s: a for s, a in old_shas.items() if s not in new_shas}}
        if {a.url for a in new.attachments} - {a.url for a in old.attachments}:
            wanted.update(old_shas)
        return {sha: self.extract(sha, attachment.content_type, attachment.filename) for sha, attachment in wanted.items()}

    def extract(self, sha: str, content_type: str | None, filename: str | None) -> FileContent:
        with self.db.read() as session:
            cached = repo.get_extraction(session, sha, EXTRACTOR_VERSION)
            if cached is not None:
                if cached.content_sha256:
                    return file_content_from_json(repo.get_blob(session, cached.content_sha256))
                return FileContent(format=cached.format, error=cached.error)
            data = repo.get_blob(session, sha)
        content = self.extractor(data, content_type=content_type, filename=filename, limits=self.settings.extract_limits)
        payload = None if content.error else file_content_to_json(content).encode()
        with self.db.write() as session:
            repo.put_extraction(session, sha, EXTRACTOR_VERSION, content.format, content.error, payload, self.now)
        return content
