"""Discovery: Search API results not yet watched become targets; only later arrivals are `new`.

A [[discover]] entry's first successful run is a silent baseline (a fresh install must not flood
the feed with every publication DfE ever made); a publication that appears in the results later
gives exactly one `new` entry and is watched like any configured page from then on. Whole runs
in this process (tests/support/inprocess.py).
"""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest
from support.inprocess import Completed, in_process_crawls, run_cli
from support.sitebuilder import Site, config_text

from monitor.config import load_config
from monitor.demo.server import Fault, FixtureServer
from monitor.record.status import print_status

A = "/government/publications/privacy-notice"  # configured
OLD = "/government/publications/npd-requests-2025"  # in the results from the start
NEW = "/government/publications/npd-requests-2026"  # appears later
SEARCH = "/api/search.json"


@pytest.fixture(autouse=True)
def _runs_in_this_process(monkeypatch):
    with in_process_crawls(monkeypatch):
        yield


def monitor(config: Path, *args: str) -> Completed:
    return run_cli(*args, "--config", str(config))


def run(config: Path) -> str:
    result = monitor(config, "run")
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[0]


def changes(config: Path) -> list[dict]:
    result = monitor(config, "changes", "--json")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def query(folder: Path, sql: str, *args: object) -> list[tuple]:
    con = sqlite3.connect(folder / "monitor.db")
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def discovery_lines(config: Path) -> list[str]:
    out = io.StringIO()
    print_status(load_config(config), out=out)
    lines = out.getvalue().splitlines()
    start = lines.index("discovery:")
    return [line.strip() for line in lines[start + 1 : start + 3]]


def result(path: str, title: str) -> dict[str, str]:
    return {"title": title, "link": path, "description": f"{title}: data from the national pupil database", "format": "publication"}


@pytest.fixture
def site(tmp_path):
    """States: before (A, OLD), after (NEW published), edited (NEW changed)."""
    site = Site(tmp_path / "site")
    before = site.state("before")
    before.robots()
    before.item(A, title="Privacy notice", body="<p>We share pupil data.</p>")
    before.item(OLD, title="NPD requests approved in 2025", body="<p>2025 list.</p>")
    before.search([result(A, "Privacy notice"), result(OLD, "NPD requests approved in 2025")])
    after = site.copy_state("before", "after")
    after.item(NEW, title="NPD requests approved in 2026", body="<p>2026 list.</p>")
    after.search([result(NEW, "NPD requests approved in 2026"), result(A, "Privacy notice"), result(OLD, "NPD requests approved in 2025")])
    edited = site.copy_state("after", "edited")
    edited.item(
        NEW,
        title="NPD requests approved in 2026",
        body="<p>2026 list.</p><p>Home Office request approved.</p>",
        change_history=[("2026-02-01T09:30:00.000+00:00", "Added February approvals.")],
        public_updated_at="2026-02-01T09:30:00.000+00:00",
    )
    with FixtureServer(site.root) as server:
        config = tmp_path / "config.toml"
        config.write_text(config_text(server.url, [("Privacy notice", A, "privacy-notice")], discover=[{"query": "national pupil database", "category": "release-register"}]))
        yield server, config


def test_first_run_is_a_baseline_then_one_new_entry_and_the_page_is_watched(site, tmp_path):
    server, config = site
    assert run(config).startswith("run 1 completed: 2 targets checked, 0 unchanged, 0 changed, 0 failed, 2 baseline, 1 discovered;")
    assert changes(config) == []
    assert query(tmp_path, "SELECT name, category, source FROM targets ORDER BY id") == [
        ("Privacy notice", "privacy-notice", "config"),
        ("NPD requests approved in 2025", "release-register", "discovered"),
    ]

    server.set_state("after")
    assert run(config).startswith("run 2 completed: 3 targets checked, 2 unchanged, 0 changed, 0 failed, 1 baseline, 1 discovered; 1 feed entries added;")
    entries = changes(config)
    assert [(e["kind"], e["url"], e["name"], e["category"], e["silent_edit"]) for e in entries] == [
        ("new", f"{server.url}{NEW}", "NPD requests approved in 2026", "release-register", None)
    ]
    assert entries[0]["summary"] == "New DfE publication: NPD requests approved in 2026"

    # the next run fetches the new page like any other and reports its edit; no second `new`
    server.set_state("edited")
    first_request = len(server.requests)
    assert run(config).startswith("run 3 completed: 3 targets checked, 2 unchanged, 1 changed, 0 failed; 1 feed entries added;")
    fetched = [r.path for r in server.requests[first_request:]]
    assert fetched.count(f"/api/content{NEW}") == 1
    assert query(tmp_path, "SELECT role, status FROM fetches WHERE run_id = 3 AND target_url = ?", f"{server.url}{NEW}") == [("api", 200)]
    entries = changes(config)
    assert [(e["kind"], e["url"]) for e in entries] == [("new", f"{server.url}{NEW}"), ("changed", f"{server.url}{NEW}")]
    assert entries[1]["silent_edit"] is False

    # nothing new, nothing changed: nothing added
    assert run(config).startswith("run 4 completed: 3 targets checked, 3 unchanged, 0 changed, 0 failed;")
    assert len(changes(config)) == 2


