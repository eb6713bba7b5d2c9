"""Storage faults: a full disk, a read-only database, a damaged database file and a researcher's
long read. The database and the feed must come out of each exactly as they went in (or, for the
long read, with the run's work in them), and the message must say what to do.

The full disk is real where the test may mount file systems: the run happens in a private mount
namespace (`unshare --mount`) on a small tmpfs filled to within ~96 KB, so SQLite gets ENOSPC
from the kernel. Elsewhere (and always, as a second witness) `PRAGMA max_page_count`, set through
the test-only `DFE_MONITOR_MAX_PAGE_COUNT` hook in storage/db.py, makes SQLite answer
SQLITE_FULL ("database or disk is full") exactly as a full disk does. The read-only database is
a read-only bind mount of its folder in a private mount namespace (root ignores file modes, so
`chmod` would prove nothing).
"""

from __future__ import annotations

import os
import shutil
import sqlite3

import pytest
from support.faults import (
    build_standard_state,
    namespaces_available,
    query_db,
    run_in_namespace,
    scenario,
    standard_site,
    stderr_lines,
)

from storage.db import MAX_PAGE_COUNT_ENV

NAMESPACES = namespaces_available()
needs_namespaces = pytest.mark.skipif(not NAMESPACES, reason="needs `unshare --mount` and mount rights (root)")


def big_change_site(root):
    """The standard site whose "after" state brings a 400 KB file that does not compress."""
    site = standard_site(root)
    noise = os.urandom(200_000).hex().encode()
    build_standard_state(site.state("after"), version="after", csv=b"Reference,Data\n" + noise)
    return site


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """A baseline run and a run with real changes: a database with history and a feed."""
    with scenario(tmp_path_factory.mktemp("storage"), big_change_site) as s:
        s.run()
        s.server.set_state("after")
        # the next state brings back the old pages with a new 400 KB file that does not compress:
        # the run after it has far more to write than the few pages a disk-full test allows
        build_standard_state(s.site.copy_state("before", "before-again"), version="before", csv=b"Reference,Data\n" + os.urandom(200_000).hex().encode())
        s.run()
        assert s.count("changes") == 3
        s.server.set_state("before-again")  # the next run has changes to write
        yield s
        s.server.set_state("before")


@pytest.fixture
def s(history, tmp_path):
    history.server.set_state("before-again")
    history.server.clear_faults()
    return history.fork(tmp_path / "work")


def first_line(result) -> str:
    return result.stdout.splitlines()[0]


# -- a full disk -----------------------------------------------------------------------------


def assert_disk_full_line(result) -> None:
    """One line; which write hits the wall (a capture, or the run's own bookkeeping) varies."""
    [line] = stderr_lines(result)
    assert line.startswith("dfe-monitor: cannot write to the database"), line
    assert "database or disk is full" in line and line.endswith("the feed was left as it was"), line


def test_disk_full_via_sqlite_page_limit_clear_message_exit_74_old_feed_kept(s):
    before = s.snapshot()
    pages = query_db(s.database, "PRAGMA page_count")[0][0]
    env = {**os.environ, MAX_PAGE_COUNT_ENV: str(pages + 3)}
    from support.faults import monitor

    result = monitor(s.config, "run", env=env)
    assert result.returncode == 74, result.stderr
    assert_disk_full_line(result)
    after = s.snapshot()
    assert after["feed"] == before["feed"]
    # each target is its own transaction: what was committed before the disk filled is whole
    # (a version with its change), nothing earlier was touched
    assert after["versions"][: len(before["versions"])] == before["versions"]
    assert after["changes"][: len(before["changes"])] == before["changes"]
    assert len(after["versions"]) - len(before["versions"]) == len(after["changes"]) - len(before["changes"])
    assert s.integrity() == "ok"
    # room again: the next run completes, records the stopped run as aborted, loses nothing
    result = s.run()
    assert first_line(result).startswith("run 4 completed: 3 targets checked")
    # the full run is recorded as ended (failed, or aborted by the next run if even that
    # could not be written), never left "running" nor "completed"
    assert s.runs()[-2:] in ([(3, "failed"), (4, "completed")], [(3, "aborted"), (4, "completed")])
    assert s.count("changes") == 6 and s.count("versions") == 9  # each page's change once
    assert s.feed.read_bytes().count(b"<entry>") == 6


def test_disk_full_is_recorded_in_the_runs_table_as_a_storage_failure_not_a_bug(s):
    pages = query_db(s.database, "PRAGMA page_count")[0][0]
    from support.faults import monitor

    monitor(s.config, "run", env={**os.environ, MAX_PAGE_COUNT_ENV: str(pages + 3)})
    errors = [error for (error,) in s.sql("SELECT error FROM runs WHERE id = 3")]
    assert errors in ([None], ["database or disk is full"]), errors  # aborted later, or said plainly


@needs_namespaces
def test_disk_full_on_a_real_small_file_system_exit_74_old_feed_kept(s, tmp_path):
    stash, out = tmp_path / "stash", tmp_path / "out"
    shutil.copytree(s.folder, stash)
    used = sum(p.stat().st_size for p in stash.iterdir())
    free = 96 * 1024  # room for the lock, the -shm file and the run's first rows; not for the file
    setup = f"mount -t tmpfs -o size={used + free} tmpfs {s.folder}\ncp -a {stash}/. {s.folder}/"
    result = run_in_namespace(setup, s.config, tmp_path / "rc", after=f"mkdir -p {out} && cp -a {s.folder}/. {out}/")
    assert (tmp_path / "rc").read_text().strip() == "74", result.stderr
    assert_disk_full_line(result)
    assert (out / "feed.atom").read_bytes() == (stash / "feed.atom").read_bytes()
    assert query_db(out / "monitor.db", "PRAGMA integrity_check") == [("ok",)]
    assert query_db(out / "monitor.db", "SELECT id, fingerprint FROM versions ORDER BY id") == query_db(stash / "monitor.db", "SELECT id, fingerprint FROM versions ORDER BY id")
    assert query_db(out / "monitor.db", "SELECT count(*) FROM changes") == [(3,)]


