"""Hypothesis strategies for a hostile GOV.UK: Content API items, search answers and pages of
random shapes, types and strings (control characters, lone surrogates, escapes, markup,
addresses that are not what they look like), and the profiles that bound how long they run.

The item strategy is mostly item-shaped — the keys dfe-monitor reads, each holding either the
type it expects or anything at all — so that the shape checks and the readers behind them are
both reached, not just the first ``isinstance``.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

BASE = "https://www.gov.uk"
ALLOWED = ("www.gov.uk", "assets.publishing.service.gov.uk")
PATH = "/government/publications/pupil-data"

# CI: 200 examples per test; bench/fuzz.py: "long", DFE_FUZZ_EXAMPLES of them (5,000 unless
# told). Both bound the time of every example: the deadline fails a test whose example is slow.
PROFILE_ENV = "DFE_FUZZ_PROFILE"
EXAMPLES_ENV = "DFE_FUZZ_EXAMPLES"
DEADLINE = timedelta(seconds=2)
_QUIET_CHECKS = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile("ci", max_examples=200, deadline=DEADLINE, suppress_health_check=_QUIET_CHECKS)
settings.register_profile("long", max_examples=int(os.environ.get(EXAMPLES_ENV, "5000")), deadline=DEADLINE, suppress_health_check=_QUIET_CHECKS)
FUZZ = settings.get_profile(os.environ.get(PROFILE_ENV, "ci"))

ANY_CHAR = st.characters(exclude_categories=())  # surrogates, controls, unassigned: everything
NASTY = st.sampled_from([
    "\x00", "\x0b", "\x1b[2J", "\x1b]0;pwned\x07", "\u009b2J", "\u202e", "\u2028", "\ud800", "\udfff", "\ufffe",
    "\r\n", "\\", "@", "//", "#", "?", "%", "%00", "<", ">", "&", '"', "'", " ", "\t",
    "http://[", "https://x:99999", "[", "]", ":",
])
TEXT = st.one_of(
    st.text(ANY_CHAR, max_size=30),
    st.lists(st.one_of(NASTY, st.text(max_size=8)), max_size=8).map("".join),
)
MARKUP = st.lists(
    st.one_of(
        st.sampled_from(["<p>", "</p>", "<h2>", "</h2>", "<ul><li>", "</li></ul>", "<table><tr><td>", "</td></tr></table>", "<div>", "</div>", "<br>", "<hr>", "<script>x</script>", "<![CDATA[", "<!--", "-->", "<a href='javascript:x'>", "</a>"]),
        TEXT,
    ),
    max_size=20,
).map("".join)
URLS = st.one_of(
    st.sampled_from([
        f"{BASE}/government/x", "/government/x", "//evil.example/x", f"{BASE}@evil.example/x", "https://evil.example/x",
        "/\\evil.example/x", "@evil.example/x", "javascript:alert(1)", "http://[::1", "https://www.gov.uk:99999/x",
        "https://assets.publishing.service.gov.uk/media/a/my file.csv", "https://assets.publishing.service.gov.uk/media/a/x.csv#frag",
        "/media/a/x\x1b[2J.csv", "/government/x\ud800", "", " ", "https://assets.publishing.service.gov.uk/media/" + "x" * 2100,
    ]),
    TEXT.map(lambda t: f"/government/{t}"),
    TEXT.map(lambda t: f"https://assets.publishing.service.gov.uk/media/{t}.csv"),
    TEXT,
)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), TEXT)
JSON = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)), max_leaves=20)


def either(expected: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the expected shape, sometimes anything at all."""
    return st.one_of(expected, expected, expected, JSON)


def _record(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={key: either(value) for key, value in fields.items()})


ATTACHMENT = _record(url=URLS, title=TEXT, attachment_type=st.sampled_from(["file", "html", "external"]), content_type=TEXT, filename=TEXT, file_size=st.integers())
HTML = st.one_of(MARKUP, st.lists(_record(content_type=st.just("text/html"), content=MARKUP), max_size=3))
DETAILS = _record(
    body=HTML,
    parts=st.lists(_record(title=TEXT, body=HTML), max_size=3),
    attachments=st.lists(ATTACHMENT, max_size=4),
    documents=st.lists(MARKUP, max_size=2),
    change_history=st.lists(_record(public_timestamp=TEXT, note=TEXT), max_size=3),
    change_notes=st.lists(_record(published_at=TEXT, title=TEXT, change_note=TEXT), max_size=3),
    collection_groups=st.lists(_record(title=TEXT, documents=st.lists(TEXT, max_size=3)), max_size=3),
    child_section_groups=st.lists(_record(title=TEXT, child_sections=st.lists(_record(title=TEXT, base_path=URLS), max_size=2)), max_size=2),
)
ITEM = st.fixed_dictionaries(
    {},
    optional={
        "title": either(TEXT),
        "base_path": either(st.one_of(st.just(PATH), URLS)),
        "schema_name": either(st.sampled_from(["publication", "redirect", "gone", "vanish", "html_publication", "guide", "manual"])),
        "document_type": either(TEXT),
        "description": either(TEXT),
        "public_updated_at": either(TEXT),
        "content_id": either(TEXT),
        "redirects": either(st.lists(_record(path=URLS, destination=URLS), max_size=2)),
        "withdrawn_notice": either(_record(explanation=HTML, withdrawn_at=TEXT)),
        "links": either(_record(parent=st.lists(_record(base_path=URLS, title=TEXT), max_size=2), documents=st.lists(_record(content_id=TEXT, title=TEXT, base_path=URLS), max_size=3))),
        "details": either(DETAILS),
    },
)


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


BODIES = st.one_of(
    ITEM.map(lambda item: json.dumps(item, ensure_ascii=True).encode()),
    ITEM.map(lambda item: json.dumps(item, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    JSON.map(lambda value: json.dumps(value).encode()),
    st.integers(0, 3000).map(lambda n: f'{{"title": "t", "base_path": "{PATH}", "details": {{"body": {deep(n)}}}}}'.encode()),
    st.binary(max_size=200),
)
SEARCH_RESULT = _record(title=TEXT, link=URLS, description=TEXT)
SEARCH_BODIES = st.one_of(
    st.fixed_dictionaries({"results": either(st.lists(either(SEARCH_RESULT), max_size=6)), "total": either(st.integers(0, 10_000))}).map(lambda page: json.dumps(page).encode()),
    st.integers(0, 3000).map(lambda n: f'{{"results": {deep(n)}}}'.encode()),
    st.binary(max_size=100),
)
PAGES = st.one_of(
    MARKUP.map(lambda body: f"<html><head><title>T</title></head><body><main id='content'><h1>T</h1>{body}</main></body></html>".encode("utf-8", "surrogatepass")),
    st.lists(ATTACHMENT, max_size=3).map(lambda files: ("<html><body><main id='content'><h1>T</h1>" + "".join(f"<section class='gem-c-attachment'><a href='{f.get('url') if isinstance(f.get('url'), str) else ''}'>x</a></section>" for f in files) + "</main></body></html>").encode("utf-8", "surrogatepass")),
    st.binary(max_size=200),
)
