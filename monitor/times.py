"""How times are written wherever a program reads them (the feed, JSON records, exports): RFC 3339
in UTC, to the second, with a ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, in UTC, to the second: the clock every stored time is read from."""
    return datetime.now(UTC).replace(microsecond=0)


def rfc3339(when: datetime) -> str:
    return when.isoformat(timespec="seconds").replace("+00:00", "Z")
