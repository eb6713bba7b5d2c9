"""What a person (or a log shipper) sees while a command runs: log lines on stderr and, at an
interactive terminal, a progress bar.

Log lines are stable and greppable: ``2026-11-30T06:17:41Z INFO dfe-monitor.run: message``
(UTC), or one JSON object per line with ``--log-format json``. Either way each is one line a
terminal shows as it is: messages quote what upstream wrote (titles, addresses, errors), so
control and format characters in them are written as visible escapes (``\\x1b``), or as
``\\uXXXX`` inside JSON. Levels: errors only with ``--quiet``; warnings under cron (stderr not
a terminal); progress (INFO) at a terminal or with ``-v``; debugging and Scrapy's own settings
and statistics dumps with ``-vv``. The progress bar (tqdm) appears only when stderr is a
terminal and the text format is in use: never under cron, in a pipe, or in the daemon's children.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import IO, Any

from monitor.text import json_printable, printable

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class PrintableFormatter(logging.Formatter):
    """The text log line (UTC times): its message one printable line; a traceback (``-v``)
    keeps its line breaks, each of its lines made printable."""

    def __init__(self, fmt: str = TEXT_FORMAT, datefmt: str = DATE_FORMAT) -> None:
        super().__init__(fmt, datefmt)
        self.converter = time.gmtime

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        original = record.message
        record.message = printable(original)
        try:
            return super().formatMessage(record)
        finally:
            record.message = original

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        return _printable_lines(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - logging's name
        return _printable_lines(super().formatStack(stack_info))


def _printable_lines(text: str) -> str:
    return "\n".join(printable(line) for line in text.split("\n"))


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (RFC 3339, UTC), level, logger, message [, error];
    characters JSON leaves raw but a terminal may act on written as ``\\uXXXX``."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": time.strftime(DATE_FORMAT, time.gmtime(record.created)),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info)
        return json_printable(json.dumps(data, ensure_ascii=False))


def log_level(verbosity: int, *, quiet: bool = False, stream: IO[str] | None = None) -> int:
    """The level of the run's own progress lines: see the module docstring."""
    if quiet:
        return logging.ERROR
    if verbosity >= 2:
        return logging.DEBUG
    if verbosity == 1 or is_terminal(stream or sys.stderr):
        return logging.INFO
    return logging.WARNING


class _Thresholds(logging.Filter):
    """Which records reach stderr, by logger: the run's and the daemon's progress lines at
    ``progress``; our other lines (retries, stops) at INFO only with -v; libraries' (Scrapy,
    Twisted, Alembic...) at WARNING, or everything with -vv. A filter on the handler, because
    Scrapy resets its own loggers' levels when a crawl starts."""

    PROGRESS = ("dfe-monitor.run", "dfe-monitor.schedule")
    always: set[str] = set()  # loggers whose INFO lines always show (the daemon's own log)

    def __init__(self, verbosity: int, quiet: bool) -> None:
        super().__init__()
        self.progress = log_level(verbosity, quiet=quiet)
        self.ours = logging.ERROR if quiet else logging.DEBUG if verbosity >= 2 else logging.INFO if verbosity == 1 else logging.WARNING
        self.others = logging.ERROR if quiet else logging.DEBUG if verbosity >= 2 else logging.WARNING

    def threshold(self, name: str) -> int:
        if name in self.always:
            return min(logging.INFO, self.ours)
        if name in self.PROGRESS or name.startswith(tuple(f"{p}." for p in self.PROGRESS)):
            return min(self.progress, self.ours)
        if name == "dfe-monitor" or name.startswith("dfe-monitor."):
            return min(self.ours, max(self.progress, logging.WARNING)) if self.ours != logging.INFO else logging.INFO
        return self.others

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.threshold(record.name)


def always_show(logger_name: str) -> None:
    """INFO lines of this logger are shown whatever the verbosity (the daemon's own log)."""
    _Thresholds.always.add(logger_name)


def is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def configure_logging(verbosity: int, *, quiet: bool = False, log_format: str = "text") -> None:
    """One handler on stderr for everything (Scrapy's loggers included)."""
    handler = _ProgressAwareHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else PrintableFormatter())
    handler.addFilter(_Thresholds(verbosity, quiet))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO)


class _ProgressAwareHandler(logging.StreamHandler):  # type: ignore[type-arg,unused-ignore]
    """Writes above the progress bar when one is showing (so the bar is not torn)."""

    def emit(self, record: logging.LogRecord) -> None:
        bar = Progress.active
        if bar is None:
            super().emit(record)
            return
        try:
            bar.write(self.format(record))
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)


class Progress:
    """A progress bar on stderr, when stderr is a terminal; otherwise it does nothing.

    ``stage(name, total)`` starts a stage (total None: a count with no end); ``advance()`` moves
    it on; ``close()`` removes the bar. Only one bar shows at a time.
    """

    active: Any = None  # the tqdm bar showing now, for the log handler

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and is_terminal(sys.stderr)
        self._bar: Any = None

    def stage(self, name: str, total: int | None = None) -> None:
        self.close()
        if not self.enabled:
            return
        from tqdm import tqdm

        self._bar = tqdm(total=total, desc=name, unit=" targets" if total else " answers", file=sys.stderr, leave=False, dynamic_ncols=True)
        Progress.active = self._bar

    def advance(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
            Progress.active = None


NO_PROGRESS = Progress(enabled=False)
