"""Compare two Documents: what changed, whether DfE said so, and how to say it in one line.

Pure: Documents and extracted file contents in, a :class:`ChangeReport` out. The report is
stored as JSON with the change and is everything the feed needs, so the feed can be rebuilt
from the database alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from monitor.compare.files import diff_files
from monitor.compare.text import diff_sequences, diff_words
from monitor.compare.wording import shorten
from monitor.model import Attachment, Block, ChangeNote, Document, FileContent, LinkedDocument

MAX_WORD_DIFF_CHARS = 20_000  # longer stretches are shown as before/after, not word by word
KIND_NAMES = {
    "heading": ("heading", "headings"),
    "paragraph": ("paragraph", "paragraphs"),
    "list_item": ("list item", "list items"),
    "table_row": ("table row", "table rows"),
    "pre": ("text block", "text blocks"),
    "quote": ("quotation", "quotations"),
}
SPREADSHEET_FORMATS = ("ods", "xlsx", "xls", "csv")


@dataclass(frozen=True)
class TextChange:
    """One stretch of body text that changed."""

    op: str  # added | removed | changed
    section: str  # nearest heading above it ("" at the top of the page)
    kinds: tuple[str, ...]  # block kinds involved
    old: tuple[str, ...] = ()
    new: tuple[str, ...] = ()
    words: tuple[tuple[str, str], ...] = ()  # word diff runs for "changed"


@dataclass(frozen=True)
class AttachmentEvent:
    op: str  # added | removed | replaced | moved | renamed | missing | restored
    title: str
    url: str
    old_url: str | None = None
    old_title: str | None = None
    formats: tuple[str, ...] = ()
    size: int | None = None
    compared_with: str | None = None  # title of the previous file a new one was compared with
    file_diff: dict[str, Any] | None = None
    file_summary: str = ""
    note: str = ""  # e.g. extraction failure, "contents identical"


@dataclass(frozen=True)
class ChangeReport:
    kind: str  # changed | withdrawn
    headline: str
    silent_edit: bool | None
    new_notes: tuple[ChangeNote, ...] = ()
    title_change: tuple[str, str] | None = None
    summary_change: tuple[str, str] | None = None
    text_changes: tuple[TextChange, ...] = ()
    attachments: tuple[AttachmentEvent, ...] = ()
    documents_added: tuple[LinkedDocument, ...] = ()
    documents_removed: tuple[LinkedDocument, ...] = ()
    withdrawn_explanation: str | None = None
    terms: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (tuples become lists), exactly as stored with the change."""
        return json.loads(json.dumps(asdict(self), ensure_ascii=False))


# -- entry point -------------------------------------------------------------------------------


def diff_documents(
    old: Document,
    new: Document,
    files: Mapping[str, FileContent],
    *,
    terms: Sequence[str] = (),
    row_key: str | None = None,
    file_redirects: Mapping[str, str] | None = None,
) -> ChangeReport | None:
    """The change from ``old`` to ``new``, or None when nothing a reader cares about changed.

    ``files`` maps attachment sha256 → extracted content, for every file of either version that
    is known; a missing entry just means its contents are not compared. ``file_redirects`` maps
    the old URL of a file the page no longer lists to where that URL now redirects.
    """
    title_change = (old.title, new.title) if old.title != new.title else None
    summary_change = (old.summary, new.summary) if old.summary != new.summary else None
    text_changes = diff_blocks(old.blocks, new.blocks)
    attachments = diff_attachments(old.attachments, new.attachments, files, row_key, file_redirects or {})
    old_paths, new_paths = {d.path for d in old.linked_documents}, {d.path for d in new.linked_documents}
    documents_added = tuple(d for d in new.linked_documents if d.path not in old_paths)
    documents_removed = tuple(d for d in old.linked_documents if d.path not in new_paths)
    notes = new_change_notes(old.change_notes, new.change_notes)
    became_withdrawn = new.withdrawn is not None and old.withdrawn is None
    unwithdrawn = old.withdrawn is not None and new.withdrawn is None

    content_changed = bool(title_change or summary_change or text_changes or attachments or documents_added or documents_removed)
    if not (content_changed or notes or became_withdrawn or unwithdrawn):
        return None
    silent = judge_silent(old, new, notes, content_changed)
    report = ChangeReport(
        kind="withdrawn" if became_withdrawn else "changed",
        headline="",
        silent_edit=silent,
        new_notes=notes,
        title_change=title_change,
        summary_change=summary_change,
        text_changes=text_changes,
        attachments=attachments,
        documents_added=documents_added,
        documents_removed=documents_removed,
        withdrawn_explanation=new.withdrawn.explanation if became_withdrawn and new.withdrawn else None,
        extra={"unwithdrawn": True} if unwithdrawn else {},
    )
    found = find_terms(changed_text(report), terms)
    headline = build_headline(report)
    return ChangeReport(**{**_fields(report), "headline": headline, "terms": found})


