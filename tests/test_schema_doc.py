"""docs/schema.md and the database must agree: every table, view and column documented, nothing
documented that is not there, and every value of the enumerations listed where it is stored."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from monitor.model import ChangeKind, FetchRole, RunStatus, TargetState
from storage.db import Database

DOC = (Path(__file__).resolve().parents[1] / "docs" / "schema.md").read_text(encoding="utf-8")
FTS_SHADOW = re.compile(r"_fts_(data|idx|docsize|config)$")
ENUMS = {("targets", "state"): TargetState, ("runs", "status"): RunStatus, ("changes", "kind"): ChangeKind, ("fetches", "role"): FetchRole}


def documented() -> dict[str, dict[str, str]]:
    """{table or view: {column: its table row}} from the document's headings and tables."""
    result: dict[str, dict[str, str]] = {}
    names: list[str] = []
    for line in DOC.splitlines():
        if line.startswith("### "):
            names = re.findall(r"`([a-z_]+)`", line)
            for name in names:
                result[name] = {}
        elif names and (match := re.match(r"^\| `([a-z_0-9]+)` \|", line)):
            for name in names:
                result[name][match.group(1)] = line
    return result


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict[str, set[str]]:
    path = tmp_path_factory.mktemp("schema") / "monitor.db"
    db = Database(f"sqlite:///{path}")
    db.setup()
    db.dispose()
    con = sqlite3.connect(path)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'")]
        return {n: {c[1] for c in con.execute(f"PRAGMA table_info({n})")} for n in names if not FTS_SHADOW.search(n)}
    finally:
        con.close()


def test_every_table_and_view_is_documented_and_nothing_else(schema):
    assert sorted(schema) == sorted(documented())


def test_every_column_is_documented_and_nothing_else(schema):
    doc = documented()
    for name, columns in schema.items():
        assert set(doc[name]) == columns, name


@pytest.mark.parametrize(("where", "enum"), list(ENUMS.items()))
def test_every_enumerated_value_is_documented(where, enum):
    row = documented()[where[0]][where[1]]
    missing = [v.value for v in enum if f"`{v.value}`" not in row]
    assert missing == [], f"{where}: {missing}"


def test_the_checker_sees_a_missing_column():
    assert "headers_dropped" in documented()["fetches"]
    assert "no_such_column" not in documented()["fetches"]
