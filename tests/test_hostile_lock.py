"""The lock file is never followed through a symbolic link, nor opened when it is not a file.

``data/monitor.db.lock`` as a symlink used to make a run truncate whatever it pointed to and
write its PID there: anyone who could write to the data folder could make the monitor (often
running as a service user) clobber a file of that user's. Now the lock is opened with
``O_NOFOLLOW`` and refused with one line naming the link; nothing is written anywhere.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.inprocess import run_cli

from monitor.errors import EXIT_STORAGE, StorageError
from monitor.lock import RunLock

CONFIG = """[storage]
database = "data/monitor.db"
[[targets]]
name = "Privacy notice"
url = "https://www.gov.uk/government/publications/privacy-notice"
"""


def test_a_lock_file_that_is_a_symlink_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    precious = tmp_path / "precious.txt"
    precious.write_text("the operator's own file\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "monitor.db.lock").symlink_to(precious)
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    result = run_cli("run", "--config", str(config))
    assert result.returncode == EXIT_STORAGE
    assert precious.read_text() == "the operator's own file\n"
    assert result.stderr.count("\n") == 1 and "is a symbolic link" in result.stderr and "monitor.db.lock" in result.stderr
    assert not (tmp_path / "data" / "monitor.db").exists()


def test_a_dangling_symlink_is_not_created_through_either(tmp_path: Path) -> None:
    lock = tmp_path / "run.lock"
    lock.symlink_to(tmp_path / "created-elsewhere")
    with pytest.raises(StorageError, match="symbolic link"):
        RunLock(lock).acquire()
    assert not (tmp_path / "created-elsewhere").exists()


def test_a_lock_path_that_is_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    lock = tmp_path / "run.lock"
    os.mkfifo(lock)
    with pytest.raises(StorageError, match="not a regular file"):
        RunLock(lock).acquire()


def test_a_plain_lock_file_still_works_and_names_the_holder(tmp_path: Path) -> None:
    lock = tmp_path / "run.lock"
    with RunLock(lock):
        assert lock.read_text().strip() == str(os.getpid())
