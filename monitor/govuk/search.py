"""The shape of GOV.UK Search API answers (``/api/search.json``), and which results are new.

The spider (to fetch what it has not seen) and discovery (to start tracking it) read answers
through these functions, so both decide alike what a result names and whether it is new.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from monitor.govuk.urls import normalise_url, result_path

# Fields asked of the Search API for each result.
SEARCH_FIELDS = ("title", "link", "description", "public_timestamp", "format", "content_store_document_type")


@dataclass(frozen=True)
class SearchResult:
    path: str  # the base path it names on the site
    title: str
    description: str = ""

    def url(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}{self.path}"


@dataclass(frozen=True)
class SearchPage:
    results: tuple[SearchResult, ...]
    listed: int  # results the answer listed, usable or not (for paging)
    total: int  # the API's count of all matches


def read_search_page(body: bytes | str, base_url: str) -> SearchPage | None:
    """The usable results of one Search API answer, or None when it is not one."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        return None
    raw = data["results"]
    results = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        path = result_path(item.get("link"), base_url)
        if path is None:
            continue
        title = " ".join(str(item.get("title") or path).split())
        results.append(SearchResult(path, title, str(item.get("description") or "")))
    total = data.get("total")
    return SearchPage(tuple(results), len(raw), total if isinstance(total, int) and not isinstance(total, bool) else 0)


def new_results(results: Iterable[SearchResult], base_url: str, known: set[str]) -> list[SearchResult]:
    """The results whose page is not in ``known`` (normalised URLs), each once; ``known`` gains
    them."""
    fresh = []
    for result in results:
        key = normalise_url(result.url(base_url))
        if key in known:
            continue
        known.add(key)
        fresh.append(result)
    return fresh


def any_unknown(results: Iterable[SearchResult], base_url: str, known: set[str] | frozenset[str]) -> bool:
    """True when some result names a page not in ``known`` (normalised URLs); ``known`` is left
    as it is. Whether a search is worth its next page depends on its own results, not on which
    other search happened to fetch them first."""
    return any(normalise_url(result.url(base_url)) not in known for result in results)


def tracked_urls(urls: Iterable[str]) -> set[str]:
    """The normalised form of every URL a target is known by (``new_results``' ``known``)."""
    return {normalise_url(url) for url in urls}
