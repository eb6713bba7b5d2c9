"""Reads config.toml and turns every mistake into one line: file:line: [section] key: what and how.

The file is opened defensively (it may be a FIFO, a device or huge), parsed with tomllib,
validated by the models of ``monitor.config.settings``, then checked against this machine: the
database must be a file, and its SQLAlchemy driver installed.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from monitor.config.fields import did_you_mean, shown
from monitor.config.lines import LineIndex, Where
from monitor.config.settings import ARRAYS, SECTIONS, Config
from monitor.errors import ConfigError

MAX_CONFIG_BYTES = 1024 * 1024
_FILE_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
_EXPECTED = {
    "int_type": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "string_type": "a string",
    "list_type": "a list of strings",
}


def load_config(path: str | Path) -> Config:
    """The configuration in ``path``, or a ConfigError naming the file, line and key to fix."""
    path = Path(path)
    return parse_config(read_config_text(path), path)


def parse_config(text: str, path: Path) -> Config:
    """Validates ``text`` as if read from ``path`` (relative paths are relative to its folder)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: arrays or tables nested too deeply") from None
    except ValueError as exc:  # a number too long to convert (sys.get_int_max_str_digits)
        raise ConfigError(f"{path}: not valid TOML: {str(exc).split(';')[0]}") from None
    where = Where(path, LineIndex(text))
    try:
        config = Config.model_validate(data, context={"path": path})
    except ValidationError as exc:
        raise _first_error(exc, data, where) from None
    _check_storage(config, where)
    return config


# -- reading the file ---------------------------------------------------------------------------


