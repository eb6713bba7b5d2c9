"""Content faults: noise never becomes a change, hostile pages and files never become live
markup or a stuck run, and a huge change still makes a small, valid feed entry.

Each test builds its own small site (tests/support/faults.py, tests/support/sitebuilder.py) in a "before" and an
"after" state and runs `dfe-monitor run` as a child process against it.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import time

import pytest
from support.faults import (
    HTML_ONLY,
    PRIVACY,
    build_standard_state,
    feed_problems,
    hostile_files,
    html_page,
    live_markup,
    scenario,
)
from support.sitebuilder import Site, attachment

from monitor.demo.server import Fault


def first_line(result) -> str:
    return result.stdout.splitlines()[0]


# -- noise only ------------------------------------------------------------------------------

NOISY_BODY = "<p>Schools send the census each term.</p><p>It includes country of birth.</p>"


def noise_site(root):
    """Between the states only what GOV.UK changes on its own changes: tokens, nonces, banners,
    sidebars and their order, asset fingerprints, `updated_at`, the order and expansion of
    `links`. (Random values also change on every request, within a state.)"""
    site = Site(root)
    build_standard_state(site.state("before"))
    after = site.state("after")
    build_standard_state(after)
    banner = (
        '<div class="gem-c-emergency-banner"><h2>National emergency</h2><p>Stay at home.</p></div>'
        '<div class="gem-c-global-banner"><p>Register to vote by 1 May</p></div>'
        '<div class="recruitment-banner"><p>Help improve GOV.UK</p></div>'
    )
    after.page(HTML_ONLY, html_page("Pupil data guidance", NOISY_BODY, banner=banner, related=("C", "A", "B", "D"), extra_head='<meta name="govuk:updated-at" content="2026-02-02T10:00:00Z">'))
    after.item(
        PRIVACY,
        title="Privacy information: pupils",
        body="<p>We share pupil data with researchers.</p>",
        change_history=[("2025-06-01T09:30:00.000+01:00", "First published.")],
        links={"taxons": [{"base_path": "/education", "content_id": "c1", "title": "Education"}], "mainstream_browse_pages": [{"base_path": "/browse/education", "title": "Education"}]},
    )
    before = site.state("before")
    before.page(HTML_ONLY, html_page("Pupil data guidance", NOISY_BODY))
    return site


def test_only_volatile_parts_change_nothing_is_reported(tmp_path):
    with scenario(tmp_path, noise_site) as s:
        s.run()
        s.server.set_state("after")
        second = s.run()
    assert first_line(second).startswith("run 2 completed: 3 targets checked, 3 unchanged, 0 changed, 0 failed;")
    assert s.count("versions") == 3
    assert s.changes() == []


# -- hostile markup --------------------------------------------------------------------------

HOSTILE_BODY = (
    "<p>We share pupil data with researchers.</p>"
    "<p>New: <script>alert('body')</script>we share with the Home Office"
    "<a href=\"javascript:alert('link')\" onclick=\"alert('click')\">details</a>.</p>"
    "<iframe src=\"http://evil.example/frame\"></iframe>"
    "<svg onload=\"alert('svg')\"><circle r=\"5\"/></svg>"
    "<img src=x onerror=\"alert('img')\">"
    "<p onmouseover=\"alert('p')\">Quoted markup: <code>&lt;script&gt;alert('quoted')&lt;/script&gt;</code>"
    " and <code>&lt;img src=x onerror=alert(1)&gt;</code></p>"
    "<p><a href=\"data:text/html;base64,PHNjcmlwdD4=\">data link</a> &amp; <a href=\"http://example.org/ok\">fine link</a></p>"
)
HOSTILE_NOTE = "<b>Updated</b> <script>alert('note')</script> sharing ]]> & more"


def hostile_site(root):
    site = Site(root)
    build_standard_state(site.state("before"))
    after = site.state("after")
    build_standard_state(after, html_body=HOSTILE_BODY)
    after.item(
        PRIVACY,
        title="Privacy information: pupils <script>alert('title')</script>",
        body=HOSTILE_BODY,
        change_history=[("2025-06-01T09:30:00.000+01:00", "First published."), ("2026-02-01T09:30:00.000+00:00", HOSTILE_NOTE)],
        attachments=[
            {**attachment("x1", "a.csv", "<img src=x onerror=alert('file')>", 10, "text/csv"), "url": "javascript:alert('href')"},
        ],
    )
    return site


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    with scenario(tmp_path_factory.mktemp("hostile"), hostile_site, sections={"feed": {"pages_dir": "pages"}}) as s:
        s.run()
        s.server.set_state("after")
        result = s.run()
        yield s, result


def test_hostile_markup_reaches_the_feed_only_as_escaped_text(hostile):
    s, result = hostile
    assert first_line(result).startswith("run 2 completed: 3 targets checked, 1 unchanged, 2 changed, 0 failed;")
    xml = s.feed.read_bytes()
    assert feed_problems(xml) == []
    text = xml.decode()
    # scraped text that *looks* like markup is there, escaped twice (XML around HTML)
    assert "&amp;lt;script&amp;gt;alert(&amp;#x27;quoted&amp;#x27;)&amp;lt;/script&amp;gt;" in text
    assert "&amp;lt;img src=x onerror=alert(1)&amp;gt;" in text
    assert "&amp;lt;b&amp;gt;Updated&amp;lt;/b&amp;gt; &amp;lt;script&amp;gt;alert(&amp;#x27;note&amp;#x27;)&amp;lt;/script&amp;gt; sharing ]]&amp;gt; &amp;amp; more" in text  # the change note
    # markup that was markup is gone: neither the script's code nor the handlers' survive, not
    # even as text (the entries' HTML, fully unescaped, is what a reader could ever show)
    from lxml import etree

    shown = html.unescape(" ".join(c.text or "" for c in etree.fromstring(xml).iterfind(".//{http://www.w3.org/2005/Atom}content")))
    assert "alert('quoted')" in shown and "alert('note')" in shown  # text stays text
    for gone in ("alert('body')", "alert('click')", "alert('svg')", "alert('img')", "alert('p')", "evil.example", "javascript:", "data:text/html"):
        assert gone not in shown, gone
    assert "fine link" in text and "details" in text
    titles = [c["title"] for c in s.changes()]
    assert "Privacy information: pupils — " in titles[0] or "Privacy information: pupils — " in titles[1]


def test_hostile_markup_reaches_the_change_pages_only_as_escaped_text(hostile):
    s, _ = hostile
    pages = sorted((s.folder / "pages").glob("*.html"))
    assert [p.name for p in pages if p.name.startswith("change-")] == ["change-1.html", "change-2.html"]
    assert "index.html" in [p.name for p in pages]
    for page in pages:
        html_text = page.read_text()
        assert "default-src 'none'" in html_text
        assert live_markup(html_text) == [], page.name
    both = "".join(p.read_text() for p in pages)
    assert "&lt;script&gt;alert(&#x27;quoted&#x27;)&lt;/script&gt;" in both
    assert "alert('body')" not in both and "alert(&#x27;body&#x27;)" not in both


# -- hostile files ---------------------------------------------------------------------------

HOSTILE_FILES = "/government/publications/hostile-files"


def hostile_file_site(root):
    site = Site(root)
    for state_name in ("before", "after"):
        state = site.state(state_name)
        attachments = []
        for n, (name, (genuine, hostile_bytes, content_type)) in enumerate(hostile_files().items()):
            data = genuine if state_name == "before" else hostile_bytes
            state.file(f"/media/h{n}/{name}", data)
            attachments.append(attachment(f"h{n}", name, f"Attachment {n} ({name})", len(data), content_type))
        state.item(HOSTILE_FILES, title="Files", body="<p>Files.</p>", change_history=[("2025-06-01T09:30:00.000+01:00", "First published.")], attachments=attachments)
        state.robots()
    return site


def test_hostile_files_are_refused_or_killed_kept_as_bytes_and_detected_by_hash(tmp_path):
    """Zip bombs (ODS, XLSX, DOCX), entity expansion and an external entity in XLSX, a garbage
    file sent as DOCX, and PDFs that hang or break the parser replace genuine files."""
    files = hostile_files()
    timeout = 2
    with scenario(tmp_path, hostile_file_site, targets=[("Files", HOSTILE_FILES, "other")], sections={"extract": {"timeout_seconds": timeout, "memory_mb": 256}}) as s:
        s.run()
        s.server.set_state("after")
        # measure this run alone: a small parent that reports its descendants' peak memory
        probe = (
            "import resource, subprocess, sys, time; t = time.monotonic();"
            f"r = subprocess.run([sys.executable, '-m', 'monitor', 'run', '--config', {str(s.config)!r}], capture_output=True, text=True);"
            "print(r.returncode, time.monotonic() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss);"
            "print(r.stdout, end=''); print(r.stderr, end='', file=sys.stderr)"
        )
        result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    code, seconds, peak_kib = result.stdout.splitlines()[0].split()
    assert code == "0", result.stderr
    assert result.stderr == ""
    assert "run 2 completed: 1 targets checked, 0 unchanged, 1 changed, 0 failed;" in result.stdout
    # bounded time: the slow PDF is killed at the limit; everything else is refused up front
    assert float(seconds) < 8 * timeout + 15, f"the run took {float(seconds):.1f} s"
    # bounded memory: no process of the run grew past the extraction limit (256 MB)
    assert int(peak_kib) < 256 * 1024, f"a process of the run peaked at {int(peak_kib) // 1024} MB"
    # every hostile file: raw bytes kept, extraction error recorded, nothing parsed
    errors = dict(s.sql("SELECT b.size || ':' || e.format, e.error FROM extractions e JOIN blobs b ON b.sha256 = e.sha256 WHERE e.error IS NOT NULL"))
    expected = {
        "zip-bomb.ods": "refused: archive member 'content.xml' has compression ratio",
        "zip-bomb.xlsx": "refused: archive member 'xl/worksheets/sheet1.xml' has compression ratio",
        "zip-bomb.docx": "refused: archive member 'word/document.xml' has compression ratio",
        "billion-laughs.xlsx": "refused: XML member 'xl/worksheets/sheet2.xml' has a DOCTYPE declaration",
        "external-entity.xlsx": "refused: XML member 'xl/worksheets/sheet3.xml' has a DOCTYPE declaration",
        "garbage.docx": "unsupported file format (called docx, but the content is not docx)",
        "slow-content.pdf": f"extraction timed out after {timeout} s",
        "cyclic-pages.pdf": "could not read pdf file: PdfReadError: Detected cyclic page references.",
        "deep-nesting.pdf": "pdf file is nested too deeply to read",
    }
    bounded = f"extraction timed out after {timeout} s"  # on a loaded machine, the time limit may come first
    for name, start in expected.items():
        hostile_bytes = files[name][1]
        found = [error for key, error in errors.items() if key.startswith(f"{len(hostile_bytes)}:")]
        assert any(error.startswith((start, bounded) if name == "deep-nesting.pdf" else start) for error in found), (name, found)
        assert s.count("blobs", "size = ?", len(hostile_bytes)) == 1, f"{name}: raw bytes not kept"
    [change] = s.changes()
    details = json.loads(s.sql("SELECT details FROM changes")[0][0])
    replaced = {event["url"].rsplit("/", 1)[-1] for event in details["attachments"] if event["op"] == "replaced"}
    assert replaced == set(files), "every replaced file is reported, by hash"
    assert all("its bytes were kept and compared by hash" in event["note"] for event in details["attachments"])
    assert change["kind"] == "changed"
    assert feed_problems(s.feed.read_bytes()) == []


# -- content type and charset ----------------------------------------------------------------

ACCENTED = "<p>Données: café, naïve — £5 for “each” pupil’s record; 学校.</p>"


def charset_site(root):
    site = Site(root)
    state = site.state("before")
    build_standard_state(state, privacy_body=ACCENTED)
    # a page that does not declare its charset: only its bytes can say
    page = html_page("Pupil data guidance", ACCENTED, noise=False).replace('<html lang="en">', "<html>")
    state.page(HTML_ONLY, page)
    return site


CHARSET_RUNS = [
    # (html page, Content API answer, CSV file): what each run's Content-Type header claims
    ("text/html; charset=iso-8859-1", "text/html; charset=windows-1252", "application/pdf"),
    ("application/json; charset=utf-16", "text/plain; charset=ascii", "text/html; charset=utf-16"),
]


def test_wrong_content_types_and_charsets_are_decided_the_same_way_every_run(tmp_path):
    with scenario(tmp_path, charset_site) as s:
        s.run()
        for page_type, api_type, csv_type in CHARSET_RUNS:
            s.server.clear_faults()
            for path, content_type in ((HTML_ONLY, page_type), (f"/api/content{PRIVACY}", api_type), ("/media/a1b2c3/pupil-data-register.csv", csv_type)):
                if content_type:
                    s.server.add_fault(path, Fault(kind="headers", content_type=content_type))
            result = s.run()
            assert ", 0 changed, 0 failed;" in first_line(result), (page_type, result.stdout)
    assert s.count("versions") == 3
    assert s.changes() == []
    document = s.sql("SELECT v.document_sha256 FROM versions v JOIN targets t ON t.id = v.target_id WHERE t.name = 'Pupil data guidance (HTML only)'")[0][0]
    from support.faults import blob

    assert "Données: café, naïve — £5 for “each” pupil’s record; 学校." in blob(s.database, document).decode()


# -- huge diffs ------------------------------------------------------------------------------


def huge_site(root):
    site = Site(root)
    privacy_before = "".join(f"<p>Paragraph {i}: pupil data is shared with researchers under agreement {i}.</p>" for i in range(600))
    privacy_after = "".join(f"<p>Paragraph {i}: pupil data is {'sold to' if i % 2 else 'shared with'} researchers under agreement {i}.</p>" for i in range(600))
    csv_before = b"Reference,Requester,Purpose\n" + b"".join(f"DS{i:05d},Org {i},Purpose {i}\n".encode() for i in range(3000))
    csv_after = b"Reference,Requester,Purpose\n" + b"".join(f"DS{i:05d},Org {i},Purpose {i}{' amended' if i % 3 == 0 else ''}\n".encode() for i in range(3000))
    csv_after += b"".join(f"DX{i:05d},New {i},New\n".encode() for i in range(2000))
    build_standard_state(site.state("before"), privacy_body=privacy_before, csv=csv_before, html_body="".join(f"<p>Line {i} of the guidance.</p>" for i in range(2000)))
    build_standard_state(site.state("after"), privacy_body=privacy_after, csv=csv_after, html_body="".join(f"<p>Entirely new line {i} about nationality.</p>" for i in range(3000)))
    return site


@pytest.fixture(scope="module")
def huge(tmp_path_factory):
    with scenario(tmp_path_factory.mktemp("huge"), huge_site, sections={"feed": {"pages_dir": "pages"}}) as s:
        s.run()
        s.server.set_state("after")
        started = time.monotonic()
        result = s.run()
        yield s, result, time.monotonic() - started


def entry_html(s, name: str) -> str:
    from lxml import etree

    feed_id = next(c["feed_id"] for c in s.changes() if c["name"] == name)
    root = etree.fromstring(s.feed.read_bytes())
    ns = {"a": "http://www.w3.org/2005/Atom"}
    [entry] = [e for e in root.iterfind("a:entry", ns) if e.findtext("a:id", namespaces=ns) == feed_id]
    return entry.findtext("a:content", namespaces=ns)


def test_huge_diffs_are_capped_with_a_count_of_the_rest(huge):
    s, result, seconds = huge
    assert first_line(result).startswith("run 2 completed: 3 targets checked, 0 unchanged, 3 changed, 0 failed;")
    assert seconds < 60
    assert feed_problems(s.feed.read_bytes()) == []
    privacy = entry_html(s, "Privacy information: pupils")
    assert "… and 275 more text changes not shown." in privacy  # 300 edits, 25 shown
    register = entry_html(s, "Pupil data register")
    shown = len(re.findall(r"<tr><td[^>]*>(Added|Removed|Changed)</td>", register))
    assert shown == 20 and "… and 2980 more rows not shown." in register  # 3,000 rows: 2,000 new, 1,000 changed
    assert len(privacy) < 100_000 and len(register) < 100_000
    assert [c["title"] for c in s.changes()] == [
        "Pupil data register — file replaced: Pupil data register (2000 rows added, 1000 changed), no change note",
        "Privacy information: pupils — 300 paragraphs changed, no change note",
        "Pupil data guidance (HTML only) — 3000 paragraphs changed",
    ]


def test_one_huge_rewrite_is_capped_too(huge):
    """3,000 paragraphs replaced at once are one "changed" hunk: today every paragraph is shown."""
    s, _, _ = huge
    guidance = entry_html(s, "Pupil data guidance (HTML only)")
    assert len(guidance) < 100_000, f"one entry is {len(guidance):,} characters"
    assert "more paragraphs not shown" in guidance


def test_the_database_keeps_the_whole_diff(huge):
    """The feed shows a part; researchers can read all of it in `changes.details`."""
    s, _, _ = huge
    details = json.loads(s.sql("SELECT c.details FROM changes c JOIN targets t ON t.id = c.target_id WHERE t.name = 'Pupil data register'")[0][0])
    table = details["attachments"][0]["file_diff"]["tables"][0]
    assert len(table["rows_added"]) == 2000 and len(table["rows_changed"]) == 1000
