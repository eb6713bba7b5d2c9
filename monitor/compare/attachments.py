"""Files listed on a page: added, removed, replaced in place or at a new address, renamed, broken
and back; format twins reported once; a new quarterly workbook compared with the last quarter's."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict

from monitor.compare.files import diff_files
from monitor.compare.filewording import compact_file_summary, file_summary
from monitor.compare.pairing import pair_files
from monitor.compare.report import AttachmentEvent
from monitor.model import Attachment, FileContent

SPREADSHEET_FORMATS = ("ods", "xlsx", "xls", "csv")


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

    # Re-filed (same bytes and title), redirected, or renamed at a new address: paired by
    # monitor/compare/pairing.py in linear time (these three loops were quadratic).
    pairing = pair_files(removed, added, redirects or {}, lambda a: title_key(a.title), lambda a: file_format(a, files), _stem)
    removed, added = pairing.removed, pairing.added
    events.extend(_compare("moved", before, after, files, row_key) for before, after in [*pairing.by_redirect, *pairing.by_name])
    for attachment in added:
        previous = _previous_edition(attachment, old, files)
        if previous is not None:
            events.append(_compare("added", previous, attachment, files, row_key, compared=True))
        else:
            events.append(AttachmentEvent("added", attachment.title, attachment.url, formats=(file_format(attachment, files),), size=attachment.size, note=_error_note(attachment, files)))
    for attachment in removed:
        events.append(AttachmentEvent("removed", attachment.title, attachment.url, formats=(file_format(attachment, files),)))
    return tuple(_merge_twins(events))


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
    summary = brief = ""
    note = _error_note(after, files)
    if old_content is not None and new_content is not None and not old_content.error and not new_content.error:
        result = diff_files(old_content, new_content, row_key=row_key)
        if result.is_empty:
            note = note or "the file's bytes changed but its contents read the same"
        else:
            file_diff = result.to_dict()
            summary = file_summary(result)
            brief = compact_file_summary(result)
    # A new edition compared with the last one (still listed) did not move or get renamed: only
    # a file that took another's place has a previous address and title.
    return AttachmentEvent(
        op,
        after.title,
        after.url,
        old_url=before.url if before.url != after.url and not compared else None,
        old_title=before.title if before.title != after.title and not compared else None,
        formats=(file_format(after, files),),
        size=after.size,
        compared_with=before.title if compared else None,
        file_diff=file_diff,
        file_summary=summary,
        brief=brief,
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
