"""One atomic writer for everything we publish (the feed and the change pages).

A reader (a feed reader, a web server) must only ever see the previous file or the new one,
never half of one: the bytes go to a temp file in the same folder, are flushed to disk, and
the temp file is renamed over the old one.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from monitor.errors import StorageError

STALE_TEMP_SECONDS = 600


def write_atomically(path: Path, data: bytes, *, what: str, skip_if_same: bool = False) -> None:
    """Replace ``path`` with ``data`` or leave it as it was; ``what`` names it in errors.

    ``skip_if_same`` leaves an identical file untouched, so its modification time (which
    static hosts and mirrors use to decide what to copy) only moves when its content does.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if skip_if_same and path.is_file() and path.read_bytes() == data:
            return
        remove_stale_temp_files(path)
        _replace(path, data)
    except OSError as exc:
        raise StorageError(
            f"cannot write the {what} to {path}: {exc.strerror or exc}; the previous {what} was kept"
        ) from None


def _replace(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temp_files(path: Path) -> None:
    """Temp files a killed writer left behind (a write takes milliseconds; these are old)."""
    cutoff = time.time() - STALE_TEMP_SECONDS
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()
        except OSError:
            pass
