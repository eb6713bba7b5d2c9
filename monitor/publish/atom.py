"""The Atom feed of changes (feedgen), checked before it is written, written atomically.

Pure up to :func:`write_feed`: :func:`build_feed` turns entry data into XML bytes with no clock
and no database. Every string that came from a scraped page is escaped into the HTML content,
and characters XML cannot carry are removed, so no page can put live markup into a reader.
"""

from __future__ import annotations

import html
import os
import re
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from feedgen.feed import FeedGenerator
from lxml import etree

from monitor.errors import FeedInvalid, StorageError

ATOM_NS = "http://www.w3.org/2005/Atom"
OGL_NOTICE = "Contains public sector information licensed under the Open Government Licence v3.0."
MAX_TEXT_CHANGES = 25
MAX_ROWS = 20
MAX_SECTIONS = 15
MAX_RUN_CHARS = 3_000  # one deleted or inserted run, before it is shortened
MAX_PARAGRAPHS = 60  # paragraphs (deleted + inserted) shown in one entry's text changes
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class FeedEntry:
    feed_id: str
    title: str
    url: str
    category: str
    kind: str
    detected_at: datetime
    summary: str
    silent_edit: bool | None
    priority: str = "normal"
    terms: tuple[str, ...] = ()
    change_note: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    sequence: int = 0  # the change's id: orders entries detected in the same second


def xml_safe(text: str | None) -> str:
    """Text XML 1.0 can carry: control characters and lone surrogates removed."""
    return _XML_INVALID.sub("", text or "")


def esc(text: Any) -> str:
    return html.escape(xml_safe(str(text)), quote=True)


def safe_href(url: str | None) -> str | None:
    """Only http(s) URLs become links; anything else (javascript:, data:) stays text."""
    if not url:
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None


def link(url: str | None, text: str) -> str:
    href = safe_href(url)
    return f'<a href="{esc(href)}">{esc(text)}</a>' if href else esc(text)


def tag_id(feed_url: str, detected_at: datetime, change_id: int) -> str:
    """A permanent Atom id (RFC 4151 tag URI): set once when the change is stored."""
    host = (urlsplit(feed_url).hostname or "dfe-monitor.invalid").lower()
    return f"tag:{host},{detected_at:%Y-%m-%d}:dfe-monitor/change/{change_id}"


def rfc3339(when: datetime) -> str:
    return when.isoformat(timespec="seconds").replace("+00:00", "Z")


# -- building ----------------------------------------------------------------------------------


def build_feed(entries: Sequence[FeedEntry], *, title: str, feed_url: str, updated: datetime, max_entries: int = 500) -> bytes:
    """Atom XML, newest entry first."""
    newest_first = sorted(entries, key=lambda e: (e.detected_at, e.sequence), reverse=True)[:max_entries]
    gen = FeedGenerator()
    gen.id(xml_safe(feed_url))
    gen.title(xml_safe(title))
    gen.subtitle("Changes to what the Department for Education publishes on GOV.UK about pupil data")
    gen.link(href=feed_url, rel="self", type="application/atom+xml")
    gen.author({"name": "dfe-monitor"})
    gen.rights(OGL_NOTICE)
    gen.generator("dfe-monitor", uri="https://example.org/dfe-monitor")
    gen.language("en")
    gen.updated(newest_first[0].detected_at if newest_first else updated)
    try:
        _add_entries(gen, newest_first)
        xml = gen.atom_str(pretty=True)
    except ValueError as exc:  # feedgen refuses an entry (an empty title or id, a bad date)
        raise FeedInvalid(f"the feed could not be built ({exc}); the previous feed was kept") from None
    return _fix_entry_links(xml)


