"""The shipped datasette metadata names only tables and views that exist, hides the blobs, and
every canned query runs on a database with real history (the demo's two runs)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
import yaml
from support.inprocess import in_process_crawls, run_cli

from monitor.demo import SITE, write_demo_config
from monitor.demo.server import FixtureServer

METADATA = Path(__file__).resolve().parents[1] / "monitor" / "research" / "datasette" / "metadata.yml"
PARAMETERS = {"from_date": "2000-01-01", "to_date": "2999-12-31", "term": "nationality", "target": "DfE external data shares"}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("datasette")
    with pytest.MonkeyPatch.context() as monkeypatch, in_process_crawls(monkeypatch), FixtureServer(SITE, "before") as server:
        config = write_demo_config(folder, server.url)
        assert run_cli("run", "--config", str(config)).returncode == 0
        server.set_state("after")
        assert run_cli("run", "--config", str(config)).returncode == 0
    return folder / "monitor.db"


def metadata() -> dict:
    return yaml.safe_load(METADATA.read_text(encoding="utf-8"))["databases"]["monitor"]


def test_every_table_and_view_is_described_and_exists(demo_db):
    con = sqlite3.connect(demo_db)
    try:
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%_fts%'")}
    finally:
        con.close()
    described = metadata()["tables"]
    assert set(described) == names
    assert all(entry.get("title") and entry.get("description") for entry in described.values())
    assert described["blobs"]["hidden"] is True


@pytest.mark.parametrize("name", ["silent_privacy_edits", "register_rows_added", "versions_mentioning", "target_history"])
def test_every_canned_query_runs_and_finds_something(demo_db, name):
    sql = metadata()["queries"][name]["sql"]
    wanted = set(re.findall(r":(\w+)", sql))
    con = sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True)
    try:
        rows = con.execute(sql, {k: PARAMETERS[k] for k in wanted}).fetchall()
    finally:
        con.close()
    assert rows, name
    if name == "silent_privacy_edits":
        assert len(rows) == 2
    if name == "register_rows_added":
        assert len({r[3] for r in rows if r[1].endswith("July to September 2026")}) >= 5
