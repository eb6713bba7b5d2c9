"""`dfe-monitor schedule`: jobs, catch-up after an overrun, one check at a time, clean stops.

The daemon's own logic runs in-process with a fake check (fast and exact); the whole daemon runs
as a process against the local GOV.UK stand-in: checks on an interval (the test-only shortcut
goes through the same job code), a check skipped while the lock is held, and SIGTERM while a
check is crawling. One slow test uses a real every-minute cron.
"""

from __future__ import annotations

import io
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_MAX_INSTANCES
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from support.sitebuilder import Site, config_text

from monitor.cli import build_parser
from monitor.config import load_config
from monitor.daemon.child import ChildOutcome, ChildRunner, _outcome
from monitor.daemon.jobs import MAIN_JOB_ID, CheckJob, child_command, plan_jobs
from monitor.daemon.scheduler import TEST_INTERVAL_ENV, Daemon, log_outcome
from monitor.demo.server import Fault, FixtureServer
from monitor.lock import RunLock
from monitor.record.result import RunCounts, RunResult, error_json, read_result_line

A = "/government/publications/a"
B = "/government/publications/b"
C = "/government/publications/c"
D = "/government/publications/d"
BASE = "http://127.0.0.1:8000"


def write_config(folder: Path, base: str = BASE, *, schedules: dict[str, str] | None = None, cron: str = "17 */6 * * *") -> Path:
    targets = [("Alpha", A, "other"), ("Beta", B, "other"), ("Gamma", C, "other"), ("Delta", D, "other")]
    text = config_text(base, targets, extra=f'[schedule]\ncron = "{cron}"\ntimezone = "Europe/London"')
    for name, crontab in (schedules or {}).items():
        text = text.replace(f'name = "{name}"', f'name = "{name}"\nschedule = "{crontab}"')
    path = folder / "config.toml"
    path.write_text(text)
    return path


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


# -- planning ------------------------------------------------------------------------------------


def test_one_main_job_plus_one_per_distinct_target_schedule(tmp_path):
    config = load_config(write_config(tmp_path, schedules={"Beta": "*/30 * * * *", "Gamma": "*/30  *  * * *", "Delta": "17 */6 * * *"}))
    assert plan_jobs(config) == [
        CheckJob("all", "all targets", "17 */6 * * *"),
        CheckJob("cron:*/30 * * * *", "2 targets (Beta, Gamma)", "*/30 * * * *", ("Beta", "Gamma")),
    ]


def test_child_commands_name_the_config_and_targets(tmp_path):
    path = tmp_path / "config.toml"
    job = CheckJob("cron:0 * * * *", "2 targets", "0 * * * *", ("Beta", "-odd name"))
    assert child_command(path, job) == [sys.executable, "-m", "monitor", "run", "--json", "--config", str(path), "--target=Beta", "--target=-odd name"]
    assert child_command(path, CheckJob("all", "all targets", "0 * * * *"), verbose=1)[-1] == "-v"
    args = build_parser().parse_args(child_command(path, job)[3:])
    assert (args.command, args.config, args.target, args.json) == ("run", str(path), ["Beta", "-odd name"], True)


def test_the_childs_summary_failures_and_error_line_are_read_from_its_json_result():
    result = RunResult(7, "partial", RunCounts(checked=2, unchanged=1, failed=1, errors=["Beta: HTTP 503"]), requests=4, errors=["Beta: HTTP 503"])
    stdout = [result.to_json()]
    outcome = _outcome(0, 2.5, stdout, ["", "2026-01-01 WARNING x: slow", ""])
    assert outcome == ChildOutcome(0, 2.5, summary=result.summary_line(), message="2026-01-01 WARNING x: slow", failures=["failed: Beta: HTTP 503"])
    assert outcome.summary is not None and outcome.summary.startswith("run 7 partial: 2 targets checked, 1 unchanged, 0 changed, 1 failed; 0 feed entries added; 4 requests")
    lock_message = "another dfe-monitor run (process 42) holds the lock /x.lock; this run was skipped"
    locked = _outcome(75, 0.1, [error_json(lock_message, 75)], ["dfe-monitor: " + lock_message])
    assert (locked.summary, locked.message) == (None, "dfe-monitor: " + lock_message)
    prose = _outcome(0, 0.1, ["not json", "run 9 completed: fine"], [])
    assert prose.summary == "run 9 completed: fine"


