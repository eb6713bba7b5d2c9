"""Watch-list terms marked where they occur in what an entry shows.

The highlighting is data, never markup: a piece of text becomes a list of segments, each
``{"text": …, "term": bool}``, and the templates put ``<mark>`` around the term segments (every
segment still escaped). Terms are matched in all their word forms (``compare.termforms``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from monitor.compare.termforms import split_on_terms


class Segment(TypedDict):
    text: str
    term: bool  # a watch-list term: shown marked


class Marker:
    """Cuts text into segments at the watch-list terms an entry was flagged for."""

    def __init__(self, terms: Sequence[str] = ()) -> None:
        self.terms = tuple(terms)

    def __call__(self, text: str) -> list[Segment]:
        if not text:
            return []
        if not self.terms:
            return [{"text": text, "term": False}]
        return [{"text": piece, "term": is_term} for piece, is_term in split_on_terms(text, self.terms)]


NO_MARKS = Marker()
