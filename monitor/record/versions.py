"""After the crawl: turn each target's stored fetches into versions, changes and watch health.

Works from storage only (never the network): versions are derived from raw captures, so the
same code serves a normal run and a re-derivation. Each target is committed in its own
``BEGIN IMMEDIATE`` transaction, so a kill mid-run loses at most the target in hand and never
leaves a version without its change. Health rules live in ``health``; storing a change in
``changes``; this module decides what a target's captures amount to.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from monitor.compare.document import ChangeReport, diff_documents
from monitor.compare.text import DiffBudget
from monitor.console import NO_PROGRESS, Progress
from monitor.document.assemble import (
    NORMALISER_VERSION,
    FetchView,
    GoneStreak,
    Outcome,
    TargetContext,
    assemble,
)
from monitor.document.files.extract import EXTRACTOR_VERSION, extract_file
from monitor.document.files.safety import Limits
from monitor.errors import RunStopped
from monitor.govuk.pages import CONTENT_SELECTOR
from monitor.limits import PageLimits
from monitor.model import (
    ChangeKind,
    Document,
    FetchRole,
    FileContent,
    OutcomeKind,
    TargetState,
    document_from_json,
    file_content_from_json,
    file_content_to_json,
    plan_facts_of,
    plan_facts_to_json,
)
from monitor.notify.policy import AlertPolicy
from monitor.record.ahead import read_ahead
from monitor.record.changes import ChangeSpec, store_change
from monitor.record.health import (
    MAX_ERROR_CHARS,
    HealthPolicy,
    Step,
    after_failure,
    after_gone,
    after_success,
    health_of,
)
from monitor.record.report import Tally, outcome, target_line
from monitor.record.result import RunCounts
from monitor.research.index import index_version
from monitor.text import clip
from storage import repo
from storage.db import Database, DatabaseCorrupt, Session, StorageFailure
from storage.rows import FetchRow, TargetRow, VersionRow

log = logging.getLogger("dfe-monitor.run")  # one line per target (progress)
trace = logging.getLogger("dfe-monitor")  # tracebacks of a target's surprise, shown with -v

BodyOf = Callable[[str], bytes]
StoredBodyOf = Callable[[str], "bytes | None"]


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
    alerts: AlertPolicy = AlertPolicy()
    limits: PageLimits = PageLimits()

    @property
    def health(self) -> HealthPolicy:
        return HealthPolicy(failing_after=self.failing_after, gone_after=self.gone_after)


def fetch_view(fetch: FetchRow) -> FetchView:
    return FetchView(
        role=FetchRole(fetch.role),
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

    def __init__(self, db: Database, settings: ProcessSettings, run_id: int, now: datetime, extractor: Callable[..., FileContent] = extract_file, progress: Progress = NO_PROGRESS, readers: int = 1) -> None:
        self.db = db
        self.progress = progress
        self.settings = settings
        self.run_id = run_id
        self.now = now
        self.extractor = extractor
        self.readers = readers
        self.counts = RunCounts()

    # -- whole run ----------------------------------------------------------------------------
    def process(self, target_urls: Sequence[str] | None = None) -> RunCounts:
        """Every target this run fetched for. A target whose captures are exactly those its
        current version was last confirmed from (same bytes, or 304s, and the same normaliser)
        is not read again: it is unchanged, and all of those are marked in one statement."""
        with self.db.read() as session:
            rows: dict[str, list[FetchRow]] = defaultdict(list)
            for fetch in repo.fetches_of_run(session, self.run_id):
                if fetch.target_url:
                    rows[fetch.target_url].append(fetch)
            targets = [t for t in repo.active_targets(session) if t.url in rows and (target_urls is None or t.url in target_urls)]
        unchanged: list[int] = []
        same = {t.id for t in targets if self._same_captures(t, rows[t.url])}
        new_files = (f.sha256 for t in targets if t.id not in same for f in rows[t.url] if f.role == FetchRole.ATTACHMENT and f.status == 200 and f.sha256)
        read_ahead(self.db, new_files, self.extractor, self.settings.extract_limits, self.now, workers=self.readers, progress=self.progress)
        self.progress.stage("reading", len(targets))
        for target in targets:
            started, before = time.monotonic(), Tally.of(self.counts)
            counts = replace(self.counts, errors=list(self.counts.errors))
            try:
                fetches = [fetch_view(f) for f in rows[target.url]]
                if target.id in same:
                    self.counts.checked += 1
                    self.counts.unchanged += 1
                    unchanged.append(target.id)
                else:
                    self.process_target(target.id, fetches)
            except (StorageFailure, DatabaseCorrupt, RunStopped):
                raise  # the database itself, or a stop: the run cannot go on, and run_once says so
            except Exception as exc:  # noqa: BLE001 - one target's surprise must not stop the others or the feed
                self.counts = counts
                self._failed_unexpectedly(target, exc)
            log.info("%s", target_line(target.name, outcome(before, self.counts), rows[target.url], time.monotonic() - started))
            self.progress.advance()
        if unchanged:
            with self.db.write() as session:
                repo.mark_unchanged(session, unchanged, self.now)
        return self.counts

    def _same_captures(self, target: TargetRow, fetches: list[FetchRow]) -> bool:
        """Whether the target's captures are exactly those its current version came from."""
        if target.captures_key is None or target.state != TargetState.OK:
            return False
        try:
            return target.captures_key == captures_key([fetch_view(f) for f in fetches], self._context(target))
        except Exception:  # noqa: BLE001 - processing meets the same surprise and reports it
            return False

    # -- one target ---------------------------------------------------------------------------
    def process_target(self, target_id: int, fetches: list[FetchView]) -> None:
        self.counts.checked += 1
        with self.db.read() as session:
            target = repo.get_target(session, target_id)
            latest = repo.latest_version(session, target_id)
            previous = document_from_json(repo.get_blob(session, latest.document_sha256)) if latest else None
            ctx = self._context(target)
            body_of, stored_body_of_url = _readers(session)
            rederived = None
            if latest is not None and latest.extractor_version != NORMALISER_VERSION:
                rederived = self._rederive(session, ctx, latest, previous)
                previous = rederived or previous
            outcome = assemble(ctx, fetches, body_of, stored_body_of_url, previous, self._gone_streak(session, self.run_id))
        files: dict[str, FileContent] = {}
        if outcome.kind == OutcomeKind.OK and outcome.document is not None:
            if outcome.document.fingerprint() != (latest.fingerprint if latest else None):
                files = self.file_contents(previous or Document(url="", title=""), outcome.document)
        with self.db.write() as session:
            target = repo.get_target(session, target_id)
            if rederived is not None and latest is not None and rederived.fingerprint() != latest.fingerprint:
                technical = repo.add_version(session, target_id=target.id, run_id=latest.run_id, now=self.now, document_json=rederived.to_json().encode(), fingerprint=rederived.fingerprint(), page_fetch_id=latest.page_fetch_id, extractor_version=NORMALISER_VERSION, technical=True, plan_facts=plan_facts_to_json(plan_facts_of(rederived)), previous_document=latest.document_sha256)
                index_version(session, technical, rederived, files, row_key=self.settings.row_keys.get(target.url))
            health = health_of(target.state, target.consecutive_failures, target.consecutive_gone, target.last_error)
            settled = outcome.kind == OutcomeKind.OK and not outcome.file_errors
            repo.update_target(session, target.id, captures_key=captures_key(fetches, ctx) if settled else None)
            if outcome.kind == OutcomeKind.FAILED:
                error = clip(outcome.error or "unknown error", MAX_ERROR_CHARS)
                self.counts.failed += 1
                self.counts.errors.append(f"{target.name}: {error}")
                self._apply(session, target, after_failure(health, error, self.settings.health), success=False)
            elif outcome.kind == OutcomeKind.GONE:
                self.counts.gone += 1
                self._apply(session, target, after_gone(health, outcome.error, self.settings.health), success=False)
            elif outcome.kind == OutcomeKind.MOVED and outcome.moved_to:
                self._moved(session, target, outcome.moved_to)
                self._apply(session, target, after_success(health), success=True)
                self.counts.changed += 1
            else:
                note = "; ".join(outcome.file_errors) or None
                step = self._apply(session, target, after_success(health, note), success=True)
                if outcome.moved_to:
                    self._moved(session, target, outcome.moved_to)
                main = next((f.fetch_id for f in fetches if f.role in (FetchRole.API, FetchRole.PAGE) and f.has_body), None)
                self._ok(session, target, outcome, previous, files, main, restored=step.was_removed)

    def _failed_unexpectedly(self, target: TargetRow, exc: Exception) -> None:
        """Whatever went wrong reading one target (its own transaction was rolled back) is a
        failed check of that target, with one line saying what, counted towards ``failing``."""
        error = f"internal error while reading this target ({type(exc).__name__}: {clip(str(exc), 200)})"
        trace.info("%s: %s", target.name, error, exc_info=True)  # the traceback, with --verbose
        self.counts.checked += 1
        self.counts.failed += 1
        self.counts.errors.append(f"{target.name}: {error}")
        with self.db.write() as session:
            row = repo.get_target(session, target.id)
            health = health_of(row.state, row.consecutive_failures, row.consecutive_gone, row.last_error)
            repo.update_target(session, row.id, captures_key=None)
            self._apply(session, row, after_failure(health, error, self.settings.health), success=False)

    def _context(self, target: TargetRow) -> TargetContext:
        return TargetContext(
            target_url=target.url,
            fetch_url=target.fetch_url,
            base_url=self.settings.base_url,
            allowed_hosts=self.settings.allowed_hosts,
            selector=self.settings.selectors.get(target.url, CONTENT_SELECTOR),
            gone_after=self.settings.gone_after,
            limits=self.settings.limits,
        )

    def _gone_streak(self, session: Session, run_id: int) -> GoneStreak:
        """A file's 404/410 answers in a row up to ``run_id``, read from the fetch log."""
        enough = self.settings.gone_after

        def streak(url: str) -> int:
            return repo.file_gone_streak(session, url, run_id, enough)

        return streak

    def _rederive(self, session: Session, ctx: TargetContext, latest: VersionRow, previous: Document | None) -> Document | None:
        """The last version as the current code reads its captures, or None if it cannot."""
        old_fetches = [fetch_view(f) for f in repo.fetches_of_run(session, latest.run_id, ctx.target_url)]
        body_of, stored_body_of_url = _readers(session)
        outcome = assemble(ctx, old_fetches, body_of, stored_body_of_url, previous, self._gone_streak(session, latest.run_id))
        return outcome.document if outcome.kind == OutcomeKind.OK else None

    def _ok(self, session: Session, target: TargetRow, outcome: Outcome, previous: Document | None, files: dict[str, FileContent], main_fetch_id: int | None, *, restored: bool) -> None:
        document = outcome.document
        assert document is not None
        fingerprint = document.fingerprint()
        latest = repo.latest_version(session, target.id)
        if latest is not None and latest.fingerprint == fingerprint:
            if restored:
                self._add(session, target, ChangeSpec(ChangeKind.RESTORED, "back on GOV.UK", "The page answers again, unchanged since it disappeared."))
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
            plan_facts=plan_facts_to_json(plan_facts_of(document)),
            previous_document=latest.document_sha256 if latest is not None else None,
        )
        index_version(session, version, document, files, row_key=self.settings.row_keys.get(target.url))
        if previous is None or latest is None:
            self.counts.baseline += 1
            return
        report = diff_documents(previous, document, files, terms=self.settings.terms, row_key=self.settings.row_keys.get(target.url), file_redirects=outcome.file_redirects, budget=DiffBudget(self.settings.limits.diff_work))
        if report is None:
            if restored:
                self._add(session, target, ChangeSpec(ChangeKind.RESTORED, "back on GOV.UK", "The page answers again."))
            self.counts.unchanged += 1
            return
        self.counts.changed += 1
        kind = ChangeKind.RESTORED if restored else ChangeKind(report.kind)
        self._add(session, target, _report_change(report, kind, latest.id, version.id))

    # -- health and moves -----------------------------------------------------------------------
    def _apply(self, session: Session, target: TargetRow, step: Step, *, success: bool) -> Step:
        repo.update_target(session, target.id, **step.columns(self.now, success=success))
        for entry in step.entries:
            self._add(session, target, ChangeSpec(entry.kind, entry.headline, entry.summary, details=entry.details))
        return step

    def _moved(self, session: Session, target: TargetRow, moved_to: str) -> None:
        old = target.fetch_url
        if old.rstrip("/") == moved_to.rstrip("/"):
            return
        repo.update_target(session, target.id, fetch_url=moved_to)
        self._add(
            session,
            target,
            ChangeSpec(
                ChangeKind.MOVED,
                f"moved to {moved_to}",
                f"The page moved from {old} to {moved_to}; it is followed there from now on.",
                details={"moved_from": old, "moved_to": moved_to},
            ),
        )

    def _add(self, session: Session, target: TargetRow, spec: ChangeSpec) -> None:
        self.counts.changes += 1
        store_change(session, target, spec, run_id=self.run_id, now=self.now, feed_url=self.settings.feed_url, alerts=self.settings.alerts)

    def add_discovered(self, session: Session, target: TargetRow, title: str, description: str, announce: bool) -> None:
        self.counts.new += 1
        if announce:
            self._add(session, target, ChangeSpec(ChangeKind.NEW, "new publication", f"New DfE publication: {title}", details={"description": description}))

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


