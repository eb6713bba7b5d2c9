"""Where a version's texts go among the spans of its target (``version_text_spans``).

Pure: the spans open at the previous version (id, position, piece) and the new version's pieces
in reading order in; which spans go on and which pieces start new spans out. The pieces are
aligned with ``difflib.SequenceMatcher`` after the common head and tail are set aside (the
usual change touches a few pieces of hundreds); without automatic junk, so that a piece
repeated many times still matches, unless the pieces repeat so much that this would be slow. A matched piece keeps its span and its position; an inserted piece gets a
position between those of its neighbours, so inserting or deleting a piece never moves the
others. Only when a float has no room left between two neighbours is every piece renumbered
(0, 1, 2, …): every span is then closed and new ones start, which is correct, only less shared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

TextTuple = tuple[str, str, str]  # part, section, text


@dataclass(frozen=True)
class OpenSpan:
    id: int
    position: float
    piece: TextTuple


@dataclass(frozen=True)
class SpanPlan:
    going_on: list[int]  # ids of the spans the new version extends
    new: list[tuple[float, str, str, str]]  # position, part, section, text of each new span


def plan_spans(open_spans: Sequence[OpenSpan], texts: Sequence[TextTuple]) -> SpanPlan:
    """How the pieces ``texts`` of a version follow the spans open at its previous version
    (``open_spans``, in reading order)."""
    old = [span.piece for span in open_spans]
    if old == list(texts):
        return SpanPlan([span.id for span in open_spans], [])
    positions: list[float | None] = [None] * len(texts)
    going_on: list[int] = []
    for i, j, size in _matches(old, texts):
        for k in range(size):
            positions[j + k] = open_spans[i + k].position
            going_on.append(open_spans[i + k].id)
    filled = _fill(positions)
    if filled is None:
        return SpanPlan([], [(float(n), *piece) for n, piece in enumerate(texts)])
    return SpanPlan(going_on, [(filled[n], *piece) for n, piece in enumerate(texts) if positions[n] is None])


def _matches(old: Sequence[TextTuple], new: Sequence[TextTuple]) -> list[tuple[int, int, int]]:
    """(old index, new index, length) of each run of pieces kept, in order."""
    head = 0
    while head < len(old) and head < len(new) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < len(old) - head and tail < len(new) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    runs = [(0, 0, head)] if head else []
    a, b = old[head : len(old) - tail], new[head : len(new) - tail]
    matcher = SequenceMatcher(None, a, b, autojunk=_repetitive(a, b))
    runs += [(head + i, head + j, size) for i, j, size in matcher.get_matching_blocks() if size]
    if tail:
        runs.append((len(old) - tail, len(new) - tail, tail))
    return runs


def _repetitive(a: Sequence[TextTuple], b: Sequence[TextTuple]) -> bool:
    """Whether pieces repeat so much that matching them all would take quadratic time.

    Without automatic junk, each search for the longest match visits every place in ``b`` of
    every piece of ``a``: a table with a thousand identical rows between changing ones took
    minutes. Then difflib's own rule applies (a piece making more than 1% of ``b`` anchors no
    match, though it still joins a match next to it): fewer pieces shared, but found quickly.
    """
    counts: dict[TextTuple, int] = {}
    for piece in b:
        counts[piece] = counts.get(piece, 0) + 1
    visits = sum(counts.get(piece, 0) for piece in a)
    return visits > 4 * (len(a) + len(b)) + 1000


def _fill(positions: list[float | None]) -> list[float] | None:
    """Positions for the new pieces (None) between those kept; None when floats run out."""
    filled: list[float] = []
    n = 0
    while n < len(positions):
        known = positions[n]
        if known is not None:
            filled.append(known)
            n += 1
            continue
        end = n
        while end < len(positions) and positions[end] is None:
            end += 1
        count = end - n
        low = filled[-1] if filled else None
        high = positions[end] if end < len(positions) else None
        if low is None and high is None:
            filled += [float(k) for k in range(count)]
        elif low is None:
            assert high is not None
            filled += [high - count + k for k in range(count)]
        elif high is None:
            filled += [low + 1 + k for k in range(count)]
        else:
            filled += [low + (high - low) * (k + 1) / (count + 1) for k in range(count)]
        n = end
    if any(a >= b for a, b in zip(filled, filled[1:], strict=False)):
        return None
    return filled