def _fields(report: ChangeReport) -> dict[str, Any]:
    return {name: getattr(report, name) for name in report.__dataclass_fields__}


# -- change notes and silent edits -------------------------------------------------------------


def _when(stamp: str) -> datetime | None:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None


def new_change_notes(old: Sequence[ChangeNote], new: Sequence[ChangeNote]) -> tuple[ChangeNote, ...]:
    """Notes in ``new`` that were not in ``old`` and are not older than the newest old note.

    An old note whose wording was touched up is not a new note.
    """
    old_keys = {(n.timestamp, n.note) for n in old}
    old_times = [t for t in (_when(n.timestamp) for n in old) if t is not None]
    newest_old = max(old_times, default=None)
    fresh = []
    for note in new:
        if (note.timestamp, note.note) in old_keys:
            continue
        when = _when(note.timestamp)
        if newest_old is not None and when is not None:
            try:
                if when <= newest_old:
                    continue
            except TypeError:  # naive vs aware: compare as dates
                if when.date() <= newest_old.date():
                    continue
        elif any(n.timestamp == note.timestamp for n in old):
            continue
        fresh.append(note)
    return tuple(fresh)


def judge_silent(old: Document, new: Document, notes: Sequence[ChangeNote], content_changed: bool) -> bool | None:
    """True: content changed and GOV.UK gained no change note. None: we cannot know.

    Where no change history can be read (an HTML publication whose parent could not be fetched,
    a page without an update history), ``public_updated_at`` decides: only a major update, the
    kind that carries a change note, moves it.
    """
    if notes:
        return False
    if not content_changed:
        return False
    if old.has_change_history or new.has_change_history:
        return True
    if old.public_updated_at and new.public_updated_at:
        return _when(old.public_updated_at) == _when(new.public_updated_at)
    return None


# -- body text ---------------------------------------------------------------------------------


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
            changes.append(TextChange("added", section, _kinds(new_part), new=tuple(b.text for b in new_part)))
        elif tag == "delete":
            changes.append(TextChange("removed", _section_at(old, a1), _kinds(old_part), old=tuple(b.text for b in old_part)))
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
    )


def _kinds(blocks: Sequence[Block]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(b.kind for b in blocks))


def _section_at(blocks: Sequence[Block], index: int) -> str:
    for i in range(min(index, len(blocks) - 1), -1, -1):
        if blocks[i].kind == "heading" and i < index:
            return blocks[i].text
    return ""


# -- attachments -------------------------------------------------------------------------------

_FORMAT_WORDS = re.compile(r"\b(ods|xlsx|xls|csv|pdf|docx|doc|odt|version|format|opendocument|excel|spreadsheet)\b", re.I)
_DATE_WORDS = re.compile(
    r"\b(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|quarter|q[1-4]|to|and|\d{1,4})\b",
    re.I,
)
_NON_WORD = re.compile(r"[^a-z0-9]+")


def title_key(title: str) -> str:
    """A title with format words and punctuation removed: format twins share it."""
    return _NON_WORD.sub(" ", _FORMAT_WORDS.sub(" ", title.lower())).strip()


def _series_key(title: str) -> str:
    """A title without dates or quarters: quarterly editions of one register share it."""
    return _NON_WORD.sub(" ", _DATE_WORDS.sub(" ", title_key(title))).strip()


def file_format(attachment: Attachment, files: Mapping[str, FileContent]) -> str:
    content = files.get(attachment.sha256 or "")
    if content is not None and content.format not in ("unknown", ""):
        return content.format
    name = (attachment.filename or attachment.url).lower().rsplit("?", 1)[0]
    return name.rsplit(".", 1)[-1] if "." in name.rsplit("/", 1)[-1] else "file"


