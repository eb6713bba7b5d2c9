"""Publishing HTML comes only from autoescaped templates: every scraped field stays text.

Each field an entry can carry gets its own hostile marker, so a field that skipped escaping
(or never reached the output) is named by the failing assertion.
"""

from __future__ import annotations

import ast
import os
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from lxml import etree

import monitor.publish
from monitor.errors import StorageError
from monitor.publish.atom import ATOM_NS, build_feed, check_feed
from monitor.publish.entries import FeedEntry, render_entry_html
from monitor.publish.pages import render_change_page, render_index, write_pages
from monitor.publish.render import environment

T0 = datetime(2026, 11, 2, 7, 17, tzinfo=UTC)
PUBLISH = Path(monitor.publish.__file__).parent
BAD_SCHEMES = [
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/x",
    "/relative/path",
]


def hostile(field: str) -> str:
    """Markup that would run if printed raw, tagged with the field it was put in."""
    return f'<script>alert("{field}")</script><img src=x onerror=alert(\'{field}\')>\x00\x1b'


def escaped(field: str) -> str:
    return f"&lt;script&gt;alert(&quot;{field}&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(&#x27;{field}&#x27;)&gt;"


FIELDS = [
    "summary", "change_note", "term", "withdrawn", "error", "description",
    "old_title", "new_title", "old_summary", "new_summary",
    "section", "paragraph_added", "paragraph_removed", "word_equal", "word_insert", "word_delete",
    "file_title", "file_old_title", "compared_with", "file_summary", "file_note",
    "sheet_added", "sheet_removed", "sheet", "key_column", "column_added", "column_removed",
    "cell_added", "row_removed", "changed_key", "changed_column", "before", "after", "context",
    "section_label", "section_status", "sentence_added", "sentence_removed",
    "document_title", "document_group", "removed_document",
]  # fmt: skip


def hostile_entry(url: str = "javascript:alert('url')", **kw) -> FeedEntry:
    h = hostile
    details = {
        "withdrawn_explanation": h("withdrawn"),
        "error": h("error"),
        "moved_from": "javascript:alert('moved_from')",
        "moved_to": 'https://www.gov.uk/x"><script>alert(1)</script>',
        "description": h("description"),
        "title_change": [h("old_title"), h("new_title")],
        "summary_change": [h("old_summary"), h("new_summary")],
        "text_changes": [
            {"op": "added", "section": h("section"), "old": [], "new": [h("paragraph_added")], "words": []},
            {"op": "removed", "section": "", "old": [h("paragraph_removed")], "new": [], "words": []},
            {"op": "changed", "section": "", "old": ["a"], "new": ["b"], "words": [["equal", h("word_equal")], ["insert", h("word_insert")], ["delete", h("word_delete")]]},
        ],
        "attachments": [
            {
                "op": "replaced",
                "title": h("file_title"),
                "url": "javascript:alert('file_url')",
                "old_url": "data:text/html,<script>alert('old_url')</script>",
                "old_title": h("file_old_title"),
                "file_summary": h("file_summary"),
                "note": h("file_note"),
                "formats": [h("format")],
                "file_diff": {
                    "sheets_added": [h("sheet_added")],
                    "sheets_removed": [h("sheet_removed")],
                    "tables": [
                        {
                            "sheet": h("sheet"),
                            "key_column": h("key_column"),
                            "columns_added": [h("column_added")],
                            "columns_removed": [h("column_removed")],
                            "rows_added": [{h("key_column"): "K1", "Purpose": h("cell_added")}],
                            "rows_removed": [h("row_removed")],
                            "rows_changed": [
                                {
                                    "key": h("changed_key"),
                                    "cells": [{"column": h("changed_column"), "before": h("before"), "after": h("after")}],
                                    "row": {"Other": h("context")},
                                }
                            ],
                        }
                    ],
                    "sections": [{"label": h("section_label"), "status": h("section_status"), "sentences_added": [h("sentence_added")], "sentences_removed": [h("sentence_removed")]}],
                },
            },
            {"op": "added", "title": "x", "url": "https://www.gov.uk/x.ods", "compared_with": h("compared_with")},
        ],
        "documents_added": [{"title": h("document_title"), "group": h("document_group")}],
        "documents_removed": [{"title": h("removed_document")}],
    }
    base = dict(
        feed_id="tag:example.org,2026-11-02:dfe-monitor/change/1",
        title=h("title"),
        url=url,
        category="privacy-notice",
        kind="changed",
        detected_at=T0,
        summary=h("summary"),
        silent_edit=False,
        priority="high",
        terms=(h("term"),),
        change_note=h("change_note"),
        details=details,
        sequence=1,
    )
    base.update(kw)
    return FeedEntry(**base)


