"""One static HTML page per change (and an index), for people who do not use a feed reader.

The pages use the same escaped entry HTML as the feed, inside a page whose Content Security
Policy forbids scripts, frames and plugins outright: even a bug in escaping could not run code.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from monitor.errors import StorageError
from monitor.publish.atom import OGL_NOTICE, FeedEntry, esc, render_entry_html, rfc3339

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'"
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
    "ins{background:#d4f4dd;text-decoration:none}del{background:#fbd9d9}"
    "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.2rem .4rem;vertical-align:top}"
    ".meta{color:#555}.high{color:#a00;font-weight:bold}"
)


def page_name(entry: FeedEntry) -> str:
    return f"change-{entry.sequence}.html"


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<meta name=\"referrer\" content=\"no-referrer\"><title>{esc(title)}</title><style>{STYLE}</style></head>"
        f"<body>{body}<hr><p class=\"meta\">{esc(OGL_NOTICE)}</p></body></html>\n"
    )


def render_change_page(entry: FeedEntry) -> str:
    meta = f"{esc(entry.kind)} · {esc(entry.category)} · detected {esc(rfc3339(entry.detected_at))}"
    if entry.priority == "high":
        meta += ' · <span class="high">high priority</span>'
    body = f'<p><a href="index.html">All changes</a></p><h1>{esc(entry.title)}</h1><p class="meta">{meta}</p>{render_entry_html(entry)}'
    return _page(entry.title, body)


def render_index(entries: Sequence[FeedEntry], title: str) -> str:
    items = []
    for entry in entries:
        flag = ' <span class="high">high priority</span>' if entry.priority == "high" else ""
        items.append(f'<li>{esc(rfc3339(entry.detected_at))} — <a href="{esc(page_name(entry))}">{esc(entry.title)}</a>{flag}</li>')
    return _page(title, f"<h1>{esc(title)}</h1><ul>{''.join(items)}</ul>")


def write_pages(folder: Path, entries: Sequence[FeedEntry], title: str) -> None:
    """Write every change page and the index (newest first), each atomically."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for entry in entries:
            _write(folder / page_name(entry), render_change_page(entry))
        _write(folder / "index.html", render_index(entries, title))
    except OSError as exc:
        raise StorageError(f"cannot write change pages to {folder}: {exc.strerror or exc}") from None


def _write(path: Path, text: str) -> None:
    data = text.encode("utf-8")
    if path.exists() and path.read_bytes() == data:
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
