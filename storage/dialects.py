"""Whether SQLAlchemy can use a database URL on this machine: it parses, names a dialect
SQLAlchemy knows, is not an asyncio driver, and its driver module imports.

Asked by monitor/config when the file is read, so a missing driver is a configuration error
naming the key (exit 2), not a traceback in the middle of the first run. Here, because only
storage/ may use SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

# Modules whose pip package has another name.
_DBAPI_PACKAGES = {"MySQLdb": "mysqlclient", "psycopg2": "psycopg2-binary", "cx_Oracle": "cx-Oracle"}


@dataclass(frozen=True)
class UrlProblem:
    """Why a URL cannot be used; ``shown`` is the part of the URL the message names (for the
    caller to quote in its own style), when there is one."""

    message: str
    shown: str | None = None


def url_problem(url: str) -> UrlProblem | None:
    """What is wrong with ``url`` for SQLAlchemy here, or None. (The file a SQLite URL names is
    :func:`sqlite_file`'s, for the caller's own checks.)"""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return UrlProblem('not a valid SQLAlchemy database URL (e.g. "sqlite:///data/monitor.db" or "postgresql+psycopg://user@host/db")')
    try:
        dialect = parsed.get_dialect()
    except NoSuchModuleError:
        return UrlProblem("unknown database dialect {shown}; use a plain path for SQLite or a SQLAlchemy URL such as \"postgresql+psycopg://...\"", parsed.drivername)
    if getattr(dialect, "is_async", False):
        return UrlProblem(f"{parsed.drivername!r} is an asyncio driver; use a synchronous one (e.g. \"postgresql+psycopg\")")
    try:
        _import_dbapi(dialect)
    except ImportError as exc:
        return UrlProblem(f"the driver for {parsed.drivername!r} is not installed; {_install_hint(exc)}")
    return None


def sqlite_file(url: str) -> str | None:
    """The file a valid SQLite URL names (None for other databases, or none named)."""
    parsed = make_url(url)
    return parsed.database if parsed.get_backend_name() == "sqlite" and parsed.database else None


def _import_dbapi(dialect: Any) -> None:
    """Imports the driver module: SQLAlchemy itself only does so when the first engine is made.
    Third-party dialects written for SQLAlchemy 1.x only have the older ``dbapi()``."""
    load = getattr(dialect, "import_dbapi", None) or dialect.dbapi
    load()


def _install_hint(exc: ImportError) -> str:
    if not exc.name:
        return f"install its Python driver ({exc})"
    module = exc.name.split(".")[0]
    return f"install it with `pip install {_DBAPI_PACKAGES.get(module, module)}`"
