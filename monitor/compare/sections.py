"""Section-level diff of two versions of a document file (PDF, DOCX, text).

Sections are matched by number and title, then by title alone (a section that was renumbered is
"moved", not rewritten), then by number alone (a retitled section). Within a matched section,
sentences are diffed with ``monitor.compare.text``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from monitor.compare.text import diff_sequences
from monitor.compare.text import norm_label as _norm
from monitor.model import Section

_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class SectionChange:
    """A section added, removed, changed, or moved (renumbered; possibly changed too)."""

    label: str
    status: str  # added | removed | changed | moved
    sentences_added: tuple[str, ...] = ()
    sentences_removed: tuple[str, ...] = ()
    previous_label: str | None = None  # for moved and retitled sections


def diff_sections(old: Sequence[Section], new: Sequence[Section]) -> tuple[SectionChange, ...]:
    """Changed, added, removed and renumbered sections, in reading order of the new version."""
    pairs = _match_sections(old, new)
    new_to_old = {j: i for i, j in pairs}
    placed: list[tuple[float, int, SectionChange]] = []
    for j, section in enumerate(new):
        i = new_to_old.get(j)
        if i is None:
            placed.append((j, 0, _whole_section(section, "added")))
            continue
        change = _compare_sections(old[i], section)
        if change is not None:
            placed.append((j, 0, change))
    old_to_new = dict(pairs)
    anchor = -1.0
    for i, section in enumerate(old):
        if i in old_to_new:
            anchor = float(old_to_new[i])
            continue
        placed.append((anchor + 0.5, i, _whole_section(section, "removed")))
    placed.sort(key=lambda item: (item[0], item[1]))
    return tuple(change for _, _, change in placed)


def _match_sections(old: Sequence[Section], new: Sequence[Section]) -> list[tuple[int, int]]:
    """(old index, new index) pairs: by number and title, then title, then number."""
    pairs: list[tuple[int, int]] = []
    free_old = set(range(len(old)))
    free_new = set(range(len(new)))
    keys = (
        lambda s: (s.number, _norm(s.title)),
        lambda s: _norm(s.title) if s.title else None,
        lambda s: s.number or None,
    )
    for key in keys:
        index: dict[Any, list[int]] = defaultdict(list)
        for i in sorted(free_old):
            value = key(old[i])
            if value is not None:
                index[value].append(i)
        for j in sorted(free_new):
            value = key(new[j])
            candidates = index.get(value) if value is not None else None
            if candidates:
                i = candidates.pop(0)
                pairs.append((i, j))
                free_old.discard(i)
                free_new.discard(j)
    return pairs


def _compare_sections(old: Section, new: Section) -> SectionChange | None:
    before, after = sentences_of(old.paragraphs), sentences_of(new.paragraphs)
    removed: list[str] = []
    added: list[str] = []
    if before != after:
        for tag, i1, i2, j1, j2 in diff_sequences(before, after):
            if tag != "equal":
                removed.extend(before[i1:i2])
                added.extend(after[j1:j2])
    if old.number != new.number:
        return SectionChange(new.label, "moved", tuple(added), tuple(removed), old.label)
    if _norm(old.title) != _norm(new.title):
        return SectionChange(new.label, "changed", tuple(added), tuple(removed), old.label)
    if added or removed:
        return SectionChange(new.label, "changed", tuple(added), tuple(removed))
    return None


def _whole_section(section: Section, status: str) -> SectionChange:
    sentences = tuple(sentences_of(section.paragraphs))
    if status == "added":
        return SectionChange(section.label, status, sentences_added=sentences)
    return SectionChange(section.label, status, sentences_removed=sentences)


def sentences_of(paragraphs: Iterable[str]) -> list[str]:
    """Sentences split simply after . ! or ? and white space; each paragraph ends one."""
    sentences: list[str] = []
    for paragraph in paragraphs:
        sentences.extend(
            s for s in (part.strip() for part in _SENTENCE_END_RE.split(paragraph)) if s
        )
    return sentences
