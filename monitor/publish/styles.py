"""The inline styles of an entry's HTML, by role, for the templates (``S.ins``, ``S.cell``…).

Feed readers drop stylesheets and class names, and many keep a ``style`` attribute: so an
entry carries its look inline, and reads the same in a reader and on its change page. Each
role works without the others too: an insertion is ``<ins>`` (underlined by every reader) and
also has a background; a deletion is ``<del>`` (struck) with a background; a watch-list term
is ``<mark>`` (highlighted by most readers) and bold on yellow; tables have
borders. On a change page, side-by-side blocks use flex-wrap, so they stack on a narrow screen
with no media query (in a feed they are stacked: readers drop flex-wrap). Colours are GOV.UK's, with text contrast above 7:1.
"""

from __future__ import annotations

TEXT = "#0b0c0c"
GREY = "#505a5f"
BORDER = "#b1b4b6"

STYLES: dict[str, str] = {
    "entry": f"color:{TEXT};overflow-wrap:anywhere;word-wrap:break-word",
    "ins": f"background:#cce2d8;color:{TEXT};text-decoration:underline;text-decoration-color:#00703c",
    "del": f"background:#f4cdc6;color:{TEXT};text-decoration:line-through",
    "mark": f"background:#fd0;color:{TEXT};font-weight:bold",
    "quote": f"margin:0.5em 0;padding:0.25em 0 0.25em 0.9em;border-left:5px solid {BORDER};color:{TEXT}",
    "note_date": f"color:{GREY};font-size:0.9em",
    "warning": f"margin:0.5em 0;padding:0.5em 0.75em;border-left:5px solid #d4351c;background:#fbe6e3;color:{TEXT}",
    "terms": f"margin:0.5em 0;padding:0.5em 0.75em;border-left:5px solid #f47738;background:#fdf0e6;color:{TEXT}",
    "heading": "margin:1em 0 0.4em;font-size:1.1em",
    "label": f"color:{GREY};font-style:italic",
    "url": "overflow-wrap:anywhere;word-break:break-all",
    "scroll": "overflow-x:auto;max-width:100%;margin:0.5em 0",
    "table": f"border-collapse:collapse;border:1px solid {BORDER};font-size:0.95em",
    "th": f"border:1px solid {BORDER};padding:4px 6px;text-align:left;vertical-align:top;background:#f3f2f1;color:{TEXT}",
    "td": f"border:1px solid {BORDER};padding:4px 6px;text-align:left;vertical-align:top;min-width:10em;max-width:24em;overflow-wrap:break-word;word-break:normal;color:{TEXT}",
    "row_label": f"border:1px solid {BORDER};padding:4px 6px;vertical-align:top;white-space:nowrap;font-weight:bold;color:{TEXT}",
    "sides": "display:flex;flex-wrap:wrap;gap:0.75em;margin:0.5em 0",
    "side": f"flex:1 1 15em;min-width:0;padding:0.4em 0.6em;border:1px solid {BORDER}",
    "stacked": f"margin:0.4em 0;padding:0.4em 0.6em;border:1px solid {BORDER}",
    "side_title": f"margin:0 0 0.3em;font-weight:bold;color:{GREY}",
    "more": f"color:{GREY};font-style:italic",
    "small": f"color:{GREY};font-size:0.85em",
    "files": "margin:0.5em 0;padding-left:1.2em",
    "file": "margin:0 0 1em",
    "omitted": f"color:{GREY};font-style:italic",
}
