"""The few errors dfe-monitor raises on purpose, each with the exit code the CLI turns it into.

Only ``monitor/cli.py`` prints them and exits; everything else raises.
"""

from __future__ import annotations

# Exit codes (the contract fixes 0, 1, 2 and 75; the others name failures it leaves open).
EXIT_OK = 0
EXIT_NOTHING_FETCHED = 1
EXIT_USAGE = 2
EXIT_CORRUPT_DATABASE = 65  # sysexits EX_DATAERR: the database file is not a usable SQLite file
EXIT_SOFTWARE = 70  # sysexits EX_SOFTWARE: a bug; run again with --verbose and report it
EXIT_STORAGE = 74  # sysexits EX_IOERR: disk full, read-only database or feed folder
EXIT_LOCKED = 75  # sysexits EX_TEMPFAIL: another run holds the lock
EXIT_FEED_INVALID = 76  # the feed would have been invalid; the old one was kept
EXIT_STOPPED = 143  # 128 + SIGTERM: stopped by a signal before the crawl finished


class MonitorError(Exception):
    """Base class: a message for people plus the exit code for the shell."""

    exit_code = EXIT_SOFTWARE


class ConfigError(MonitorError):
    """config.toml is missing, unreadable or wrong. The message names file, line and key."""

    exit_code = EXIT_USAGE


class UsageError(MonitorError):
    exit_code = EXIT_USAGE


class LockHeld(MonitorError):
    exit_code = EXIT_LOCKED


class StorageError(MonitorError):
    """The database or an output folder cannot be written (disk full, read-only...)."""

    exit_code = EXIT_STORAGE


class CorruptDatabase(MonitorError):
    exit_code = EXIT_CORRUPT_DATABASE


class NothingFetched(MonitorError):
    exit_code = EXIT_NOTHING_FETCHED


class FeedInvalid(MonitorError):
    exit_code = EXIT_FEED_INVALID


class RunStopped(MonitorError):
    """SIGTERM / Ctrl-C arrived during the crawl: the run was recorded as aborted."""

    exit_code = EXIT_STOPPED


class ExtractionError(MonitorError):
    """A capture could not be turned into a Document.

    ``suspect`` marks bodies that look like an error page served with status 200 (the CDN's
    "Sorry, there is a problem" page, an empty API answer): they count as failed fetches,
    never as content.
    """

    def __init__(self, message: str, *, suspect: bool = False) -> None:
        super().__init__(message)
        self.suspect = suspect


class ScrapyMismatch(MonitorError):
    """The installed Scrapy lacks an internal dfe-monitor relies on, or is not the release it
    was tested with (spiders/scrapy_internals.py)."""

    exit_code = EXIT_SOFTWARE
