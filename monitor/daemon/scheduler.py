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
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import IO, Any

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
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.config import Config
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

log = logging.getLogger("dfe-monitor.daemon.scheduler")

MAIN_JOB_ID = "all"
MISFIRE_GRACE_SECONDS = 6 * 60 * 60  # a check up to six hours late still runs (once)
STOP_GRACE_SECONDS = 5.0  # SIGTERM to the child, then SIGKILL after this long
# A check running longer than this is stuck (a normal one takes minutes): end it, so that one
# hung check cannot silence the daemon for good.
MAX_CHECK_SECONDS = 3 * 60 * 60
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


# -- what to run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckJob:
    """One scheduled job: every target (``targets`` empty) or a few targets on their own cron."""

    job_id: str
    label: str
    crontab: str
    targets: tuple[str, ...] = ()


def plan_jobs(config: Config) -> list[CheckJob]:
    """The main job plus one job per distinct target schedule (other than the main cron)."""
    main_cron = " ".join(config.schedule.cron.split())
    jobs = [CheckJob(MAIN_JOB_ID, "all targets", main_cron)]
    by_cron: dict[str, list[str]] = {}
    for target in config.targets:
        if target.schedule and " ".join(target.schedule.split()) != main_cron:
            by_cron.setdefault(" ".join(target.schedule.split()), []).append(target.name)
    for crontab, names in by_cron.items():
        label = names[0] if len(names) == 1 else f"{len(names)} targets ({', '.join(names)})"
        jobs.append(CheckJob(f"cron:{crontab}", label, crontab, tuple(names)))
    return jobs


def child_command(config_path: Path, job: CheckJob, verbose: bool = False) -> list[str]:
    """The ``dfe-monitor run`` command line for one check (``--target=NAME`` per target)."""
    command = [sys.executable, "-m", "monitor", "run", "--config", str(config_path)]
    command += [f"--target={name}" for name in job.targets]
    if verbose:
        command.append("--verbose")
    return command


def cron_trigger(crontab: str, timezone: str) -> CronTrigger:
    return CronTrigger.from_crontab(crontab, timezone=timezone)


# -- running one child ---------------------------------------------------------------------------


@dataclass
class ChildOutcome:
    """How a child ``dfe-monitor run`` ended, and the lines worth repeating in the log."""

    exit_code: int
    seconds: float
    pid: int | None = None
    summary: str | None = None  # the child's "run N completed: ..." line
    message: str | None = None  # the child's last stderr line (its one-line error)
    failures: list[str] = field(default_factory=list)  # its "  failed: ..." lines


class ChildRunner:
    """Runs one child at a time; :meth:`stop` (from another thread) ends it and refuses more.

    The child leads its own process group, so a Ctrl-C in the daemon's terminal reaches only the
    daemon, and whatever the child started (the attachment-extraction sandbox) can be swept up
    with it. Stopping sends SIGTERM to the child alone, once: Scrapy stops gracefully on the
    first signal but force-stops on a second, and a sandbox killed by SIGTERM would be recorded
    as a failed extraction. SIGKILL, after the grace period, goes to the whole group.

    The child is reaped only after its group has been swept (``waitid`` with ``WNOWAIT`` keeps
    the zombie, and with it the process and group id, ours until then), so a recycled PID can
    never receive our signals.
    """

    def __init__(self, stop_grace: float = STOP_GRACE_SECONDS, echo: IO[str] | None = None, max_seconds: float = MAX_CHECK_SECONDS) -> None:
        self.stop_grace = stop_grace
        self.max_seconds = max_seconds
        self.echo = echo if echo is not None else sys.stderr
        self._lock = threading.Lock()  # guards _proc, _stopping, and reaping vs. signalling
        self._proc: subprocess.Popen[str] | None = None
        self._terminated: subprocess.Popen[str] | None = None
        self._done = threading.Event()
        self._stopping = False

    def run(self, command: list[str]) -> ChildOutcome | None:
        """Run ``command`` to the end; None when the daemon is stopping (nothing was started)."""
        with self._lock:
            if self._stopping:
                return None
            started = time.monotonic()
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
                start_new_session=True,
            )
            self._proc = proc
            self._done.clear()
        log.debug("child %d: %s", proc.pid, " ".join(command))
        stdout: deque[str] = deque(maxlen=200)
        stderr: deque[str] = deque(maxlen=20)
        pumps = [
            _pump(proc.stdout, stdout, None),
            _pump(proc.stderr, stderr, self.echo),  # the child's own messages, as they come
        ]
        watchdog = threading.Timer(self.max_seconds, self._overtime, args=[proc])
        watchdog.daemon = True
        watchdog.start()
        try:
            _wait_exited(proc.pid)
        finally:
            watchdog.cancel()
            with self._lock:
                _signal_group(proc.pid, signal.SIGKILL)  # anything the child left behind
                code = proc.wait()
                self._proc = None
                self._done.set()
            for pump in pumps:
                pump.join(timeout=self.stop_grace)
        outcome = _outcome(code, time.monotonic() - started, list(stdout), list(stderr))
        outcome.pid = proc.pid
        return outcome

    def stop(self) -> None:
        """Refuse new children; SIGTERM the running one, SIGKILL its group after the grace."""
        with self._lock:
            self._stopping = True
            proc = self._proc
        if proc is not None:
            log.info("stopping the running check (pid %d)", proc.pid)
            self._end(proc)

    def _overtime(self, proc: subprocess.Popen[str]) -> None:
        log.error("the check (pid %d) has run for more than %s: stopping it", proc.pid, _duration(self.max_seconds))
        self._end(proc)

    def _end(self, proc: subprocess.Popen[str]) -> None:
        """SIGTERM ``proc`` alone, once; SIGKILL its group if it is still there after the grace."""
        with self._lock:
            if self._proc is not proc:
                return  # already ended (and perhaps reaped: its PID is no longer ours to signal)
            if self._terminated is not proc:  # never twice: a second SIGTERM means "at once"
                self._terminated = proc
                with suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGTERM)
        if self._done.wait(self.stop_grace):
            return
        with self._lock:
            if self._proc is proc:
                log.warning("the check (pid %d) did not stop within %.0f s; killing it", proc.pid, self.stop_grace)
                _signal_group(proc.pid, signal.SIGKILL)
        self._done.wait(self.stop_grace)


