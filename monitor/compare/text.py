"""Sequence and word diffs that stay close to linear on long, re-published texts.

``difflib.SequenceMatcher`` is quadratic on long inputs with repeated lines (the design notes
measured 3.5 s at 100k lines), so lines are matched *patience*-style: lines that occur exactly
once on both sides anchor the match (longest increasing subsequence, O(n log n)), and only the
short stretches between anchors are handed to ``SequenceMatcher``. Stretches with no anchor
that are too large for it become one ``replace`` opcode rather than a quadratic search.

Opcodes have the shape of ``difflib``: ``(tag, a_start, a_end, b_start, b_end)`` with tag one of
``equal``, ``replace``, ``delete``, ``insert``.

Even so, a hostile text (duplicate stretches between rare unique lines) makes every stretch a
worst case for ``SequenceMatcher``: 337 s for 200,000 lines. A :class:`DiffBudget` bounds the
work of one comparison; when it runs out, :class:`DiffTooLarge` says so and the caller falls back
to a coarser, linear comparison.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections import Counter
from collections.abc import Hashable, Sequence

Opcode = tuple[str, int, int, int, int]

# Stretches whose product of lengths stays below this go to SequenceMatcher; larger ones with
# no unique anchor are reported as a single replacement.
_SMALL_PRODUCT = 40_000
_WORD_RE = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)


class DiffTooLarge(Exception):
    """A comparison needed more work than its budget allows."""


class DiffBudget:
    """The work one comparison may still do, in steps: each element scanned costs one, and a
    stretch handed to ``SequenceMatcher`` costs an upper bound of its inner loop (the elements
    and equal pairs it may visit, times the number of matches it may search for)."""

    def __init__(self, steps: int) -> None:
        self.limit = steps
        self.left = steps

    def charge(self, steps: int) -> None:
        self.left -= steps
        if self.left < 0:
            raise DiffTooLarge(f"more than {self.limit:,} steps")


def diff_sequences(a: Sequence[Hashable], b: Sequence[Hashable], budget: DiffBudget | None = None) -> list[Opcode]:
    """Opcodes turning ``a`` into ``b``; consecutive opcodes of one tag are merged. With a
    ``budget``, raises DiffTooLarge instead of working past it."""
    raw: list[Opcode] = []
    stack = [(0, len(a), 0, len(b))]
    while stack:
        alo, ahi, blo, bhi = stack.pop()
        if budget is not None:
            budget.charge((ahi - alo) + (bhi - blo))
        raw.extend(_diff_stretch(a, alo, ahi, b, blo, bhi, stack, budget))
    raw.sort(key=lambda op: (op[1], op[3]))
    return _merge(raw)


def _diff_stretch(
    a: Sequence[Hashable],
    alo: int,
    ahi: int,
    b: Sequence[Hashable],
    blo: int,
    bhi: int,
    stack: list[tuple[int, int, int, int]],
    budget: DiffBudget | None = None,
) -> list[Opcode]:
    ops: list[Opcode] = []
    # Common prefix and suffix are cheap and very common between two versions of a page.
    start_a, start_b = alo, blo
    while alo < ahi and blo < bhi and a[alo] == b[blo]:
        alo += 1
        blo += 1
    if alo > start_a:
        ops.append(("equal", start_a, alo, start_b, blo))
    end_a, end_b = ahi, bhi
    while ahi > alo and bhi > blo and a[ahi - 1] == b[bhi - 1]:
        ahi -= 1
        bhi -= 1
    if ahi < end_a:
        ops.append(("equal", ahi, end_a, bhi, end_b))
    if alo == ahi and blo == bhi:
        return ops
    if alo == ahi:
        ops.append(("insert", alo, alo, blo, bhi))
        return ops
    if blo == bhi:
        ops.append(("delete", alo, ahi, blo, blo))
        return ops

    anchors = _unique_anchors(a, alo, ahi, b, blo, bhi)
    if not anchors:
        ops.extend(_small_diff(a, alo, ahi, b, blo, bhi, budget))
        return ops
    prev_a, prev_b = alo, blo
    run_a = run_b = -1  # start of the current run of consecutive anchors
    for ia, ib in anchors:
        if ia > prev_a or ib > prev_b:
            if run_a >= 0:
                ops.append(("equal", run_a, prev_a, run_b, prev_b))
            stack.append((prev_a, ia, prev_b, ib))
            run_a, run_b = ia, ib
        elif run_a < 0:
            run_a, run_b = ia, ib
        prev_a, prev_b = ia + 1, ib + 1
    if run_a >= 0:
        ops.append(("equal", run_a, prev_a, run_b, prev_b))
    if prev_a < ahi or prev_b < bhi:
        stack.append((prev_a, ahi, prev_b, bhi))
    return ops


def _unique_anchors(
    a: Sequence[Hashable], alo: int, ahi: int, b: Sequence[Hashable], blo: int, bhi: int
) -> list[tuple[int, int]]:
    """Pairs of positions of items unique on both sides, longest increasing in both."""
    seen_a: dict[Hashable, int] = {}
    for i in range(alo, ahi):
        item = a[i]
        seen_a[item] = -1 if item in seen_a else i
    seen_b: dict[Hashable, int] = {}
    for j in range(blo, bhi):
        item = b[j]
        if item in seen_a:
            seen_b[item] = -1 if item in seen_b else j
    # seen_a keeps first-insertion order, which is position order in a: no sort needed.
    pairs = [(i, seen_b[item]) for item, i in seen_a.items() if i >= 0 and seen_b.get(item, -1) >= 0]
    return _longest_increasing(pairs)


def _longest_increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Patience sorting: longest subsequence of ``pairs`` (sorted by a) increasing in b."""
    tails: list[int] = []  # b value at the end of the best run of each length
    tail_index: list[int] = []
    back: list[int] = [-1] * len(pairs)
    for k, (_, bj) in enumerate(pairs):
        pos = bisect.bisect_left(tails, bj)
        if pos > 0:
            back[k] = tail_index[pos - 1]
        if pos == len(tails):
            tails.append(bj)
            tail_index.append(k)
        else:
            tails[pos] = bj
            tail_index[pos] = k
    result: list[tuple[int, int]] = []
    k = tail_index[-1] if tail_index else -1
    while k >= 0:
        result.append(pairs[k])
        k = back[k]
    result.reverse()
    return result