def test_one_log_line_per_outcome(caplog):
    caplog.set_level(logging.INFO, logger="dfe-monitor.schedule")
    log_outcome("check of all targets", ChildOutcome(0, 2.54, pid=11, summary="run 3 completed: 2 targets checked"))
    log_outcome("check of all targets", ChildOutcome(75, 0.12, pid=12, message="dfe-monitor: another dfe-monitor run (process 9) holds the lock"))
    log_outcome("check of all targets", ChildOutcome(1, 3.0, pid=13, message="dfe-monitor: nothing could be fetched"))
    log_outcome("check of all targets", ChildOutcome(-signal.SIGKILL, 5.0, pid=14), stopping=True)
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("INFO", "check of all targets (pid 11) finished in 2.5 s (exit 0): run 3 completed: 2 targets checked"),
        ("INFO", "check of all targets (pid 12) skipped (exit 75: another run holds the lock): dfe-monitor: another dfe-monitor run (process 9) holds the lock"),
        ("ERROR", "check of all targets (pid 13) failed after 3.0 s (exit 1: nothing could be fetched): dfe-monitor: nothing could be fetched"),
        ("WARNING", "check of all targets (pid 14) stopped after 5.0 s (SIGKILL)"),
    ]


# -- the daemon in-process, with a fake check ----------------------------------------------------


class FakeChecks:
    """Records every check; the first one can be held until the test releases it."""

    def __init__(self, duration: float = 0.0, hold_first: bool = False) -> None:
        self.duration = duration
        self.release = threading.Event()
        if not hold_first:
            self.release.set()
        self.calls: list[tuple[str, float, float]] = []
        self.active = 0
        self.most_active = 0
        self._lock = threading.Lock()

    def __call__(self, job: CheckJob) -> ChildOutcome:
        with self._lock:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
            first = not self.calls
        started = time.monotonic()
        if first:
            self.release.wait(20)
        time.sleep(self.duration)
        with self._lock:
            self.active -= 1
            self.calls.append((job.job_id, started, time.monotonic()))
        return ChildOutcome(0, 0.0, summary=f"run {len(self.calls)} completed")


def test_an_overrun_gives_exactly_one_catch_up_check(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="dfe-monitor.schedule")
    checks = FakeChecks(hold_first=True)
    daemon = Daemon(load_config(write_config(tmp_path)), run_check=checks, triggers={MAIN_JOB_ID: IntervalTrigger(seconds=0.3)})
    refusals: list[object] = []
    daemon.scheduler.add_listener(refusals.append, EVENT_JOB_MAX_INSTANCES)
    daemon.start()
    try:
        wait_for(lambda: len(refusals) >= 3, 10, "three refused runs while the first check runs")
        released = time.monotonic()
        checks.release.set()
        wait_for(lambda: len(checks.calls) >= 3, 10, "the catch-up and one regular check")
    finally:
        daemon.stop()
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("all targets is still running at its next scheduled time; one catch-up check will follow it") == 1
    assert messages.count("catch-up check of all targets started (its scheduled time came while it was still running)") == 1
    # right after the long one, in the same job (not at the next tick): the first "started" line
    # after the first check finished is the catch-up's
    finished = next(i for i, m in enumerate(messages) if m.startswith("check of all targets finished"))
    next_start = next(m for m in messages[finished:] if " started" in m)
    assert next_start.startswith("catch-up check of all targets started")
    assert checks.calls[1][1] >= released
    assert checks.most_active == 1


def test_jobs_run_one_at_a_time(tmp_path):
    config = load_config(write_config(tmp_path, schedules={"Beta": "*/5 * * * *"}))
    checks = FakeChecks(duration=0.15)
    fast = {MAIN_JOB_ID: IntervalTrigger(seconds=0.2), "cron:*/5 * * * *": IntervalTrigger(seconds=0.2)}
    daemon = Daemon(config, run_check=checks, triggers=fast)
    daemon.start()
    try:
        wait_for(lambda: {c[0] for c in checks.calls} == {"all", "cron:*/5 * * * *"} and len(checks.calls) >= 6, 10, "both jobs to run")
    finally:
        daemon.stop()
    assert checks.most_active == 1
    spans = sorted((start, end) for _, start, end in checks.calls)
    assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:], strict=False))


def test_stop_waits_for_nothing_when_idle_and_starts_no_more_checks(tmp_path):
    checks = FakeChecks()
    daemon = Daemon(load_config(write_config(tmp_path)), run_check=checks)
    daemon.start()
    started = time.monotonic()
    daemon.stop()
    assert time.monotonic() - started < 1.0
    assert checks.calls == []
    assert daemon.children.run([sys.executable, "-c", "pass"]) is None


