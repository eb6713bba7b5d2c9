"""GOV.UK lifecycle events: moved, gone then removed, restored, HTML fallback, broken file links.

Whole runs in this process (tests/support/inprocess.py), several per test.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from support.inprocess import Completed, in_process_crawls, run_cli
from support.sitebuilder import Site, attachment, config_text, read_changes

from monitor.demo.server import FixtureServer

NOTES = [("2026-01-10T09:30:00.000+00:00", "First published.")]


@pytest.fixture(autouse=True)
def _runs_in_this_process(monkeypatch):
    with in_process_crawls(monkeypatch):
        yield


def run(config: Path, *args: str) -> Completed:
    return run_cli(*(args or ("run",)), "--config", str(config))


def changes(config: Path) -> list[dict]:
    return read_changes(config)


@pytest.fixture
def site(tmp_path):
    site = Site(tmp_path / "site")
    before = site.state("before")
    before.robots()
    before.item("/guidance/data-sharing", title="How DfE shares personal data", schema="detailed_guide", body="<p>We share data with approved researchers.</p>", change_history=NOTES)
    before.item("/government/publications/npd-requests", title="NPD requests", body="<p>Requests we approved.</p>", change_history=NOTES, attachments=[attachment("a1", "requests.csv", "NPD requests", 40, "text/csv")])
    before.file("media/a1/requests.csv", b"Reference,Organisation\nDS00001,University A\n")
    return site


def start(site: Site, tmp_path: Path, targets: list[tuple[str, str, str]]):
    server = FixtureServer(site.root, "before").start()
    config = tmp_path / "config.toml"
    config.write_text(config_text(server.url, targets))
    return server, config


TARGETS = [("Data sharing", "/guidance/data-sharing", "privacy-notice"), ("NPD requests", "/government/publications/npd-requests", "release-register")]


def test_a_moved_page_is_reported_once_and_followed(site, tmp_path):
    after = site.copy_state("before", "after")
    after.remove("api/content/guidance/data-sharing.json")
    after.item("/guidance/how-dfe-shares-personal-data", title="How DfE shares personal data", schema="detailed_guide", body="<p>We share data with approved researchers.</p>", change_history=NOTES)
    after.routes({"/api/content/guidance/data-sharing": {"status": 301, "location": "{{base}}/api/content/guidance/how-dfe-shares-personal-data"}})
    server, config = start(site, tmp_path, TARGETS)
    try:
        assert run(config).returncode == 0
        server.set_state("after")
        assert run(config).returncode == 0
        third_run_starts = len(server.requests)
        assert run(config).returncode == 0
        paths = [r.path for r in server.requests[third_run_starts:]]
    finally:
        server.stop()
    [moved] = changes(config)
    assert moved["kind"] == "moved" and moved["name"] == "Data sharing"
    assert moved["page_url"] == f"{server.url}/guidance/how-dfe-shares-personal-data"
    assert moved["url"] == f"{server.url}/guidance/data-sharing"  # the identity stays as configured
    # after the move, the new address is asked for directly (and the old one never again)
    assert "/api/content/guidance/how-dfe-shares-personal-data" in paths
    assert paths.count("/api/content/guidance/data-sharing") == 0


def test_gone_twice_is_removed_once_and_restored_when_back(site, tmp_path):
    gone = site.copy_state("before", "gone")
    gone.routes({"/api/content/guidance/data-sharing": {"status": 410, "body": "{}"}})
    server, config = start(site, tmp_path, TARGETS)
    try:
        assert run(config).returncode == 0
        server.set_state("gone")
        first_gone = run(config)
        assert first_gone.returncode == 0
        assert changes(config) == []  # one 410 is not yet a removal
        assert run(config).returncode == 0
        assert run(config).returncode == 0
        removed = changes(config)
        server.set_state("before")
        assert run(config).returncode == 0
        restored = changes(config)
    finally:
        server.stop()
    assert [(c["kind"], c["name"]) for c in removed] == [("removed", "Data sharing")]
    assert "410" in removed[0]["summary"]
    assert [(c["kind"], c["name"]) for c in restored] == [("removed", "Data sharing"), ("restored", "Data sharing")]


def test_page_without_api_item_uses_the_html_page_and_404_twice_is_removed(site, tmp_path):
    state = site.state("before")
    state.page("/government/organisations/department-for-education/about/personal-information-charter", "<html><head><title>Personal information charter - GOV.UK</title></head><body><main id='content'><h1>Personal information charter</h1><div class='gem-c-govspeak'><p>We keep data safe.</p></div></main></body></html>")
    after = site.copy_state("before", "after")
    after.page("/government/organisations/department-for-education/about/personal-information-charter", "<html><head><title>Personal information charter - GOV.UK</title></head><body><main id='content'><h1>Personal information charter</h1><div class='gem-c-govspeak'><p>We keep data safe for 7 years.</p></div></main></body></html>")
    empty = site.copy_state("before", "empty")
    empty.remove("government/organisations/department-for-education/about/personal-information-charter.html")
    targets = [("Charter", "/government/organisations/department-for-education/about/personal-information-charter", "privacy-notice")]
    server, config = start(site, tmp_path, targets)
    try:
        assert run(config).returncode == 0
        server.set_state("after")
        assert run(config).returncode == 0
        server.set_state("empty")
        assert run(config).returncode == 0
        assert run(config).returncode == 0
    finally:
        server.stop()
    records = changes(config)
    assert [(c["kind"], c["silent_edit"]) for c in records] == [("changed", None), ("removed", None)]
    assert records[0]["title"] == "Charter — paragraph changed"


def test_a_broken_file_link_is_reported_and_its_return_too(site, tmp_path):
    broken = site.copy_state("before", "broken")
    broken.remove("media/a1/requests.csv")
    server, config = start(site, tmp_path, TARGETS)
    try:
        assert run(config).returncode == 0
        server.set_state("broken")
        assert run(config).returncode == 0
        assert run(config).returncode == 0
        server.set_state("before")
        assert run(config).returncode == 0
    finally:
        server.stop()
    records = changes(config)
    assert [c["title"] for c in records] == [
        "NPD requests — file link broken: NPD requests, no change note",
        "NPD requests — file link working again: NPD requests, no change note",
    ]


def test_a_file_that_cannot_be_downloaded_keeps_its_last_hash(site, tmp_path):
    from monitor.demo.server import Fault

    server, config = start(site, tmp_path, TARGETS)
    try:
        assert run(config).returncode == 0
        server.add_fault("/media/a1/requests.csv", Fault(kind="status", status=503))
        result = run(config)
    finally:
        server.stop()
    assert result.returncode == 0
    assert changes(config) == []
    con = sqlite3.connect(tmp_path / "monitor.db")
    try:
        assert con.execute("SELECT count(*) FROM versions").fetchone()[0] == 2
        [(status,)] = con.execute("SELECT status FROM runs ORDER BY id DESC LIMIT 1").fetchall()
    finally:
        con.close()
    assert status == "completed"
