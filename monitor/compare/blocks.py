"""Body text: which blocks (headings, paragraphs, list items, table rows) were added, removed
or changed, under which heading, word by word where the stretch is short enough to read.

The comparison works within a :class:`DiffBudget`; a text that would need more (a hostile page
of duplicate stretches) is compared coarsely instead, in linear time: the blocks each side has
more of, listed as removed and added under :data:`COARSE_SECTION`, without their places.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from monitor.compare.report import TextChange
from monitor.compare.text import DiffBudget, DiffTooLarge, diff_sequences, diff_words
from monitor.model import Block

MAX_WORD_DIFF_CHARS = 20_000  # longer stretches are shown as before/after, not word by word
# Where the changes of a coarse comparison are said to be (the feed shows it as their section).
COARSE_SECTION = "the whole text (changed in too many places to line up: paragraphs compared as a set, without their places)"


def diff_blocks(old: Sequence[Block], new: Sequence[Block], budget: DiffBudget | None = None) -> tuple[TextChange, ...]:
    """The text changes from ``old`` to ``new``: aligned, or coarse when ``budget`` runs out."""
    try:
        return _aligned(old, new, budget)
    except DiffTooLarge:
        return coarse_diff(old, new)


def _aligned(old: Sequence[Block], new: Sequence[Block], budget: DiffBudget | None) -> tuple[TextChange, ...]:
    old_keys = [(b.kind, b.text) for b in old]
    new_keys = [(b.kind, b.text) for b in new]
    old_sections, new_sections = _sections(old), _sections(new)
    changes = []
    for tag, a1, a2, b1, b2 in diff_sequences(old_keys, new_keys, budget):
        if tag == "equal":
            continue
        old_part, new_part = old[a1:a2], new[b1:b2]
        section = new_sections[b1] if new_part or b1 < len(new) else old_sections[a1]
        if tag == "insert":
            changes.append(TextChange("added", section, _kinds(new_part), new=tuple(b.text for b in new_part), block_kinds=tuple(b.kind for b in new_part)))
        elif tag == "delete":
            changes.append(TextChange("removed", old_sections[a1], _kinds(old_part), old=tuple(b.text for b in old_part), block_kinds=tuple(b.kind for b in old_part)))
        else:
            changes.append(_changed(section, old_part, new_part, budget))
    return tuple(changes)


def coarse_diff(old: Sequence[Block], new: Sequence[Block]) -> tuple[TextChange, ...]:
    """Linear: the blocks ``old`` has more of than ``new`` (removed) and the other way round
    (added), each in its own order, as at most two changes under COARSE_SECTION."""
    old_keys = [(b.kind, b.text) for b in old]
    new_keys = [(b.kind, b.text) for b in new]
    removed = _surplus(old, old_keys, Counter(old_keys) - Counter(new_keys))
    added = _surplus(new, new_keys, Counter(new_keys) - Counter(old_keys))
    changes = []
    if removed:
        changes.append(TextChange("removed", COARSE_SECTION, _kinds(removed), old=tuple(b.text for b in removed), block_kinds=tuple(b.kind for b in removed)))
    if added:
        changes.append(TextChange("added", COARSE_SECTION, _kinds(added), new=tuple(b.text for b in added), block_kinds=tuple(b.kind for b in added)))
    return tuple(changes)


def _surplus(blocks: Sequence[Block], keys: list[tuple[str, str]], extra: Counter[tuple[str, str]]) -> list[Block]:
    """The last ``extra[key]`` blocks of each key, in document order."""
    seen: Counter[tuple[str, str]] = Counter(keys)
    found = []
    for block, key in zip(blocks, keys, strict=True):
        if seen[key] <= extra[key]:
            found.append(block)
        seen[key] -= 1
    return found


def _changed(section: str, old_part: Sequence[Block], new_part: Sequence[Block], budget: DiffBudget | None) -> TextChange:
    old_text = "\n".join(b.text for b in old_part)
    new_text = "\n".join(b.text for b in new_part)
    words: tuple[tuple[str, str], ...] = ()
    if len(old_text) + len(new_text) <= MAX_WORD_DIFF_CHARS:
        words = tuple(diff_words(old_text, new_text, budget))
    return TextChange(
        "changed",
        section,
        _kinds([*old_part, *new_part]),
        old=tuple(b.text for b in old_part),
        new=tuple(b.text for b in new_part),
        words=words,
        block_kinds=tuple(b.kind for b in (new_part if len(new_part) >= len(old_part) else old_part)),
    )


def _kinds(blocks: Sequence[Block]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(b.kind for b in blocks))


def _sections(blocks: Sequence[Block]) -> list[str]:
    """For every position 0..len(blocks), the nearest heading strictly before it ("" if none):
    one pass, where looking back from each change was quadratic on long texts."""
    sections = [""]
    for block in blocks:
        sections.append(block.text if block.kind == "heading" else sections[-1])
    return sections
