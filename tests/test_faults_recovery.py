"""Afterwards: a site that serves every kind of fault, then returns to normal.

Two normal runs (a baseline and real changes, some of them carrying hostile markup), then four
runs against a site misbehaving in every way the other fault tests try one at a time, then one
normal run. The run after recovery must report nothing new — no change entries at all, not even
"failing" or "recovered" — the fault runs must have added no version and no change, the database
must pass its integrity check, and the feed and change pages must hold no live markup.
"""

from __future__ import annotations

import pytest
from support.faults import (
    CSV_PATH,
    HTML_ONLY,
    PRIVACY,
    REGISTER,
    build_standard_state,
    feed_problems,
    html_page,
    live_markup,
    scenario,
    standard_site,
)

from monitor.demo.server import Fault

pytestmark = pytest.mark.slow  # seven runs, about 30 s

API_PRIVACY = f"/api/content{PRIVACY}"
API_REGISTER = f"/api/content{REGISTER}"

HOSTILE = (
    "<p>Schools send the census each term.</p>"
    "<p>Now with <script>alert(1)</script><a href=\"javascript:alert(2)\" onclick=\"alert(3)\">nationality</a>"
    "<iframe src=\"http://evil.example/\"></iframe><svg onload=\"alert(4)\"></svg>"
    " and <code>&lt;script&gt;quoted&lt;/script&gt;</code>.</p>"
)
NOISY_BANNER = '<div class="gem-c-emergency-banner"><h2>National emergency</h2></div>'


def recovering_site(root):
    site = standard_site(root)
    build_standard_state(site.state("after"), version="after", html_body=HOSTILE)
    noisy = site.copy_state("after", "after-noisy")
    noisy.page(HTML_ONLY, html_page("Pupil data guidance", HOSTILE, banner=NOISY_BANNER, related=("C", "B", "A")))
    return site


FAULT_RUNS = [
    # (site state, {path: fault}, expected exit code)
    ("after", {
        "/robots.txt": Fault(kind="status", status=500),
        API_PRIVACY: Fault(kind="status", statuses=(500, 502, 503, 504)),
        API_REGISTER: Fault(kind="sorry"),
        HTML_ONLY: Fault(kind="truncate"),
    }, 0),
    ("after", {
        API_PRIVACY: Fault(kind="status", status=429, retry_after="1", times=1),
        API_REGISTER: Fault(kind="redirect", location="/loop"),
        "/loop": Fault(kind="redirect", location=API_REGISTER),
        HTML_ONLY: Fault(kind="stall"),
    }, 0),
    ("after-noisy", {
        API_PRIVACY: Fault(kind="headers", content_type="text/html; charset=iso-8859-1"),
        API_REGISTER: Fault(kind="drip", seconds=0.5),
        CSV_PATH: Fault(kind="huge", size=5_000_000),
        HTML_ONLY: Fault(kind="headers", content_type="text/plain; charset=utf-16"),
    }, 0),
    ("after", {"*": Fault(kind="close")}, 1),  # the network is gone
]


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    folder = tmp_path_factory.mktemp("recovery")
    with scenario(folder, recovering_site, fetch={"timeout_seconds": 1.5, "max_bytes": 1_000_000}, sections={"feed": {"pages_dir": "pages"}}) as s:
        s.run()
        s.server.set_state("after")
        s.run()
        settled = {"changes": s.changes(), "versions": s.versions()}
        during = []
        for state, faults, code in FAULT_RUNS:
            s.server.clear_faults()
            s.server.set_state(state)
            for path, fault in faults.items():
                s.server.add_fault(path, fault)
            result = s.run(expect=code)
            during.append((result, s.changes(), s.versions()))
        s.server.clear_faults()
        s.server.set_state("after")
        recovery = s.run()
        yield s, settled, during, recovery


def test_the_real_changes_were_reported_before_the_faults(story):
    s, settled, _, _ = story
    assert [(c["name"], c["kind"]) for c in settled["changes"]] == [
        ("Pupil data register", "changed"),
        ("Privacy information: pupils", "changed"),
        ("Pupil data guidance (HTML only)", "changed"),
    ]


def test_the_fault_runs_added_no_version_and_no_change(story):
    s, settled, during, _ = story
    for (result, changes, versions), (state, _faults, _code) in zip(during, FAULT_RUNS, strict=True):
        assert changes == settled["changes"], (state, result.stdout)
        assert versions == settled["versions"], (state, result.stdout)
    statuses = [status for _, status in s.runs()]
    # run 5: the register's file was refused at the size cap, so nothing is claimed about it (it
    # keeps its stored hash) and the page itself answered: the run is complete, the refusal logged
    assert statuses == ["completed", "completed", "partial", "partial", "completed", "failed", "completed"]
    [refused] = [f for f in s.fetches(5) if f["url"].endswith(CSV_PATH)]
    assert refused["error"].endswith("is 5000000 bytes, over the size cap fetch.max_bytes = 1000000; not read further")


def test_the_run_after_recovery_reports_nothing_new(story):
    s, settled, _, recovery = story
    assert recovery.stdout.startswith("run 7 completed: 3 targets checked, 3 unchanged, 0 changed, 0 failed; 0 feed entries added;")
    assert recovery.stderr == ""
    assert s.changes() == settled["changes"]
    assert s.versions() == settled["versions"]
    assert s.sql("SELECT name, state, consecutive_failures FROM targets ORDER BY id") == [
        ("Pupil data register", "ok", 0),
        ("Privacy information: pupils", "ok", 0),
        ("Pupil data guidance (HTML only)", "ok", 0),
    ]


def test_afterwards_the_database_is_intact_and_the_feed_holds_no_live_markup(story):
    s, _, _, _ = story
    assert s.integrity() == "ok"
    xml = s.feed.read_bytes()
    assert feed_problems(xml) == []
    assert b"&amp;lt;script&amp;gt;quoted&amp;lt;/script&amp;gt;" in xml  # quoted markup kept, as text
    for page in (s.folder / "pages").glob("*.html"):
        assert live_markup(page.read_text()) == [], page.name
