"""One lock for every run: cron's, the daemon's children's and a person's.

A non-blocking ``flock`` on a file next to the database. The kernel drops the lock when the
holder dies, however it dies, so a killed run never leaves a stale lock behind; the PID written
into the file only serves to name the holder in the message the second comer prints.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from monitor.errors import LockHeld, StorageError


class RunLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StorageError(f"cannot open the lock file {self.path}: {exc.strerror}") from None
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
