"""Every page and Content API item of the demo site reads to exactly the recorded Document.

The recorded fingerprints (tests/fixtures/golden/documents.json) are what the normaliser made of
each fixture when NORMALISER_VERSION was last changed. A failure here means the same captures now
give a different Document: if that is intended, bump NORMALISER_VERSION (stored versions are then
re-derived, never reported as changes) and rewrite the file with
``python tests/test_golden_documents.py --write``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.document.assemble import NORMALISER_VERSION  # noqa: E402
from monitor.document.content_item import document_from_item  # noqa: E402
from monitor.document.html import blocks_from_html, document_from_html_page  # noqa: E402
from monitor.errors import ExtractionError  # noqa: E402
from monitor.govuk.pages import looks_like_error_page, page_attachments, parse_html  # noqa: E402

GOLDEN = Path(__file__).parent / "fixtures" / "golden" / "documents.json"
SITE = ROOT / "monitor" / "demo" / "site"
SELECTORS = ("main#content", "main", "#content .gem-c-govspeak", "body")
SNIPPETS = (
    "<p>a<br>b</p>",
    "<ul><li>one<ul><li>two<ol><li>three</li></ol>tail</li></ul>after</li><li>x</li></ul>",
    "<table><tr><th>H<br>x</th><td>a <b>b</b>, c</td></tr><tr><td></td></tr></table>",
    "<blockquote><p>q1</p><p>q2</p></blockquote><blockquote>plain <i>q</i></blockquote>",
    "<div>loose <span>text</span><!-- c --> more<p>para</p>tail text<hr>after hr</div>",
    "<pre>\n  code\n  more\n</pre>",
    "<dl><dt>T</dt><dd>D <a href='x'>l</a></dd></dl>",
    "<p>x<script>alert(1)</script>y<style>s</style>z</p><div hidden>h</div><div aria-hidden='true'>ah</div>",
    "<h2>Head <abbr>AB</abbr></h2><p>p&nbsp;q&amp;r</p>",
    "<figure><figcaption>cap</figcaption></figure>",
    "<p>outer<div>inner</div>rest</p>",
    "<section><article><p>deep</p></article></section>text",
    "", "   ", "<p></p>", "plain text only", "<li>orphan</li>",
    "<div class='gem-c-cookie-banner'>c</div><p>k</p>",
    "<table><thead><tr><th>a</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>",
    "<p>a<br/>b<br>c</p><p>x<span><br>y</span></p>",
    "<ol><li><p>para in li</p><ul><li>sub</li></ul></li></ol>",
)


def _fill(data: bytes) -> bytes:
    for placeholder, value in ((b"{{nonce}}", b"abc"), (b"{{request_id}}", b"r"), (b"{{base}}", b"http://x"), (b"{{now}}", b"2026-01-01T00:00:00Z")):
        data = data.replace(placeholder, value)
    return data


def _read(path: Path) -> str:
    return _fill(path.read_bytes()).decode("utf-8")


def readings() -> dict[str, str]:
    """What the current code makes of every fixture, as text (a Document's JSON, or the error)."""
    out: dict[str, str] = {}
    for path in sorted(SITE.glob("*/**/*.html")):
        name = path.relative_to(SITE).as_posix()
        body = _fill(path.read_bytes())
        for selector in SELECTORS:
            try:
                out[f"page:{selector}:{name}"] = document_from_html_page(body, "http://x/p", selector).to_json()
            except ExtractionError as exc:
                out[f"page:{selector}:{name}"] = f"error: {exc}"
        out[f"attachments:{name}"] = repr(page_attachments(body, "http://x/p"))
        out[f"error-page:{name}"] = repr(looks_like_error_page(parse_html(body)))
    for path in sorted(SITE.glob("*/api/content/**/*.json")):
        item = json.loads(_read(path))
        out[f"api:{path.relative_to(SITE).as_posix()}"] = document_from_item(item, "http://x/p", base_url="http://x").to_json()
    for number, snippet in enumerate(SNIPPETS):
        out[f"snippet:{number}"] = repr(blocks_from_html(snippet))
    return out


def fingerprints() -> dict[str, str]:
    return {key: hashlib.sha256(text.encode()).hexdigest() for key, text in readings().items()}


def test_the_demo_site_reads_exactly_as_recorded():
    recorded = json.loads(GOLDEN.read_text())
    assert recorded["normaliser_version"] == NORMALISER_VERSION, "NORMALISER_VERSION changed: rewrite the golden file"
    now = fingerprints()
    changed = sorted(k for k in recorded["documents"] if now.get(k) != recorded["documents"][k])
    assert set(now) == set(recorded["documents"])
    assert changed == []


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        pytest.exit("usage: python tests/test_golden_documents.py --write")
    GOLDEN.write_text(json.dumps({"normaliser_version": NORMALISER_VERSION, "documents": fingerprints()}, indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}")