def diff_attachments(
    old: Sequence[Attachment],
    new: Sequence[Attachment],
    files: Mapping[str, FileContent],
    row_key: str | None = None,
    redirects: Mapping[str, str] | None = None,
) -> tuple[AttachmentEvent, ...]:
    old_by_url = {a.url: a for a in old}
    new_by_url = {a.url: a for a in new}
    events: list[AttachmentEvent] = []
    removed = [a for a in old if a.url not in new_by_url]
    added = [a for a in new if a.url not in old_by_url]

    for attachment in new:
        before = old_by_url.get(attachment.url)
        if before is None:
            continue
        if before.status == "ok" and attachment.status == "missing":
            events.append(AttachmentEvent("missing", attachment.title, attachment.url, note="the file link now answers 404/410"))
            continue
        if before.status == "missing" and attachment.status == "ok":
            events.append(AttachmentEvent("restored", attachment.title, attachment.url))
            continue
        if before.sha256 and attachment.sha256 and before.sha256 != attachment.sha256:
            events.append(_compare("replaced", before, attachment, files, row_key))
        elif before.title != attachment.title:
            events.append(AttachmentEvent("renamed", attachment.title, attachment.url, old_title=before.title))

    # The same bytes under the same title at a new address (the asset host re-filed it): no news.
    for before in list(removed):
        same = next((a for a in added if before.sha256 and a.sha256 == before.sha256 and title_key(a.title) == title_key(before.title)), None)
        if same is not None:
            removed.remove(before)
            added.remove(same)
    # The old address redirects to a new file: GOV.UK's own word that one replaced the other.
    for before in list(removed):
        target_url = (redirects or {}).get(before.url)
        after = next((a for a in added if a.url == target_url), None)
        if after is not None:
            removed.remove(before)
            added.remove(after)
            events.append(_compare("moved", before, after, files, row_key))
    # Same title (or same file name) at a new URL: a replacement, not an add plus a remove.
    for attachment in list(added):
        match = _pair(attachment, removed, files)
        if match is not None:
            removed.remove(match)
            added.remove(attachment)
            events.append(_compare("moved", match, attachment, files, row_key))
    for attachment in added:
        previous = _previous_edition(attachment, old, files)
        if previous is not None:
            events.append(_compare("added", previous, attachment, files, row_key, compared=True))
        else:
            events.append(AttachmentEvent("added", attachment.title, attachment.url, formats=(file_format(attachment, files),), size=attachment.size, note=_error_note(attachment, files)))
    for attachment in removed:
        events.append(AttachmentEvent("removed", attachment.title, attachment.url, formats=(file_format(attachment, files),)))
    return tuple(_merge_twins(events))


def _pair(attachment: Attachment, candidates: Sequence[Attachment], files: Mapping[str, FileContent]) -> Attachment | None:
    fmt = file_format(attachment, files)
    key = title_key(attachment.title)
    for candidate in candidates:
        if title_key(candidate.title) == key and file_format(candidate, files) == fmt:
            return candidate
    stem = _stem(attachment)
    for candidate in candidates:
        if stem and _stem(candidate) == stem and file_format(candidate, files) == fmt:
            return candidate
    return None


_VERSION_SUFFIX = re.compile(r"([_\-\s]*(v|version)?[_\-\s]*\d+([._]\d+)*)+$", re.I)


def _stem(attachment: Attachment) -> str:
    name = (attachment.filename or attachment.url.rsplit("/", 1)[-1]).rsplit(".", 1)[0].lower()
    return _VERSION_SUFFIX.sub("", name)


_MONTHS = {m: i for i, m in enumerate(("january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"), start=1)}
_MONTH_YEAR = re.compile(r"\b(" + "|".join(_MONTHS) + r")\b(?:\s+(\d{4}))?", re.I)
_YEAR = re.compile(r"\b(19|20)(\d{2})\b")


def title_date(title: str) -> tuple[int, int] | None:
    """The latest (year, month) a title names: "April to June 2026" → (2026, 6)."""
    found: list[tuple[int, int]] = []
    pending: list[int] = []
    for match in _MONTH_YEAR.finditer(title):
        pending.append(_MONTHS[match.group(1).lower()])
        if match.group(2):
            year = int(match.group(2))
            found.extend((year, month) for month in pending)
            pending = []
    if found:
        return max(found)
    years = [int(a + b) for a, b in _YEAR.findall(title)]
    return (max(years), 12) if years else None


