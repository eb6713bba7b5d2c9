"""Watch health: N failed runs in a row give one `failing` entry, recovery one `recovered`.

Each check is a whole `dfe-monitor run`, in this process (tests/support/inprocess.py), against a
local stand-in for GOV.UK where one of two pages answers 503 for a while (a second, healthy page
keeps each run from being a "nothing could be fetched" run, which records no per-target health
at all). The rules themselves are unit-tested in test_health_rules.py.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from support.inprocess import Completed, in_process_crawls, run_cli
from support.sitebuilder import Site, config_text

from monitor.demo.server import Fault, FixtureServer

A = "/government/publications/a"
B = "/government/publications/b"
ERROR = "Content API: HTTP 503; gave up after 1 retries (HTTP 503)"


def monitor(config: Path, *args: str) -> Completed:
    return run_cli(*args, "--config", str(config))


def changes(config: Path) -> list[dict]:
    result = monitor(config, "changes", "--json")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def entry_kinds(folder: Path) -> list[str]:
    """The kinds of the stored changes (cheap; the exact JSON is checked at the key steps)."""
    con = sqlite3.connect(folder / "monitor.db")
    try:
        return [row[0] for row in con.execute("SELECT kind FROM changes ORDER BY id")]
    finally:
        con.close()


def health(folder: Path, name: str) -> tuple[str, int, str | None]:
    con = sqlite3.connect(folder / "monitor.db")
    try:
        return con.execute("SELECT state, consecutive_failures, last_error FROM targets WHERE name = ?", (name,)).fetchone()
    finally:
        con.close()


class Watch:
    """A fixture site with two pages, and `dfe-monitor run` steps that can break page B."""

    def __init__(self, server: FixtureServer, config: Path) -> None:
        self.server = server
        self.config = config
        self.runs = 0

    def run(self, *, b_fails: bool) -> Completed:
        self.server.clear_faults()
        if b_fails:
            self.server.add_fault(f"/api/content{B}", Fault(kind="status", status=503))
        result = monitor(self.config, "run")
        self.runs += 1
        assert result.returncode == 0, result.stderr
        failed = 1 if b_fails else 0
        assert result.stdout.startswith(f"run {self.runs} ")
        assert f", {failed} failed" in result.stdout.splitlines()[0]
        return result


@pytest.fixture
def watch(tmp_path, monkeypatch):
    site = Site(tmp_path / "site")
    state = site.state("before")
    state.item(A, title="Privacy notice", body="<p>We share pupil data.</p>")
    state.item(B, title="Census guide", body="<p>Census day is in May.</p>")
    state.robots()
    with FixtureServer(site.root) as server, in_process_crawls(monkeypatch):
        config = tmp_path / "config.toml"
        config.write_text(config_text(server.url, [("Privacy notice", A, "privacy-notice"), ("Census guide", B, "census-guidance")]))
        yield Watch(server, config)


def test_failing_after_three_runs_then_recovered(watch, tmp_path):
    watch.run(b_fails=False)  # baseline
    # a transient failure below the threshold says nothing and is forgotten on success
    failed = watch.run(b_fails=True)
    assert f"  failed: Census guide: {ERROR}" in failed.stdout
    assert health(tmp_path, "Census guide") == ("ok", 1, ERROR)
    watch.run(b_fails=True)
    assert health(tmp_path, "Census guide") == ("ok", 2, ERROR)
    watch.run(b_fails=False)
    assert health(tmp_path, "Census guide") == ("ok", 0, None)
    assert entry_kinds(tmp_path) == []

    # three failures in a row: exactly one `failing` entry, on the third
    watch.run(b_fails=True)
    watch.run(b_fails=True)
    assert entry_kinds(tmp_path) == []
    watch.run(b_fails=True)
    entries = changes(watch.config)
    assert [(e["kind"], e["name"], e["category"], e["silent_edit"]) for e in entries] == [("failing", "Census guide", "census-guidance", None)]
    failing = entries[0]
    assert failing["url"].endswith(B)
    assert failing["summary"] == f"The page has failed 3 checks in a row. Last error: {ERROR}"
    assert health(tmp_path, "Census guide") == ("failing", 3, ERROR)

    # still failing: no second entry
    watch.run(b_fails=True)
    assert entry_kinds(tmp_path) == ["failing"]
    assert health(tmp_path, "Census guide") == ("failing", 4, ERROR)

    # recovery: exactly one `recovered` entry, and the page was not "changed"
    watch.run(b_fails=False)
    entries = changes(watch.config)
    assert [(e["kind"], e["name"]) for e in entries] == [("failing", "Census guide"), ("recovered", "Census guide")]
    assert entries[1]["summary"] == "The page answers normally again after 4 failed checks in a row."
    assert health(tmp_path, "Census guide") == ("ok", 0, None)
    feed = (tmp_path / "feed.atom").read_text()
    assert feed.count("<entry>") == 2
    assert "Census guide — failing: Content API: HTTP 503; gave up after 1 retries" in feed
    assert "Census guide — working again" in feed

    # and healthy from then on
    watch.run(b_fails=False)
    assert entry_kinds(tmp_path) == ["failing", "recovered"]
