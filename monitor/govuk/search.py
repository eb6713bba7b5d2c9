"""The shape of GOV.UK Search API answers (``/api/search.json``), and which results are new.

The spider (to fetch what it has not seen) and discovery (to start tracking it) read answers
through these functions, so both decide alike what a result names and whether it is new.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from monitor.errors import ExtractionError
from monitor.govuk.shape import TEXT, load_json, shape_problem
from monitor.govuk.urls import normalise_url, result_path
from monitor.text import clip

# Fields asked of the Search API for each result.
SEARCH_FIELDS = ("title", "link", "description", "public_timestamp", "format", "content_store_document_type")
# The fields of a result that are read, with the shape they are read as.
SEARCH_RESULT = {"title": TEXT, "link": TEXT, "description": TEXT}
MAX_TITLE_CHARS = 300
MAX_DESCRIPTION_CHARS = 2000
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


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
    listed: int  # results the answer listed and were read, usable or not (for paging)
    total: int  # the API's count of all matches
    unread: int = 0  # results the answer listed past the ``limit`` it was read with


def read_search_page(body: bytes | str, base_url: str, limit: int | None = None) -> SearchPage | None:
    """The usable results of one Search API answer, or None when it is not one (not JSON,
    nested too deeply, not an object with a list of results). With ``limit``, only the first
    ``limit`` results listed are read (a page may list far more than it was asked for).

    A result is usable when its ``link`` names a page of the site and its ``title`` and
    ``description`` are text (or absent); any other result is skipped, like a link to another
    site. Titles and descriptions are made plain: white space collapsed, control characters
    removed, bounded in length (they become target names, feed titles and terminal lines).
    """
    try:
        data = load_json(body, "Search API answer")
    except ExtractionError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        return None
    listed = data["results"]
    raw = listed if limit is None else listed[: max(limit, 0)]
    results = []
    for item in raw:
        if not isinstance(item, dict) or shape_problem(item, SEARCH_RESULT, "result") is not None:
            continue
        path = result_path(item.get("link"), base_url)
        if path is None:
            continue
        title = plain_text(item.get("title") or path, MAX_TITLE_CHARS) or path
        results.append(SearchResult(path, title, plain_text(item.get("description") or "", MAX_DESCRIPTION_CHARS)))
    total = data.get("total")
    return SearchPage(tuple(results), len(raw), total if isinstance(total, int) and not isinstance(total, bool) else 0, len(listed) - len(raw))


def plain_text(text: str, limit: int) -> str:
    """One line of text: control characters dropped, white space collapsed, at most ``limit``
    characters."""
    return clip(_CONTROLS.sub(" ", text), limit)


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


def new_target_cap(max_results: int, new_targets: int, *, baseline: bool) -> int:
    """How many new targets one ``[[discover]]`` entry may add in a run: its first run is a
    silent baseline and may track all it looks at (``max_results``); later runs at most
    ``limits.new_targets`` (an endless search must not add a hundred targets every run)."""
    return max_results if baseline else min(new_targets, max_results)


def tracked_urls(urls: Iterable[str]) -> set[str]:
    """The normalised form of every URL a target is known by (``new_results``' ``known``)."""
    return {normalise_url(url) for url in urls}