def _duration(seconds: float) -> str:
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"


def _wait_exited(pid: int) -> None:
    """Block until the child has exited, without reaping it."""
    with suppress(ChildProcessError):  # already reaped: nothing left to wait for
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)


def _pump(stream: IO[str] | None, keep: deque[str], echo: IO[str] | None) -> threading.Thread:
    """Read a child's stream to its end in a thread (a full pipe would stall the child)."""

    def read() -> None:
        assert stream is not None
        with stream:
            for line in stream:
                keep.append(line.rstrip("\n"))
                if echo is not None:
                    with suppress(OSError, ValueError):
                        echo.write(line)
                        echo.flush()

    thread = threading.Thread(target=read, daemon=True, name="child-output")
    thread.start()
    return thread


def _outcome(code: int, seconds: float, stdout: list[str], stderr: list[str]) -> ChildOutcome:
    lines = [line for line in stdout if line.strip()]
    summary = next((line for line in lines if line.startswith("run ")), lines[-1] if lines else None)
    failures = [line.strip() for line in lines if line.lstrip().startswith(("failed:", "…"))]
    message = next((line.strip() for line in reversed(stderr) if line.strip()), None)
    return ChildOutcome(code, seconds, summary=summary, message=message, failures=failures)


def _signal_group(pid: int, signum: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


# -- the daemon ----------------------------------------------------------------------------------

CheckRunner = Callable[[CheckJob], "ChildOutcome | None"]


class Daemon:
    """The scheduler, its jobs and the catch-up bookkeeping; no signal handling (see run_scheduler).

    ``run_check`` runs one check and reports how it ended (tests pass a fake); by default it
    starts a child ``dfe-monitor run``. ``triggers`` replaces the cron trigger of the jobs it
    names (by job id), for tests.
    """

    def __init__(self, config: Config, *, verbose: bool = False, run_check: CheckRunner | None = None, triggers: Mapping[str, BaseTrigger] | None = None) -> None:
        self.config = config
        self.verbose = verbose
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
        return self.children.run(child_command(self.config.path, job, self.verbose))

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


# -- the command ---------------------------------------------------------------------------------


def run_scheduler(config: Config, verbose: bool = False) -> int:
    """Run checks on schedule until SIGTERM or SIGINT; returns 0 after a clean stop."""
    stop = threading.Event()
    with _daemon_logging(verbose), _stop_on_signals(stop):
        daemon = Daemon(config, verbose=verbose, triggers=_test_triggers())
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

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextmanager
def _daemon_logging(verbose: bool) -> Iterator[None]:
    """The daemon's own lines go to stderr at INFO even without --verbose: they are its log."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    previous: dict[str, Any] = {"level": log.level, "propagate": log.propagate}
    log.addHandler(handler)
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
    log.propagate = False
    refusals = _DropRefusals()
    logging.getLogger("apscheduler.scheduler").addFilter(refusals)
    try:
        yield
    finally:
        logging.getLogger("apscheduler.scheduler").removeFilter(refusals)
        log.removeHandler(handler)
        log.setLevel(previous["level"])
        log.propagate = previous["propagate"]


class _DropRefusals(logging.Filter):
    """Hide APScheduler's "skipped: maximum number of running instances" warning.

    It is misleading here: the refused run is not skipped but caught up, and the daemon says so
    in its own line.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances" not in str(record.msg)
