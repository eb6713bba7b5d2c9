"""The department's own change notes of a Content API item, wherever its schema keeps them.

* most schemas: ``details.change_history[] {public_timestamp, note}``;
* a manual: ``details.change_notes[] {base_path, title, change_note, published_at}``, one per
  section changed;
* a manual section: its manual's ``change_notes`` for this section's path;
* an html_publication: its parent publication's ``change_history``;
* a statistics announcement: ``details.latest_change_note`` (the reason given for a new release
  date), dated by ``public_updated_at``.

Returns the notes and whether a history could be read at all: without one, a change cannot be
called silent from the notes (``compare.document.judge_silent`` falls back to dates).
"""

from __future__ import annotations

from typing import Any

from monitor.govuk.items import list_of, mapping_of, text_of
from monitor.govuk.markup import clean_text
from monitor.model import ChangeNote

Notes = tuple[tuple[ChangeNote, ...], bool]


def change_notes_of(item: dict[str, Any], parent: dict[str, Any] | None) -> Notes:
    """The item's change notes, or its parent's (an html_publication's publication, a
    manual_section's manual) when the item keeps none."""
    notes, has_history = _own_notes(item)
    if has_history or parent is None:
        return notes, has_history
    if text_of(item.get("schema_name")) == "manual_section":
        return _section_notes(parent, text_of(item.get("base_path"))), True
    return _own_notes(parent)


def _own_notes(item: dict[str, Any]) -> Notes:
    details = mapping_of(item.get("details"))
    if isinstance(details.get("change_history"), list):
        notes = [
            ChangeNote(timestamp=text_of(n.get("public_timestamp")), note=clean_text(text_of(n.get("note"))))
            for n in details["change_history"]
            if isinstance(n, dict)
        ]
        return tuple(notes), True
    if isinstance(details.get("change_notes"), list):  # manuals
        return tuple(_manual_note(n) for n in details["change_notes"] if isinstance(n, dict)), True
    if text_of(item.get("schema_name")) == "statistics_announcement":
        note = clean_text(text_of(details.get("latest_change_note")))
        stamp = text_of(item.get("public_updated_at"))
        return ((ChangeNote(timestamp=stamp, note=note),) if note else ()), True
    return (), False


def _manual_note(note: dict[str, Any]) -> ChangeNote:
    title = clean_text(text_of(note.get("title")))
    text = clean_text(text_of(note.get("change_note")))
    return ChangeNote(timestamp=text_of(note.get("published_at")), note=f"{title}: {text}" if title else text)


def _section_notes(manual: dict[str, Any], base_path: str) -> tuple[ChangeNote, ...]:
    notes = list_of(mapping_of(manual.get("details")).get("change_notes"))
    return tuple(
        ChangeNote(timestamp=text_of(n.get("published_at")), note=clean_text(text_of(n.get("change_note"))))
        for n in notes
        if isinstance(n, dict) and text_of(n.get("base_path")).rstrip("/") == base_path.rstrip("/")
    )
