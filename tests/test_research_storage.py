"""Storage under the research commands: migrations from a real 0.1.0 file, foreign databases
refused before any write, read-only commands that never create anything, WARC evidence, the
PostgreSQL run lock, bounded headers."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from support.inprocess import in_process_crawls, run_cli

from monitor.demo import SITE, write_demo_config
from monitor.demo.server import FixtureServer
from storage import repo
from storage.db import Database
from storage.migrate import head_revision
from storage.schema import SCHEMA_VERSION

FIXTURES = Path(__file__).parent / "fixtures"
VENV_BIN = Path(sys.executable).parent
TARGET = '[[targets]]\nname = "A page"\nurl = "https://www.gov.uk/a"\n'


def old_database(path: Path, user_version: int = 1) -> Path:
    """A file exactly as dfe-monitor 0.1.0 left it, with a few rows."""
    con = sqlite3.connect(path)
    con.executescript((FIXTURES / "schema_0_1_0.sql").read_text())
    con.execute(f"PRAGMA user_version = {user_version}")
    rows = [
        (1, "https://x/never", "never checked", None, 0),
        (2, "https://x/gone", "gone once", "2026-11-01 06:17:00", 1),
        (3, "https://x/fine", "fine", "2026-11-01 06:17:00", 0),
    ]
    for id_, url, name, checked, gone in rows:
        con.execute(
            "INSERT INTO targets VALUES (?, ?, ?, ?, 'other', 'config', NULL, 1, '2026-10-01 06:17:00', 'ok', 0, ?, NULL, ?, ?, NULL)",
            (id_, url, url, name, gone, checked, checked),
        )
    con.execute("INSERT INTO runs VALUES (1, '2026-11-01 06:17:00', '2026-11-01 06:18:00', 'completed', 1, 'run', '{}', NULL)")
    con.execute("INSERT INTO blobs VALUES ('ab', 2, 'zlib', x'789c', '2026-11-01 06:17:00')")
    con.commit()
    con.close()
    return path


def test_a_0_1_0_database_is_upgraded_without_losing_data(tmp_path):
    path = old_database(tmp_path / "old.db")
    db = Database(f"sqlite:///{path}")
    db.setup()
    db.dispose()
    con = sqlite3.connect(path)
    assert dict(con.execute("SELECT name, state FROM targets")) == {"never checked": "new", "gone once": "gone", "fine": "ok"}
    assert con.execute("SELECT count(*) FROM runs").fetchone() == (1,) and con.execute("SELECT count(*) FROM blobs").fetchone() == (1,)
    assert con.execute("SELECT version_num FROM alembic_version").fetchone() == (head_revision(),)
    assert con.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    assert con.execute("SELECT headers_dropped FROM fetches").fetchall() == []
    con.close()


def test_a_schema_2_database_is_stamped_not_migrated_again(tmp_path):
    path = old_database(tmp_path / "two.db", user_version=2)
    db = Database(f"sqlite:///{path}")
    db.setup()
    db.dispose()
    con = sqlite3.connect(path)
    assert con.execute("SELECT state FROM targets WHERE name = 'never checked'").fetchone() == ("ok",)  # schema 2 data is taken as it is
    assert con.execute("SELECT version_num FROM alembic_version").fetchone() == (head_revision(),)
    con.close()


def test_the_migrated_schema_is_the_models_on_both_engines(database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import storage.outbox  # noqa: F401 - its table joins the metadata
    import storage.research  # noqa: F401 - its tables join the metadata
    from storage.schema import Base

    db = Database(database_url)
    db.setup()
    try:
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": False, "include_object": _ours})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        db.dispose()


def _ours(obj, name, type_, reflected, compare_to):
    if type_ == "table":
        return name != "alembic_version" and "_fts" not in (name or "")
    return not (type_ == "column" and name == "tsv") and not (type_ == "index" and name and name.endswith("_tsv"))


def foreign_files(tmp_path: Path) -> dict[str, Path]:
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT)")
    con.execute("INSERT INTO contacts VALUES (1, 'a@example.org')")
    con.commit()
    con.close()
    versioned = tmp_path / "versioned.db"
    con = sqlite3.connect(versioned)
    con.execute("PRAGMA user_version = 42")
    con.commit()
    con.close()
    alembic = tmp_path / "alembic.db"
    con = sqlite3.connect(alembic)
    con.executescript((FIXTURES / "schema_0_1_0.sql").read_text() + "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL); INSERT INTO alembic_version VALUES ('f00dface');")
    con.commit()
    con.close()
    return {"tables": other, "user_version": versioned, "revision": alembic}


@pytest.mark.parametrize("kind", ["tables", "user_version", "revision"])
@pytest.mark.parametrize("command", [("changes", "--json"), ("run",), ("search", "x"), ("reindex",)])
def test_a_database_that_is_not_ours_is_refused_before_any_write(tmp_path, kind, command):
    path = foreign_files(tmp_path)[kind]
    before = path.read_bytes()
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\ndatabase = "{path.name}"\n{TARGET}')
    result = run_cli(*command, "--config", str(config))
    assert result.returncode == 65 and result.stderr.count("\n") == 1, result.stderr
    assert "refused" in result.stderr and path.name in result.stderr
    assert path.read_bytes() == before and not Path(f"{path}-wal").exists()


def test_a_foreign_postgresql_database_is_refused(postgres_server, tmp_path):
    import psycopg

    url = postgres_server.create_database()
    name = url.split("?")[0].rsplit("/", 1)[-1]
    with psycopg.connect(host=str(postgres_server.socket_dir), user="dfe", dbname=name, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id int)")
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\ndatabase = "{url}"\n{TARGET}')
    result = run_cli("changes", "--config", str(config))
    assert result.returncode == 65 and "not a dfe-monitor database" in result.stderr


@pytest.mark.parametrize("command", [("history", "x"), ("show", "1"), ("diff", "1", "2"), ("search", "x"), ("export", "--format", "csv", "--output", "out.csv")])
def test_read_only_commands_never_create_a_database(tmp_path, command):
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\ndatabase = "data/monitor.db"\n{TARGET}')
    assert run_cli("changes", "--json", "--config", str(config)).stdout == ""
    result = run_cli(*command, "--config", str(config))
    assert result.returncode == 2 and "no database yet: run `dfe-monitor run` first" in result.stderr
    assert not (tmp_path / "data").exists()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("warc")
    with pytest.MonkeyPatch.context() as monkeypatch, in_process_crawls(monkeypatch), FixtureServer(SITE, "before") as server:
        config = write_demo_config(folder, server.url)
        assert run_cli("run", "--config", str(config)).returncode == 0
        server.set_state("after")
        assert run_cli("run", "--config", str(config)).returncode == 0
    return config


@pytest.mark.parametrize("name", ["evidence.warc", "evidence.warc.gz"])
def test_the_warc_export_checks_indexes_and_holds_the_stored_bytes(demo_db, tmp_path, name):
    from warcio.archiveiterator import ArchiveIterator

    out = tmp_path / name
    result = run_cli("export", "--format", "warc", "--output", str(out), "--config", str(demo_db))
    assert result.returncode == 0, result.stderr
    check = subprocess.run([str(VENV_BIN / "warcio"), "check", "-v", str(out)], capture_output=True, text=True)
    assert check.returncode == 0 and "digest pass" in check.stdout and "fail" not in check.stdout, check.stdout + check.stderr
    index = subprocess.run([str(VENV_BIN / "warcio"), "index", str(out)], capture_output=True, text=True, check=True).stdout.splitlines()
    db = Database(f"sqlite:///{demo_db.parent / 'monitor.db'}")
    responses = 0
    try:
        with db.read() as session, out.open("rb") as handle:
            from storage import queries

            fetches = list(queries.body_fetches(session))
            records = list(_records(ArchiveIterator(handle), session))
    finally:
        db.dispose()
    types = [r[0] for r in records]
    assert types[0] == "warcinfo" and types.count("response") == types.count("request") == len(fetches) > 40
    assert len(index) == len(records)
    for kind, headers, payload, stored in records:
        if kind != "response":
            continue
        responses += 1
        assert payload == stored
        assert headers["WARC-Payload-Digest"].startswith("sha256:") and headers["WARC-Block-Digest"].startswith("sha256:")
    assert responses == len(fetches)
    info = records[0][1]
    assert info["WARC-Type"] == "warcinfo"
    assert hashlib.sha256(demo_db.read_bytes()).hexdigest() in records[0][2].decode()


def _records(iterator, session):
    for record in iterator:
        headers = dict(record.rec_headers.headers)
        payload = record.raw_stream.read()
        stored = None
        if record.rec_type == "response":
            fetch_id = int(headers["X-DFE-Monitor-Fetch-Id"])
            from storage import queries

            row = queries.get_fetch(session, fetch_id)
            stored = repo.get_blob(session, row.sha256)
            assert headers["WARC-Target-URI"] == (row.final_url or row.url)
            assert record.http_headers.get_header("Content-Length") == str(len(stored))
        yield record.rec_type, headers, payload, stored


def test_new_captures_keep_every_response_header(demo_db):
    con = sqlite3.connect(demo_db.parent / "monitor.db")
    try:
        rows = con.execute("SELECT headers FROM fetches WHERE status = 200").fetchall()
    finally:
        con.close()
    assert rows and all(h and '"Content-Type"' in h or '"content-type"' in h.lower() for (h,) in rows)


def test_headers_are_bounded_with_a_count_of_those_left_out():
    headers = [(f"X-Filler-{i}", "v" * 1000) for i in range(100)]
    stored, dropped = repo.bounded_headers(headers)
    assert len(stored.encode()) <= repo.MAX_HEADER_BYTES and 0 < dropped < 100
    assert repo.bounded_headers([("ETag", '"1"')]) == ('[["ETag", "\\"1\\""]]', 0)


def test_the_postgresql_run_lock_is_held_by_one_run_and_names_it(postgres_server):
    from monitor.errors import LockHeld
    from monitor.lock import DatabaseLock

    url = postgres_server.create_database()
    with DatabaseLock(url, "shared"):
        with pytest.raises(LockHeld, match=r"dfe-monitor run \(pid \d+ on .*\(server pid \d+\)"):
            DatabaseLock(url, "shared").acquire()
    DatabaseLock(url, "shared").acquire().release()  # released on leaving the block


def test_a_killed_holder_leaves_no_stale_postgresql_lock(postgres_server):
    from monitor.lock import DatabaseLock

    url = postgres_server.create_database()
    code = f"from monitor.lock import DatabaseLock; DatabaseLock({url!r}, 'x').acquire(); print('held', flush=True); import time; time.sleep(60)"
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as holder:
        try:
            assert holder.stdout.readline().strip() == "held"
        finally:
            holder.kill()
            holder.wait(10)
    import time

    for _ in range(50):  # the server notices the closed socket at once; allow it a moment
        try:
            DatabaseLock(url, "x").acquire().release()
            return
        except Exception:  # noqa: BLE001
            time.sleep(0.1)
    pytest.fail("the lock of a killed run was not released")


def test_the_revisions_known_without_alembic_are_alembics_own():
    from alembic.script import ScriptDirectory

    from storage.migrate import REVISIONS, alembic_config

    scripts = ScriptDirectory.from_config(alembic_config())
    assert tuple(reversed([s.revision for s in scripts.walk_revisions()])) == REVISIONS
    assert scripts.get_current_head() == REVISIONS[-1]


def test_the_full_text_indexes_hold_exactly_the_stored_texts_without_insert_triggers(demo_db):
    """The words are added a batch at a time by the writer (migration 0007 dropped the per-row
    insert triggers); FTS5's own check compares each index with its text table."""
    con = sqlite3.connect(demo_db.parent / "monitor.db")
    try:
        triggers = {name for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert triggers >= {"version_text_spans_ad", "file_texts_ad"} and not triggers & {"version_text_spans_ai", "file_texts_ai", "version_texts_ad"}
        for table, fts in (("version_text_spans", "version_texts_fts"), ("file_texts", "file_texts_fts")):
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0
            con.execute(f"INSERT INTO {fts}({fts}, rank) VALUES ('integrity-check', 1)")
        hits = con.execute("SELECT count(*) FROM version_texts_fts WHERE version_texts_fts MATCH 'nationality'").fetchone()[0]
        assert hits == con.execute("SELECT count(*) FROM version_text_spans WHERE text LIKE '%nationality%'").fetchone()[0] > 0
        # the index's rowid is the view's id: a query written for per-version rows still works
        per_version = con.execute("SELECT count(*) FROM version_texts_fts JOIN version_texts x ON x.id = version_texts_fts.rowid WHERE version_texts_fts MATCH 'nationality'").fetchone()[0]
        assert per_version == con.execute("SELECT count(*) FROM version_texts WHERE text LIKE '%nationality%'").fetchone()[0] >= hits
    finally:
        con.close()
