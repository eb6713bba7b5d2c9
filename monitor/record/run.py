"""One run: lock → crawl (Scrapy, storing every capture) → discover → process → feed.

A run is one process: Twisted's reactor cannot be restarted, so ``run_once`` may crawl only
once per process (the scheduler starts a child ``dfe-monitor run`` for every check).
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from monitor import stopsignals
from monitor.config import Config
from monitor.console import NO_PROGRESS, Progress
from monitor.document.files.safety import Limits
from monitor.errors import (
    MonitorError,
    NothingFetched,
    RunStopped,
    UsageError,
)
from monitor.lock import run_lock
from monitor.model import RunStatus
from monitor.notify.policy import AlertPolicy, policy_of
from monitor.record.connect import database_errors, open_database
from monitor.record.crawl import StorageSink, crawl
from monitor.record.plan import build_plan
from monitor.record.reach import preflight
from monitor.record.repair import repair_fetch_urls
from monitor.record.result import RunCounts, RunResult
from monitor.text import clip
from monitor.times import utcnow
from storage import outbox, repo
from storage.db import Database, DatabaseCorrupt, Session, StorageFailure

if TYPE_CHECKING:
    from monitor.record.versions import Processor, ProcessSettings
    from spiders.items import CrawlPlan

log = logging.getLogger("dfe-monitor")

# What only reading, publishing and alerting need (documents, comparison, templates, mail) is
# imported after the crawl, in ``_process``: a run's first request does not wait for it.


def process_settings(config: Config) -> ProcessSettings:
    from monitor.record.versions import ProcessSettings

    return ProcessSettings(
        base_url=config.govuk.base_url.rstrip("/"),
        allowed_hosts=tuple(config.fetch.allowed_hosts),
        feed_url=config.feed.url,
        terms=tuple(config.alerts.terms),
        failing_after=config.health.failing_after,
        gone_after=config.health.gone_after,
        selectors={t.url: t.selector for t in config.targets},
        row_keys={t.url: t.row_key for t in config.targets if t.row_key},
        extract_limits=Limits(timeout_seconds=config.extract.timeout_seconds, memory_bytes=config.extract.memory_mb * 1024 * 1024),
        alerts=alert_policy(config),
        limits=config.limits.page_limits(),
    )


def alert_policy(config: Config) -> AlertPolicy:
    n = config.notify
    return policy_of(n.when, n.email_to, n.apprise_urls, n.email_from)


def run_once(config: Config, *, only: Sequence[str] | None = None, now: Callable[[], datetime] = utcnow, verbose: int = 0, locked: bool = False, progress: Progress = NO_PROGRESS) -> RunResult:
    """One check of every target (or of the targets named in ``only``) and of discovery.

    Takes the run lock unless the caller already holds it (``locked=True``).
    """
    if not locked:
        preflight(config)  # a first run that can reach nothing creates nothing
    with contextlib.nullcontext() if locked else run_lock(config):
        db = open_database(config)
        ended = False
        try:
            with database_errors(config, "write to", "; the feed was left as it was"):
                result = _run_locked(config, db, only, now, verbose, progress)
            ended = True
            return result
        finally:
            db.dispose()
            if ended:  # the file as this run left it: the next run need not check it in full
                db.remember_checked()


def _run_locked(config: Config, db: Database, only: Sequence[str] | None, now: Callable[[], datetime], verbose: int, progress: Progress) -> RunResult:
    started = now()
    with db.read() as session:
        check_target_names(session, config, only)
    with db.write() as session:
        aborted = repo.abort_stale_runs(session, started)
        if aborted:
            log.warning("%d earlier run(s) had been killed before finishing; marked aborted", aborted)
        repo.sync_configured_targets(session, [repo.TargetSpec(t.url, t.name, t.category) for t in config.targets], started)
        repair_fetch_urls(session, config.govuk.base_url.rstrip("/"), tuple(config.fetch.allowed_hosts))
        run_id = repo.start_run(session, started, os.getpid(), "run" if not only else "run --target")
    result = RunResult(run_id=run_id, status=RunStatus.RUNNING, counts=RunCounts(), feed_path=str(config.feed_path))
    try:
        return _check(config, db, only, now, verbose, result, progress)
    except MonitorError as exc:
        _finish(db, result, RunStatus.ABORTED if isinstance(exc, RunStopped) else RunStatus.FAILED, now(), str(exc))
        raise
    except KeyboardInterrupt:
        _finish(db, result, RunStatus.ABORTED, now(), "interrupted")
        raise RunStopped("the run was interrupted; what it had fetched and read is kept, and the feed was left as it was") from None
    except (StorageFailure, DatabaseCorrupt) as exc:  # reported by run_once, not a bug
        _finish(db, result, RunStatus.FAILED, now(), str(exc))
        raise
    except Exception as exc:
        _finish(db, result, RunStatus.FAILED, now(), f"internal error: {type(exc).__name__}: {exc}")
        raise


def _check(config: Config, db: Database, only: Sequence[str] | None, now: Callable[[], datetime], verbose: int, result: RunResult, progress: Progress) -> RunResult:
    run_id = result.run_id
    with db.read() as session:
        plan, backfill = build_plan(session, config, only)
    if backfill:
        with db.write() as session:
            repo.set_plan_facts(session, backfill)
    sink = StorageSink(db, run_id, now, progress)
    progress.stage("fetching")
    try:
        stats = crawl(plan, config, sink, verbose=verbose)
    finally:
        sink.close()  # what was fetched is kept, even from a stopped crawl
    if sink.failure is not None:
        raise sink.failure
    result.requests = int(stats.get("downloader/request_count", 0))
    result.not_modified = int(stats.get("downloader/response_status_count/304", 0))
    result.bytes_downloaded = int(stats.get("downloader/response_bytes", 0))
    result.search_failures = sink.search_failures
    if stats.get("finish_reason") != "finished":
        raise RunStopped(f"the run was stopped ({stats.get('finish_reason')}) before the crawl finished; nothing was processed and the feed was left as it was")

    if not sink.successes:
        first = sink.first_error or "no request got an answer"
        raise NothingFetched(f"nothing could be fetched ({sink.failures} requests failed; first error: {first}); the database's versions and the feed were left as they were")
    return _process(config, db, plan, only, now, result, progress)


def _process(config: Config, db: Database, plan: CrawlPlan, only: Sequence[str] | None, now: Callable[[], datetime], result: RunResult, progress: Progress) -> RunResult:
    """What was fetched becomes versions, changes, the feed and alerts."""
    from monitor.document.files.readers import kept_readers
    from monitor.record.ahead import readers
    from monitor.record.alerts import deliver_alerts
    from monitor.record.publishing import publish_all
    from monitor.record.versions import Processor

    run_id = result.run_id
    processed_at = now()
    processor = Processor(db, process_settings(config), run_id, processed_at, progress=progress, readers=readers())
    with stop_raises_run_stopped(), kept_readers():
        if only is None:
            _discover(db, config, run_id, processor, processed_at)
        urls = [t.target_url for t in plan.targets] if only is not None else None
        counts = processor.process(urls)
    result.counts = counts
    result.errors = counts.errors
    result.status = RunStatus.PARTIAL if counts.failed else RunStatus.COMPLETED
    result.feed_entries = publish_all(db, config, processed_at)
    if config.notify.email_to or config.notify.apprise_urls or _has_open_alerts(db):
        delivery = deliver_alerts(db, config, run_id=run_id, now=now)
        result.alerts_sent, result.alerts_failed = delivery.sent, delivery.failed
        if delivery.health_changes:
            result.feed_entries = publish_all(db, config, processed_at)
    _finish(db, result, result.status, now(), None)
    return result


def _has_open_alerts(db: Database) -> bool:
    """Alerts left from before [notify] was emptied are dropped (and said so) by delivery."""
    with db.read() as session:
        return bool(outbox.open_alerts(session))


def _discover(db: Database, config: Config, run_id: int, processor: Processor, now: datetime) -> None:
    """Discovery, which must never cost the targets their check or the feed its update: what it
    raises (but damage or a full disk) is one warning line, and the run goes on."""
    from monitor.record.discovery import discover_new

    counts = replace(processor.counts, errors=list(processor.counts.errors))
    try:
        discover_new(db, config, run_id, processor, now)
    except (StorageFailure, DatabaseCorrupt, RunStopped):
        raise
    except Exception as exc:  # noqa: BLE001 - a surprise in discovery is reported, not fatal
        processor.counts = counts
        log.warning("discovery failed (internal error: %s: %s); the targets were checked as usual", type(exc).__name__, clip(str(exc), 200))
        log.info("discovery failed", exc_info=True)  # the traceback, with --verbose


def _finish(db: Database, result: RunResult, status: RunStatus, when: datetime, error: str | None) -> None:
    """Record how the run ended; a database that cannot even take that is already reported."""
    result.status = status
    try:
        with db.write() as session:
            repo.finish_run(session, result.run_id, status.value, _summary(result), when, error)
    except (StorageFailure, DatabaseCorrupt):
        log.warning("could not record the end of run %d in the database", result.run_id)


def check_target_names(session: Session, config: Config, only: Sequence[str] | None) -> None:
    """``--target`` names must name known targets (configured, or found by discovery): a typo is
    a usage error with a "did you mean", not an empty run."""
    if not only:
        return
    names = {t.name for t in config.targets} | {t.name for t in repo.active_targets(session)}
    known = names | {t.url for t in config.targets} | {t.url for t in repo.active_targets(session)}
    unknown = [name for name in only if name not in known]
    if unknown:
        close = difflib.get_close_matches(unknown[0], sorted(names), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else "; `dfe-monitor status` lists every target"
        raise UsageError(f"--target {unknown[0]!r} names no watched target{hint}")


@contextlib.contextmanager
def stop_raises_run_stopped() -> Iterator[None]:
    """After the crawl, SIGTERM and SIGINT stop the run between targets' transactions: the run is
    recorded aborted (exit 143) and what was read so far is kept."""

    def stop(signum: int, _frame: object) -> None:
        raise RunStopped(f"the run was stopped ({signal.Signals(signum).name}) while reading what it fetched; what was read is kept, and the feed was left as it was")

    with stopsignals.handling(stop):
        yield


def _summary(result: RunResult) -> dict[str, Any]:
    return {**result.counts.as_dict(), "requests": result.requests, "not_modified": result.not_modified, "bytes_downloaded": result.bytes_downloaded, "alerts_sent": result.alerts_sent, "alerts_failed": result.alerts_failed}
