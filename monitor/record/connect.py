"""Opening the snapshot database from a Config, and the one place where storage failures become
the errors people read (file named, exit code chosen, recovery command given)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from monitor.config import Config
from monitor.errors import CorruptDatabase, StorageError, UsageError
from storage.db import Database, DatabaseCorrupt, StorageFailure, check_readable, sqlite_file
from storage.migrate import ForeignDatabase

NO_DATABASE = "no database yet: run `dfe-monitor run` first"


def database_file(config: Config) -> Path | None:
    """The SQLite file, or None for other databases."""
    return sqlite_file(config.database_url)


def database_exists(config: Config) -> bool:
    path = database_file(config)
    return path is None or path.exists()


def recovery_hint(config: Config) -> str:
    path = database_file(config)
    name = str(path) if path is not None else config.storage.database
    return f"stop the runs, keep a copy of it, then recover with `sqlite3 {name} .recover | sqlite3 recovered.db` and point storage.database at recovered.db"


@contextmanager
def database_errors(config: Config, doing: str, consequence: str = "") -> Iterator[None]:
    """Turn storage failures inside the block into one-line errors: "cannot {doing} the
    database NAME: why{consequence}", or damage with the recovery command (exit 65)."""
    name = config.storage.database
    try:
        yield
    except ForeignDatabase as exc:
        raise CorruptDatabase(f"refused: {exc}") from None
    except DatabaseCorrupt as exc:
        raise CorruptDatabase(f"the database {name} is damaged ({exc}); {recovery_hint(config)}") from None
    except StorageFailure as exc:
        raise StorageError(f"cannot {doing} the database {name}: {exc}{consequence}") from None


def open_database(config: Config, *, create: bool = True) -> Database:
    """Open the snapshot database; with ``create``, make the schema on first use."""
    with database_errors(config, "use"):
        check_readable(config.database_url)
        db = Database(config.database_url)
        if create:
            db.setup()
    return db


def open_readonly(config: Config) -> Database | None:
    """The database opened for reading only, or None when there is none yet (nothing is ever
    created, upgraded or written). Somebody else's database is refused like in ``open_database``."""
    if not database_exists(config):
        return None
    with database_errors(config, "read"):
        check_readable(config.database_url)
        db = Database(config.database_url, readonly=True)
        try:
            db.check_unless_unchanged()
            state = db.state()
        except BaseException:
            db.dispose()
            raise
    if state.empty:
        db.dispose()
        return None
    return db


def require_readonly(config: Config) -> Database:
    """``open_readonly``, where no database — or one from before the research tables — is a
    usage error that says what to run."""
    db = open_readonly(config)
    if db is None:
        raise UsageError(f"{NO_DATABASE} (storage.database is {config.storage.database})")
    with database_errors(config, "read"):
        current = db.state().current
    if not current:
        db.dispose()
        raise UsageError(f"the database {config.storage.database} was written by an older dfe-monitor: run `dfe-monitor reindex` once to upgrade it and build the research tables")
    return db
