"""What the fixture server knows while it runs: the site folder and state served, the faults
set per path (``Fault``; see ``faults.py`` for what each kind does), and every request it
answered (for tests to inspect)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

FAULT_KINDS = (
    "status", "cdn503", "sorry", "empty", "redirect", "stall", "slow", "drip", "truncate",
    "close", "garbage", "huge", "gzip-bomb", "headers", "body",
)


@dataclass
class Fault:
    """How one path misbehaves (see the module docstring). ``times`` counts requests down;
    None means for ever."""

    kind: str
    status: int = 503
    retry_after: str | None = None
    location: str | None = None
    seconds: float = 0.0
    size: int = 0
    times: int | None = None
    statuses: tuple[int, ...] = ()  # kind "status": cycled through, one per request
    content_type: str | None = None  # kinds "headers" and "body"
    headers: dict[str, str] = field(default_factory=dict)  # kind "headers": replace/add these
    body: bytes = b""  # kind "body"
    length_known: bool = True  # kind "huge": send a Content-Length
    served: int = 0  # requests answered with this fault so far

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(FAULT_KINDS)}")


@dataclass
class RequestRecord:
    at: float
    method: str
    path: str
    headers: dict[str, str]
    status: int = 0


class BodyCache:
    """Stable answers already built (body and ETag), keyed by the file's path, size and mtime and
    the Host they were filled for, so a conditional request for a large file costs the server a
    ``stat`` instead of a read, a decode and a hash: a benchmark measures the client, and a real
    CDN answers a 304 from its cache too. Bounded by bytes; the oldest goes first."""

    MAX_BYTES = 256 * 1024 * 1024

    def __init__(self) -> None:
        self._items: dict[tuple[object, ...], tuple[bytes, str]] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...]) -> tuple[bytes, str] | None:
        with self._lock:
            return self._items.get(key)

    def put(self, key: tuple[object, ...], body: bytes, etag: str) -> None:
        if len(body) > self.MAX_BYTES // 4:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = (body, etag)
            self._bytes += len(body)
            while self._bytes > self.MAX_BYTES:
                oldest = next(iter(self._items))
                self._bytes -= len(self._items.pop(oldest)[0])


@dataclass
class SiteState:
    site: Path
    state: str
    faults: dict[str, Fault] = field(default_factory=dict)
    requests: list[RequestRecord] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    shuffle_links: bool = True
    stopping: threading.Event = field(default_factory=threading.Event)
    bodies: BodyCache = field(default_factory=lambda: BodyCache())

    @property
    def root(self) -> Path:
        return self.site / self.state