def _add_entries(gen: FeedGenerator, newest_first: Sequence[FeedEntry]) -> None:
    # feedgen prepends by default; append so the order we sorted is the order written.
    for entry in newest_first:
        item = gen.add_entry(order="append")
        item.id(xml_safe(entry.feed_id))
        item.title(xml_safe(entry.title))
        item.updated(entry.detected_at)
        item.published(entry.detected_at)
        href = safe_href(entry.url)
        if href:
            item.link(href=href, rel="alternate", type="text/html")
        item.category(term=xml_safe(entry.category), label=xml_safe(entry.category.replace("-", " ")))
        item.category(term=f"kind:{xml_safe(entry.kind)}")
        if entry.priority == "high":
            item.category(term="priority:high", label="high priority")
        if entry.silent_edit:
            item.category(term="silent-edit", label="silent edit")
        item.summary(xml_safe(entry.summary))
        item.content(render_entry_html(entry), type="html")


def _fix_entry_links(xml: bytes) -> bytes:
    """feedgen 1.0 drops rel and type from entry links (a shadowed variable): put them back."""
    root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    for element in root.iterfind(f"{{{ATOM_NS}}}entry/{{{ATOM_NS}}}link"):
        element.set("rel", element.get("rel") or "alternate")
        element.set("type", element.get("type") or "text/html")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# -- entry HTML --------------------------------------------------------------------------------


def render_entry_html(entry: FeedEntry) -> str:
    d = entry.details or {}
    out: list[str] = [f"<p><strong>{esc(entry.summary)}</strong></p>"]
    out.append(_note_html(entry))
    if entry.terms:
        out.append(f"<p><strong>High priority — watch-list terms:</strong> {esc(', '.join(entry.terms))}</p>")
    if d.get("withdrawn_explanation"):
        out.append(f"<p><strong>Withdrawn:</strong> {esc(d['withdrawn_explanation'])}</p>")
    if d.get("error"):
        out.append(f"<p><strong>Last error:</strong> {esc(d['error'])}</p>")
    if d.get("moved_from"):
        out.append(f"<p>Moved from {link(d['moved_from'], d['moved_from'])} to {link(d.get('moved_to'), d.get('moved_to') or '')}</p>")
    if d.get("description"):
        out.append(f"<p>{esc(d['description'])}</p>")
    for label, key in (("Title", "title_change"), ("Summary", "summary_change")):
        pair = d.get(key)
        if pair:
            out.append(f"<p>{label}: <del>{esc(pair[0])}</del> → <ins>{esc(pair[1])}</ins></p>")
    out.append(_text_changes_html(d.get("text_changes") or []))
    out.append(_attachments_html(d.get("attachments") or []))
    out.append(_documents_html("Added to the collection", d.get("documents_added") or []))
    out.append(_documents_html("Removed from the collection", d.get("documents_removed") or []))
    out.append(f"<p>{link(entry.url, 'View the page on GOV.UK')}</p>")
    out.append(f"<p><small>{esc(OGL_NOTICE)}</small></p>")
    return "\n".join(part for part in out if part)


def _note_html(entry: FeedEntry) -> str:
    if entry.change_note:
        return f"<p>Change note:</p><blockquote>{esc(entry.change_note)}</blockquote>"
    if entry.silent_edit:
        return (
            "<p><strong>No change note: silent edit.</strong> The page's history on GOV.UK gained no"
            " new entry, so people following GOV.UK's own update emails were not told.</p>"
        )
    return ""


