"""For the operator: progress lines per target, -v before or after the command, JSON log lines,
cron-quiet overlaps, "did you mean", nothing created by a first run that reaches nothing, a
stop while reading recorded as aborted, and a progress bar only at a terminal."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import termios
import time

import pytest
from support.inprocess import in_process_crawls, run_cli
from support.sitebuilder import Site, config_text

from monitor.demo.server import Fault, FixtureServer
from monitor.lock import run_lock
from monitor.record import versions

A = "/government/publications/register"
B = "/guidance/notice"
NOTES = [("2026-01-10T09:30:00.000+00:00", "First published.")]


@pytest.fixture
def watched(tmp_path, monkeypatch):
    site = Site(tmp_path / "site")
    before = site.state("before")
    before.robots()
    before.item(A, title="Register", body="<p>Shares.</p>", change_history=NOTES)
    before.item(B, title="Notice", schema="detailed_guide", body="<p>We collect names.</p>", change_history=NOTES)
    after = site.copy_state("before", "after")
    after.item(B, title="Notice", schema="detailed_guide", body="<p>We collect names and nationality.</p>", change_history=NOTES)
    with FixtureServer(site.root, "before") as server, in_process_crawls(monkeypatch):
        config = tmp_path / "config.toml"
        config.write_text(config_text(server.url, [("Register", A, "release-register"), ("Notice", B, "privacy-notice")]))
        yield server, config


def test_one_line_per_target_with_v_before_or_after_the_command(watched):
    server, config = watched
    first = run_cli("-v", "run", "--config", str(config))
    assert first.returncode == 0, first.stderr
    lines = [line for line in first.stderr.splitlines() if " INFO dfe-monitor.run: " in line]
    assert [line.split("dfe-monitor.run: ", 1)[1].split(";")[0] for line in lines] == ["Register: baseline", "Notice: baseline"]
    assert all(line[:20].endswith("Z") and line[10] == "T" for line in lines)  # UTC, RFC 3339
    assert "1 request, " in lines[0] and " s" in lines[0]
    server.set_state("after")
    server.add_fault(f"/api/content{A}", Fault(kind="status", status=503))
    second = run_cli("run", "-v", "--config", str(config))
    outcomes = [line.split("dfe-monitor.run: ", 1)[1].split(";")[0] for line in second.stderr.splitlines() if "dfe-monitor.run: " in line]
    assert outcomes == ["Register: failed: Content API: HTTP 503", "Notice: changed (1 feed entry)"]
    quiet_by_default = run_cli("run", "--config", str(config))  # not a terminal: warnings only
    assert "dfe-monitor.run:" not in quiet_by_default.stderr


def test_json_log_lines_for_log_shippers(watched):
    _, config = watched
    result = run_cli("run", "-v", "--log-format", "json", "--config", str(config))
    assert result.returncode == 0
    records = [json.loads(line) for line in result.stderr.splitlines()]
    targets = [r for r in records if r["logger"] == "dfe-monitor.run"]
    assert [r["message"].split(";")[0] for r in targets] == ["Register: baseline", "Notice: baseline"]
    assert all(set(r) >= {"time", "level", "logger", "message"} and r["time"].endswith("Z") for r in records)


def test_quiet_says_nothing_for_an_overlap_but_still_reports_a_real_failure(watched, tmp_path):
    _, config = watched
    from monitor.config import load_config

    with run_lock(load_config(config)):
        overlap = run_cli("run", "--quiet", "--config", str(config))
    assert (overlap.returncode, overlap.stdout, overlap.stderr) == (75, "", "")
    loud = run_cli("run", "--config", str(config))
    assert loud.returncode == 0
    broken = tmp_path / "broken.toml"
    broken.write_text(config.read_text() + "\n[fetch]\ntimout = 3\n")
    failed = run_cli("run", "--quiet", "--config", str(broken))
    assert failed.returncode == 2 and failed.stderr.count("\n") == 1


def test_a_misspelled_target_gets_a_did_you_mean(watched):
    _, config = watched
    result = run_cli("run", "--target", "Notise", "--config", str(config))
    assert result.returncode == 2
    assert result.stderr == "dfe-monitor: --target 'Notise' names no watched target; did you mean 'Notice'?\n"


def test_a_first_run_that_reaches_nothing_creates_nothing(tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = tmp_path / "config.toml"
    config.write_text(config_text(f"http://127.0.0.1:{port}", [("Notice", B, "privacy-notice")]).replace('database = "monitor.db"', 'database = "data/monitor.db"'))
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 1
    assert result.stderr.startswith("dfe-monitor: nothing could be reached (127.0.0.1:") and "nothing was created" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_a_stop_while_reading_is_recorded_aborted(watched, monkeypatch):
    _, config = watched
    assert run_cli("run", "--config", str(config)).returncode == 0
    real = versions.Processor.process_target

    def stopped_midway(self, target_id, fetches):
        os.kill(os.getpid(), signal.SIGTERM)
        return real(self, target_id, fetches)

    monkeypatch.setattr(versions.Processor, "process_target", stopped_midway)
    monkeypatch.setattr(versions.Processor, "process", lambda self, urls=None: [self.process_target(1, [])])
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 143
    assert "stopped (SIGTERM) while reading" in result.stderr
    con = sqlite3.connect(config.parent / "monitor.db")
    try:
        assert [r[0] for r in con.execute("SELECT status FROM runs ORDER BY id")] == ["completed", "aborted"]
    finally:
        con.close()


def test_a_progress_bar_and_per_target_lines_at_a_terminal_only(tmp_path):
    site = Site(tmp_path / "site")
    state = site.state("before")
    state.robots()
    state.item(A, title="Register", body="<p>Shares.</p>", change_history=NOTES)
    with FixtureServer(site.root, "before") as server:
        config = tmp_path / "config.toml"
        config.write_text(config_text(server.url, [("Register", A, "release-register")]))
        main, child = pty.openpty()
        fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal has a size
        process = subprocess.Popen([sys.executable, "-m", "monitor", "run", "--config", str(config)], stdin=child, stdout=child, stderr=child, close_fds=True)
        os.close(child)
        output = b""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 1)
            if ready:
                try:
                    chunk = os.read(main, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                output += chunk
            elif process.poll() is not None:
                break
        process.wait(30)
        os.close(main)
    text = output.decode("utf-8", "replace")
    assert process.returncode == 0, text
    assert "Register: baseline;" in text  # INFO at a terminal without -v
    assert "reading" in text and "\r" in text  # tqdm's bar, redrawn in place
    assert "run 1 completed" in text


def test_the_daemon_derives_its_grace_from_the_runs_own_stop_bound():
    from monitor.daemon.child import STOP_GRACE_SECONDS
    from spiders.settings import HARD_STOP_SECONDS

    assert STOP_GRACE_SECONDS == HARD_STOP_SECONDS + 3.5



def test_version_names_the_installed_release(capsys):
    from monitor import __version__
    from monitor.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"dfe-monitor {__version__}"
