"""`dfe-monitor schedule`: a small daemon that runs checks on the configured cron schedule.

Every check is a child ``dfe-monitor run`` process, never a crawl in this process: Twisted's
reactor cannot be restarted, and a fresh child per check keeps the daemon's memory flat over
years. The child takes the same run lock as cron and manual runs, so all three can coexist.

APScheduler 3 (BackgroundScheduler, in-memory job store only) fires the jobs:

* one job for every target and discovery (``[schedule] cron``), plus one job per distinct
  ``schedule`` of a target (``run --target NAME`` for the targets sharing it);
* a single worker thread, so checks never overlap each other;
* ``coalesce`` and ``max_instances=1``: runs missed while the daemon was stalled collapse into
  one; a check still running when its next time comes is refused by APScheduler, which we hear
  about (``EVENT_JOB_MAX_INSTANCES``) and answer with exactly one catch-up run right after;
* a misfire grace of hours: APScheduler's default of one second silently drops a run after any
  stall (a busy single worker is a stall).

SIGTERM or SIGINT stops the scheduler, sends SIGTERM to the running child's process group,
SIGKILL a few seconds later, and exits 0.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from types import FrameType
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor import stopsignals
from monitor.config import Config
from monitor.console import always_show, configure_logging
from monitor.daemon.child import ChildOutcome, ChildRunner
from monitor.daemon.jobs import MAIN_JOB_ID, CheckJob, child_command, cron_trigger, plan_jobs
from monitor.errors import (
    EXIT_CORRUPT_DATABASE,
    EXIT_FEED_INVALID,
    EXIT_LOCKED,
    EXIT_NOTHING_FETCHED,
    EXIT_OK,
    EXIT_SOFTWARE,
    EXIT_STORAGE,
    EXIT_USAGE,
)

log = logging.getLogger("dfe-monitor.schedule")

MISFIRE_GRACE_SECONDS = 6 * 60 * 60  # a check up to six hours late still runs (once)
# Test-only: run the main job every N seconds instead of on its cron (same job code).
TEST_INTERVAL_ENV = "DFE_MONITOR_TEST_INTERVAL_SECONDS"

EXIT_MEANINGS = {
    EXIT_OK: "completed",
    EXIT_NOTHING_FETCHED: "nothing could be fetched",
    EXIT_USAGE: "configuration or usage error",
    EXIT_CORRUPT_DATABASE: "the database is damaged",
    EXIT_SOFTWARE: "internal error or stopped",
    EXIT_STORAGE: "cannot write the database or the feed",
    EXIT_LOCKED: "another run holds the lock",
    EXIT_FEED_INVALID: "the feed would have been invalid; the old one was kept",
}


CheckRunner = Callable[[CheckJob], "ChildOutcome | None"]


class Daemon:
    """The scheduler, its jobs and the catch-up bookkeeping; no signal handling (see run_scheduler).

    ``run_check`` runs one check and reports how it ended (tests pass a fake); by default it
    starts a child ``dfe-monitor run``. ``triggers`` replaces the cron trigger of the jobs it
    names (by job id), for tests.
    """

    def __init__(self, config: Config, *, verbose: int = 0, log_format: str = "text", run_check: CheckRunner | None = None, triggers: Mapping[str, BaseTrigger] | None = None) -> None:
        self.config = config
        self.verbose = verbose
        self.log_format = log_format
        self.children = ChildRunner()
        self.run_check: CheckRunner = run_check or self._run_child
        self.jobs = {job.job_id: job for job in plan_jobs(config)}
        self.triggers = dict(triggers or {})
        self.catch_up: set[str] = set()  # jobs refused while running: run once more after
        self._catch_up_lock = threading.Lock()
        self.stopping = threading.Event()
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS},
            timezone=config.schedule.timezone,
        )
        self.scheduler.add_listener(self._on_refused, EVENT_JOB_MAX_INSTANCES)
        self.scheduler.add_listener(self._on_missed, EVENT_JOB_MISSED)
        self.scheduler.add_listener(self._on_error, EVENT_JOB_ERROR)

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> None:
        for job in self.jobs.values():
            trigger = self._trigger_for(job)
            self.scheduler.add_job(self.check, trigger, args=[job.job_id], id=job.job_id, name=job.label)
        self.scheduler.start()
        for job in self.jobs.values():
            scope = "every target and discovery" if not job.targets else f"--target {', '.join(job.targets)}"
            log.info("scheduled %s (%s) on %s; next check %s", job.label, scope, self._describe_trigger(job), _when(self.next_run(job.job_id)))

    def stop(self) -> None:
        """Stop firing, end the running child (SIGTERM, then SIGKILL), wait for the worker."""
        self.stopping.set()
        if self.scheduler.running:
            self.scheduler.pause()
        self.children.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def next_run(self, job_id: str) -> datetime | None:
        job = self.scheduler.get_job(job_id)
        return job.next_run_time if job is not None else None

    def _trigger_for(self, job: CheckJob) -> BaseTrigger:
        if job.job_id in self.triggers:
            return self.triggers[job.job_id]
        return cron_trigger(job.crontab, self.config.schedule.timezone)

    def _describe_trigger(self, job: CheckJob) -> str:
        if job.job_id in self.triggers:
            return str(self.triggers[job.job_id])
        return f'"{job.crontab}" ({self.config.schedule.timezone})'

    # -- the job ------------------------------------------------------------------------------
    def check(self, job_id: str) -> None:
        """APScheduler's job: one check, then one catch-up if a run was refused meanwhile."""
        job = self.jobs[job_id]
        with self._catch_up_lock:
            self.catch_up.discard(job_id)  # this run serves any earlier refusal
        self._check_once(job, catch_up=False)
        while not self.stopping.is_set():
            with self._catch_up_lock:
                if job_id not in self.catch_up:
                    break
                self.catch_up.discard(job_id)
            self._check_once(job, catch_up=True)
        if not self.stopping.is_set():
            log.info("next check of %s: %s", job.label, _when(self.next_run(job_id)))

    def _check_once(self, job: CheckJob, *, catch_up: bool) -> None:
        if self.stopping.is_set():
            return
        kind = "catch-up check" if catch_up else "check"
        why = " (its scheduled time came while it was still running)" if catch_up else ""
        log.info("%s of %s started%s", kind, job.label, why)
        try:
            outcome = self.run_check(job)
        except OSError as exc:  # could not even start the child (fork failed, disk full...)
            log.error("%s of %s could not start: %s", kind, job.label, exc)
            return
        if outcome is None:
            log.info("%s of %s not started: the scheduler is stopping", kind, job.label)
            return
        log_outcome(f"{kind} of {job.label}", outcome, stopping=self.stopping.is_set())

    def _run_child(self, job: CheckJob) -> ChildOutcome | None:
        return self.children.run(child_command(self.config.path, job, self.verbose, self.log_format))

    # -- scheduler events ---------------------------------------------------------------------
    def _on_refused(self, event: JobSubmissionEvent) -> None:
        job = self.jobs.get(event.job_id)
        if job is None or self.stopping.is_set():
            return
        with self._catch_up_lock:
            first = event.job_id not in self.catch_up
            self.catch_up.add(event.job_id)
        if first:
            log.warning("%s is still running at its next scheduled time; one catch-up check will follow it", job.label)

    def _on_missed(self, event: JobExecutionEvent) -> None:
        job = self.jobs.get(event.job_id)
        log.warning("check of %s scheduled at %s was missed by more than %d h; skipped", job.label if job else event.job_id, event.scheduled_run_time, MISFIRE_GRACE_SECONDS // 3600)

    def _on_error(self, event: JobExecutionEvent) -> None:
        log.error("the scheduler job %s failed: %r", event.job_id, event.exception)


def log_outcome(what: str, outcome: ChildOutcome, *, stopping: bool = False) -> None:
    """One line per finished check: exit code, what it means, and the child's summary."""
    code, took = outcome.exit_code, f"{outcome.seconds:.1f} s"
    if outcome.pid is not None:
        what += f" (pid {outcome.pid})"
    if code == EXIT_OK:
        log.info("%s finished in %s (exit 0): %s", what, took, outcome.summary or "no summary")
        for line in outcome.failures:
            log.warning("%s: %s", what, line)
    elif code == EXIT_LOCKED:
        log.info("%s skipped (exit 75: another run holds the lock): %s", what, outcome.message or "")
    elif code < 0 or stopping:
        log.warning("%s stopped after %s (%s)", what, took, _describe_exit(code))
    else:
        meaning = EXIT_MEANINGS.get(code, "unexpected exit code")
        log.error("%s failed after %s (exit %d: %s): %s", what, took, code, meaning, outcome.message or outcome.summary or "no message")


def _describe_exit(code: int) -> str:
    if code >= 0:
        return f"exit {code}"
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z") if moment is not None else "never"


def run_scheduler(config: Config, verbose: int = 0, log_format: str = "text") -> int:
    """Run checks on schedule until SIGTERM or SIGINT; returns 0 after a clean stop."""
    stop = threading.Event()
    with _daemon_logging(verbose), _stop_on_signals(stop):
        daemon = Daemon(config, verbose=verbose, log_format=log_format, triggers=_test_triggers())
        daemon.start()
        log.info("dfe-monitor schedule started (pid %d, config %s)", os.getpid(), config.path)
        while not stop.wait(1.0):
            pass
        log.info("stop requested; shutting down")
        started = time.monotonic()
        daemon.stop()
        log.info("stopped cleanly in %.1f s", time.monotonic() - started)
    return EXIT_OK


def _test_triggers() -> dict[str, BaseTrigger]:
    """The test-only shortcut: ``DFE_MONITOR_TEST_INTERVAL_SECONDS`` replaces the main cron."""
    value = os.environ.get(TEST_INTERVAL_ENV)
    return {MAIN_JOB_ID: IntervalTrigger(seconds=float(value))} if value else {}


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop`` (the handler only flags; the main loop does the work)."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    with stopsignals.handling(handler):
        yield


@contextmanager
def _daemon_logging(verbose: int) -> Iterator[None]:
    """The daemon's own lines go to stderr at INFO even without --verbose (they are its log),
    through the same handler and format as everything else (``--log-format``): the root's
    handler, whose formatter makes every line printable, is the daemon logger's own while it
    runs."""
    root = logging.getLogger()
    if not root.handlers:
        configure_logging(verbose)
    always_show(log.name)
    previous: dict[str, Any] = {"handlers": log.handlers[:], "propagate": log.propagate}
    log.handlers[:] = root.handlers
    log.propagate = False
    refusals = _DropRefusals()
    logging.getLogger("apscheduler.scheduler").addFilter(refusals)
    try:
        yield
    finally:
        logging.getLogger("apscheduler.scheduler").removeFilter(refusals)
        log.handlers[:] = previous["handlers"]
        log.propagate = previous["propagate"]


class _DropRefusals(logging.Filter):
    """Hide APScheduler's "skipped: maximum number of running instances" warning.

    It is misleading here: the refused run is not skipped but caught up, and the daemon says so
    in its own line.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances" not in str(record.msg)