def _previous_edition(attachment: Attachment, old: Sequence[Attachment], files: Mapping[str, FileContent]) -> Attachment | None:
    """For a new spreadsheet, the file of the same series it continues (last quarter's).

    Among the old spreadsheets of the same series (or sharing most sheet names), the one whose
    title names the latest date not after the new file's; without dates, the first listed
    (GOV.UK lists the newest first).
    """
    content = files.get(attachment.sha256 or "")
    if content is None or content.format not in SPREADSHEET_FORMATS or not content.tables:
        return None
    series = _series_key(attachment.title)
    sheets = {t.name for t in content.tables}
    new_date = title_date(attachment.title)
    candidates: list[tuple[tuple[int, int], float, int, Attachment]] = []
    for index, candidate in enumerate(old):
        previous = files.get(candidate.sha256 or "")
        if previous is None or previous.format not in SPREADSHEET_FORMATS or not previous.tables:
            continue
        shared = len(sheets & {t.name for t in previous.tables}) / max(len(sheets), 1)
        same_series = _series_key(candidate.title) == series
        if not (same_series or shared >= 0.5):
            continue
        when = title_date(candidate.title) or (0, 0)
        if new_date is not None and when > new_date:
            continue
        candidates.append((when, float(same_series) + shared, -index, candidate))
    if not candidates:
        return None
    return max(candidates, key=lambda c: c[:3])[3]


def _compare(op: str, before: Attachment, after: Attachment, files: Mapping[str, FileContent], row_key: str | None, compared: bool = False) -> AttachmentEvent:
    old_content = files.get(before.sha256 or "")
    new_content = files.get(after.sha256 or "")
    file_diff = None
    summary = ""
    note = _error_note(after, files)
    if old_content is not None and new_content is not None and not old_content.error and not new_content.error:
        result = diff_files(old_content, new_content, row_key=row_key)
        if result.is_empty:
            note = note or "the file's bytes changed but its contents read the same"
        else:
            file_diff = result.to_dict()
            summary = result.summary()
    return AttachmentEvent(
        op,
        after.title,
        after.url,
        old_url=before.url if before.url != after.url else None,
        old_title=before.title if before.title != after.title else None,
        formats=(file_format(after, files),),
        size=after.size,
        compared_with=before.title if compared else None,
        file_diff=file_diff,
        file_summary=summary,
        note=note,
    )


def _error_note(attachment: Attachment, files: Mapping[str, FileContent]) -> str:
    content = files.get(attachment.sha256 or "")
    if content is not None and content.error:
        return f"the file could not be read ({content.error}); its bytes were kept and compared by hash"
    return ""


def _merge_twins(events: list[AttachmentEvent]) -> list[AttachmentEvent]:
    """The same title published as ODS and XLSX (say) is reported once, naming both formats."""
    merged: dict[tuple[str, str], AttachmentEvent] = {}
    order: list[tuple[str, str]] = []
    for event in events:
        key = (event.op, title_key(event.title))
        if key in merged:
            first = merged[key]
            formats = tuple(dict.fromkeys([*first.formats, *event.formats]))
            keep = first if first.file_diff or not event.file_diff else event
            merged[key] = AttachmentEvent(**{**asdict(keep), "formats": formats})
        else:
            merged[key] = event
            order.append(key)
    return [merged[k] for k in order]


# -- terms and headline ------------------------------------------------------------------------


def changed_text(report: ChangeReport) -> str:
    """Every piece of text that was added, removed or changed: where watch-list terms count."""
    parts: list[str] = []
    for pair in (report.title_change, report.summary_change):
        if pair:
            parts.extend(pair)
    for change in report.text_changes:
        if change.words:
            parts.extend(text for op, text in change.words if op != "equal")
            parts.append(_sentences_touched(change))
        else:
            parts.extend(change.old)
            parts.extend(change.new)
    for event in report.attachments:
        parts.append(event.title)
        parts.append(_file_diff_text(event.file_diff))
    parts.extend(d.title for d in (*report.documents_added, *report.documents_removed))
    parts.extend(n.note for n in report.new_notes)
    if report.withdrawn_explanation:
        parts.append(report.withdrawn_explanation)
    return "\n".join(p for p in parts if p)


def _sentences_touched(change: TextChange) -> str:
    """Whole sentences around inserted words, so a term split across runs is still found."""
    new_text = "".join(text for op, text in change.words if op != "delete")
    return new_text if any(op == "insert" for op, _ in change.words) else ""


def _file_diff_text(file_diff: dict[str, Any] | None) -> str:
    if not file_diff:
        return ""
    texts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    walk(file_diff)
    return "\n".join(texts)