def _clip(text: str) -> str:
    if len(text) <= MAX_RUN_CHARS:
        return esc(text)
    head, tail = text[: MAX_RUN_CHARS // 2], text[-MAX_RUN_CHARS // 4 :]
    return f"{esc(head)} <em>[… {len(text) - len(head) - len(tail):,} characters not shown …]</em> {esc(tail)}"


def _text_changes_html(changes: list[dict[str, Any]]) -> str:
    if not changes:
        return ""
    out = ["<h3>Text</h3>"]
    budget = [MAX_PARAGRAPHS]  # shared by every change of the entry
    hidden = 0
    for change in changes[:MAX_TEXT_CHANGES]:
        where = f" in “{esc(change['section'])}”" if change.get("section") else ""
        op = change["op"]
        old, new = change.get("old", []), change.get("new", [])
        if op == "added":
            body, cut = _paragraphs(new, "ins", budget)
        elif op == "removed":
            body, cut = _paragraphs(old, "del", budget)
        elif change.get("words"):
            runs = []
            for run_op, text in change["words"]:
                if run_op == "insert":
                    runs.append(f"<ins>{_clip(text)}</ins>")
                elif run_op == "delete":
                    runs.append(f"<del>{_clip(text)}</del>")
                else:
                    runs.append(_clip_context(text))
            body, cut = "<p>" + "".join(runs).replace("\n", "<br/>") + "</p>", 0
        else:
            removed, cut_old = _paragraphs(old, "del", budget)
            added, cut_new = _paragraphs(new, "ins", budget)
            body, cut = removed + added, cut_old + cut_new
        hidden += cut
        out.append(f"<p><em>{esc(op.capitalize())}{where}:</em></p>{body}")
    if hidden:
        out.append(f"<p><em>… and {hidden} more paragraphs not shown.</em></p>")
    if len(changes) > MAX_TEXT_CHANGES:
        out.append(f"<p><em>… and {len(changes) - MAX_TEXT_CHANGES} more text changes not shown.</em></p>")
    return "\n".join(out)


def _paragraphs(texts: list[str], tag: str, budget: list[int]) -> tuple[str, int]:
    """Up to the remaining budget of paragraphs, marked; and how many were left out."""
    shown = texts[: budget[0]]
    budget[0] -= len(shown)
    return "".join(f"<p><{tag}>{_clip(t)}</{tag}></p>" for t in shown), len(texts) - len(shown)


def _clip_context(text: str, keep: int = 300) -> str:
    """Unchanged text between edits: enough to read the sentence, not whole pages."""
    if len(text) <= 2 * keep:
        return esc(text)
    return f"{esc(text[:keep])} <em>[…]</em> {esc(text[-keep:])}"


def _attachments_html(events: list[dict[str, Any]]) -> str:
    if not events:
        return ""
    out = ["<h3>Files</h3>", "<ul>"]
    for event in events:
        formats = "/".join(f.upper() for f in event.get("formats") or () if f)
        fmt = f" ({esc(formats)})" if formats else ""
        line = f"<li><strong>{esc(event['op'].capitalize())}:</strong> {link(event.get('url'), event.get('title') or event.get('url') or '')}{fmt}"
        if event.get("old_url"):
            line += f" — previously at {link(event['old_url'], event['old_url'])}"
        if event.get("old_title"):
            line += f" — previously titled “{esc(event['old_title'])}”"
        if event.get("compared_with"):
            line += f" — compared with “{esc(event['compared_with'])}”"
        if event.get("file_summary"):
            line += f"<br/>{esc(event['file_summary'])}"
        if event.get("note"):
            line += f"<br/><em>{esc(event['note'])}</em>"
        line += _file_diff_html(event.get("file_diff"))
        out.append(line + "</li>")
    out.append("</ul>")
    return "\n".join(out)


def _file_diff_html(file_diff: dict[str, Any] | None) -> str:
    if not file_diff:
        return ""
    out: list[str] = []
    for name in file_diff.get("sheets_added") or []:
        out.append(f"<p>Sheet added: {esc(name)}</p>")
    for name in file_diff.get("sheets_removed") or []:
        out.append(f"<p>Sheet removed: {esc(name)}</p>")
    for table in file_diff.get("tables") or []:
        out.append(_table_diff_html(table))
    sections = file_diff.get("sections") or []
    if sections:
        items = []
        for section in sections[:MAX_SECTIONS]:
            sentences = "".join(f"<br/><ins>{_clip(s)}</ins>" for s in (section.get("sentences_added") or [])[:10])
            sentences += "".join(f"<br/><del>{_clip(s)}</del>" for s in (section.get("sentences_removed") or [])[:10])
            items.append(f"<li>Section {esc(section.get('label', ''))}: {esc(section.get('status', 'changed'))}{sentences}</li>")
        more = f"<li>… and {len(sections) - MAX_SECTIONS} more sections</li>" if len(sections) > MAX_SECTIONS else ""
        out.append("<ul>" + "".join(items) + more + "</ul>")
    return "".join(out)


def _row_cells(row: Any) -> str:
    if isinstance(row, dict):
        return "; ".join(f"{k}: {v}" for k, v in row.items() if v not in (None, ""))
    return str(row)


def _table_diff_html(table: dict[str, Any]) -> str:
    sheet = esc(table.get("sheet", ""))
    key = table.get("key_column")
    out = [f"<p>Sheet “{sheet}”" + (f" (rows identified by “{esc(key)}”)" if key else "") + "</p>"]
    if table.get("columns_added"):
        out.append(f"<p>Columns added: {esc(', '.join(map(str, table['columns_added'])))}</p>")
    if table.get("columns_removed"):
        out.append(f"<p>Columns removed: {esc(', '.join(map(str, table['columns_removed'])))}</p>")
    rows: list[str] = []
    for label, items in (("Added", table.get("rows_added") or []), ("Removed", table.get("rows_removed") or [])):
        for row in items:
            ident = row.get(key) if isinstance(row, dict) and key else ""
            rows.append(f"<tr><td>{esc(label)}</td><td>{esc(ident if ident is not None else '')}</td><td>{esc(_row_cells(row))}</td></tr>")
    for change in table.get("rows_changed") or []:
        changed_columns = [c.get("column") for c in change.get("cells") or []]
        cells = "; ".join(f"{c.get('column')}: {c.get('before')} → {c.get('after')}" for c in change.get("cells") or [])
        context = [f"{k}: {v}" for k, v in (change.get("row") or {}).items() if k != key and k not in changed_columns and v not in (None, "")][:3]
        about = f"<br/><small>{esc('; '.join(context))}</small>" if context else ""
        rows.append(f"<tr><td>Changed</td><td>{esc(change.get('key', ''))}</td><td>{esc(cells)}{about}</td></tr>")
    if rows:
        shown = rows[:MAX_ROWS]
        out.append("<table><tr><th>Row</th><th>Id</th><th>Cells</th></tr>" + "".join(shown) + "</table>")
        if len(rows) > MAX_ROWS:
            out.append(f"<p><em>… and {len(rows) - MAX_ROWS} more rows not shown.</em></p>")
    return "".join(out)


def _documents_html(label: str, docs: list[dict[str, Any]]) -> str:
    if not docs:
        return ""
    items = "".join(f"<li>{esc(d.get('title', ''))}" + (f" ({esc(d['group'])})" if d.get("group") else "") + "</li>" for d in docs[:50])
    return f"<h3>{esc(label)}</h3><ul>{items}</ul>"


# -- checking and writing ----------------------------------------------------------------------


def check_feed(xml: bytes) -> None:
    """Refuse a feed that is not well-formed Atom with unique ids, titles and dates."""
    try:
        root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise FeedInvalid(f"the feed would not be well-formed XML ({exc}); the previous feed was kept") from None
    ns = {"a": ATOM_NS}
    if root.tag != f"{{{ATOM_NS}}}feed":
        raise FeedInvalid("the feed's root is not an Atom <feed>; the previous feed was kept")
    for required in ("a:id", "a:title", "a:updated"):
        if root.find(required, ns) is None:
            raise FeedInvalid(f"the feed has no {required[2:]}; the previous feed was kept")
    ids: set[str] = set()
    for entry in root.findall("a:entry", ns):
        entry_id = entry.findtext("a:id", namespaces=ns)
        if not entry_id or entry_id in ids:
            raise FeedInvalid(f"entry id missing or repeated ({entry_id!r}); the previous feed was kept")
        ids.add(entry_id)
        if not entry.findtext("a:title", namespaces=ns) or entry.find("a:updated", ns) is None:
            raise FeedInvalid(f"entry {entry_id} lacks a title or updated date; the previous feed was kept")


STALE_TEMP_SECONDS = 600


def _remove_stale_temp_files(path: Path) -> None:
    """Temp files a killed writer left behind (a write takes milliseconds; these are old)."""
    cutoff = time.time() - STALE_TEMP_SECONDS
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()
        except OSError:
            pass


def write_feed(path: Path, xml: bytes) -> None:
    """Check, then replace ``path`` atomically (temp file in the same folder, fsync, rename)."""
    check_feed(xml)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temp_files(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(xml)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise StorageError(f"cannot write the feed to {path}: {exc.strerror or exc}; the previous feed was kept") from None
