"""``dfe-monitor`` child processes without the start-up: forked from a warm process.

The suite runs `dfe-monitor` as a child process a few hundred times (faults, stops, crashes,
alerts): each is a real process with its own pid, signals, exit code, streams and interpreter
shutdown. Started with ``python -m monitor`` each would spend about a second importing Scrapy,
Twisted, SQLAlchemy and pydantic before doing anything. ``zygote.py`` does those imports once
per test worker and forks a child per command, so the same commands cost milliseconds to start.

``ForkedProcess`` answers like ``subprocess.Popen`` (``pid``, ``stdout``/``stderr`` text pipes,
``poll``, ``wait``, ``communicate``, ``send_signal``, ``terminate``, ``kill``, ``returncode``
negative for a signal) and ``run`` like ``subprocess.run``. What the real start-up does is
still tested by the end-to-end tests, the demo, the README commands and the daemon's own child
runs, which start ``dfe-monitor`` from scratch. ``DFE_TEST_NO_FORKSERVER=1`` makes every
command start from scratch too (slower; for telling a start-up problem from a run problem).
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import os
import secrets
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

ZYGOTE = Path(__file__).with_name("zygote.py")
DISABLE_ENV = "DFE_TEST_NO_FORKSERVER"


class _Server:
    """The zygote of this test process, started on first use and stopped at exit."""

    def __init__(self) -> None:
        # Linux's abstract socket namespace: no file, and no limit from a long TMPDIR
        # (a socket path has at most 107 bytes). Elsewhere a socket file in a private folder.
        self.folder = None if sys.platform == "linux" else tempfile.mkdtemp(prefix="dfe-zygote-")
        name = f"@dfe-monitor-zygote-{os.getpid()}-{secrets.token_hex(4)}" if self.folder is None else os.path.join(self.folder, "socket")
        self.address = "\0" + name[1:] if name.startswith("@") else name
        self.process = subprocess.Popen([sys.executable, str(ZYGOTE), name], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        ready = self.process.stdout.readline().strip()
        if ready != "ready":
            self.process.kill()
            code = self.process.wait()
            for stream in (self.process.stdin, self.process.stdout):
                stream.close()
            raise RuntimeError(f"the warm dfe-monitor did not start (said {ready!r}, exit {code})")
        atexit.register(self.stop)

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()  # its cue to leave
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        if self.folder is not None:
            for name in os.listdir(self.folder):
                os.unlink(os.path.join(self.folder, name))
            os.rmdir(self.folder)


_server: _Server | None = None
_unavailable: str | None = None  # why the warm process could not be started, once said
_lock = threading.Lock()


def _zygote() -> _Server | None:
    """The warm process, started when first needed; None (said once on stderr) when it cannot
    start here, and every child then starts from scratch: slower, never skipped."""
    global _server, _unavailable
    with _lock:
        if _unavailable is None and (_server is None or _server.process.poll() is not None):
            try:
                _server = _Server()
            except (OSError, RuntimeError) as exc:
                _unavailable = str(exc)
                print(f"forkserver: {exc}; dfe-monitor child processes start from scratch", file=sys.__stderr__)
        return None if _unavailable is not None else _server


class ForkedProcess:
    """One ``dfe-monitor ARGS`` forked by the zygote, answering like ``subprocess.Popen``."""

    def __init__(self, args: list[str], *, cwd: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None, stdin: int | IO[Any] | None = subprocess.DEVNULL, stdout: int | IO[Any] | None = subprocess.PIPE, stderr: int | IO[Any] | None = subprocess.PIPE, text: bool = True) -> None:
        self.args = [sys.executable, "-m", "monitor", *args]
        self.returncode: int | None = None
        self.stdin = None
        opened: list[int] = []  # our ends, closed once sent
        sent: list[int] = []
        self.stdout = self._stream(stdout, opened, sent, text)
        self.stderr = self._stream(stderr, opened, sent, text)
        sent.insert(0, self._source(stdin, opened))
        request = {"argv": [str(a) for a in args], "cwd": str(cwd or os.getcwd()), "env": dict(os.environ if env is None else env)}
        server = _zygote()
        assert server is not None, "popen() starts from scratch when there is no warm process"
        self._conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._conn.connect(server.address)
            socket.send_fds(self._conn, [json.dumps(request).encode()], sent)
        finally:
            for fd in opened:
                os.close(fd)
        self._buffer = b""
        answer = self._answer(None)
        assert answer is not None
        self.pid: int = answer["pid"]

    @staticmethod
    def _source(stdin: int | IO[Any] | None, opened: list[int]) -> int:
        if stdin is None:
            return 0
        if stdin == subprocess.DEVNULL:
            fd = os.open(os.devnull, os.O_RDONLY)
            opened.append(fd)
            return fd
        return stdin if isinstance(stdin, int) else stdin.fileno()

    @staticmethod
    def _stream(how: int | IO[Any] | None, opened: list[int], sent: list[int], text: bool) -> IO[Any] | None:
        if how == subprocess.PIPE:
            read, write = os.pipe()
            opened.append(write)
            sent.append(write)
            raw = open(read, "rb")  # noqa: SIM115 - the caller reads and closes it, as with Popen
            return io.TextIOWrapper(raw, encoding="utf-8", errors="strict") if text else raw
        if how == subprocess.DEVNULL:
            fd = os.open(os.devnull, os.O_WRONLY)
            opened.append(fd)
            sent.append(fd)
        elif how is None:
            sent.append(len(sent) + 1)  # this process's own stdout / stderr
        else:
            sent.append(how if isinstance(how, int) else how.fileno())
        return None

    def _answer(self, timeout: float | None) -> dict[str, Any] | None:
        """The zygote's next line, or None if none came within ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if remaining is not None and not select.select([self._conn], [], [], remaining)[0]:
                return None
            chunk = self._conn.recv(4096)
            if not chunk:
                raise RuntimeError("the warm dfe-monitor went away before answering")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        answer: dict[str, Any] = json.loads(line)
        return answer

    def _settle(self, timeout: float | None) -> int | None:
        if self.returncode is None:
            answer = self._answer(timeout)
            if answer is None:
                return None
            self.returncode = os.waitstatus_to_exitcode(answer["status"])
            self._conn.close()
        return self.returncode

    def poll(self) -> int | None:
        return self._settle(0)

    def wait(self, timeout: float | None = None) -> int:
        code = self._settle(timeout)
        if code is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        return code

    def communicate(self, timeout: float | None = None) -> tuple[Any, Any]:
        """Read both pipes to the end, then wait; ``TimeoutExpired`` as ``Popen.communicate``."""
        results: dict[str, Any] = {}

        def drain(name: str, stream: IO[Any]) -> None:
            results[name] = stream.read()
            stream.close()

        readers = [threading.Thread(target=drain, args=(name, stream), daemon=True) for name, stream in (("stdout", self.stdout), ("stderr", self.stderr)) if stream is not None]
        for reader in readers:
            reader.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        for reader in readers:
            reader.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if reader.is_alive():
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
        self.wait(None if deadline is None else max(0.1, deadline - time.monotonic()))
        return results.get("stdout"), results.get("stderr")

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def __enter__(self) -> ForkedProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        for stream in (self.stdout, self.stderr):
            if stream is not None:
                stream.close()
        self.wait()


def popen(args: list[str], **kwargs: Any) -> ForkedProcess | subprocess.Popen[Any]:
    """``dfe-monitor ARGS`` as a child process: forked when it can be, started from scratch when
    ``DFE_TEST_NO_FORKSERVER`` is set."""
    if os.environ.get(DISABLE_ENV) or _zygote() is None:
        kwargs.setdefault("text", True)
        return subprocess.Popen([sys.executable, "-m", "monitor", *args], **kwargs)
    return ForkedProcess(args, **kwargs)


def run(args: list[str], *, timeout: float | None = None, env: dict[str, str] | None = None, cwd: str | os.PathLike[str] | None = None) -> subprocess.CompletedProcess[str]:
    """``subprocess.run([dfe-monitor, *ARGS], capture_output=True, text=True, timeout=...)``."""
    process = popen(args, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise
    return subprocess.CompletedProcess(process.args, process.returncode or 0, out, err)
