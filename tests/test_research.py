"""The researchers' commands on a real history (the bundled demo site, before and after), on
SQLite and on PostgreSQL: filters, show, history, diff, search, exports, and reindex giving
exactly the rows the runs wrote."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from support.inprocess import in_process_crawls, run_cli

from monitor.demo import SITE, write_demo_config
from monitor.demo.server import FixtureServer
from storage.db import Database

RESEARCH_TABLES = {
    "version_texts": "version_id, position, part, section, text",
    "version_text_spans": "target_id, position, part, section, text, first_version_id, last_version_id",
    "file_texts": "sha256, position, part, section, text",
    "version_files": "version_id, position, title, url, sha256, status, format, extraction_error",
    "register_rows": "target_id, file_url, sheet, key_column, row_key, column_name, value, first_version_id, last_version_id",
    "change_details": "change_id, position, detail, op, file_url, section, key, before, after",
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def demo(request, tmp_path_factory):
    """The demo's two runs (before, after) in this process; yields the config path."""
    folder = tmp_path_factory.mktemp(f"demo-{request.param}")
    url = None
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_server").create_database()
    with pytest.MonkeyPatch.context() as monkeypatch, in_process_crawls(monkeypatch), FixtureServer(SITE, "before") as server:
        config = write_demo_config(folder, server.url)
        if url is not None:
            config.write_text(config.read_text().replace('database = "monitor.db"', f'database = "{url}"'))
        assert cli("run", config=config).returncode == 0
        server.set_state("after")
        result = cli("run", config=config)
        assert result.returncode == 0, result.stderr
    return config


def cli(*args: str, config: Path):
    return run_cli(*args, "--config", str(config))


def lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def database(config: Path) -> Database:
    from monitor.config import load_config

    return Database(load_config(config).database_url)


def snapshot(config: Path) -> dict[str, list[tuple]]:
    from sqlalchemy import text

    db = database(config)
    try:
        with db.engine.connect() as conn:
            return {t: sorted(map(tuple, conn.execute(text(f"SELECT {cols} FROM {t}")))) for t, cols in RESEARCH_TABLES.items()}
    finally:
        db.dispose()


def test_changes_filters_combine(demo):
    every = lines(cli("changes", "--json", config=demo).stdout)
    assert len(every) == 10 and {"id", "url", "name", "category", "kind", "detected_at", "summary", "silent_edit", "priority", "feed_id"} <= set(every[0])
    silent = lines(cli("changes", "--json", "--silent", config=demo).stdout)
    assert [r["id"] for r in silent] == [r["id"] for r in every if r["silent_edit"]] and len(silent) == 4
    privacy = lines(cli("changes", "--json", "--silent", "--category", "privacy-notice", config=demo).stdout)
    assert {r["name"] for r in privacy} == {"Privacy information: EYFS to key stage 3", "Privacy notice model documents for schools"}
    high = lines(cli("changes", "--json", "--priority", "high", config=demo).stdout)
    assert high and all(r["priority"] == "high" for r in high) and len(high) < len(every)
    target = lines(cli("changes", "--json", "--target", "DfE external data shares", config=demo).stdout)
    assert [r["name"] for r in target] == ["DfE external data shares"]
    newest = lines(cli("changes", "--json", "--limit", "2", config=demo).stdout)
    assert [r["id"] for r in newest] == [r["id"] for r in every[-2:]]
    assert cli("changes", "--since", "2999-01-01", config=demo).stdout == ""
    assert len(lines(cli("changes", "--json", "--since", "2000-01-01T00:00:00+01:00", config=demo).stdout)) == 10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("changes", "--since", "29/11/2026"), "is not a date"),
        (("changes", "--since", "2026-11-29T10:00:00"), "is not a date"),
        (("changes", "--category", "privacy-notices"), "did you mean 'privacy-notice'"),
        (("changes", "--priority", "urgent"), "high or normal"),
        (("changes", "--limit", "0"), "at least 1"),
        (("changes", "--target", "DfE external shares"), "did you mean 'DfE external data shares'"),
        (("history", "Privacy informations EYFS"), "did you mean 'Privacy information: EYFS to key stage 3'"),
        (("show", "9999"), "no change has id 9999"),
        (("show", "six"), "is not a number"),
        (("diff", "1", "9999"), "no version has id 9999"),
        (("diff", "1", "2"), "belong to different targets"),
        (("search", "  ...  "), "no word to look for"),
        (("export", "--format", "zip", "--output", "x"), "is not a format"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(demo, args, message):
    result = cli(*args, config=demo)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and message in result.stderr and "Traceback" not in result.stderr


def test_history_lists_every_version_with_the_sha256_of_its_captures(demo):
    records = lines(cli("history", "DfE external data shares", "--json", config=demo).stdout)
    assert len(records) == 2 and records[0]["version_id"] < records[1]["version_id"]
    for record in records:
        assert {"version_id", "captured_at", "sha256"} <= set(record) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["captured_at"])
        assert record["sha256"] and all(re.fullmatch(r"[0-9a-f]{64}", s) for s in record["sha256"])
    assert records[1]["change_notes"] == [{"timestamp": "2026-12-10T09:30:00.000+00:00", "note": "Added data shares for July to September 2026."}]
    by_url = lines(cli("history", records[0]["url"], "--json", config=demo).stdout)
    assert [r["version_id"] for r in by_url] == [r["version_id"] for r in records]


