"""One lock for every run: the second comer exits 75 at once naming the holder; no stale locks."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from support import forkserver
from support.faults import monitor, start_monitor
from support.sitebuilder import Site, config_text

from monitor.demo.server import Fault, FixtureServer
from monitor.errors import EXIT_LOCKED, LockHeld
from monitor.lock import RunLock

A = "/government/publications/a"
B = "/government/publications/b"


def start_run(config: Path) -> forkserver.ForkedProcess | subprocess.Popen[str]:
    return start_monitor(config, "run")


def wait_for(condition, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def runs(folder: Path) -> list[tuple[int, str, str | None]]:
    con = sqlite3.connect(folder / "monitor.db")
    try:
        return con.execute("SELECT id, status, error FROM runs ORDER BY id").fetchall()
    finally:
        con.close()


def count(folder: Path, table: str) -> int:
    con = sqlite3.connect(folder / "monitor.db")
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


@pytest.fixture
def site(tmp_path):
    site = Site(tmp_path / "site")
    state = site.state("before")
    state.item(A, title="Privacy notice", body="<p>We share pupil data.</p>")
    state.item(B, title="Census guide", body="<p>Census day is in May.</p>")
    state.robots()
    after = site.copy_state("before", "after")
    after.item(B, title="Census guide", body="<p>Census day is in June.</p>")
    with FixtureServer(site.root) as server:
        config = tmp_path / "config.toml"
        config.write_text(config_text(server.url, [("Privacy notice", A, "privacy-notice"), ("Census guide", B, "census-guidance")]))
        yield server, config


def hits(server: FixtureServer, path: str) -> int:
    return sum(1 for r in server.requests if r.path.split("?")[0] == path)


# -- the lock itself -----------------------------------------------------------------------------


def test_second_holder_is_refused_with_the_holders_pid(tmp_path):
    path = tmp_path / "data" / "monitor.db.lock"
    with RunLock(path):
        assert path.read_text() == f"{os.getpid()}\n"
        with pytest.raises(LockHeld) as caught:
            RunLock(path).acquire()
    assert caught.value.exit_code == EXIT_LOCKED == 75
    assert str(caught.value) == f"another dfe-monitor run (process {os.getpid()}) holds the lock {path}; this run was skipped"
    RunLock(path).acquire().release()  # released on leaving the block


def test_a_lock_file_left_by_a_dead_process_does_not_block(tmp_path):
    path = tmp_path / "monitor.db.lock"
    path.write_text("4194303\n")  # a PID no live process has, as a killed run would leave
    lock = RunLock(path).acquire()
    assert path.read_text() == f"{os.getpid()}\n"
    lock.release()


def test_a_killed_holder_never_leaves_a_stale_lock(tmp_path):
    path = tmp_path / "monitor.db.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from pathlib import Path
            from monitor.lock import RunLock
            RunLock(Path({str(path)!r})).acquire()
            print("locked", flush=True)
            time.sleep(60)
        """)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(LockHeld, match=f"process {holder.pid}"):
            RunLock(path).acquire()
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        RunLock(path).acquire().release()
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()


# -- runs ----------------------------------------------------------------------------------------


def overlap(server: FixtureServer, config: Path, lock_file: Path) -> tuple[subprocess.CompletedProcess[str], float, forkserver.ForkedProcess | subprocess.Popen[str], str, str]:
    """Start a run made slow by one page, run a second while it crawls; both outcomes."""
    server.add_fault(f"/api/content{A}", Fault(kind="slow", seconds=3, times=1))
    first = start_run(config)
    try:
        wait_for(lambda: hits(server, f"/api/content{A}") == 1, what="the first run to be crawling")
        assert lock_file.read_text() == f"{first.pid}\n"
        started = time.monotonic()
        second = monitor(config, "run", timeout=30)
        elapsed = time.monotonic() - started
        out, err = first.communicate(timeout=120)
    finally:
        first.kill()
        first.wait()
    return second, elapsed, first, out, err


def test_overlapping_run_exits_75_within_a_second_and_nothing_is_lost(site, tmp_path):
    server, config = site
    lock_file = tmp_path / "monitor.db.lock"
    second, elapsed, first, out, err = overlap(server, config, lock_file)
    assert second.returncode == 75
    assert elapsed < 5.0, f"the second run took {elapsed:.2f} s to give up"  # bench/ measures it (0.1-0.15 s)
    assert second.stdout == ""
    assert second.stderr == f"dfe-monitor: another dfe-monitor run (process {first.pid}) holds the lock {lock_file}; this run was skipped\n"
    # the first run was not disturbed, and the second left no trace
    assert first.returncode == 0, err
    assert out.startswith("run 1 completed: 2 targets checked, 0 unchanged, 0 changed, 0 failed, 2 baseline;")
    assert runs(tmp_path) == [(1, "completed", None)]
    assert count(tmp_path, "versions") == 2
    # and the next run sees the site's change exactly once
    server.set_state("after")
    third = monitor(config, "run")
    assert third.returncode == 0, third.stderr
    assert third.stdout.startswith("run 2 completed: 2 targets checked, 1 unchanged, 1 changed, 0 failed;")
    assert count(tmp_path, "changes") == 1


def test_a_killed_run_does_not_block_the_next_and_is_recorded_aborted(site, tmp_path):
    server, config = site
    server.add_fault(f"/api/content{A}", Fault(kind="slow", seconds=10, times=1))
    victim = start_run(config)
    try:
        wait_for(lambda: hits(server, f"/api/content{A}") == 1, what="the run to be crawling")
        victim.send_signal(signal.SIGKILL)
        assert victim.wait(timeout=10) == -signal.SIGKILL
    finally:
        victim.kill()
        victim.wait()
        victim.stdout.close()
        victim.stderr.close()
    assert runs(tmp_path) == [(1, "running", None)]
    started = time.monotonic()
    after = monitor(config, "run")
    assert after.returncode == 0, after.stderr
    assert time.monotonic() - started < 60
    assert after.stdout.startswith("run 2 completed: 2 targets checked, 0 unchanged, 0 changed, 0 failed, 2 baseline;")
    assert "1 earlier run(s) had been killed before finishing; marked aborted" in after.stderr
    assert runs(tmp_path) == [
        (1, "aborted", "the process ended without finishing (killed or crashed)"),
        (2, "completed", None),
    ]
