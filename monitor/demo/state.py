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


@dataclass
class SiteState:
    site: Path
    state: str
    faults: dict[str, Fault] = field(default_factory=dict)
    requests: list[RequestRecord] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    shuffle_links: bool = True
    stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def root(self) -> Path:
        return self.site / self.state