def _small_diff(
    a: Sequence[Hashable], alo: int, ahi: int, b: Sequence[Hashable], blo: int, bhi: int, budget: DiffBudget | None = None
) -> list[Opcode]:
    if (ahi - alo) * (bhi - blo) > _SMALL_PRODUCT:
        return [("replace", alo, ahi, blo, bhi)]
    if budget is not None:
        budget.charge(_matcher_cost(a[alo:ahi], b[blo:bhi]))
    matcher = difflib.SequenceMatcher(None, a[alo:ahi], b[blo:bhi], autojunk=False)
    return [
        (tag, i1 + alo, i2 + alo, j1 + blo, j2 + blo)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
    ]


def _matcher_cost(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """An upper bound of SequenceMatcher's inner loop on ``a`` and ``b``: each search for a
    longest match visits every element of ``a`` and every equal pair at most once, and it
    searches once per match found and once per gap between them."""
    counts = Counter(b)
    pairs = sum(counts[item] for item in a)
    return (len(a) + len(b) + pairs) * (2 * min(len(a), len(b)) + 1)


def _merge(ops: list[Opcode]) -> list[Opcode]:
    merged: list[Opcode] = []
    for op in ops:
        if op[1] == op[2] and op[3] == op[4]:
            continue
        if merged:
            tag, a1, a2, b1, b2 = merged[-1]
            if a2 == op[1] and b2 == op[3] and (tag == op[0] or (tag != "equal" and op[0] != "equal")):
                new_tag = tag if tag == op[0] else "replace"
                merged[-1] = (new_tag, a1, op[2], b1, op[4])
                continue
        merged.append(op)
    return [_retag(op) for op in merged]


def _retag(op: Opcode) -> Opcode:
    tag, a1, a2, b1, b2 = op
    if tag == "equal":
        return op
    if a1 == a2:
        return ("insert", a1, a2, b1, b2)
    if b1 == b2:
        return ("delete", a1, a2, b1, b2)
    return ("replace", a1, a2, b1, b2)


def tokenize_words(text: str) -> list[str]:
    """Split text into words, runs of white space and single punctuation marks."""
    return _WORD_RE.findall(text)


def diff_words(old: str, new: str, budget: DiffBudget | None = None) -> list[tuple[str, str]]:
    """Word-level diff as ``(op, text)`` runs, op one of ``equal``, ``delete``, ``insert``.

    Joining the ``equal`` and ``delete`` runs gives ``old``; ``equal`` and ``insert`` give
    ``new``.
    """
    a, b = tokenize_words(old), tokenize_words(new)
    runs: list[tuple[str, str]] = []
    for tag, a1, a2, b1, b2 in diff_sequences(a, b, budget):
        if tag == "equal":
            runs.append(("equal", "".join(a[a1:a2])))
            continue
        if a2 > a1:
            runs.append(("delete", "".join(a[a1:a2])))
        if b2 > b1:
            runs.append(("insert", "".join(b[b1:b2])))
    return cleanup_semantic(runs)


def cleanup_semantic(runs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Fold tiny coincidental matches into the edits around them, so a rewritten sentence reads
    as one deletion and one insertion, not as words alternating with shared spaces and "the"s.

    An unchanged run between two edits is folded when it is no longer than the edits on either
    side of it (the rule diff-match-patch's semantic cleanup uses), or is only white space and
    punctuation. Repeats until nothing folds. ``equal`` + ``delete`` runs still give the old
    text and ``equal`` + ``insert`` runs the new one.

    One pass, stepping back after each fold: a fold only makes the edit it forms larger, so only
    the unchanged run just before it can become foldable (restarting from the top made this
    quadratic in the number of runs).
    """
    # Segments: ("equal", text) or ("edit", deleted, inserted).
    segments: list[tuple[str, ...]] = []
    for op, text in runs:
        if op == "equal":
            segments.append(("equal", text))
            continue
        if not segments or segments[-1][0] != "edit":
            segments.append(("edit", "", ""))
        _, deleted, inserted = segments[-1]
        segments[-1] = ("edit", deleted + text, inserted) if op == "delete" else ("edit", deleted, inserted + text)
    i = 1
    while i < len(segments) - 1:
        before, equal, after = segments[i - 1], segments[i], segments[i + 1]
        if equal[0] == "equal" and before[0] == "edit" and after[0] == "edit":
            text = equal[1]
            small = len(text) <= min(max(len(before[1]), len(before[2])), max(len(after[1]), len(after[2])))
            if small or not any(ch.isalnum() for ch in text):
                segments[i - 1 : i + 2] = [("edit", before[1] + text + after[1], before[2] + text + after[2])]
                i = max(i - 2, 1)  # the merged edit now sits at i - 1; the run before it is at i - 2
                continue
        i += 1
    result: list[tuple[str, str]] = []
    for segment in segments:
        if segment[0] == "equal":
            if segment[1]:
                result.append(("equal", segment[1]))
            continue
        if segment[1]:
            result.append(("delete", segment[1]))
        if segment[2]:
            result.append(("insert", segment[2]))
    return result


def norm_label(text: str) -> str:
    """A label (sheet name, column header, section title) as matching compares it: white space
    collapsed, case folded."""
    return " ".join(text.split()).casefold()
