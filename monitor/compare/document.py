"""Compare two Documents: what changed, whether DfE said so, and how to say it in one line.

Pure: Documents and extracted file contents in, a :class:`ChangeReport` out (``report``). Body
text is compared in ``blocks``, files in ``attachments`` (their contents in ``files``), dates
and status in ``facts``, watch-list terms in ``terms``, and the words people read are chosen in
``wording``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from monitor.compare.attachments import diff_attachments
from monitor.compare.blocks import COARSE_SECTION, diff_blocks
from monitor.compare.facts import diff_facts
from monitor.compare.report import ChangeReport, FactChange
from monitor.compare.terms import changed_text, find_terms, removed_file_text
from monitor.compare.text import DiffBudget
from monitor.compare.wording import describe, sentence
from monitor.limits import PageLimits
from monitor.model import ChangeNote, Document, FileContent

# Facts GOV.UK states itself when the department acts (a cancellation is announced on the page,
# a consultation closes on its date): a change to these alone is not a silent edit.
STATED_FACTS = frozenset({"Status", "Cancellation reason", "Cancelled on"})
# Comparison work allowed for one document's text (limits.diff_work's default): far above any
# real edit of a 20,000-block page, a few seconds at most for a hostile one.
DIFF_WORK = PageLimits.diff_work


def diff_documents(
    old: Document,
    new: Document,
    files: Mapping[str, FileContent],
    *,
    terms: Sequence[str] = (),
    row_key: str | None = None,
    file_redirects: Mapping[str, str] | None = None,
    budget: DiffBudget | None = None,
) -> ChangeReport | None:
    """The change from ``old`` to ``new``, or None when nothing a reader cares about changed.

    ``files`` maps attachment sha256 → extracted content, for every file of either version that
    is known; a missing entry just means its contents are not compared. ``file_redirects`` maps
    the old URL of a file the page no longer lists to where that URL now redirects. ``budget``
    bounds the work of the text comparison (default DIFF_WORK steps); past it, the text is
    compared coarsely and ``extra["coarse_text_diff"]`` says so.
    """
    title_change = (old.title, new.title) if old.title != new.title else None
    summary_change = (old.summary, new.summary) if old.summary != new.summary else None
    budget = budget if budget is not None else DiffBudget(DIFF_WORK)
    text_changes = diff_blocks(old.blocks, new.blocks, budget)
    extra: dict[str, Any] = {}
    if any(change.section == COARSE_SECTION for change in text_changes):
        extra["coarse_text_diff"] = f"the text changed in too many places to line them up within limits.diff_work = {budget.limit:,} steps; the paragraphs added and removed are listed without their places"
    attachments = diff_attachments(old.attachments, new.attachments, files, row_key, file_redirects or {})
    facts_changed = diff_facts(old.facts, new.facts)
    old_paths, new_paths = {d.path for d in old.linked_documents}, {d.path for d in new.linked_documents}
    documents_added = tuple(d for d in new.linked_documents if d.path not in old_paths)
    documents_removed = tuple(d for d in old.linked_documents if d.path not in new_paths)
    notes = new_change_notes(old.change_notes, new.change_notes)
    became_withdrawn = new.withdrawn is not None and old.withdrawn is None
    unwithdrawn = old.withdrawn is not None and new.withdrawn is None

    content_changed = bool(title_change or summary_change or text_changes or attachments or documents_added or documents_removed or _unstated(facts_changed))
    if not (content_changed or notes or became_withdrawn or unwithdrawn or facts_changed):
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
        facts_changed=facts_changed,
        extra={**extra, "unwithdrawn": True} if unwithdrawn else extra,
    )
    removed_urls = {e.url for e in attachments if e.op == "removed"}
    removed = [a for a in old.attachments if a.url in removed_urls]
    found = find_terms([*changed_text(report), *removed_file_text(removed, files)], terms)
    parts = describe(report)
    return replace(
        report,
        headline="; ".join(p.brief for p in parts),
        headline_parts=tuple(parts),
        summary=sentence("; ".join(p.full for p in parts)),
        terms=found,
    )


def _unstated(facts: Sequence[FactChange]) -> bool:
    """True when a date or status changed that the page does not state by itself changing."""
    return any(f.label not in STATED_FACTS for f in facts)


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
    old_stamps = {n.timestamp for n in old}
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
        elif note.timestamp in old_stamps:
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
