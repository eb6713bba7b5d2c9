"""What changed between two extracted versions of an attachment file: its tables row by row
(``tables``) and its sections sentence by sentence (``sections``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from monitor.compare.sections import SectionChange, diff_sections
from monitor.compare.tables import TableDiff, diff_tables, match_tables
from monitor.model import FileContent


@dataclass(frozen=True)
class FileDiff:
    """Everything that changed between two versions of one attachment file."""

    format_before: str
    format_after: str
    sheets_added: tuple[str, ...] = ()
    sheets_removed: tuple[str, ...] = ()
    tables: tuple[TableDiff, ...] = ()  # one per sheet present in both versions
    sections: tuple[SectionChange, ...] = ()  # changed sections only
    error: str | None = None  # why the versions could not be compared

    @property
    def is_empty(self) -> bool:
        return (
            self.error is None
            and self.format_before == self.format_after
            and not self.sheets_added
            and not self.sheets_removed
            and all(table.is_empty for table in self.tables)
            and not self.sections
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (tuples become lists): what is stored with the change."""
        return asdict(self)


def diff_files(old: FileContent, new: FileContent, *, row_key: str | None = None) -> FileDiff:
    """Compare two extracted versions of one attachment (see the module docstring)."""
    fmt = (old.format, new.format)
    if new.error:
        if old.error == new.error:
            return FileDiff(*fmt)  # unreadable both times, in the same way: no news
        return FileDiff(*fmt, error=f"the new version could not be read: {new.error}")
    if old.error:
        return FileDiff(
            *fmt,
            error=f"the previous version could not be read ({old.error}), so "
            "there is nothing to compare with",
        )
    pairs, added, removed = match_tables(old.tables, new.tables)
    return FileDiff(
        *fmt,
        sheets_added=tuple(t.name for t in added),
        sheets_removed=tuple(t.name for t in removed),
        tables=tuple(diff_tables(a, b, row_key=row_key) for a, b in pairs),
        sections=diff_sections(old.sections, new.sections),
    )
