"""Opening the database: SQLite tuned for an unattended writer that must survive SIGKILL.

* WAL journal with ``synchronous=FULL``: a killed run loses at most its open transaction, and
  researchers can read while a run writes.
* Writers start with ``BEGIN IMMEDIATE`` (a plain ``BEGIN`` that later writes fails at once with
  "database is locked", busy timeout or not); readers use a plain deferred ``BEGIN``.
* The schema is created on first use and upgraded by Alembic (``storage.migrate``), after
  checking the database is dfe-monitor's: somebody else's is refused before anything is written.
* ``readonly`` opens for reading only (``file:...?mode=ro`` on SQLite, a read-only transaction on
  PostgreSQL), never creating or upgrading anything: researchers' commands work on a copy in a
  read-only folder too.
* ``setup`` refuses a damaged file before anything is written to it (``PRAGMA quick_check``:
  about 0.15 s per 300 MB when cached, 2.7 s cold; skipped when the file is exactly as a clean
  run left it after a full check in the last day, ``storage/checked.py``), and a stored blob
  that no longer decompresses is reported as damage, not as a bug.
* ``DFE_MONITOR_MAX_PAGE_COUNT`` (tests only) caps the file at that many pages: SQLite then
  answers "database or disk is full" (SQLITE_FULL) exactly as it does when the disk fills up.
"""

from __future__ import annotations

import os
import sqlite3
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session

from storage import checked
from storage.migrate import DatabaseState, inspect_database, upgrade

BUSY_TIMEOUT_MS = 30_000
MAX_PAGE_COUNT_ENV = "DFE_MONITOR_MAX_PAGE_COUNT"  # test hook: simulate a full disk


class StorageFailure(Exception):
    """The database cannot be written or opened (disk full, read-only, missing folder)."""


class DatabaseCorrupt(Exception):
    """The database file is damaged or is not a SQLite database."""


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL, or None (another engine, or an in-memory database)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


class Database:
    """An engine plus the two kinds of session the project uses."""

    def __init__(self, url: str, *, readonly: bool = False) -> None:
        self.url = url
        self.readonly = readonly
        self.is_sqlite = url.startswith("sqlite")
        self.dialect = make_url(url).get_backend_name()
        file = sqlite_file(url)
        engine_url: str = url
        if file is not None and readonly:
            engine_url = _readonly_url(file)
        elif file is not None:
            folder = file.parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageFailure(f"cannot create the database folder {folder}: {exc.strerror}") from None
        self.engine = create_engine(engine_url, future=True)
        if self.is_sqlite:
            _tune_sqlite(self.engine, readonly=readonly)
        elif readonly:
            self.engine = self.engine.execution_options(postgresql_readonly=True)
        self._writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self.checked_at: float | None = None  # when the file was last checked in full

    @property
    def name(self) -> str:
        """The database as people name it (the file, or the URL without its password)."""
        file = sqlite_file(self.url)
        return str(file) if file is not None else make_url(self.url).render_as_string(hide_password=True)

    def setup(self) -> None:
        """Check the database is usable and ours, then create or upgrade its schema."""
        if self.readonly:
            raise StorageFailure("a read-only database cannot be set up")
        try:
            self._setup()
        except StorageFailure as exc:
            why = unwritable_reason(self.url)
            raise StorageFailure(f"{exc} ({why})" if why else str(exc)) from None

    def _setup(self) -> None:
        file = sqlite_file(self.url)
        if file is not None and file.exists() and file.stat().st_size:
            # Looked at read-only first: even switching a file to WAL mode writes to it, and
            # somebody else's database must be refused before that.
            probe = Database(self.url, readonly=True)
            try:
                probe.check_unless_unchanged()
                self.checked_at = probe.checked_at
                probe.state()
            finally:
                probe.dispose()
        elif file is not None:
            self.checked_at = time.time()  # a new file: nothing in it to check
        with translate_errors():
            upgrade(self._writer, self.name)

    def check_unless_unchanged(self) -> None:
        """:meth:`quick_check`, unless the file is exactly as a clean run left it after a full
        check in the last day (``storage.checked``)."""
        file = sqlite_file(self.url)
        if file is None:
            return
        self.checked_at = checked.last_full_check(file)
        if self.checked_at is None:
            self.quick_check()
            self.checked_at = time.time()

    def remember_checked(self) -> None:
        """After a clean run, with the engine disposed: record the file as this run left it."""
        file = sqlite_file(self.url)
        if file is not None and self.checked_at is not None and not self.readonly:
            checked.remember(file, self.checked_at)

    def quick_check(self) -> None:
        """DatabaseCorrupt when a SQLite file is damaged (before anything is written to it)."""
        if not self.is_sqlite:
            return
        with translate_errors(), self.engine.connect() as conn:
            conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()
            problems = [str(row[0]) for row in conn.exec_driver_sql("PRAGMA quick_check(3)")]
            if problems != ["ok"]:
                raise DatabaseCorrupt(" ".join(" ".join(problems).split())[:300])

    def state(self) -> DatabaseState:
        """What the database is (new, ours at some revision), without writing; ForeignDatabase
        when it is somebody else's."""
        with translate_errors(), self.engine.connect() as conn:
            return inspect_database(conn, self.name)

    def has_schema(self) -> bool:
        """True when the database holds dfe-monitor's tables (a new file does not yet)."""
        with translate_errors():
            return inspect(self.engine).has_table("targets")

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one write transaction (BEGIN IMMEDIATE); commits on success."""
        with translate_errors(), Session(self._writer, expire_on_commit=False) as session:
            with session.begin():
                yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with translate_errors(), Session(self.engine, expire_on_commit=False) as session:
            yield session

    def integrity_check(self) -> str:
        with self.engine.connect() as conn:
            rows = conn.exec_driver_sql("PRAGMA integrity_check").fetchall()
        return "; ".join(str(r[0]) for r in rows)

    def dispose(self) -> None:
        self.engine.dispose()


def _readonly_url(file: Path) -> str:
    """``mode=ro``; in a folder nobody may write, ``immutable=1`` as well: a WAL file cannot be
    opened read-only there without its -shm file, and nothing can change it meanwhile."""
    query = "mode=ro"
    folder = file.parent
    wal = Path(f"{file}-wal")
    if not os.access(folder, os.W_OK) and not Path(f"{file}-shm").exists() and not (wal.exists() and wal.stat().st_size):
        query += "&immutable=1"
    return f"sqlite:///file:{file}?{query}&uri=true"


def _tune_sqlite(engine: Engine, *, readonly: bool = False) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if readonly:
            cursor.close()
            return
        mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "memory":
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        max_pages = os.environ.get(MAX_PAGE_COUNT_ENV, "")
        if max_pages.isdigit():
            cursor.execute(f"PRAGMA max_page_count = {int(max_pages)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: object) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")  # type: ignore[attr-defined]
        conn.exec_driver_sql(f"BEGIN {mode}")  # type: ignore[attr-defined]


CORRUPT_MARKERS = ("malformed", "not a database", "file is encrypted", "database corrupt")
STORAGE_MARKERS = (
    "disk is full",
    "readonly database",
    "read-only",
    "unable to open database",
    "disk i/o error",
    "no such file",
    "permission denied",
)


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn driver errors people can act on into StorageFailure / DatabaseCorrupt."""
    try:
        yield
    except zlib.error as exc:  # a stored blob no longer decompresses: the file is damaged
        raise DatabaseCorrupt(f"a stored blob is damaged ({exc})") from exc
    except (DBAPIError, OperationalError, sqlite3.DatabaseError) as exc:
        message = str(getattr(exc, "orig", exc)).lower()
        if any(marker in message for marker in CORRUPT_MARKERS):
            raise DatabaseCorrupt(str(getattr(exc, "orig", exc))) from exc
        if any(marker in message for marker in STORAGE_MARKERS):
            raise StorageFailure(str(getattr(exc, "orig", exc))) from exc
        raise


