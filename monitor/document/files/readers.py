"""Sandboxed readers that stay up for a run's files instead of one child process per file.

A child started for a single file spends about 0.1-0.2 s starting Python and importing its
parser before it reads a byte: for a run that reads a hundred PDFs that is most of a minute of
CPU. Inside ``kept_readers()`` (a run's processing) each reader child serves file after file
(``python -m monitor.document.files.sandbox --serve``): the same memory and file-size limits for
its whole life, a CPU-time limit renewed for every file, the same wall-clock timeout per file.

A file's outcome must never depend on what a reader read before it (memory left fragmented by
an earlier file could make a later one run out). So a reader is used again only after a clean
result, and when a reader that has already read files fails on one (an error, a crash, a
limit), that file is read again by a child of its own, exactly as outside ``kept_readers()``,
and that answer is the one kept. A timeout is the file's own (the clock starts with it) and is
not retried; a reader killed by a stop signal stops the run, as a one-off child's would.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import threading
import time
from collections import deque
from collections.abc import Iterator

from monitor.document.files.safety import Limits
from monitor.document.files.sandbox import (
    PROJECT_ROOT,
    child_command,
    child_environment,
    describe_failure,
    run_in_child,
)
from monitor.model import FileContent, file_content_from_json

# A reader is replaced after this many files, whatever happened: a bound on anything a parser
# library keeps between calls.
FILES_PER_READER = 50
_STDERR_TAIL_LINES = 20


class _Reader:
    """One ``sandbox --serve`` child and the pipes to it."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.files = 0
        self.timed_out = False  # the last file ran out of wall-clock time
        self.process = subprocess.Popen(
            child_command("--serve", limits),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_environment(),
            cwd=PROJECT_ROOT,
        )
        self._stderr: deque[bytes] = deque(maxlen=_STDERR_TAIL_LINES)
        # Drained all the time: a library that prints a lot must not fill the pipe and stall.
        self._drain = threading.Thread(target=self._drain_stderr, name="reader-stderr", daemon=True)
        self._drain.start()

    def _drain_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._stderr.append(line)

    def read(self, data: bytes, fmt: str) -> FileContent:
        """The file's content, or an error for it as a child of its own would have said it (the
        reader is then closed when it failed, ``timed_out`` says whether the clock ran out)."""
        self.files += 1
        self.timed_out = False
        deadline = time.monotonic() + self.limits.timeout_seconds
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps({"format": fmt, "size": len(data)}).encode() + b"\n" + data)
            self.process.stdin.flush()
            answer = self._answer(deadline)
        except (BrokenPipeError, ConnectionResetError):
            answer = None
        except TimeoutError:
            self.timed_out = True
            self.close(kill=True)
            return FileContent(format=fmt, error=f"extraction timed out after {self.limits.timeout_seconds:g} s")
        if answer is not None:
            try:
                return file_content_from_json(answer)
            except (ValueError, KeyError, TypeError):
                self.close(kill=True)
                return FileContent(format=fmt, error="extraction process returned unreadable output")
        code = self.close(kill=False)
        return FileContent(format=fmt, error=describe_failure(code, b"".join(self._stderr), self.limits))

    def _answer(self, deadline: float) -> bytes | None:
        """``SIZE\\n`` then SIZE bytes from the child; None at end of file (the child died)."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        buffer = b""
        while b"\n" not in buffer:
            chunk = _chunk(fd, deadline, 4096)
            if not chunk:
                return None
            buffer += chunk
        size_text, _, first = buffer.partition(b"\n")
        size = int(size_text)
        parts, have = [first], len(first)
        while have < size:
            chunk = _chunk(fd, deadline, size - have)
            if not chunk:
                return None
            parts.append(chunk)
            have += len(chunk)
        return b"".join(parts)

    def close(self, *, kill: bool) -> int:
        """End the child (at once with ``kill``); its exit status."""
        if kill and self.process.poll() is None:
            self.process.kill()
        with contextlib.suppress(OSError):
            assert self.process.stdin is not None
            self.process.stdin.close()  # a serving child leaves at end of input
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._drain.join(timeout=5)  # the child is gone: its stderr ends
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return code


class KeptReaders:
    """The readers of one run: a reader is taken for one file, and given back after a clean one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Reader] = []
        self._all: set[_Reader] = set()
        self.started = 0  # reader children started (for the benchmarks)

    def extract(self, data: bytes, fmt: str, limits: Limits) -> FileContent:
        reader = self._take(limits)
        used_before = reader.files > 0
        try:
            content = reader.read(data, fmt)
        finally:
            with self._lock:
                self._all.discard(reader)
        if content.error is None and reader.process.poll() is None:
            self._give_back(reader)
            return content
        if reader.process.poll() is None:
            reader.close(kill=True)  # after an error its state is not to be trusted
        if used_before and not reader.timed_out:
            return run_in_child(data, fmt, limits)  # the file's own answer, from a fresh child
        return content

    def _take(self, limits: Limits) -> _Reader:
        with self._lock:
            for index, reader in enumerate(self._idle):
                if reader.limits == limits:
                    del self._idle[index]
                    self._all.add(reader)
                    return reader
        reader = _Reader(limits)
        with self._lock:
            self.started += 1
            self._all.add(reader)
        return reader

    def _give_back(self, reader: _Reader) -> None:
        if reader.files >= FILES_PER_READER:
            reader.close(kill=False)
            return
        with self._lock:
            self._idle.append(reader)

    def close(self) -> None:
        """Idle readers leave at the end of their input; one still busy (the run was stopped
        while it read) is killed."""
        with self._lock:
            idle, busy = self._idle, list(self._all)
            self._idle, self._all = [], set()
        for reader in idle:
            reader.close(kill=False)
        for reader in busy:
            reader.close(kill=True)


def _chunk(fd: int, deadline: float, most: int) -> bytes:
    """Up to ``most`` bytes from ``fd`` (b"" at its end); TimeoutError once ``deadline`` passes."""
    remaining = deadline - time.monotonic()
    if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
        raise TimeoutError
    return os.read(fd, min(most, 1 << 20))


_kept: KeptReaders | None = None


def current() -> KeptReaders | None:
    """The readers kept by the enclosing ``kept_readers()``, if any."""
    return _kept


@contextlib.contextmanager
def kept_readers() -> Iterator[KeptReaders]:
    """Within this block, sandboxed file readers serve one file after another (see above)."""
    global _kept
    outer, _kept = _kept, KeptReaders()
    try:
        yield _kept
    finally:
        kept, _kept = _kept, outer
        kept.close()