# -- a read-only database --------------------------------------------------------------------


@needs_namespaces
def test_read_only_database_folder_clear_message_exit_74_feed_untouched(s, tmp_path):
    s.write_config(sections={"storage": {"lock_file": str(tmp_path / "monitor.lock")}})
    before = s.snapshot()
    setup = f"mount --bind {s.folder} {s.folder}\nmount -o remount,bind,ro {s.folder}"
    result = run_in_namespace(setup, s.config, tmp_path / "rc")
    assert (tmp_path / "rc").read_text().strip() == "74", result.stderr
    assert stderr_lines(result) == [f"dfe-monitor: cannot use the database monitor.db: unable to open database file ({s.folder} is on a read-only file system)"]
    assert s.snapshot() == before


@needs_namespaces
def test_read_only_folder_with_the_lock_beside_the_database(s, tmp_path):
    before = s.snapshot()
    setup = f"mount --bind {s.folder} {s.folder}\nmount -o remount,bind,ro {s.folder}"
    result = run_in_namespace(setup, s.config, tmp_path / "rc")
    assert (tmp_path / "rc").read_text().strip() == "74", result.stderr
    assert stderr_lines(result) == [f"dfe-monitor: cannot open the lock file {s.folder / 'monitor.db.lock'}: Read-only file system"]
    assert s.snapshot() == before


# -- a damaged database file -----------------------------------------------------------------

RECOVER = " .recover | sqlite3 recovered.db` and point storage.database at recovered.db"


def damage(data: bytes, how: str) -> bytes:
    page = 4096
    if how == "not a database":
        return b"This is not a SQLite file, sorry" + data[32:]
    if how == "truncated":
        return data[: len(data) // 2]
    if how == "zeroed":
        return b"\0" * len(data)
    if how == "a b-tree page overwritten":
        damaged = bytearray(data)
        damaged[5 * page + 8 : 6 * page] = b"\xff" * (page - 8)
        return bytes(damaged)
    raise ValueError(how)


@pytest.mark.parametrize("how", ["not a database", "truncated", "zeroed", "a b-tree page overwritten"])
def test_a_damaged_database_is_refused_with_exit_65_and_how_to_recover(s, how):
    data = damage(s.database.read_bytes(), how)
    s.database.write_bytes(data)
    feed = s.feed.read_bytes()
    result = s.run(expect=65)
    [line] = stderr_lines(result)
    assert line.startswith("dfe-monitor: the database monitor.db is damaged (")
    assert line.endswith(RECOVER)
    assert f"stop the runs, keep a copy of it, then recover with `sqlite3 {s.database}" in line  # absolute: works from any folder
    assert result.stdout == ""
    assert s.database.read_bytes() == data, "nothing may be written to a damaged database"
    assert s.feed.read_bytes() == feed


def damage_a_blob(s) -> None:
    """Valid SQLite structure, damaged content: the latest document of a page no longer
    decompresses (what a bad sector inside a blob looks like; SQLite has no checksums)."""
    [(sha,)] = s.sql("SELECT document_sha256 FROM versions WHERE target_id = 1 ORDER BY id DESC LIMIT 1")
    con = sqlite3.connect(s.database)
    with con:
        con.execute("UPDATE blobs SET data = ? WHERE sha256 = ?", (b"x\x9c" + os.urandom(64), sha))
    con.close()


def test_a_damaged_blob_stops_the_run_with_exit_65(s):
    damage_a_blob(s)
    feed = s.feed.read_bytes()
    versions = s.versions()
    result = s.run(expect=65)
    [line] = stderr_lines(result)
    assert line.startswith("dfe-monitor: the database monitor.db is damaged (a stored blob is damaged (")  # zlib or zstd says how
    assert s.feed.read_bytes() == feed
    assert s.versions() == versions


def test_a_damaged_blob_message_says_how_to_recover(s):
    damage_a_blob(s)
    result = s.run(expect=65)
    assert stderr_lines(result)[0].endswith(RECOVER)


# -- a researcher's long read ----------------------------------------------------------------


def test_a_long_read_during_a_run_does_not_stop_it_writing(s):
    reader = sqlite3.connect(s.database, timeout=0)
    try:
        reader.execute("BEGIN")
        seen = reader.execute("SELECT count(*) FROM versions").fetchone()[0]  # the snapshot starts here
        result = s.run()
        assert first_line(result).startswith("run 3 completed: 3 targets checked, 0 unchanged, 3 changed, 0 failed;")
        # the reader still sees its snapshot, the writer's rows are committed beside it (WAL)
        assert reader.execute("SELECT count(*) FROM versions").fetchone()[0] == seen
        assert query_db(s.database, "SELECT count(*) FROM versions")[0][0] == seen + 3
        reader.execute("COMMIT")
        assert reader.execute("SELECT count(*) FROM versions").fetchone()[0] == seen + 3
    finally:
        reader.close()
    assert query_db(s.database, "PRAGMA journal_mode") == [("wal",)]
    assert s.integrity() == "ok"
