"""Bringing a database to the newest schema with Alembic, after making sure it is ours.

``inspect_database`` looks without writing: a new (empty) database, one of ours at some
revision (or a 0.1.0 file from before migrations, recognised by ``PRAGMA user_version`` and its
tables), or somebody else's — which is refused before anything is written to it. ``upgrade``
stamps a pre-migration file with the revision its schema matches, then runs the migrations
(``storage/migrations``) in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

from storage.schema import SCHEMA_VERSION

MIGRATIONS = Path(__file__).parent / "migrations"
# The tables of 0.1.0 (user_version 1 and 2): enough to call a pre-migration file ours.
CORE_TABLES = frozenset({"targets", "runs", "blobs", "fetches", "extractions", "versions", "changes", "discover_queries"})
# Revision whose schema each pre-migration user_version matches.
STAMP_FOR_USER_VERSION = {1: "0001", 2: "0002"}


class ForeignDatabase(Exception):
    """The database holds something that is not (or not yet known to be) dfe-monitor's."""


@dataclass(frozen=True)
class DatabaseState:
    """What ``inspect_database`` found. ``revision`` None with ``empty`` means a new database."""

    empty: bool
    revision: str | None  # Alembic revision, or the one a pre-migration file matches
    stamped: bool  # False: a 0.1.0 file without alembic_version yet

    @property
    def current(self) -> bool:
        return self.revision == head_revision()


# Every revision under storage/migrations/versions, oldest first (a test holds this to Alembic's
# own reading of the folder). Knowing them without Alembic keeps its import (about 0.4 s) out of
# every run whose database is already current.
REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009")


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    return REVISIONS[-1]


def known_revisions() -> set[str]:
    return set(REVISIONS)


def inspect_database(connection: Connection, name: str) -> DatabaseState:
    """What the database is, without writing to it; ForeignDatabase when it is not ours."""
    sqlite = connection.dialect.name == "sqlite"
    tables = {t for t in inspect(connection).get_table_names() if not t.startswith("sqlite_")}
    user_version = int(connection.exec_driver_sql("PRAGMA user_version").scalar() or 0) if sqlite else 0
    if "alembic_version" in tables:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        if revision not in known_revisions():
            raise ForeignDatabase(
                f"{name} has schema revision {revision!r}, which this dfe-monitor does not know: "
                "it was written by a newer dfe-monitor (upgrade dfe-monitor) or by another application"
            )
        if not tables >= CORE_TABLES:
            raise ForeignDatabase(f"{name} is not a dfe-monitor database (it has no {', '.join(sorted(CORE_TABLES - tables))} table)")
        return DatabaseState(empty=False, revision=str(revision), stamped=True)
    if not tables and user_version == 0:
        return DatabaseState(empty=True, revision=None, stamped=False)
    if tables >= CORE_TABLES and (user_version in STAMP_FOR_USER_VERSION or not sqlite):
        stamp = STAMP_FOR_USER_VERSION.get(user_version, "0002")
        return DatabaseState(empty=False, revision=stamp, stamped=False)
    if sqlite and user_version not in (0, *STAMP_FOR_USER_VERSION) and user_version <= SCHEMA_VERSION:
        raise ForeignDatabase(f"{name} is not a dfe-monitor database (PRAGMA user_version {user_version} with tables {_names(tables)})")
    if sqlite and user_version > SCHEMA_VERSION:
        raise ForeignDatabase(f"{name} has PRAGMA user_version {user_version}: written by a newer dfe-monitor (upgrade dfe-monitor) or by another application")
    raise ForeignDatabase(f"{name} is not a dfe-monitor database (it holds the tables {_names(tables)}); point storage.database at another file")


def _names(tables: set[str]) -> str:
    listed = sorted(tables)
    return ", ".join(listed[:6]) + (f" and {len(listed) - 6} more" if len(listed) > 6 else "") if listed else "none"


def upgrade(engine: Engine, name: str) -> DatabaseState:
    """Check the database is ours, then bring it to the newest revision (one transaction)."""
    with engine.begin() as connection:
        state = inspect_database(connection, name)
        if state.current:
            return state
        from alembic import command

        config = alembic_config(connection)
        if not state.empty and not state.stamped:
            assert state.revision is not None
            command.stamp(config, state.revision)
        command.upgrade(config, "head")
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return DatabaseState(empty=False, revision=head_revision(), stamped=True)
