"""One check as a child ``dfe-monitor run`` process: started in its own process group, its output
pumped, its JSON result line read, stopped with SIGTERM then SIGKILL, reaped safely."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from contextlib import suppress
from dataclasses import dataclass, field
from typing import IO, Any

from monitor.record.result import RunResult, read_result_line
from monitor.text import printable
from spiders.settings import HARD_STOP_SECONDS

log = logging.getLogger("dfe-monitor.schedule")

# SIGTERM to the child, then SIGKILL after this long: a run stops its crawl within
# HARD_STOP_SECONDS, then records itself aborted and exits (a few hundred milliseconds more).
STOP_GRACE_SECONDS = HARD_STOP_SECONDS + 3.5
# A check running longer than this is stuck (a normal one takes minutes): end it, so that one
# hung check cannot silence the daemon for good.
MAX_CHECK_SECONDS = 3 * 60 * 60


@dataclass
class ChildOutcome:
    """How a child ``dfe-monitor run`` ended, and the lines worth repeating in the log."""

    exit_code: int
    seconds: float
    pid: int | None = None
    summary: str | None = None  # the child's "run N completed: ..." line
    message: str | None = None  # the child's last stderr line (its one-line error)
    failures: list[str] = field(default_factory=list)  # "failed: <target>: <why>" per failed target
    result: dict[str, Any] | None = field(default=None, compare=False)  # the JSON result, as sent


class ChildRunner:
    """Runs one child at a time; :meth:`stop` (from another thread) ends it and refuses more.

    The child leads its own process group, so a Ctrl-C in the daemon's terminal reaches only the
    daemon, and whatever the child started (the attachment-extraction sandbox) can be swept up
    with it. Stopping sends SIGTERM to the child alone, once: Scrapy stops gracefully on the
    first signal but force-stops on a second, and a sandbox killed by SIGTERM would be recorded
    as a failed extraction. SIGKILL, after the grace period, goes to the whole group.

    The child is reaped only after its group has been swept (``waitid`` with ``WNOWAIT`` keeps
    the zombie, and with it the process and group id, ours until then), so a recycled PID can
    never receive our signals.
    """

    def __init__(self, stop_grace: float = STOP_GRACE_SECONDS, echo: IO[str] | None = None, max_seconds: float = MAX_CHECK_SECONDS) -> None:
        self.stop_grace = stop_grace
        self.max_seconds = max_seconds
        self.echo = echo if echo is not None else sys.stderr
        self._lock = threading.Lock()  # guards _proc, _stopping, and reaping vs. signalling
        self._proc: subprocess.Popen[str] | None = None
        self._terminated: subprocess.Popen[str] | None = None
        self._done = threading.Event()
        self._stopping = False

    def run(self, command: list[str]) -> ChildOutcome | None:
        """Run ``command`` to the end; None when the daemon is stopping (nothing was started)."""
        with self._lock:
            if self._stopping:
                return None
            started = time.monotonic()
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
                start_new_session=True,
            )
            self._proc = proc
            self._done.clear()
        log.debug("child %d: %s", proc.pid, " ".join(command))
        stdout: deque[str] = deque(maxlen=200)
        stderr: deque[str] = deque(maxlen=20)
        pumps = [
            _pump(proc.stdout, stdout, None),
            _pump(proc.stderr, stderr, self.echo),  # the child's own messages, as they come
        ]
        watchdog = threading.Timer(self.max_seconds, self._overtime, args=[proc])
        watchdog.daemon = True
        watchdog.start()
        try:
            _wait_exited(proc.pid)
        finally:
            watchdog.cancel()
            with self._lock:
                _signal_group(proc.pid, signal.SIGKILL)  # anything the child left behind
                code = proc.wait()
                self._proc = None
                self._done.set()
            for pump in pumps:
                pump.join(timeout=self.stop_grace)
        outcome = _outcome(code, time.monotonic() - started, list(stdout), list(stderr))
        outcome.pid = proc.pid
        return outcome

    def stop(self) -> None:
        """Refuse new children; SIGTERM the running one, SIGKILL its group after the grace."""
        with self._lock:
            self._stopping = True
            proc = self._proc
        if proc is not None:
            log.info("stopping the running check (pid %d)", proc.pid)
            self._end(proc)

    def _overtime(self, proc: subprocess.Popen[str]) -> None:
        log.error("the check (pid %d) has run for more than %s: stopping it", proc.pid, _duration(self.max_seconds))
        self._end(proc)

    def _end(self, proc: subprocess.Popen[str]) -> None:
        """SIGTERM ``proc`` alone, once; SIGKILL its group if it is still there after the grace."""
        with self._lock:
            if self._proc is not proc:
                return  # already ended (and perhaps reaped: its PID is no longer ours to signal)
            if self._terminated is not proc:  # never twice: a second SIGTERM means "at once"
                self._terminated = proc
                with suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGTERM)
        if self._done.wait(self.stop_grace):
            return
        with self._lock:
            if self._proc is proc:
                log.warning("the check (pid %d) did not stop within %.0f s; killing it", proc.pid, self.stop_grace)
                _signal_group(proc.pid, signal.SIGKILL)
        self._done.wait(self.stop_grace)


def _duration(seconds: float) -> str:
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"


def _wait_exited(pid: int) -> None:
    """Block until the child has exited, without reaping it."""
    with suppress(ChildProcessError):  # already reaped: nothing left to wait for
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)


def _pump(stream: IO[str] | None, keep: deque[str], echo: IO[str] | None) -> threading.Thread:
    """Read a child's stream to its end in a thread (a full pipe would stall the child)."""

    def read() -> None:
        assert stream is not None
        with stream:
            for line in stream:
                keep.append(line.rstrip("\n"))
                if echo is not None:
                    with suppress(OSError, ValueError):
                        echo.write(printable(line.rstrip("\n")) + "\n")
                        echo.flush()

    thread = threading.Thread(target=read, daemon=True, name="child-output")
    thread.start()
    return thread


def _outcome(code: int, seconds: float, stdout: list[str], stderr: list[str]) -> ChildOutcome:
    """How a child ended, from its JSON result line (``run --json``): its summary and the
    targets that failed, or its error. A child that printed no result line (it was killed, or
    is not a run) is described by its last output line."""
    payload = next((p for p in map(read_result_line, reversed(stdout)) if p is not None), None)
    message = next((line.strip() for line in reversed(stderr) if line.strip()), None)
    if payload is not None and "error" in payload:
        return ChildOutcome(code, seconds, message=f"dfe-monitor: {payload['error']}", result=payload)
    if payload is not None:
        result = RunResult.from_data(payload)
        return ChildOutcome(code, seconds, summary=result.summary_line(), message=message, failures=[f"failed: {e}" for e in result.errors], result=payload)
    lines = [line for line in stdout if line.strip()]
    return ChildOutcome(code, seconds, summary=lines[-1] if lines else None, message=message)


def _signal_group(pid: int, signum: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)