OWN_PAGE = re.compile(r"(index(-[a-z-]+)?|change-\d+|target-\d+)\.html")
# Cells compared word by word: their shared words are shown once, so the hostile strings are
# checked as the words marked deleted and inserted.
WORD_DIFFED = {"before": "del", "after": "ins"}


def assert_no_live_markup(html: str) -> None:
    tree = etree.fromstring(f"<div>{html}</div>".encode(), etree.HTMLParser())
    assert not tree.xpath("//script | //img | //iframe | //svg | //object | //embed")
    assert not [el.tag for el in tree.iter() if any(name.lower().startswith("on") for name in el.attrib)]
    for href in tree.xpath("//a/@href"):
        assert href.startswith(("https://", "http://")) or OWN_PAGE.fullmatch(href), href


def missing_fields(html: str) -> list[str]:
    """The fields whose hostile marker is not in ``html`` as escaped text."""
    tree = etree.fromstring(f"<div>{html}</div>".encode(), etree.HTMLParser())
    missing = []
    for field in FIELDS:
        if field in WORD_DIFFED:
            if field not in [el.text for el in tree.iter(WORD_DIFFED[field])]:
                missing.append(field)
        elif escaped(field) not in html:
            missing.append(field)
    return missing


def feed_content(xml: bytes) -> str:
    return etree.fromstring(xml).find(f"{{{ATOM_NS}}}entry/{{{ATOM_NS}}}content").text


@pytest.mark.parametrize("render", [render_entry_html, render_change_page], ids=["entry", "page"])
def test_every_field_comes_out_escaped(render):
    html = render(hostile_entry())
    assert_no_live_markup(html)
    assert missing_fields(html) == []
    if render is render_change_page:
        assert html.count(escaped("title")) == 2  # <title> and <h1>
    assert "(&lt;SCRIPT&gt;ALERT(&quot;FORMAT&quot;)&lt;/SCRIPT&gt;" in html  # formats are shown in capitals
    assert "\x00" not in html and "\x1b" not in html


def test_every_field_comes_out_escaped_in_the_feed():
    xml = build_feed([hostile_entry()], title=hostile("feed title"), feed_url="https://example.org/feed.atom", updated=T0)
    check_feed(xml)
    assert not feedparser.parse(xml).bozo
    content = feed_content(xml)
    assert_no_live_markup(content)
    assert missing_fields(content) == []
    title = etree.fromstring(xml).findtext(f"{{{ATOM_NS}}}entry/{{{ATOM_NS}}}title")
    assert title == hostile("title").replace("\x00", "").replace("\x1b", "")  # Atom text, not HTML


def test_the_index_escapes_titles():
    html = render_index([hostile_entry(), hostile_entry(sequence=2, priority="normal")], hostile("index title"))
    assert_no_live_markup(html)
    assert html.count(escaped("title")) == 2
    assert html.count(escaped("index title")) == 2  # <title> and <h1>
    assert "default-src 'none'" in html


def test_an_http_url_stays_one_attribute():
    html = render_entry_html(hostile_entry(url='https://www.gov.uk/a?b=1&c="2"><script>x</script>'))
    tree = etree.fromstring(f"<div>{html}</div>".encode(), etree.HTMLParser())
    hrefs = tree.xpath("//a/@href")
    assert 'https://www.gov.uk/a?b=1&c="2"><script>x</script>' in hrefs
    assert 'https://www.gov.uk/x"><script>alert(1)</script>' in hrefs  # moved_to
    assert_no_live_markup(html)


@pytest.mark.parametrize("url", BAD_SCHEMES)
def test_a_url_that_is_not_http_never_becomes_a_link(url):
    entry = hostile_entry(url=url)
    for html in (render_entry_html(entry), render_change_page(entry)):
        tree = etree.fromstring(f"<div>{html}</div>".encode(), etree.HTMLParser())
        hrefs = tree.xpath("//a/@href")
        assert all(h.startswith(("https://", "http://")) or OWN_PAGE.fullmatch(h) for h in hrefs), hrefs
        assert "View the page on GOV.UK" in html
    xml = build_feed([entry], title="t", feed_url="https://example.org/feed.atom", updated=T0)
    assert etree.fromstring(xml).find(f"{{{ATOM_NS}}}entry/{{{ATOM_NS}}}link") is None


def test_text_that_looks_escaped_is_escaped_again():
    html = render_entry_html(hostile_entry(summary="&lt;b&gt; &#39; &#34; &amp;", change_note=None))
    assert "<strong>&amp;lt;b&amp;gt; &amp;#39; &amp;#34; &amp;amp;</strong>" in html


