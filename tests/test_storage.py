"""Storage: blobs once per sha256, 304s resolved to stored bodies, WAL, crash bookkeeping."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime

import pytest

from storage import repo
from storage.db import Database, DatabaseCorrupt, check_readable
from storage.schema import SCHEMA_VERSION, Blob, Fetch, Run

NOW = datetime(2026, 11, 28, 6, 17, tzinfo=UTC)


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'data' / 'monitor.db'}")
    database.setup()
    yield database
    database.dispose()


def test_schema_created_on_first_use_in_wal_mode(db, tmp_path):
    path = tmp_path / "data" / "monitor.db"
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"targets", "runs", "blobs", "fetches", "extractions", "versions", "changes", "discover_queries"} <= tables
        assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        con.close()
    assert db.integrity_check() == "ok"


def test_identical_bytes_are_stored_once_and_compressed(db):
    body = b"<p>same</p>" * 1000
    with db.write() as session:
        run_id = repo.start_run(session, NOW, 1)
        for _ in range(3):
            repo.record_fetch(session, run_id, NOW, body, role="api", url="http://x/a", status=200)
    with db.read() as session:
        blobs = session.query(Blob).all()
        assert len(blobs) == 1 and blobs[0].size == len(body) and len(blobs[0].data) < len(body) / 10
        assert repo.get_blob(session, blobs[0].sha256) == body


SEQUENCE = [  # (body, columns): what a run's captures look like, in the order they arrive
    (b"v1", {"role": "attachment", "url": "http://x/f.ods", "status": 200, "etag": '"e1"', "headers": [("ETag", '"e1"'), ("X-A", "1")]}),
    (None, {"role": "attachment", "url": "http://x/f.ods", "status": None, "error": "timed out"}),
    (None, {"role": "attachment", "url": "http://x/f.ods", "status": 304, "not_modified": True}),
    (b"v2", {"role": "attachment", "url": "http://x/f.ods", "status": 200, "etag": '"e2"', "content_type": "text/csv"}),
    (None, {"role": "attachment", "url": "http://x/f.ods", "status": 304, "not_modified": True, "etag": None, "content_type": None}),
    (None, {"role": "page", "url": "http://x/never-stored", "status": 304, "not_modified": True, "target_url": "http://x/p"}),
    (b"p1", {"role": "page", "url": "http://x/p", "status": 200, "target_url": "http://x/p", "meta": '{"title": "t"}', "redirects": '["http://x/q"]'}),
]


def _fetch_rows(db) -> list[tuple]:
    with db.read() as session:
        return [tuple(getattr(f, c.name) for c in Fetch.__table__.columns if c.name != "requested_at") for f in session.query(Fetch).order_by(Fetch.id)]


def test_a_batch_of_fetches_is_stored_exactly_as_one_at_a_time(tmp_path):
    """The crawl stores captures a batch per transaction (record_fetches: one query for the
    bodies 304s stand for, one insert); the rows equal storing them one by one, 304s resolved to
    the newest stored body, including one earlier in the same batch."""
    one, batch = (Database(f"sqlite:///{tmp_path / name}") for name in ("one.db", "batch.db"))
    for database in (one, batch):
        database.setup()
    with one.write() as session:
        run_id = repo.start_run(session, NOW, 1)
        for body, columns in SEQUENCE:
            repo.record_fetch(session, run_id, NOW, body, **columns)
    with batch.write() as session:
        run_id = repo.start_run(session, NOW, 1)
        repo.record_fetches(session, run_id, [(NOW, body, columns) for body, columns in SEQUENCE[:3]])
    with batch.write() as session:
        repo.record_fetches(session, run_id, [(NOW, body, columns) for body, columns in SEQUENCE[3:]])
    rows = _fetch_rows(one)
    assert rows == _fetch_rows(batch)
    shas = [r[[c.name for c in Fetch.__table__.columns if c.name != "requested_at"].index("sha256")] for r in rows]
    assert shas[2] == shas[0] and shas[4] == shas[3] != shas[0] and shas[5] is None and shas[1] is None
    one.dispose()
    batch.dispose()


def test_a_304_takes_the_body_of_the_last_stored_fetch(db):
    with db.write() as session:
        run_id = repo.start_run(session, NOW, 1)
        first = repo.record_fetch(session, run_id, NOW, b"v1", role="attachment", url="http://x/f.ods", status=200, etag='"e1"')
        failed = repo.record_fetch(session, run_id, NOW, None, role="attachment", url="http://x/f.ods", status=None, error="timed out")
        again = repo.record_fetch(session, run_id, NOW, None, role="attachment", url="http://x/f.ods", status=304, not_modified=True)
        assert failed.sha256 is None
        assert again.sha256 == first.sha256 and again.etag == '"e1"'
        assert repo.validators_for(session, ["http://x/f.ods", "http://x/other"]) == {"http://x/f.ods": ('"e1"', None)}


def test_runs_left_running_are_marked_aborted(db):
    with db.write() as session:
        repo.start_run(session, NOW, 111)
    with db.write() as session:
        assert repo.abort_stale_runs(session, NOW) == 1
    with db.read() as session:
        run = session.query(Run).one()
        assert run.status == "aborted" and "killed" in run.error


def test_configured_targets_sync(db):
    with db.write() as session:
        repo.sync_configured_targets(session, [repo.TargetSpec("http://x/a", "A", "other"), repo.TargetSpec("http://x/b", "B", "other")], NOW)
    with db.write() as session:
        repo.sync_configured_targets(session, [repo.TargetSpec("http://x/a", "A renamed", "privacy-notice")], NOW)
    with db.read() as session:
        targets = {t.url: (t.name, t.category, t.active) for t in repo.all_targets(session)}
    assert targets == {"http://x/a": ("A renamed", "privacy-notice", True), "http://x/b": ("B", "other", False)}


def test_feed_ids_are_set_once(db):
    with db.write() as session:
        run_id = repo.start_run(session, NOW, 1)
        repo.sync_configured_targets(session, [repo.TargetSpec("http://x/a", "A", "other")], NOW)
        target = repo.all_targets(session)[0]
        change = repo.add_change(session, feed_id_for=lambda change_id: f"tag:x,2026:{change_id}", target_id=target.id, run_id=run_id, kind="changed", detected_at=NOW, title="t", summary="s", silent_edit=None)
        assert change.feed_id == f"tag:x,2026:{change.id}"


def test_not_a_database_is_reported_as_corrupt(tmp_path):
    path = tmp_path / "monitor.db"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(DatabaseCorrupt, match="not a SQLite database"):
        check_readable(f"sqlite:///{path}")


def test_fetch_rows_keep_provenance(db):
    with db.write() as session:
        run_id = repo.start_run(session, NOW, 1)
        repo.record_fetch(session, run_id, NOW, b"{}", role="api", url="http://x/api/content/a", final_url="http://x/api/content/b", status=200, redirects='["http://x/api/content/a"]', content_type="application/json", etag='"1"', last_modified="Wed, 01 Jan 2025 09:00:00 GMT", elapsed_ms=12, target_url="http://x/a", size=2)
    with db.read() as session:
        fetch = session.query(Fetch).one()
        assert (fetch.url, fetch.final_url, fetch.status, fetch.target_url, fetch.size) == ("http://x/api/content/a", "http://x/api/content/b", 200, "http://x/a", 2)


def test_bytes_that_no_longer_match_their_hash_are_damage(db):
    import zlib

    with db.write() as session:
        run_id = repo.start_run(session, NOW, 1)
        fetch = repo.record_fetch(session, run_id, NOW, b"original bytes", role="api", url="http://x/a", status=200)
        sha = fetch.sha256
        stored = session.get(Blob, sha)
        stored.compression, stored.data = "zlib", zlib.compress(b"tampered bytes")
    with db.read() as session, pytest.raises(DatabaseCorrupt, match="no longer match"):
        repo.get_blob(session, sha)


def test_validators_and_latest_versions_come_in_one_query_each_and_match_one_by_one(db):
    with db.write() as session:
        run_id = repo.start_run(session, NOW, 1)
        for n in range(3):
            for body, etag in ((b"old", f'"{n}a"'), (b"new", f'"{n}b"')):
                repo.record_fetch(session, run_id, NOW, body + bytes([n]), role="api", url=f"http://x/{n}", status=200, etag=etag)
        repo.record_fetch(session, run_id, NOW, None, role="api", url="http://x/0", status=None, error="timed out")
        repo.sync_configured_targets(session, [repo.TargetSpec(f"http://x/{n}", f"T{n}", "other") for n in range(3)], NOW)
        targets = repo.all_targets(session)
        for target in targets[:2]:
            for text in (b"{}", b'{"v": 2}'):
                repo.add_version(session, target_id=target.id, run_id=run_id, now=NOW, document_json=text + target.url.encode(), fingerprint="f", page_fetch_id=None, extractor_version=1)
    urls = [f"http://x/{n}" for n in range(3)] + ["http://x/never"]
    with db.read() as session:
        batched = repo.validators_for(session, urls)
        assert batched == {u: (f.etag, f.last_modified) for u in urls if (f := repo.latest_body_fetch(session, u)) is not None}
        assert batched["http://x/0"] == ('"0b"', None)
        latest = repo.latest_versions(session)
        assert latest == {t.id: v for t in repo.all_targets(session) if (v := repo.latest_version(session, t.id)) is not None}
        assert len(latest) == 2


def test_a_file_as_a_clean_run_left_it_is_not_checked_in_full_again(tmp_path, full_checks):
    """``PRAGMA quick_check`` reads the whole file; a run that ended cleanly records the file
    as it left it, and the next opening skips the check only when nothing has touched it since
    and the last full check is less than a day old."""
    import json
    import os

    from storage import checked

    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    checks = full_checks

    def a_clean_run() -> None:
        database = Database(url)
        database.setup()
        with database.write() as session:
            repo.start_run(session, NOW, 1)
        database.dispose()
        database.remember_checked()

    file = tmp_path / "monitor.db"
    a_clean_run()  # a new file: nothing to check
    a_clean_run()
    assert checks == [] and checked.stamp_path(file).is_file()
    os.utime(file, ns=(file.stat().st_atime_ns, file.stat().st_mtime_ns + 1))  # another writer
    a_clean_run()
    assert len(checks) == 1
    a_clean_run()
    assert len(checks) == 1
    stamp = json.loads(checked.stamp_path(file).read_text())
    checked.stamp_path(file).write_text(json.dumps({**stamp, "checked_at": stamp["checked_at"] - checked.RECHECK_SECONDS}))
    a_clean_run()  # the last full check is a day old
    assert len(checks) == 2
    for junk in (b"", b"not json", b"[]", b'{"state": 1, "checked_at": "x"}'):
        checked.stamp_path(file).write_bytes(junk)
        a_clean_run()
    assert len(checks) == 6
    # a reader that finds the file unchanged skips the check as well, and never writes the stamp
    reader = Database(url, readonly=True)
    reader.check_unless_unchanged()
    reader.dispose()
    reader.remember_checked()
    assert len(checks) == 6


def test_the_stamp_is_never_read_through_a_link_or_from_a_fifo(tmp_path):
    import os

    from storage import checked

    file = tmp_path / "monitor.db"
    file.write_bytes(b"x")
    (tmp_path / "elsewhere").write_text('{"state": [], "checked_at": 0}')
    os.symlink(tmp_path / "elsewhere", checked.stamp_path(file))
    assert checked.last_full_check(file) is None
    os.unlink(checked.stamp_path(file))
    os.mkfifo(checked.stamp_path(file))
    assert checked.last_full_check(file) is None  # returns at once: no writer on the FIFO
    checked.remember(file, 1.0)  # replaces the FIFO with a regular file
    assert checked.stamp_path(file).is_file()


def _page(paragraphs: int, extra: str = "") -> bytes:
    body = "".join(f"<p>Paragraph {n}: records shared under agreement {hashlib.sha256(str(n).encode()).hexdigest()[:24]}.</p>" for n in range(paragraphs))
    return f"<html><body><main>{extra}{body}</main></body></html>".encode()


def test_a_new_body_of_the_same_address_is_a_small_delta_against_a_body_stored_whole(db):
    """The next body of an address is stored as a zstd delta against the last one; a delta's own
    successor goes against the same whole base, so no read takes more than two decompressions."""
    bodies = [_page(300), _page(300, "<p>Update 1: a new share.</p>"), _page(300, "<p>Update 2: another.</p><p>Update 1: a new share.</p>")]
    with db.write() as session:
        run_id = repo.start_run(session, NOW, 1)
        rows = [repo.record_fetch(session, run_id, NOW, body, role="page", url="http://x/p", status=200) for body in bodies]
    with db.read() as session:
        first, second, third = (session.get(Blob, row.sha256) for row in rows)
        assert (first.compression, first.base_sha256) == ("zstd", None)
        assert (second.compression, second.base_sha256) == ("zstd-delta", first.sha256)
        assert (third.compression, third.base_sha256) == ("zstd-delta", first.sha256)  # never a delta of a delta
        assert len(second.data) < 200 < len(first.data) // 10
        assert [repo.get_blob(session, row.sha256) for row in rows] == bodies


def test_unrelated_bytes_and_other_addresses_are_stored_whole(db):
    with db.write() as session:
        run_id = repo.start_run(session, NOW, 1)
        a = repo.record_fetch(session, run_id, NOW, _page(200), role="page", url="http://x/a", status=200)
        b = repo.record_fetch(session, run_id, NOW, _page(200, "<p>other</p>"), role="page", url="http://x/b", status=200)
        c = repo.record_fetch(session, run_id, NOW, bytes(range(256)) * 40, role="page", url="http://x/a", status=200)
        tiny = repo.record_fetch(session, run_id, NOW, b"tiny", role="api", url="http://x/t", status=200)
        after_tiny = repo.record_fetch(session, run_id, NOW, b"tiny, then more", role="api", url="http://x/t", status=200)
    with db.read() as session:
        for row in (a, b, c, tiny, after_tiny):  # b: another address; c: nothing like a; tiny: no dictionary
            assert session.get(Blob, row.sha256).compression == "zstd", row.url


def test_a_versions_document_is_a_delta_against_the_targets_previous_document(db):
    import json

    documents = [json.dumps({"title": "Privacy notice", "blocks": [f"block {n} about pupil data" for n in range(400)], "extra": extra}).encode() for extra in ("", "a change")]
    with db.write() as session:
        run_id = repo.start_run(session, NOW, 1)
        repo.sync_configured_targets(session, [repo.TargetSpec("http://x/p", "P", "privacy-notice")], NOW)
        target_id = repo.all_targets(session)[0].id
        versions = []
        for n, doc in enumerate(documents):
            previous = versions[-1].document_sha256 if versions else None
            versions.append(repo.add_version(session, target_id=target_id, run_id=run_id, now=NOW, document_json=doc, fingerprint=str(n), page_fetch_id=None, extractor_version=1, previous_document=previous))
    with db.read() as session:
        old, new = (session.get(Blob, v.document_sha256) for v in versions)
        assert (old.compression, new.compression, new.base_sha256) == ("zstd", "zstd-delta", old.sha256)
        assert [repo.get_blob(session, v.document_sha256) for v in versions] == documents


@pytest.mark.parametrize("damage", ["base missing", "base is a delta", "data damaged"])
def test_a_damaged_delta_is_said_to_be_damaged(db, damage):
    bodies = [_page(300), _page(300, "<p>one</p>"), _page(300, "<p>two</p>")]
    with db.write() as session:
        run_id = repo.start_run(session, NOW, 1)
        rows = [repo.record_fetch(session, run_id, NOW, body, role="page", url="http://x/p", status=200) for body in bodies]
    with db.write() as session:
        blob = session.get(Blob, rows[1].sha256)
        if damage == "base missing":
            blob.base_sha256 = "0" * 64
        elif damage == "base is a delta":
            blob.base_sha256 = rows[2].sha256
        else:
            blob.data = blob.data[:-8] + b"\x00" * 8
    with db.read() as session, pytest.raises(DatabaseCorrupt):
        repo.get_blob(session, rows[1].sha256)


def test_downgrading_past_the_deltas_writes_them_out_whole(tmp_path):
    from alembic import command

    from storage.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    database = Database(url)
    database.setup()
    bodies = [_page(300), _page(300, "<p>one</p>")]
    with database.write() as session:
        run_id = repo.start_run(session, NOW, 1)
        rows = [repo.record_fetch(session, run_id, NOW, body, role="page", url="http://x/p", status=200) for body in bodies]
    database.dispose()
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0007")
    engine.dispose()
    con = sqlite3.connect(tmp_path / "monitor.db")
    try:
        stored = dict(con.execute("SELECT sha256, data FROM blobs").fetchall())
        assert {r[0] for r in con.execute("SELECT compression FROM blobs")} == {"zlib"}
        assert "base_sha256" not in {r[1] for r in con.execute("PRAGMA table_info(blobs)")}
    finally:
        con.close()
    import zlib

    assert [zlib.decompress(stored[row.sha256]) for row in rows] == bodies