def test_a_failed_search_is_not_a_baseline_and_adds_nothing(site, tmp_path):
    server, config = site
    # first run: the Search API is down, so the baseline has not happened yet
    server.add_fault(SEARCH, Fault(kind="status", status=503))
    assert run(config).startswith("run 1 completed: 1 targets checked, 0 unchanged, 0 changed, 0 failed, 1 baseline;")
    assert query(tmp_path, "SELECT count(*) FROM discover_queries") == [(0,)]
    # the feed says nothing about it, so `status` must
    assert discovery_lines(config) == [
        "QUERY                    LAST GOOD SEARCH  FOUND  NEWEST SEARCH",
        "national pupil database  never             0      failed: HTTP 503; gave up after 1 retries (HTTP 503)",
    ]
    # second run: the search answers (NEW is there too): still the baseline, so silent
    server.clear_faults()
    server.set_state("after")
    assert run(config).startswith("run 2 completed: 3 targets checked, 1 unchanged, 0 changed, 0 failed, 2 baseline, 2 discovered;")
    assert changes(config) == []
    # a later search failure neither forgets nor re-announces anything
    server.add_fault(SEARCH, Fault(kind="status", status=503))
    assert run(config).startswith("run 3 completed: 3 targets checked, 3 unchanged, 0 changed, 0 failed;")
    server.clear_faults()
    assert run(config).startswith("run 4 completed: 3 targets checked, 3 unchanged, 0 changed, 0 failed;")
    assert changes(config) == []
    assert query(tmp_path, "SELECT count(*) FROM targets") == [(3,)]
    assert discovery_lines(config)[1].split()[-2:] == ["2", "ok"]


# -- categories: each entry's own results, the first entry in config order wins -------------------

NPD_ONLY = "/government/publications/npd-privacy-notice"
CENSUS_ONLY = "/government/publications/school-census-2027-guide"
BOTH = "/government/publications/school-census-and-the-national-pupil-database"
ENTRIES = [{"query": "school census", "category": "census-guidance"}, {"query": "national pupil database", "category": "release-register"}]


def _described(path: str, title: str, description: str) -> dict[str, str]:
    return {"title": title, "link": path, "description": description, "format": "publication"}


@pytest.fixture
def two_entries(tmp_path):
    site = Site(tmp_path / "site")
    state = site.state("before")
    state.robots()
    state.item(A, title="Privacy notice")
    for path, title in ((NPD_ONLY, "NPD privacy notice"), (CENSUS_ONLY, "School census 2027 guide"), (BOTH, "How the school census feeds the NPD")):
        state.item(path, title=title)
    state.search([
        _described(NPD_ONLY, "NPD privacy notice", "How the national pupil database uses your data."),
        _described(CENSUS_ONLY, "School census 2027 guide", "What schools return in the census."),
        _described(BOTH, "How the school census feeds the NPD", "School census returns become national pupil database records."),
    ])
    with FixtureServer(site.root) as server:
        config = tmp_path / "config.toml"
        config.write_text(config_text(server.url, [("Privacy notice", A, "privacy-notice")], discover=ENTRIES))
        yield server, config


def test_each_entry_categorises_its_own_results_and_a_shared_one_goes_to_the_first_in_config_order(two_entries, tmp_path):
    server, config = two_entries
    run(config)
    assert sorted(query(tmp_path, "SELECT url, category, discovered_by FROM targets WHERE source = 'discovered'")) == sorted([
        (f"{server.url}{NPD_ONLY}", "release-register", "national pupil database|department-for-education|"),
        (f"{server.url}{CENSUS_ONLY}", "census-guidance", "school census|department-for-education|"),
        (f"{server.url}{BOTH}", "census-guidance", "school census|department-for-education|"),
    ])
    # every discovered page fetched once, whichever search found it first
    assert [r.path for r in server.requests].count(f"/api/content{BOTH}") == 1


def test_the_order_searches_are_answered_in_does_not_decide_a_category(two_entries, tmp_path):
    """The second entry's search answered first (as a concurrent crawl may): same categories."""
    from datetime import UTC, datetime

    from monitor.demo.server import matching
    from monitor.record.connect import open_database
    from monitor.record.discovery import discover_new
    from monitor.record.run import process_settings
    from monitor.record.versions import Processor
    from storage import repo

    server, config_path = two_entries
    config = load_config(config_path)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    every = json.loads((tmp_path / "site" / "before" / "api" / "search.json").read_text())["results"]
    answers = {entry.key: {"results": matching(every, entry.query), "total": 2} for entry in config.discover}
    db = open_database(config)
    try:
        with db.write() as session:
            run_id = repo.start_run(session, now, 1)
            for entry in reversed(config.discover):
                body = json.dumps(answers[entry.key]).encode()
                repo.record_fetch(session, run_id, now, body, target_url=None, role="search", url=f"{server.url}{SEARCH}?q={entry.query}", status=200, meta=json.dumps({"discover_key": entry.key}))
        discover_new(db, config, run_id, Processor(db, process_settings(config), run_id, now), now)
        with db.read() as session:
            categories = {t.url.removeprefix(server.url): t.category for t in repo.all_targets(session) if t.source == "discovered"}
    finally:
        db.dispose()
    assert categories[BOTH] == "census-guidance"
    assert categories[NPD_ONLY] == "release-register"


def test_the_search_stand_in_answers_each_query_with_its_own_results(two_entries):
    server, _ = two_entries
    import urllib.request

    def links(q: str) -> list[str]:
        with urllib.request.urlopen(f"{server.url}{SEARCH}?q={q.replace(' ', '+')}&count=10") as answer:
            return [r["link"] for r in json.loads(answer.read())["results"]]

    assert links("school census") == [CENSUS_ONLY, BOTH]
    assert links("national pupil database") == [NPD_ONLY, BOTH]
    assert links("") == [NPD_ONLY, CENSUS_ONLY, BOTH]