# -- the templates and the environment -----------------------------------------------------


def test_the_environment_escapes_and_refuses_missing_values():
    env = environment()
    assert env.autoescape is True
    assert str(env.from_string("{{ x }}").render(x="<b>")) == "&lt;b&gt;"
    with pytest.raises(Exception, match="undefined"):
        env.from_string("{{ missing }}").render()


def test_no_template_turns_escaping_off():
    templates = sorted((PUBLISH / "templates").glob("*.html"))
    assert {"entry.html", "change.html", "index.html"} <= {t.name for t in templates}
    for template in templates:
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"\|\s*safe\b|autoescape\s+false|Markup|\|\s*e\b", text), template.name


# -- no markup built in Python ---------------------------------------------------------------

TAG = re.compile(r"<\s*/?\s*(?:p|div|li|ul|ol|table|tr|td|th|h[1-6]|span|ins|del|a|br|em|strong|small|blockquote|html|head|body|meta|title|style|script|hr|img|iframe|svg)\b", re.I)


def markup_in_python(source: str) -> list[int]:
    """Line numbers of string literals (plain or f-strings) that contain an HTML tag."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(part.value for part in node.values if isinstance(part, ast.Constant))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            text = node.value
        else:
            continue
        if TAG.search(text):
            lines.add(node.lineno)
    return sorted(lines)


def test_the_markup_check_finds_markup():
    assert markup_in_python('x = f"<p>{y}</p>"') == [1]
    assert markup_in_python('x = "<td>" + y') == [1]
    assert markup_in_python('x = "<LI class=a>%s" % y') == [1]
    assert markup_in_python('"""A <p> in a docstring."""\nx = "a < b"') == []


def test_no_publishing_module_builds_markup():
    modules = sorted(PUBLISH.rglob("*.py"))
    assert len(modules) >= 5
    found = {str(m.relative_to(PUBLISH)): markup_in_python(m.read_text(encoding="utf-8")) for m in modules}
    assert {name: lines for name, lines in found.items() if lines} == {}


# -- writing ---------------------------------------------------------------------------------


def test_pages_are_written_atomically_and_unchanged_pages_are_left_alone(tmp_path):
    folder = tmp_path / "pages"
    write_pages(folder, [hostile_entry()], "Changes")
    page = folder / "change-1.html"
    assert oct(page.stat().st_mode & 0o777) == "0o644"
    old = time.time() - 3600
    os.utime(page, (old, old))
    stale = folder / ".change-1.html.abc123.tmp"
    stale.write_text("half a page")
    os.utime(stale, (old, old))
    write_pages(folder, [hostile_entry()], "Changes")
    assert page.stat().st_mtime == pytest.approx(old)
    pages = ["change-1.html", "index-census-guidance.html", "index-high.html", "index-other.html", "index-privacy-notice.html", "index-release-register.html", "index-silent.html", "index.html", "target-0.html"]
    assert sorted(p.name for p in folder.iterdir()) == [".change-1.html.abc123.tmp", *pages]
    write_pages(folder, [hostile_entry(summary="new")], "Changes")
    assert sorted(p.name for p in folder.iterdir()) == pages


def test_an_unwritable_pages_folder_is_a_storage_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(StorageError, match="cannot write the change page to .*not-a-folder"):
        write_pages(blocker / "pages", [hostile_entry()], "Changes")


def _environment_with_cache(folder):
    from jinja2 import Environment, PackageLoader

    from monitor.publish.render import _KeptCompiled

    return Environment(loader=PackageLoader("monitor.publish", "templates"), autoescape=True, bytecode_cache=_KeptCompiled(str(folder)))


def test_compiled_templates_are_kept_and_a_damaged_or_unwritable_cache_is_only_not_used(tmp_path):
    from monitor.publish.render import environment

    names = [n for n in environment().list_templates() if n.endswith(".html")]
    folder = tmp_path / "compiled"
    folder.mkdir()
    for name in names:
        _environment_with_cache(folder).get_template(name)
    kept = {entry.name: entry.read_bytes() for entry in folder.iterdir()}
    assert len(kept) == len(names)  # one compiled entry per template
    for entry in folder.iterdir():
        entry.write_bytes(kept[entry.name][:40] + b"\x00garbage")  # damaged after its header
    for name in names:
        assert _environment_with_cache(folder).get_template(name).blocks is not None  # compiled afresh
    assert {entry.name: entry.read_bytes() for entry in folder.iterdir()} == kept  # and kept again
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    for name in names:  # nothing can be written there: templates compile as if there were no cache
        _environment_with_cache(not_a_folder).get_template(name)
