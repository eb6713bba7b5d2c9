"""The words for what changed inside a file: a one-line summary for the entry, and a brief for
its title, both from one count (:class:`FileCounts`), so the title never says "2 sections
changed" where the entry lists one changed and one removed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from monitor.compare.files import FileDiff
from monitor.compare.sections import SectionChange
from monitor.compare.tables import TableDiff

MAX_SUMMARY_PARTS = 4


def quote(name: str) -> str:
    return f"'{name}'"


def _quote_all(names: Sequence[str]) -> str:
    return ", ".join(quote(name) for name in names)


def counted(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n == 1 else plural}"


def _renumbered_only(change: SectionChange) -> bool:
    return change.status == "moved" and not (change.sentences_added or change.sentences_removed)


@dataclass(frozen=True)
class FileCounts:
    """Everything countable in a file's diff, counted once."""

    rows_added: int = 0
    rows_removed: int = 0
    rows_changed: int = 0
    sheets_added: int = 0
    sheets_removed: int = 0
    sections_added: tuple[SectionChange, ...] = ()
    sections_removed: tuple[SectionChange, ...] = ()
    sections_changed: tuple[SectionChange, ...] = ()  # changed in place, or renumbered and changed
    sections_renumbered: tuple[SectionChange, ...] = ()  # renumbered, text the same

    @classmethod
    def of(cls, diff: FileDiff) -> FileCounts:
        sections = diff.sections
        return cls(
            rows_added=sum(len(t.rows_added) for t in diff.tables),
            rows_removed=sum(len(t.rows_removed) for t in diff.tables),
            rows_changed=sum(len(t.rows_changed) for t in diff.tables),
            sheets_added=len(diff.sheets_added),
            sheets_removed=len(diff.sheets_removed),
            sections_added=tuple(s for s in sections if s.status == "added"),
            sections_removed=tuple(s for s in sections if s.status == "removed"),
            sections_changed=tuple(s for s in sections if s.status in ("changed", "moved") and not _renumbered_only(s)),
            sections_renumbered=tuple(s for s in sections if _renumbered_only(s)),
        )


def rows_phrase(added: int, removed: int, changed: int) -> str:
    """ "3 rows added, 1 removed, 1 changed" (the noun once, with the first number)."""
    counts = [(n, verb) for n, verb in ((added, "added"), (removed, "removed"), (changed, "changed")) if n]
    if not counts:
        return ""
    first_n, first_verb = counts[0]
    head = f"{counted(first_n, 'row', 'rows')} {first_verb}"
    return ", ".join([head, *(f"{n} {verb}" for n, verb in counts[1:])])


def _sections_phrase(items: Sequence[SectionChange], verb: str) -> str:
    if not items:
        return ""
    if len(items) == 1:
        return f"{_section_name(items[0])} {verb}"
    return f"{len(items)} sections {verb}"


def _section_name(change: SectionChange) -> str:
    return "opening text" if change.label == "(opening text)" else f"section {change.label}"


def compact_file_summary(diff: FileDiff) -> str:
    """Totals over all sheets and sections, for a title: "5 rows added, 1 changed",
    "section 3.4 added; 1 section changed"."""
    counts = FileCounts.of(diff)
    parts = [rows_phrase(counts.rows_added, counts.rows_removed, counts.rows_changed)]
    if counts.sheets_added:
        parts.append(f"{counted(counts.sheets_added, 'sheet', 'sheets')} added")
    if counts.sheets_removed:
        parts.append(f"{counted(counts.sheets_removed, 'sheet', 'sheets')} removed")
    parts.append(_sections_phrase(counts.sections_added, "added"))
    parts.append(_sections_phrase(counts.sections_removed, "removed"))
    if counts.sections_changed:
        parts.append(f"{counted(len(counts.sections_changed), 'section', 'sections')} changed")
    if counts.sections_renumbered:
        parts.append(f"{counted(len(counts.sections_renumbered), 'section', 'sections')} renumbered")
    return "; ".join(p for p in parts if p)


def table_summary(table: TableDiff) -> str:
    """ "3 rows added, 1 removed, 1 changed in 'DSAP approved shares'" (and columns)."""
    parts = []
    rows = rows_phrase(len(table.rows_added), len(table.rows_removed), len(table.rows_changed))
    if rows:
        parts.append(f"{rows} in {quote(table.sheet)}")
    for names, verb in ((table.columns_added, "added"), (table.columns_removed, "removed")):
        if names:
            noun = "column" if len(names) == 1 else "columns"
            parts.append(f"{noun} {_quote_all(names)} {verb} in {quote(table.sheet)}")
    return "; ".join(parts)


def section_summary(change: SectionChange) -> str:
    """ "section 3.2 added", "section 4 Help renumbered (was 3)", "section 1 New retitled (was …)"."""
    name = _section_name(change)
    if change.status == "moved":
        was = (change.previous_label or "").split(" ", 1)[0]
        text = f"{name} renumbered (was {was})"
        if change.sentences_added or change.sentences_removed:
            text += " and changed"
        return text
    if change.status == "changed" and change.previous_label and change.previous_label != change.label:
        return f"{name} retitled (was {change.previous_label})"
    return f"{name} {change.status}"


def file_summary(diff: FileDiff) -> str:
    """One line naming what changed: "3 rows added, 1 removed, 1 changed in 'DSAP approved shares'"."""
    if diff.error:
        return diff.error
    counts = FileCounts.of(diff)
    parts: list[str] = []
    if diff.format_before != diff.format_after:
        parts.append(f"file format changed from {diff.format_before} to {diff.format_after}")
    for names, verb in ((diff.sheets_added, "added"), (diff.sheets_removed, "removed")):
        if names:
            parts.append(f"{'sheet' if len(names) == 1 else 'sheets'} {_quote_all(names)} {verb}")
    parts.extend(table_summary(table) for table in diff.tables if not table.is_empty)
    parts.extend(section_summary(c) for c in diff.sections if c not in counts.sections_renumbered)
    if len(counts.sections_renumbered) == 1:
        parts.append(section_summary(counts.sections_renumbered[0]))
    elif counts.sections_renumbered:
        parts.append(f"{len(counts.sections_renumbered)} sections renumbered")
    if not parts:
        return "no changes"
    if len(parts) > MAX_SUMMARY_PARTS:
        more = len(parts) - (MAX_SUMMARY_PARTS - 1)
        parts = parts[: MAX_SUMMARY_PARTS - 1] + [f"and {more} more changes"]
    return "; ".join(parts)
