"""`dfe-monitor status`: exact tables from a hand-made database, and no database created by it."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.sitebuilder import Site, config_text

from monitor.config import load_config
from monitor.demo.server import FixtureServer
from monitor.errors import CorruptDatabase
from monitor.record.status import next_check, print_status
from storage import repo
from storage.db import Database

BASE = "http://127.0.0.1:8000"
# 10:00 UTC on 1 July 2026 is 11:00 BST in Europe/London.
NOW = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)


def write_config(folder: Path, *, schedule_b: str | None = None) -> Path:
    text = config_text(
        BASE,
        [("Privacy notice", "/government/publications/a", "privacy-notice"), ("Census guide", "/government/publications/b", "census-guidance")],
        extra='[storage]\ndatabase = "data/monitor.db"\n[schedule]\ncron = "17 */6 * * *"\ntimezone = "Europe/London"',
    )
    text = text.replace('[storage]\ndatabase = "monitor.db"\n', "", 1)
    if schedule_b:
        text = text.replace('name = "Census guide"', f'name = "Census guide"\nschedule = "{schedule_b}"')
    path = folder / "config.toml"
    path.write_text(text)
    return path


def fill_database(config_path: Path) -> None:
    """Two targets (one failing), three runs: completed, partial, and one still marked running."""
    config = load_config(config_path)
    db = Database(config.database_url)
    db.setup()
    t0 = datetime(2026, 6, 30, 5, 17, tzinfo=UTC)
    t1 = datetime(2026, 6, 30, 11, 17, tzinfo=UTC)
    t2 = datetime(2026, 6, 30, 17, 17, tzinfo=UTC)
    try:
        with db.write() as session:
            repo.sync_configured_targets(session, [repo.TargetSpec(t.url, t.name, t.category) for t in config.targets], t0)
            first = repo.start_run(session, t0, 999_999_991)
            repo.finish_run(session, first, "completed", {"checked": 2, "baseline": 2, "changes": 0}, t0)
            second = repo.start_run(session, t1, 999_999_992)
            repo.finish_run(session, second, "partial", {"checked": 2, "changed": 1, "failed": 1, "changes": 1}, t1)
            repo.start_run(session, t2, 999_999_993)  # killed: its process is gone
            a, b = repo.all_targets(session)
            repo.update_target(session, a.id, state="ok", last_checked_at=t1, last_success_at=t1, last_change_at=t1)
            repo.update_target(session, b.id, state="failing", last_checked_at=t1, last_success_at=t0, consecutive_failures=3, last_error="HTTP 503")
    finally:
        db.dispose()


def status_text(config_path: Path) -> str:
    out = io.StringIO()
    print_status(load_config(config_path), out=out, now=NOW)
    return out.getvalue()


def test_no_database_says_no_runs_yet_and_creates_nothing(tmp_path):
    config = write_config(tmp_path)
    assert status_text(config) == (
        "no runs yet (database: data/monitor.db); `dfe-monitor run` makes the first\n"
        'next scheduled check: 2026-07-01 12:17 BST (daemon schedule "17 */6 * * *")\n'
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_empty_database_file_says_no_runs_yet(tmp_path):
    config = write_config(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "monitor.db").write_bytes(b"")
    assert status_text(config).startswith("no runs yet")


def test_a_damaged_database_is_a_clear_error(tmp_path):
    config = write_config(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "monitor.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CorruptDatabase, match="is damaged"):
        status_text(config)


def test_table_of_targets_and_runs(tmp_path):
    config = write_config(tmp_path, schedule_b="*/15 * * * *")
    fill_database(config)
    assert status_text(config) == (
        "targets (2 watched; times in Europe/London):\n"
        "  NAME            CATEGORY         STATE    LAST SUCCESS          LAST CHANGE           FAILS  NEXT CHECK\n"
        "  Privacy notice  privacy-notice   ok       2026-06-30 12:17 BST  2026-06-30 12:17 BST  0      2026-07-01 12:17 BST\n"
        "  Census guide    census-guidance  failing  2026-06-30 06:17 BST  never                 3      2026-07-01 11:15 BST\n"
        "  Census guide: failing: HTTP 503\n"
        "last 3 runs:\n"
        "  RUN  STARTED               STATUS              COMMAND  COUNTS\n"
        "  3    2026-06-30 18:17 BST  running (pid gone)  run      -\n"
        "  2    2026-06-30 12:17 BST  partial             run      checked 2, changed 1, failed 1, changes 1\n"
        "  1    2026-06-30 06:17 BST  completed           run      checked 2, baseline 2\n"
    )


def test_next_check_is_the_sooner_of_main_and_own_schedule(tmp_path):
    config = load_config(write_config(tmp_path, schedule_b="45 10 * * *"))
    a, b = (t.url for t in config.targets)
    assert next_check(config, a, NOW) == datetime(2026, 7, 1, 11, 17, tzinfo=UTC)
    # 10:45 BST today has passed at 11:00 BST, so the main cron's 12:17 BST comes first
    assert next_check(config, b, NOW) == datetime(2026, 7, 1, 11, 17, tzinfo=UTC)
    later = datetime(2026, 7, 1, 18, 0, tzinfo=UTC)  # 19:00 BST: main next at 00:17 BST
    assert next_check(config, b, later) == datetime(2026, 7, 1, 23, 17, tzinfo=UTC)
    early = datetime(2026, 7, 2, 6, 0, tzinfo=UTC)  # 07:00 BST: own 10:45 BST beats 12:17 BST
    assert next_check(config, b, early) == datetime(2026, 7, 2, 9, 45, tzinfo=UTC)


def test_status_command_after_a_real_run(tmp_path):
    site = Site(tmp_path / "site")
    state = site.state("before")
    state.item("/government/publications/a", title="A", body="<p>Alpha</p>")
    state.robots()
    with FixtureServer(site.root) as server:
        config = tmp_path / "config.toml"
        config.write_text(config_text(server.url, [("Alpha page", "/government/publications/a", "other")]))
        command = [sys.executable, "-m", "monitor"]
        before = subprocess.run([*command, "status", "--config", str(config)], capture_output=True, text=True, timeout=60)
        ran = subprocess.run([*command, "run", "--config", str(config)], capture_output=True, text=True, timeout=120)
        after = subprocess.run([*command, "status", "--config", str(config)], capture_output=True, text=True, timeout=60)
    assert (before.returncode, before.stderr) == (0, "")
    assert before.stdout.startswith("no runs yet")
    assert ran.returncode == 0, ran.stderr
    assert (after.returncode, after.stderr) == (0, "")
    lines = after.stdout.splitlines()
    assert lines[0] == "targets (1 watched; times in Europe/London):"
    assert lines[2].split()[:4] == ["Alpha", "page", "other", "ok"]
    assert lines[3] == "last 1 runs:"
    assert lines[5].split()[0] == "1"
    assert lines[5].endswith("completed  run      checked 1, baseline 1")
