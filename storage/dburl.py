"""Whether a database URL from config.toml can be used here, checked before anything opens it:
it parses, names a dialect SQLAlchemy knows (not an asyncio one), and its driver imports.

Kept in ``storage/`` (the only package that uses SQLAlchemy); the configuration words the
answer as a setting error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError


@dataclass(frozen=True)
class UrlProblem:
    kind: str  # syntax | dialect | async | driver | folder
    name: str = ""  # the driver name or the database path the problem is about
    missing_module: str | None = None  # for "driver": the module that failed to import
    detail: str = ""


def check_database_url(url: str) -> UrlProblem | None:
    """None when the URL can be used; else what is wrong with it."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return UrlProblem("syntax")
    try:
        dialect = parsed.get_dialect()
    except NoSuchModuleError:
        return UrlProblem("dialect", parsed.drivername)
    if getattr(dialect, "is_async", False):
        return UrlProblem("async", parsed.drivername)
    try:
        _import_dbapi(dialect)
    except ImportError as exc:
        return UrlProblem("driver", parsed.drivername, exc.name, str(exc))
    if parsed.get_backend_name() == "sqlite" and parsed.database and _is_folder(parsed.database):
        return UrlProblem("folder", parsed.database)
    return None


def _import_dbapi(dialect: Any) -> None:
    """Imports the driver module: SQLAlchemy itself only does so when the first engine is made.
    Third-party dialects written for SQLAlchemy 1.x only have the older ``dbapi()``."""
    load = getattr(dialect, "import_dbapi", None) or dialect.dbapi
    load()


def _is_folder(database: str) -> bool:
    return not database.startswith("file:") and database != ":memory:" and Path(database).expanduser().is_dir()