# -- the child runner ----------------------------------------------------------------------------

SLEEPER = """
import signal, subprocess, sys, time
if sys.argv[1] == "ignore":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print(grandchild.pid, flush=True)
print("working", file=sys.stderr, flush=True)
time.sleep(60)
"""


def alive(pid: int) -> bool:
    """True for a live process (a zombie waiting to be reaped counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize(("mode", "signum"), [("obey", signal.SIGTERM), ("ignore", signal.SIGKILL)])
def test_stopping_ends_the_child_and_its_children(mode, signum):
    echo = io.StringIO()
    runner = ChildRunner(stop_grace=1.0, echo=echo)
    outcomes: list[ChildOutcome | None] = []
    thread = threading.Thread(target=lambda: outcomes.append(runner.run([sys.executable, "-c", SLEEPER, mode])))
    thread.start()
    wait_for(lambda: "working" in echo.getvalue(), 20, "the child to start")
    started = time.monotonic()
    runner.stop()
    thread.join(10)
    took = time.monotonic() - started
    assert not thread.is_alive()
    [outcome] = outcomes
    assert outcome is not None and outcome.exit_code == -signum
    assert took < (3.0 if signum == signal.SIGTERM else 5.0)  # generous: a loaded machine; bench/ measures it
    grandchild = int(outcome.summary or 0)
    wait_for(lambda: not alive(grandchild), 5, "the grandchild to end with its group")
    assert runner.run([sys.executable, "-c", "pass"]) is None


def test_a_per_target_check_is_a_run_of_only_that_target(fixture_site, tmp_path):
    config_path = write_config(tmp_path, fixture_site.url, schedules={"Beta": "*/5 * * * *"})
    [_, job] = plan_jobs(load_config(config_path))
    baseline = subprocess.run(child_command(config_path, plan_jobs(load_config(config_path))[0]), capture_output=True, text=True, timeout=120)
    assert baseline.returncode == 0, baseline.stderr
    checked = subprocess.run(child_command(config_path, job), capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stderr
    result = RunResult.from_data(read_result_line(checked.stdout.strip().splitlines()[-1]) or {})
    assert result.summary_line().startswith("run 2 completed: 1 targets checked, 1 unchanged, 0 changed, 0 failed;")
    assert [r[1:3] for r in runs_table(tmp_path)] == [("completed", "run"), ("completed", "run --target")]


def test_a_check_that_runs_too_long_is_ended_and_the_next_one_runs(caplog):
    caplog.set_level(logging.INFO, logger="dfe-monitor.schedule")
    runner = ChildRunner(stop_grace=1.0, echo=io.StringIO(), max_seconds=1.0)
    started = time.monotonic()
    outcome = runner.run([sys.executable, "-c", SLEEPER, "obey"])
    assert outcome is not None and outcome.exit_code == -signal.SIGTERM
    assert 1.0 <= time.monotonic() - started < 3.0
    wait_for(lambda: not alive(int(outcome.summary or 0)), 5, "the grandchild to end with its group")
    assert [r.getMessage() for r in caplog.records] == [f"the check (pid {outcome.pid}) has run for more than 1 s: stopping it"]
    again = runner.run([sys.executable, "-c", "print('run 9 completed: fine')"])
    assert again is not None and (again.exit_code, again.summary) == (0, "run 9 completed: fine")


# -- the daemon as a process, against the fixture site -------------------------------------------


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def in_group(pgid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def runs_table(folder: Path) -> list[tuple]:
    path = folder / "monitor.db"
    if not path.exists():
        return []
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute("SELECT id, status, command, started_at, finished_at FROM runs ORDER BY id").fetchall()
    except sqlite3.OperationalError:  # the first run is still creating the schema
        return []
    finally:
        con.close()


@pytest.fixture
def fixture_site(tmp_path):
    site = Site(tmp_path / "site")
    state = site.state("before")
    state.robots()
    for path, title in ((A, "Alpha"), (B, "Beta"), (C, "Gamma"), (D, "Delta")):
        state.item(path, title=title, body=f"<p>{title} text.</p>")
    with FixtureServer(site.root) as server:
        yield server


def start_daemon(config: Path, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "monitor", "schedule", "--config", str(config)]
    with log.open("wb") as handle:
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=handle, env={**os.environ, **(env or {})})


def stop_daemon(daemon: subprocess.Popen[bytes]) -> float:
    started = time.monotonic()
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(timeout=30)
    return time.monotonic() - started


def test_daemon_checks_on_schedule_skips_while_locked_and_stops_on_sigterm(fixture_site, tmp_path):
    server = fixture_site
    config = write_config(tmp_path, server.url)
    log = tmp_path / "daemon.log"
    holder = RunLock(load_config(config).lock_path).acquire()  # as if cron's run were under way
    daemon = start_daemon(config, log, {TEST_INTERVAL_ENV: "1"})
    try:
        wait_for(lambda: "skipped (exit 75" in log.read_text(), 30, "a check skipped because of the lock")
        holder.release()
        wait_for(lambda: sum(r[1] == "completed" for r in runs_table(tmp_path)) >= 2, 60, "two completed checks")
        # now stop it while a check is crawling a page that hangs
        server.add_fault(f"/api/content{A}", Fault(kind="slow", seconds=60))
        seen = sum(r.path == f"/api/content{A}" for r in server.requests)
        wait_for(lambda: sum(r.path == f"/api/content{A}" for r in server.requests) > seen, 30, "a check to hang on a page")
        [child] = children_of(daemon.pid)
        took = stop_daemon(daemon)
    finally:
        holder.release()
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
    text = log.read_text()
    assert daemon.returncode == 0, text
    assert took < 8.0, f"SIGTERM took {took:.1f} s"
    assert in_group(child) == []  # nothing left of the check that was running
    assert f"skipped (exit 75: another run holds the lock): dfe-monitor: another dfe-monitor run (process {os.getpid()}) holds the lock" in text
    assert text.count("(exit 0): run ") >= 2
    assert "run 1 completed: 4 targets checked, 0 unchanged, 0 changed, 0 failed, 4 baseline;" in text
    assert "stop requested; shutting down" in text
    assert "stopped cleanly in" in text
    assert "Traceback" not in text
    statuses = [r[1] for r in runs_table(tmp_path)]
    assert statuses.count("completed") >= 2
    assert statuses[-1] in ("running", "aborted")  # the check that was stopped never claims success


def test_cron_jobs_are_scheduled_from_their_crontabs(tmp_path, caplog):
    """The crontabs decide the timetable (checked against the clock, without waiting for it)."""
    caplog.set_level(logging.INFO, logger="dfe-monitor.schedule")
    config = load_config(write_config(tmp_path, "http://127.0.0.1:9", cron="* * * * *", schedules={"Beta": "*/1 * * * *"}))
    daemon = Daemon(config, run_check=FakeChecks())
    before = datetime.now(UTC)
    daemon.start()
    try:
        times = {job_id: daemon.next_run(job_id) for job_id in daemon.jobs}
    finally:
        daemon.stop()
    next_minute = (before + timedelta(minutes=1)).replace(second=0, microsecond=0)
    assert set(times) == {MAIN_JOB_ID, "cron:*/1 * * * *"}
    assert all(t is not None and t.astimezone(UTC) in (next_minute, next_minute + timedelta(minutes=1)) for t in times.values())
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert 'scheduled all targets (every target and discovery) on "* * * * *" (Europe/London)' in text
    assert 'scheduled Beta (--target Beta) on "*/1 * * * *" (Europe/London)' in text


def test_the_main_and_a_target_job_fire_in_turn_never_together(tmp_path):
    """Both jobs on cron triggers firing every second: each runs, one after the other."""
    config = load_config(write_config(tmp_path, "http://127.0.0.1:9", cron="* * * * *", schedules={"Beta": "*/1 * * * *"}))
    checks = FakeChecks(duration=0.4)
    every_second = {MAIN_JOB_ID: CronTrigger(second="*"), "cron:*/1 * * * *": CronTrigger(second="*")}
    daemon = Daemon(config, run_check=checks, triggers=every_second)
    daemon.start()
    try:
        wait_for(lambda: {job for job, _, _ in checks.calls} == {MAIN_JOB_ID, "cron:*/1 * * * *"}, 20, "a check of each job")
    finally:
        daemon.stop()
    assert checks.most_active == 1
    spans = sorted((start, end) for _, start, end in checks.calls)
    assert all(earlier[1] <= later[0] for earlier, later in zip(spans, spans[1:], strict=False))


def test_the_daemon_never_imports_the_crawler():
    """Every check is a child process: the daemon itself needs neither Scrapy nor Twisted nor lxml
    (they cost it 0.25 s and 30 MB of resident memory for its whole life)."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "import monitor.cli\n"
        "from monitor.daemon import scheduler\n"
        "print(sorted(m for m in ('scrapy', 'twisted', 'lxml.etree', 'sqlalchemy.orm') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