def captures_key(fetches: Sequence[FetchView], ctx: TargetContext) -> str:
    """What a target's document is derived from: each request's role, address, answer and body
    hash, the settings that read them (selector, allowed hosts), and the normaliser version."""
    parts = sorted(
        # a 304 confirms the body it names: the same capture as the 200 that first brought it
        (f.role.value, f.url, f.final_url or "", 200 if f.status == 304 else f.status or 0, f.sha256 or "", f.error is not None, list(f.redirects))
        for f in fetches
    )
    settings = [ctx.selector, sorted(ctx.allowed_hosts), ctx.fetch_url]
    return hashlib.sha256(json.dumps([NORMALISER_VERSION, settings, parts]).encode()).hexdigest()


def _readers(session: Session) -> tuple[BodyOf, StoredBodyOf]:
    """Stored bodies by sha256, and the newest stored body of a URL (for a parent not asked again)."""

    def body_of(sha: str) -> bytes:
        return repo.get_blob(session, sha)

    def stored_body_of_url(url: str) -> bytes | None:
        fetch = repo.latest_body_fetch(session, url)
        return repo.get_blob(session, fetch.sha256) if fetch and fetch.sha256 else None

    return body_of, stored_body_of_url


def _report_change(report: ChangeReport, kind: ChangeKind, old_id: int, new_id: int) -> ChangeSpec:
    note = report.new_notes[0].note if report.new_notes else None
    suffix = ", no change note" if report.silent_edit else ", with change note" if note else ""
    return ChangeSpec(
        kind,
        report.headline + suffix,
        report.summary,
        parts=report.headline_parts,
        title_suffix=suffix,
        silent_edit=report.silent_edit,
        change_note=note,
        details=report.to_dict(),
        terms=report.terms,
        old_version_id=old_id,
        new_version_id=new_id,
    )
