"""Run extractions in a child process with memory, CPU and wall-clock limits.

    python -m monitor.document.files.sandbox FORMAT LIMITS_JSON  < file bytes  > FileContent JSON
    python -m monitor.document.files.sandbox --serve LIMITS_JSON   (file after file: readers.py)

A hostile or merely broken PDF can make a parser loop for hours or allocate without bound, and
parser bugs are fixed more slowly than they are found. The parent passes the bytes on stdin and
reads the result (``monitor.model.file_content_to_json``) from stdout; the child:

* sets its own ``RLIMIT_AS`` (address space) and ``RLIMIT_CPU`` before it reads a byte of the
  input — the same effect as a ``preexec_fn``, without its documented deadlock risk when the
  parent has threads (Scrapy and APScheduler both start some) — and ``RLIMIT_FSIZE`` 0, so a
  parser cannot write files;
* points file descriptor 1 at stderr, so nothing a library prints can corrupt the result;
* silences logging and warnings (pypdf reports every oddity of real-world PDFs).

The parent kills the child when the wall-clock timeout passes, and turns every way the child can
fail (timeout, signal, MemoryError, garbage output) into ``FileContent.error``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from monitor.document.files.safety import Limits, cpu_limit
from monitor.errors import RunStopped
from monitor.model import FileContent, file_content_from_json, file_content_to_json

# The directory holding the ``monitor`` package, so the child imports this very copy.
PROJECT_ROOT = str(Path(__file__).resolve().parents[3])


def child_command(mode: str, limits: Limits) -> list[str]:
    """The sandbox child for ``mode``: a format (one file) or ``--serve`` (file after file)."""
    return [sys.executable, "-m", "monitor.document.files.sandbox", mode, json.dumps(asdict(limits))]


def run_in_child(data: bytes, fmt: str, limits: Limits) -> FileContent:
    """Extract ``data`` in a child process of its own, started for this file alone."""
    command = child_command(fmt, limits)
    try:
        result = subprocess.run(
            command,
            input=data,
            capture_output=True,
            timeout=limits.timeout_seconds,
            env=child_environment(),
            cwd=PROJECT_ROOT,
            check=False,
        )
    except subprocess.TimeoutExpired:  # subprocess.run has killed the child already
        return FileContent(
            format=fmt, error=f"extraction timed out after {limits.timeout_seconds:g} s"
        )
    except OSError as exc:
        return FileContent(format=fmt, error=f"could not start the extraction process: {exc}")
    if result.returncode != 0:
        return FileContent(format=fmt, error=describe_failure(result.returncode, result.stderr, limits))
    try:
        return file_content_from_json(result.stdout)
    except (ValueError, KeyError, TypeError):
        return FileContent(format=fmt, error="extraction process returned unreadable output")


def child_environment() -> dict[str, str]:
    env = dict(os.environ)
    paths = [PROJECT_ROOT] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONWARNINGS"] = "ignore"
    return env


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def describe_failure(code: int, stderr: bytes, limits: Limits) -> str:
    """One line for a child that ended with ``code`` without an answer (``stderr``: its last
    words); a child killed by a stop signal stops the run instead."""
    if code < 0:
        sig = -code
        if sig in STOP_SIGNALS:
            # Not the file's doing: the run is being stopped. Stop with it; caching this as the
            # file's extraction error would wrongly mark the file unreadable for good.
            raise RunStopped(f"the run was stopped while reading a file (its reader got {signal.Signals(sig).name})")
        if sig == signal.SIGXCPU:
            return f"extraction exceeded its CPU time limit ({cpu_limit(limits)} s)"
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return f"extraction process was killed by {name}"
    lines = stderr.decode("utf-8", errors="replace").strip().splitlines()
    last = lines[-1][:200] if lines else f"exit status {code}"
    if "MemoryError" in last:
        return "ran out of memory while reading the file"
    return f"extraction process failed: {last}"


def apply_limits(limits: Limits, *, cpu: bool = True) -> None:
    """Limit this process (called in the child, before reading the input). A serving child sets
    its CPU limit per file instead (``renew_cpu_limit``)."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    if cpu:
        seconds = cpu_limit(limits)
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def renew_cpu_limit(limits: Limits) -> None:
    """``cpu_limit(limits)`` more CPU seconds from now: SIGXCPU when this file has used them."""
    import math
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime) + cpu_limit(limits)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.getrlimit(resource.RLIMIT_CPU)[1]))


def _quiet_child() -> int:
    """Point fd 1 at stderr (anything a library prints goes there, not into the result), silence
    logging and warnings; returns a descriptor for the result."""
    result_fd = os.dup(1)
    os.dup2(2, 1)
    import logging
    import warnings

    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    return result_fd


def serve(limits: Limits) -> int:
    """File after file: ``{"format", "size"}\\n`` and the bytes in, ``SIZE\\n`` and the
    FileContent JSON out, until the input ends."""
    out = os.fdopen(_quiet_child(), "wb")
    apply_limits(limits, cpu=False)
    from monitor.document.files.parsers import run_extractor

    source = sys.stdin.buffer
    while header := source.readline():
        request = json.loads(header)
        data = source.read(request["size"])
        if len(data) != request["size"]:
            return 1
        renew_cpu_limit(limits)
        payload = file_content_to_json(run_extractor(data, request["format"], limits)).encode("utf-8")
        del data
        out.write(b"%d\n" % len(payload) + payload)
        out.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m monitor.document.files.sandbox FORMAT|--serve LIMITS_JSON", file=sys.stderr)
        return 2
    if args[0] == "--serve":
        return serve(Limits(**json.loads(args[1])))
    fmt, limits = args[0], Limits(**json.loads(args[1]))
    result_fd = _quiet_child()
    apply_limits(limits)
    data = sys.stdin.buffer.read()

    from monitor.document.files.parsers import run_extractor

    content = run_extractor(data, fmt, limits)
    with os.fdopen(result_fd, "wb") as out:
        out.write(file_content_to_json(content).encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