def find_terms(text: str, terms: Sequence[str]) -> tuple[str, ...]:
    found = []
    for term in terms:
        pattern = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in term.split()) + r"(?!\w)"
        if re.search(pattern, text, re.IGNORECASE):
            found.append(term)
    return tuple(found)


def _count(n: int, kind: str) -> str:
    singular, plural = KIND_NAMES.get(kind, ("text block", "text blocks"))
    return f"{singular}" if n == 1 else f"{n} {plural}"


def build_headline(report: ChangeReport) -> str:
    """A few words a campaigner understands at a glance: "paragraph added", "title changed"."""
    parts: list[str] = []
    if report.kind == "withdrawn":
        parts.append("withdrawn")
    if report.extra.get("unwithdrawn"):
        parts.append("no longer withdrawn")
    if report.title_change:
        parts.append("title changed")
    if report.summary_change:
        parts.append("summary changed")
    parts.extend(_text_headline(report.text_changes))
    for event in report.attachments[:3]:
        parts.append(_attachment_headline(event))
    if len(report.attachments) > 3:
        parts.append(f"{len(report.attachments) - 3} more file changes")
    if report.documents_added:
        n = len(report.documents_added)
        parts.append(f"document added: {report.documents_added[0].title}" if n == 1 else f"{n} documents added")
    if report.documents_removed:
        n = len(report.documents_removed)
        parts.append("document removed from the collection" if n == 1 else f"{n} documents removed")
    if not parts and report.new_notes:
        parts.append("change note added")
    return "; ".join(parts) or "changed"


def _text_headline(changes: Sequence[TextChange]) -> list[str]:
    if not changes:
        return []
    counts: dict[tuple[str, str], int] = {}
    for change in changes:
        blocks = len(change.new) if change.op == "added" else len(change.old) if change.op == "removed" else max(len(change.old), len(change.new))
        kind = change.kinds[0] if len(change.kinds) == 1 else "paragraph"
        counts[(change.op, kind)] = counts.get((change.op, kind), 0) + blocks
    if len(counts) > 3:
        return [f"text changed in {len(changes)} places"]
    return [f"{_count(n, kind)} {op}" for (op, kind), n in counts.items()]


def compact_file_summary(file_diff: dict[str, Any] | None) -> str:
    """Totals over all sheets and sections: "5 rows added, 1 changed", "section 3.4 added"."""
    if not file_diff:
        return ""
    totals = {"added": 0, "removed": 0, "changed": 0}
    for table in file_diff.get("tables") or []:
        totals["added"] += len(table.get("rows_added") or [])
        totals["removed"] += len(table.get("rows_removed") or [])
        totals["changed"] += len(table.get("rows_changed") or [])
    parts = []
    rows = [f"{n} {op}" for op, n in totals.items() if n]
    if rows:
        first_n = next(n for n in totals.values() if n)
        parts.append(rows[0].replace(" ", " row " if first_n == 1 else " rows ", 1) + "".join(f", {r}" for r in rows[1:]))
    sheets = len(file_diff.get("sheets_added") or []) + len(file_diff.get("sheets_removed") or [])
    if sheets:
        parts.append(f"{sheets} sheet{'s' if sheets > 1 else ''} added or removed")
    sections = file_diff.get("sections") or []
    added = [s for s in sections if s.get("status") == "added"]
    if len(added) == 1:
        parts.append(f"section {added[0].get('label', '')} added")
    elif added:
        parts.append(f"{len(added)} sections added")
    renumbered = [s for s in sections if s.get("status") == "moved" and not (s.get("sentences_added") or s.get("sentences_removed"))]
    if renumbered:
        parts.append(f"{len(renumbered)} section{'s' if len(renumbered) > 1 else ''} renumbered")
    others = len(sections) - len(added) - len(renumbered)
    if others:
        parts.append(f"{others} section{'s' if others > 1 else ''} changed")
    return "; ".join(parts)


def _attachment_headline(event: AttachmentEvent) -> str:
    title = shorten(event.title, 60)
    compact = compact_file_summary(event.file_diff)
    detail = f" ({compact})" if compact else ""
    if event.op == "added" and event.compared_with:
        return f"new file {title}{detail}"
    return {
        "added": f"new file: {title}",
        "removed": f"file removed: {title}",
        "replaced": f"file replaced: {title}{detail}",
        "moved": f"file replaced at a new address: {title}{detail}",
        "renamed": f"file renamed: {title}",
        "missing": f"file link broken: {title}",
        "restored": f"file link working again: {title}",
    }.get(event.op, f"file {event.op}: {title}")