def unwritable_reason(url: str) -> str | None:
    """Why a SQLite database file (and its -wal/-shm files) cannot be written, if we can tell."""
    path = sqlite_file(url)
    if path is None:
        return None
    folder = path.parent
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return f"{folder} is on a read-only file system"
    except OSError:
        return None
    for candidate in (path, folder):
        if candidate.exists() and not os.access(candidate, os.W_OK):
            return f"no permission to write {candidate}"
    return None


def check_readable(url: str) -> None:
    """Raise DatabaseCorrupt quickly when a SQLite file is not a database at all."""
    path = sqlite_file(url)
    if path is None:
        return
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb") as handle:
        header = handle.read(16)
    if header != b"SQLite format 3\x00":
        raise DatabaseCorrupt(f"{path} is not a SQLite database (bad header)")


_DBAPI_PACKAGES = {"MySQLdb": "mysqlclient", "psycopg2": "psycopg2-binary", "cx_Oracle": "cx-Oracle", "psycopg": "psycopg[binary]"}


def database_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be used as the database, in words for the configuration error, or None:
    it must parse, name a dialect SQLAlchemy knows (not an asyncio one), have its driver
    installed (SQLAlchemy only imports it when the first engine is made), and not be a folder."""
    from sqlalchemy.exc import NoSuchModuleError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return 'not a valid SQLAlchemy database URL (e.g. "sqlite:///data/monitor.db" or "postgresql+psycopg://user@host/db")'
    try:
        dialect = parsed.get_dialect()
    except NoSuchModuleError:
        return f'unknown database dialect {parsed.drivername!r}; use a plain path for SQLite or a SQLAlchemy URL such as "postgresql+psycopg://..."'
    if getattr(dialect, "is_async", False):
        return f'{parsed.drivername!r} is an asyncio driver; use a synchronous one (e.g. "postgresql+psycopg")'
    try:
        load: Any = getattr(dialect, "import_dbapi", None) or dialect.dbapi  # 1.x dialects: dbapi()
        load()
    except ImportError as exc:
        module = (exc.name or "").split(".")[0]
        hint = f"install it with `pip install {_DBAPI_PACKAGES.get(module, module)}`" if module else f"install its Python driver ({exc})"
        return f"the driver for {parsed.drivername!r} is not installed; {hint}"
    database = parsed.database
    if parsed.get_backend_name() == "sqlite" and database and not database.startswith("file:") and database != ":memory:" and Path(database).expanduser().is_dir():
        return f"{database!r} is a folder; name a database file in it"
    return None
