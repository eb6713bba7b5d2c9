"""One lock for every run: cron's, the daemon's children's and a person's.

A non-blocking ``flock`` on a file next to a SQLite database; for a PostgreSQL database, an
advisory lock held by the server (``storage.lock``), which every machine sharing it sees. The kernel drops the lock when the
holder dies, however it dies, so a killed run never leaves a stale lock behind; the PID written
into the file only serves to name the holder in the message the second comer prints.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from monitor.errors import LockHeld, StorageError

if TYPE_CHECKING:
    from monitor.config import Config


class RunLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f"process {holder}" if holder else "another process"
            raise LockHeld(f"another dfe-monitor run ({who}) holds the lock {self.path}; this run was skipped") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.fsync(fd)
        self._fd = fd
        return self

    def check(self) -> None:
        """Refuse at once, creating nothing, a lock path that is a symbolic link or not a regular
        file (what ``acquire`` would refuse): a first run checks this before anything else."""
        try:
            mode = os.lstat(self.path).st_mode
        except OSError:
            return  # not there yet (or not reachable): acquire creates it, or says why not
        if stat.S_ISLNK(mode):
            raise StorageError(f"the lock file {self.path} is a symbolic link; refusing to follow it: remove the link (a run creates the file itself)")
        if not stat.S_ISREG(mode):
            raise StorageError(f"the lock file {self.path} is not a regular file; remove it (a run creates the file itself) or set storage.lock_file")

    def _open(self) -> int:
        """The lock file, opened without following a symbolic link and without blocking, and
        only if it is a regular file: the PID is written into it, so a link planted in its place
        would make the run overwrite whatever the link points to."""
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, flags, 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP or self.path.is_symlink():
                raise StorageError(f"the lock file {self.path} is a symbolic link; refusing to follow it: remove the link (a run creates the file itself)") from None
            raise StorageError(f"cannot open the lock file {self.path}: {exc.strerror}") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise StorageError(f"the lock file {self.path} is not a regular file; remove it (a run creates the file itself) or set storage.lock_file")
        return fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def _read_pid(fd: int) -> str | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 32).decode().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if text.isdigit() else None


class DatabaseLock:
    """The run lock of a PostgreSQL database (``storage.lock``): every machine sharing the
    database sees it, and the server drops it when the holding run's connection ends."""

    def __init__(self, url: str, name: str) -> None:
        self.url = url
        self.name = name
        self._lock: Any = None

    def acquire(self) -> DatabaseLock:
        from storage.lock import AdvisoryLock, LockBusy

        try:
            self._lock = AdvisoryLock(self.url).acquire()
        except LockBusy as exc:
            raise LockHeld(f"another dfe-monitor run ({exc}) holds the lock of the database {self.name}; this run was skipped") from None
        except Exception as exc:  # noqa: BLE001 - any driver error: the server cannot be reached
            raise StorageError(f"cannot take the run lock on the database {self.name}: {str(getattr(exc, 'orig', exc)).strip().splitlines()[0]}") from None
        return self

    def check(self) -> None:
        """Nothing to check before the server is asked."""

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> DatabaseLock:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def run_lock(config: Config) -> RunLock | DatabaseLock:
    """The lock every run takes: an advisory lock in a PostgreSQL database (unless
    ``storage.lock_file`` names a file), a file lock next to a SQLite one."""
    url = config.database_url
    if url.startswith("postgresql") and not config.storage.lock_file:
        return DatabaseLock(url, config.storage.database.split("@")[-1])
    return RunLock(config.lock_path)