def test_show_prints_the_whole_diff(demo):
    silent = lines(cli("changes", "--json", "--silent", "--category", "privacy-notice", config=demo).stdout)[0]
    record = lines(cli("show", str(silent["id"]), "--json", config=demo).stdout)[0]
    assert record["id"] == silent["id"] and record["details"]["text_changes"]
    assert [(r["detail"], r["op"]) for r in record["rows"]] == [("text", "added")]
    assert "Home Office" in record["rows"][0]["after"]
    text = cli("show", str(silent["id"]), config=demo).stdout
    assert "text added [Who we share data with]" in text


def test_diff_compares_the_first_and_last_register_versions_row_by_row(demo):
    versions = lines(cli("history", "DfE external data shares", "--json", config=demo).stdout)
    result = cli("diff", str(versions[0]["version_id"]), str(versions[-1]["version_id"]), "--json", config=demo)
    assert result.returncode == 0, result.stderr
    (diff,) = lines(result.stdout)
    assert diff["target"] == "DfE external data shares" and (diff["from"], diff["to"]) == (versions[0]["version_id"], versions[-1]["version_id"])
    rows = [c for c in diff["changes"] if c["detail"] == "row"]
    assert sum(c["op"] == "added" for c in rows) == 5 and sum(c["op"] == "changed" for c in rows) == 1
    assert any("Home Office" in (c["after"] or "") for c in rows)
    same = lines(cli("diff", str(versions[0]["version_id"]), str(versions[0]["version_id"]), "--json", config=demo).stdout)[0]
    assert same["changes"] == []


def test_search_finds_every_version_that_mentions_a_word_with_a_snippet(demo):
    records = lines(cli("search", "nationality", "--json", config=demo).stdout)
    assert records and all({"target", "url", "version_id", "captured_at", "snippet"} <= set(r) for r in records)
    assert all(re.search(r"\[nationality\]", r["snippet"], re.I) for r in records)
    privacy = [r for r in records if r["target"] == "Privacy information: EYFS to key stage 3"]
    history = lines(cli("history", "Privacy information: EYFS to key stage 3", "--json", config=demo).stdout)
    assert [r["version_id"] for r in privacy] == [history[-1]["version_id"]]  # only the version that added it
    files = [r for r in records if r["source"] == "file"]
    assert files and all(r["file_url"] for r in files)
    phrase = lines(cli("search", '"country of birth"', "--category", "privacy-notice", "--json", config=demo).stdout)
    assert phrase and {r["category"] for r in phrase} == {"privacy-notice"}
    assert cli("search", "nationality", "--since", "2999-01-01", "--json", config=demo).stdout == ""
    assert cli("search", "zzzunheardof", config=demo).stdout.startswith("nothing found")


def test_exports_csv_and_jsonl(demo, tmp_path):
    every = lines(cli("changes", "--json", config=demo).stdout)
    assert cli("export", "--format", "jsonl", "--output", str(tmp_path / "c.jsonl"), config=demo).returncode == 0
    assert lines((tmp_path / "c.jsonl").read_text()) == every
    assert cli("export", "--format", "csv", "--output", str(tmp_path / "c.csv"), config=demo).returncode == 0
    import csv

    with (tmp_path / "c.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["id"]) for r in rows] == [r["id"] for r in every]
    none = cli("export", "--format", "csv", "--since", "2999-01-01", "--output", str(tmp_path / "n.csv"), config=demo)
    assert none.returncode == 0 and (tmp_path / "n.csv").read_text().startswith("id,url,name")


def test_reindex_rebuilds_exactly_what_the_runs_wrote_and_is_idempotent(demo):
    written = snapshot(demo)
    assert all(written.values())
    assert written["register_rows"] and any(r[-2] != r[-1] for r in written["register_rows"])  # spans over versions
    first = cli("reindex", config=demo)
    assert first.returncode == 0 and first.stdout.startswith("reindexed ")
    assert snapshot(demo) == written
    assert cli("reindex", config=demo).returncode == 0
    assert snapshot(demo) == written


def test_version_texts_gives_each_version_exactly_the_pieces_of_its_document(demo):
    """The view over the spans: each version's rows, ordered by position, are what derive makes
    of its stored Document; and the spans are shared (the demo's unchanged pages)."""
    from sqlalchemy import text

    from monitor.model import document_from_json
    from monitor.research.derive import version_texts
    from storage import queries, repo

    db = database(demo)
    try:
        with db.read() as session:
            versions = queries.all_versions(session)
            for version in versions:
                document = document_from_json(repo.get_blob(session, version.document_sha256))
                expected = [(r.part, r.section, r.text) for r in version_texts(document)]
                found = session.execute(text("SELECT part, section, text FROM version_texts WHERE version_id = :v ORDER BY position"), {"v": version.id})
                assert [tuple(r) for r in found] == expected, version.id
            spans = session.scalar(text("SELECT count(*) FROM version_text_spans"))
            rows = session.scalar(text("SELECT count(*) FROM version_texts"))
            shared = session.scalar(text("SELECT count(*) FROM version_text_spans WHERE first_version_id < last_version_id"))
    finally:
        db.dispose()
    assert len(versions) > 20 and shared > 0 and spans < rows
