"""What the spiders hand over: raw captures (bytes plus HTTP metadata) and the crawl plan."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Capture:
    """One request's outcome. ``body`` is None for 304s and failures."""

    target_url: str | None  # the target this was fetched for (None: discovery searches)
    role: str  # api | page | parent | attachment | search
    url: str  # as requested (before redirects)
    final_url: str | None = None
    status: int | None = None
    body: bytes | None = None
    not_modified: bool = False
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    elapsed_ms: int | None = None
    redirects: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    headers: list[tuple[str, str]] = field(default_factory=list)  # every response header, in order


@dataclass(frozen=True)
class TargetPlan:
    """What to fetch for one target, and what the last run left to compare against."""

    target_url: str  # identity of the target
    fetch_url: str  # where it lives now
    api_url: str | None  # Content API URL when the page is under govuk.base_url
    selector: str = "main#content"
    known_attachments: tuple[str, ...] = ()  # file attachment URLs of the last version
    known_parent_api_url: str | None = None


@dataclass(frozen=True)
class DiscoverPlan:
    key: str
    query: str
    organisation: str | None
    document_type: str | None
    max_results: int
    page_size: int = 50
    max_new: int | None = None  # new results fetched this run (None: up to max_results)


@dataclass
class CrawlPlan:
    base_url: str
    allowed_hosts: tuple[str, ...]
    targets: list[TargetPlan]
    discover: list[DiscoverPlan] = field(default_factory=list)
    known_urls: frozenset[str] = frozenset()  # target URLs already tracked (not re-discovered)
    validators: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    # Pages over these caps (limits.*) fail in the document stage: none of their files is asked for.
    max_tags: int | None = None
    max_attachments: int | None = None