def read_config_text(path: Path) -> str:
    """The file's text, refusing at once anything that is not a small regular file.

    ``read_text()`` on /dev/zero reads until memory runs out, and on a FIFO blocks for ever; so the
    file is checked with stat, opened without blocking, checked again on the open descriptor (it
    may have been swapped in between) and read with a bound.
    """
    try:
        _check_regular(path, os.stat(path))
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found; pass --config PATH or copy config.toml here") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration file: {exc.strerror or exc}") from None
    try:
        _check_regular(path, os.fstat(fd))
        data = _read_bounded(fd, path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: cannot read the configuration file: not UTF-8 text (byte {exc.start + 1}); save it as UTF-8") from None


def _check_regular(path: Path, status: os.stat_result) -> None:
    if not stat.S_ISREG(status.st_mode):
        kind = next((name for test, name in _FILE_KINDS if test(status.st_mode)), "not a regular file")
        raise ConfigError(f"{path}: is {kind}, not a configuration file; pass --config with the path of a config.toml file")
    if status.st_size > MAX_CONFIG_BYTES:
        raise _too_large(path)


def _read_bounded(fd: int, path: Path) -> bytes:
    """At most MAX_CONFIG_BYTES, whatever the size the file claimed when it was checked."""
    chunks: list[bytes] = []
    total = 0
    while chunk := os.read(fd, min(65536, MAX_CONFIG_BYTES + 1 - total)):
        chunks.append(chunk)
        total += len(chunk)
        if total > MAX_CONFIG_BYTES:
            raise _too_large(path)
    return b"".join(chunks)


def _too_large(path: Path) -> ConfigError:
    return ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES // 1024 // 1024} MiB, too large for a configuration file; check --config names the right file")


# -- validation errors --------------------------------------------------------------------------


def _first_error(exc: ValidationError, data: Mapping[str, Any], where: Where) -> ConfigError:
    """The error people should fix first: unknown names before anything else, then table by table
    in the order of the file's sections, and within a table unknown keys before missing ones."""
    errors = exc.errors(include_url=False)
    tables: dict[tuple[Any, ...], int] = {}
    for error in errors:
        tables.setdefault(_table_of(error["loc"]), len(tables))

    def rank(item: tuple[int, ErrorDetails]) -> tuple[int, int, int, int]:
        position, error = item
        top_extra = len(error["loc"]) == 1 and error["type"] == "extra_forbidden"
        return (0 if top_extra else 1, tables[_table_of(error["loc"])], 0 if error["type"] == "extra_forbidden" else 1, position)

    _, first = min(enumerate(errors), key=rank)
    return _describe_error(first, data, where)


def _table_of(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    return loc[:2] if len(loc) > 1 and isinstance(loc[1], int) else loc[:1]


def _split_loc(loc: tuple[int | str, ...]) -> tuple[str, int | None, str | None]:
    """(section, index in an array of tables, key) of a pydantic error location."""
    if not loc:
        return "", None, None
    section, rest = str(loc[0]), loc[1:]
    index = None
    if rest and isinstance(rest[0], int) and section in ARRAYS:
        index, rest = rest[0], rest[1:]
    return section, index, str(rest[0]) if rest else None


def _describe_error(error: ErrorDetails, data: Mapping[str, Any], where: Where) -> ConfigError:
    ctx = error.get("ctx") or {}
    if error["type"] == "setting" and "at" in ctx:
        at_section, at_index, at_key = ctx["at"]
        return where.error(at_section, at_index, at_key, ctx["message"])
    section, index, key = _split_loc(error["loc"])
    if key is None:
        return where.error(section, index, None, _table_message(error, section, index))
    model = ARRAYS[section] if index is not None else SECTIONS[section]
    return where.error(section, index, key, _key_message(error, model, key, _value_at(data, section, index, key)))


def _table_message(error: ErrorDetails, section: str, index: int | None) -> str:
    """A mistake about a whole table: an unknown one, or one of the wrong shape."""
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown section or key {shown(section)}{did_you_mean(section, [*SECTIONS, *ARRAYS])}"
    if kind == "setting":
        return str(error["ctx"]["message"])
    if index is not None:
        return "must be a table"
    if section in ARRAYS:
        return f"{section!r} must be an array of tables ([[{section}]])"
    return f"{section!r} must be a table ([{section}])"


def _key_message(error: ErrorDetails, model: Any, key: str, value: Any) -> str:
    """A mistake about one key, worded as config.toml's own terms (not pydantic's)."""
    kind, ctx = error["type"], error.get("ctx") or {}
    field = model.model_fields.get(key)
    if kind == "extra_forbidden":
        return f"unknown key{did_you_mean(key, model.model_fields)}"
    if kind == "missing":
        return f"missing required key {key!r} ({field.description})"
    if kind == "setting":
        return str(ctx["message"])
    if kind == "finite_number":
        return f"must be a finite number, got {shown(value)}"
    if kind in ("greater_than_equal", "less_than_equal"):
        number = float(value) if field is not None and field.annotation is float else value
        bound, word = (ctx["ge"], "least") if kind == "greater_than_equal" else (ctx["le"], "most")
        return f"must be at {word} {_number(bound)}, got {shown(number)}"
    if kind in _EXPECTED:
        expected = "a list of strings" if _is_list(field) else _EXPECTED[kind]
        return f"expected {expected}, got {_describe(value)}"
    return str(error["msg"])


def _is_list(field: Any) -> bool:
    return field is not None and getattr(field.annotation, "__origin__", None) is list


def _value_at(data: Mapping[str, Any], section: str, index: int | None, key: str) -> Any:
    """The value as written in the file (pydantic's ``input`` is a list item for list errors)."""
    table: Any = data.get(section)
    if index is not None:
        table = table[index] if isinstance(table, list) and index < len(table) else None
    return table.get(key) if isinstance(table, dict) else None


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def _describe(value: Any) -> str:
    kinds = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list", dict: "a table"}
    return f"{kinds.get(type(value), type(value).__name__)} ({shown(value)})"


# -- this machine -------------------------------------------------------------------------------


# (section, key, an example file name) of the settings that name a file to write
_FILES = (("storage", "database", "monitor.db"), ("storage", "lock_file", "monitor.lock"), ("feed", "path", "feed.atom"))


def _check_storage(config: Config, where: Where) -> None:
    """The database, lock and feed must be files, and the database's driver importable: found now,
    with the key to fix, instead of as a traceback in the middle of the first run."""
    for section, key, example in _FILES:
        value = getattr(getattr(config, section), key)
        if value and "://" not in value and config.resolve(value).is_dir():
            suggestion = (Path(value) / example).as_posix()
            raise where.error(section, None, key, f"{shown(value)} is a folder; name a file in it, e.g. {shown(suggestion)}")
    if "://" in config.storage.database:
        _check_database_url(config.storage.database, where)


def _check_database_url(url: str, where: Where) -> None:
    """The URL parses, names a dialect SQLAlchemy knows, and its DBAPI module imports (asked
    of storage/, the only package that uses SQLAlchemy)."""
    from storage.dialects import sqlite_file, url_problem

    problem = url_problem(url)
    if problem is not None:
        message = problem.message.format(shown=shown(problem.shown)) if problem.shown is not None else problem.message
        raise where.error("storage", None, "database", message)
    database = sqlite_file(url)
    if database and _is_folder(database):
        raise where.error("storage", None, "database", f"{shown(database)} is a folder; name a database file in it")


def _is_folder(database: str) -> bool:
    return not database.startswith("file:") and database != ":memory:" and Path(database).expanduser().is_dir()

