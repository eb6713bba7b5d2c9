"""The read-only commands and a database that is damaged, somebody else's, or read-only.

``status`` used to open the database for writing and never checked it: on a damaged b-tree it
printed a table and exited 0, and in a read-only folder it failed like a run. It now opens the
database as the research commands do (read-only, ``quick_check`` first, foreign files refused):
exit 65 with the recovery command for damage, and a read-only folder is no obstacle to any
command that only reads.
"""

from __future__ import annotations

import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from support.faults import namespaces_available
from support.hostile import NAMES, Hostile
from support.inprocess import run_cli

RECOVER = ".recover | sqlite3 recovered.db` and point storage.database at recovered.db"
TARGET = '[[targets]]\nname = "Privacy notice"\nurl = "https://www.gov.uk/government/publications/privacy-notice"\n'


def overwrite_a_btree_page(path: Path) -> bytes:
    """The root page of the targets table overwritten after its header (bytes 8 on)."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    [(root,)] = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'targets'").fetchall()
    [(size,)] = con.execute("PRAGMA page_size").fetchall()
    con.close()
    data = bytearray(path.read_bytes())
    start = (root - 1) * size
    data[start + 8 : start + size] = b"\xff" * (size - 8)
    path.write_bytes(bytes(data))
    return bytes(data)


@pytest.mark.parametrize("command", [("status",), ("changes",), ("changes", "--json"), ("history", NAMES["A"])])
def test_a_damaged_database_is_refused_by_every_reading_command_with_exit_65(hostile: Hostile, command: tuple[str, ...]) -> None:
    database = hostile.folder / "monitor.db"
    data = overwrite_a_btree_page(database)
    result = hostile.run(*command, expect=None)
    assert result.returncode == 65, result
    assert result.stdout == "" and result.stderr.count("\n") == 1
    assert "is damaged" in result.stderr and result.stderr.rstrip().endswith(RECOVER)
    assert database.read_bytes() == data


@pytest.mark.parametrize("command", [("status",), ("changes", "--json")])
def test_another_applications_database_is_refused_and_left_as_it_was(tmp_path: Path, command: tuple[str, ...]) -> None:
    other = tmp_path / "invoices.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    con.execute("INSERT INTO invoices (total) VALUES (12.5)")
    con.commit()
    con.close()
    before = other.read_bytes()
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\ndatabase = "invoices.db"\n{TARGET}')
    result = run_cli(*command, "--config", str(config))
    assert result.returncode == 65 and result.stderr.count("\n") == 1 and "refused" in result.stderr
    assert other.read_bytes() == before
    assert not Path(f"{other}-wal").exists() and not Path(f"{other}-shm").exists()


@pytest.mark.skipif(not namespaces_available(), reason="needs `unshare --mount` and mount rights (root ignores file modes)")
def test_the_reading_commands_work_in_a_read_only_folder(hostile: Hostile, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The database's folder bind-mounted read-only in a private mount namespace."""
    hostile.edit_a("We also share nationality with the Home Office.")
    hostile.run()
    folder, results = hostile.folder, tmp_path_factory.mktemp("read-only-results")
    commands = (("status",), ("changes", "--json"), ("history", NAMES["A"]), ("search", "nationality"))
    lines = ["set -e", f"mount --bind {folder} {folder}", f"mount -o remount,bind,ro {folder}", "set +e"]
    for index, command in enumerate(commands):
        words = " ".join(shlex.quote(part) for part in (sys.executable, "-m", "monitor", *command, "--config", str(hostile.config)))
        lines.append(f"{words} > {results}/out{index}.txt 2>&1 < /dev/null; echo $? >> {results}/codes.txt")
    subprocess.run(["unshare", "--mount", "sh", "-c", "\n".join(lines)], capture_output=True, text=True, timeout=300, check=True)
    outputs = [(results / f"out{index}.txt").read_text() for index in range(len(commands))]
    assert (results / "codes.txt").read_text().split() == ["0"] * len(commands), outputs
    assert NAMES["A"] in outputs[0]
    assert '"kind": "changed"' in outputs[1]
    assert "nationality" in outputs[3]
