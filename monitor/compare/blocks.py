"""Body text: which blocks (headings, paragraphs, list items, table rows) were added, removed
or changed, under which heading, word by word where the stretch is short enough to read."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.compare.report import TextChange
from monitor.compare.text import diff_sequences, diff_words
from monitor.model import Block

MAX_WORD_DIFF_CHARS = 20_000  # longer stretches are shown as before/after, not word by word


def diff_blocks(old: Sequence[Block], new: Sequence[Block]) -> tuple[TextChange, ...]:
    old_keys = [(b.kind, b.text) for b in old]
    new_keys = [(b.kind, b.text) for b in new]
    changes = []
    for tag, a1, a2, b1, b2 in diff_sequences(old_keys, new_keys):
        if tag == "equal":
            continue
        old_part, new_part = old[a1:a2], new[b1:b2]
        section = _section_at(new, b1) if new_part or b1 < len(new) else _section_at(old, a1)
        if tag == "insert":
            changes.append(TextChange("added", section, _kinds(new_part), new=tuple(b.text for b in new_part), block_kinds=tuple(b.kind for b in new_part)))
        elif tag == "delete":
            changes.append(TextChange("removed", _section_at(old, a1), _kinds(old_part), old=tuple(b.text for b in old_part), block_kinds=tuple(b.kind for b in old_part)))
        else:
            changes.append(_changed(section, old_part, new_part))
    return tuple(changes)


def _changed(section: str, old_part: Sequence[Block], new_part: Sequence[Block]) -> TextChange:
    old_text = "\n".join(b.text for b in old_part)
    new_text = "\n".join(b.text for b in new_part)
    words: tuple[tuple[str, str], ...] = ()
    if len(old_text) + len(new_text) <= MAX_WORD_DIFF_CHARS:
        words = tuple(diff_words(old_text, new_text))
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


def _section_at(blocks: Sequence[Block], index: int) -> str:
    for i in range(min(index, len(blocks) - 1), -1, -1):
        if blocks[i].kind == "heading" and i < index:
            return blocks[i].text
    return ""
