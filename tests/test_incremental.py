"""A target whose captures are those its current version came from is not read again.

The captures key (monitor/record/versions.py) covers every request's address, answer and body
hash, the settings that read them, and the normaliser version: same key, same Document, so the
run marks the target unchanged without assembling, extracting or diffing anything.
"""

from __future__ import annotations

import pytest
from support.inprocess import in_process_crawls, run_cli
from support.sitebuilder import Site, attachment, config_text

from monitor.demo.server import FixtureServer
from monitor.record import versions

A = "/government/publications/register"
B = "/guidance/notice"
NOTES = [("2026-01-10T09:30:00.000+00:00", "First published.")]


@pytest.fixture
def watched(tmp_path, monkeypatch):
    site = Site(tmp_path / "site")
    before = site.state("before")
    before.robots()
    before.item(A, title="Register", body="<p>Shares.</p>", change_history=NOTES, attachments=[attachment("r1", "register.csv", "Register", 30, "text/csv")], volatile=False)
    before.file("media/r1/register.csv", b"Reference,Organisation\nDS00001,University A\n")
    before.item(B, title="Notice", schema="detailed_guide", body="<p>We collect names.</p>", change_history=NOTES, volatile=False)
    after = site.copy_state("before", "after")
    after.item(B, title="Notice", schema="detailed_guide", body="<p>We collect names and nationality.</p>", change_history=NOTES, volatile=False)
    assembled: list[str] = []
    real = versions.Processor.process_target

    def counting(self, target_id, fetches):
        assembled.append(fetches[0].url)
        return real(self, target_id, fetches)

    monkeypatch.setattr(versions.Processor, "process_target", counting)
    with FixtureServer(site.root, "before") as server, in_process_crawls(monkeypatch):
        server.state.shuffle_links = False  # the Content API serves the same bytes until a republish
        config = tmp_path / "config.toml"
        config.write_text(config_text(server.url, [("Register", A, "release-register"), ("Notice", B, "privacy-notice")]))
        yield server, config, assembled


def run(config) -> str:
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[0]


def test_unchanged_captures_are_not_read_again_and_changed_ones_are(watched, monkeypatch):
    server, config, assembled = watched
    assert run(config).startswith("run 1 completed: 2 targets checked, 0 unchanged, 0 changed, 0 failed, 2 baseline;")
    assert len(assembled) == 2
    # every answer is a 304 now: nothing is assembled, both targets are unchanged
    assembled.clear()
    assert run(config).startswith("run 2 completed: 2 targets checked, 2 unchanged, 0 changed, 0 failed;")
    assert assembled == []
    # one page changes: only that one is read, and its change is reported
    server.set_state("after")
    assert run(config).startswith("run 3 completed: 2 targets checked, 1 unchanged, 1 changed, 0 failed; 1 feed entries added;")
    assert assembled == [f"{server.url}/api/content{B}"]
    # a new normaliser reads everything again (and re-derives, never reports)
    assembled.clear()
    monkeypatch.setattr(versions, "NORMALISER_VERSION", versions.NORMALISER_VERSION + 1)
    assert run(config).startswith("run 4 completed: 2 targets checked, 2 unchanged, 0 changed, 0 failed;")
    assert len(assembled) == 2


def test_a_failed_check_forgets_the_key(watched):
    from monitor.demo.server import Fault

    server, config, assembled = watched
    run(config)
    server.add_fault(f"/api/content{B}", Fault(kind="status", status=503))
    assert ", 1 failed" in run(config)
    server.clear_faults()
    assembled.clear()
    assert run(config).startswith("run 3 completed: 2 targets checked, 2 unchanged, 0 changed, 0 failed;")
    assert assembled == [f"{server.url}/api/content{B}"]  # read again after its failure


def test_planning_reads_the_stored_plan_facts_and_old_versions_still_plan_the_same(watched):
    """Each version stores the files and parent it lists (``versions.plan_facts``), so planning
    a run reads one column per target; a version stored before 0.2.0 (no facts) is read from its
    Document once, with the same plan, and the run stores its facts."""
    import sqlite3

    from monitor.config import load_config
    from monitor.model import plan_facts_from_json, plan_facts_from_stored
    from monitor.record.connect import open_database
    from monitor.record.plan import build_plan
    from storage import repo

    server, config, _ = watched
    run(config)
    database = config.parent / "monitor.db"
    loaded = load_config(config)
    db = open_database(loaded)
    with db.read() as session:
        rows = list(repo.latest_versions(session).values())
        assert len(rows) == 2 and all(v.plan_facts for v in rows)
        for version in rows:
            assert plan_facts_from_stored(version.plan_facts) == plan_facts_from_json(repo.get_blob(session, version.document_sha256))
        assert any(plan_facts_from_stored(v.plan_facts).file_urls for v in rows)  # the register lists its CSV
        planned, backfill = build_plan(session, loaded, None)
        assert backfill == {}
        stored = {v.id: v.plan_facts for v in rows}
    db.dispose()
    con = sqlite3.connect(database)
    with con:
        con.execute("UPDATE versions SET plan_facts = NULL")
    con.close()
    db = open_database(loaded)
    with db.read() as session:
        replanned, backfill = build_plan(session, loaded, None)
        assert replanned == planned
        assert backfill == stored  # read from the Documents this once, for the run to store
    db.dispose()
    assert run(config).startswith("run 2 completed: 2 targets checked, 2 unchanged, 0 changed, 0 failed;")
    db = open_database(loaded)
    with db.read() as session:
        assert {v.id: v.plan_facts for v in repo.latest_versions(session).values()} == stored
    db.dispose()


def test_a_run_does_not_check_the_whole_file_again_after_a_clean_run(watched, full_checks):
    """The database file as a clean run left it is not read in full by the next run (its full
    check takes seconds on a big history)."""
    from storage.checked import stamp_path

    server, config, _ = watched
    checks = full_checks
    run(config)
    run(config)
    assert checks == []
    stamp_path(config.parent / "monitor.db").unlink()
    run(config)
    assert len(checks) == 1
