"""Network faults: whatever the network or GOV.UK's CDN does, no change is invented and nothing
stored is lost.

One baseline run of the standard site (tests/support/faults.py) is shared: each test forks its database
and feed, makes the fixture server misbehave, runs `dfe-monitor run` as a child process, and
reads the outcome back from the exit code, stdout/stderr and the runs/fetches/versions/changes
tables. Configs use `timeout_seconds = 5`, `retries = 1`, `backoff_seconds = 0.1` unless a test
says otherwise.
"""

from __future__ import annotations

import json
import time

import pytest
from support.faults import (
    CSV_PATH,
    HTML_ONLY,
    PRIVACY,
    REGISTER,
    html_page,
    scenario,
    stderr_lines,
)

from monitor.demo.server import Fault

API_PRIVACY = f"/api/content{PRIVACY}"
API_REGISTER = f"/api/content{REGISTER}"
API_HTML_ONLY = f"/api/content{HTML_ONLY}"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    with scenario(tmp_path_factory.mktemp("network")) as s:
        s.run()
        assert s.runs() == [(1, "completed")]
        yield s


@pytest.fixture
def s(baseline, tmp_path):
    baseline.server.clear_faults()
    baseline.server.set_state("before")
    forked = baseline.fork(tmp_path / "work")
    yield forked
    baseline.server.clear_faults()
    baseline.server.set_state("before")


def first_line(result) -> str:
    return result.stdout.splitlines()[0]


def errors_of_run(s) -> dict[str, str]:
    """url path -> error, for every fetch of the last run that failed (the HTML-only page's API
    404 is an answer, not a failure)."""
    return {f["url"][len(s.base) :]: f["error"] for f in s.fetches() if f["error"] and f["status"] != 404}


def assert_nothing_recorded(s, versions_before, changes_before=0):
    assert s.versions() == versions_before, "a failed fetch must never add a version"
    assert s.count("changes") == changes_before, "a failed fetch must never add a change"


# -- 429 and Retry-After ---------------------------------------------------------------------


def test_429_retry_after_is_waited_for_then_nothing_to_report(s):
    versions = s.versions()
    mark = s.mark()
    s.server.add_fault(API_PRIVACY, Fault(kind="status", status=429, retry_after="2", times=1))
    result = s.run()
    assert first_line(result).startswith("run 2 completed: 3 targets checked, 3 unchanged, 0 changed, 0 failed;")
    assert result.stderr == ""
    hits = s.requests_since(mark, API_PRIVACY)
    assert [h.status for h in hits] == [429, 200]
    waited = hits[1].at - hits[0].at
    assert waited >= 1.95, f"retried after {waited:.2f} s, Retry-After asked for 2 s"
    # GOV.UK's limit is per client: the whole host paused, not just that URL
    during = [r.path for r in s.requests_since(mark) if hits[0].at < r.at < hits[0].at + 1.95]
    assert during == [], f"requests sent while the host was paused: {during}"
    assert errors_of_run(s) == {}
    assert s.last_run()[1] == "completed"
    assert_nothing_recorded(s, versions)


def test_retry_after_longer_than_allowed_is_not_waited_for(s):
    versions = s.versions()
    s.server.add_fault(API_PRIVACY, Fault(kind="status", status=429, retry_after="3600"))
    started = time.monotonic()
    result = s.run()
    assert time.monotonic() - started < 20
    assert first_line(result).startswith("run 2 partial: 3 targets checked, 2 unchanged, 0 changed, 1 failed;")
    assert errors_of_run(s) == {API_PRIVACY: "HTTP 429; Retry-After of 3600 s is longer than fetch.max_retry_after_seconds (600 s)"}
    assert_nothing_recorded(s, versions)


# -- 5xx bursts ------------------------------------------------------------------------------


def test_a_short_5xx_burst_is_retried_and_leaves_no_trace(s):
    versions = s.versions()
    s.server.add_fault(API_PRIVACY, Fault(kind="status", status=503, times=1))
    result = s.run()
    assert first_line(result).startswith("run 2 completed: 3 targets checked, 3 unchanged, 0 changed, 0 failed;")
    assert errors_of_run(s) == {}
    assert_nothing_recorded(s, versions)


def test_a_long_5xx_burst_backs_off_marks_the_run_partial_and_keeps_the_old_version(s):
    s.write_config(fetch={"retries": 2, "backoff_seconds": 0.3})
    s.server.set_state("after")  # every target changed; the one behind the burst must wait
    privacy_id = s.sql("SELECT id FROM targets WHERE name = 'Privacy information: pupils'")[0][0]
    old_privacy = s.sql("SELECT id, fingerprint FROM versions WHERE target_id = ?", privacy_id)
    mark = s.mark()
    s.server.add_fault(API_PRIVACY, Fault(kind="status", statuses=(500, 502, 503, 504)))
    result = s.run()
    assert first_line(result).startswith("run 2 partial: 3 targets checked, 0 unchanged, 2 changed, 1 failed;")
    assert "  failed: Privacy information: pupils: Content API: HTTP 503; gave up after 2 retries (HTTP 503)" in result.stdout
    hits = s.requests_since(mark, API_PRIVACY)
    assert [h.status for h in hits] == [500, 502, 503]
    gaps = [b.at - a.at for a, b in zip(hits, hits[1:], strict=False)]
    assert gaps[0] >= 0.28 and gaps[1] >= 0.58, f"backoff not exponential: {gaps}"
    run_id, status, summary, _ = s.last_run()
    assert (status, summary["failed"], summary["changed"]) == ("partial", 1, 2)
    assert s.sql("SELECT id, fingerprint FROM versions WHERE target_id = ?", privacy_id) == old_privacy
    assert [c["name"] for c in s.changes()] == ["Pupil data register", "Pupil data guidance (HTML only)"]
    # the burst is over: the held-back change is reported once, the others not again
    s.server.clear_faults()
    result = s.run()
    assert first_line(result).startswith("run 3 completed: 3 targets checked, 2 unchanged, 1 changed, 0 failed;")
    assert [c["name"] for c in s.changes()] == ["Pupil data register", "Pupil data guidance (HTML only)", "Privacy information: pupils"]


# -- error pages instead of content ------------------------------------------------------------


ERROR_PAGE_CASES = {
    "cdn503": ("HTTP 503; gave up after 1 retries (HTTP 503)",) * 3,
    "sorry": (
        "GOV.UK served an error page ('Sorry, there is a problem with the service - GOV.UK') with status 200 instead of the Content API answer (3 attempts)",
        "GOV.UK served an error page ('Sorry, there is a problem with the service - GOV.UK') with status 200, not the content (3 attempts)",
        "GOV.UK served an error page ('Sorry, there is a problem with the service - GOV.UK') with status 200, not the content (3 attempts)",
    ),
    "empty": ("the answer is empty (status 200 with no body) (3 attempts)",) * 3,
}


@pytest.mark.parametrize("kind", sorted(ERROR_PAGE_CASES))
def test_error_pages_are_failed_fetches_never_content(s, kind):
    """The CDN's 503 "Page unavailable", a 200 "Sorry, there is a problem with the service" page
    and an empty 200, on the Content API path, on an HTML-only page and on a file download."""
    versions = s.versions()
    for path in (API_PRIVACY, HTML_ONLY, CSV_PATH):
        s.server.add_fault(path, Fault(kind=kind))
    result = s.run()
    # the register's file keeps its stored hash: nothing is claimed about it, so it is unchanged
    assert first_line(result).startswith("run 2 partial: 3 targets checked, 1 unchanged, 0 changed, 2 failed;")
    api, page, csv = ERROR_PAGE_CASES[kind]
    assert errors_of_run(s) == {API_PRIVACY: api, HTML_ONLY: page, CSV_PATH: csv}
    assert s.count("fetches", "run_id = ? AND error IS NOT NULL AND sha256 IS NOT NULL", s.last_run()[0]) == 0
    assert_nothing_recorded(s, versions)


# -- truncated, cut-off and garbled bodies ---------------------------------------------------


def cut_page() -> bytes:
    """The HTML-only page with its second half missing (a clean Content-Length, no data loss
    on the wire): only its missing </html> shows it is incomplete."""
    page = html_page("Pupil data guidance", "<p>Schools send the census each term.</p>" * 40, noise=False).encode()
    return page[: len(page) // 2]


def test_a_truncated_or_garbled_body_is_asked_again_and_then_all_is_well(s):
    versions = s.versions()
    mark = s.mark()
    s.server.add_fault(API_PRIVACY, Fault(kind="truncate", times=1))
    s.server.add_fault(API_REGISTER, Fault(kind="close", times=1))
    s.server.add_fault(HTML_ONLY, Fault(kind="garbage", times=1))
    result = s.run()
    assert first_line(result).startswith("run 2 completed: 3 targets checked, 3 unchanged, 0 changed, 0 failed;")
    for path in (API_PRIVACY, API_REGISTER, HTML_ONLY):
        assert len(s.requests_since(mark, path)) == 2, path
    assert errors_of_run(s) == {}
    assert_nothing_recorded(s, versions)


def test_a_body_that_stays_broken_is_never_stored_as_a_version(s):
    versions = s.versions()
    s.server.add_fault(API_PRIVACY, Fault(kind="truncate"))
    s.server.add_fault(API_REGISTER, Fault(kind="garbage"))
    s.server.add_fault(HTML_ONLY, Fault(kind="body", body=cut_page()))
    result = s.run()
    assert first_line(result).startswith("run 2 partial: 3 targets checked, 0 unchanged, 0 changed, 3 failed;")
    assert errors_of_run(s) == {
        API_PRIVACY: "the connection closed before the whole body arrived; gave up after 1 retries (ResponseDataLossError: )",
        API_REGISTER: "the Content API answer is not valid JSON (truncated or garbled) (3 attempts)",
        HTML_ONLY: "the page is incomplete: it ends before </html> (truncated) (3 attempts)",
    }
    assert_nothing_recorded(s, versions)


def test_a_garbled_page_with_nul_bytes_is_a_failed_fetch(s):
    versions = s.versions()
    s.server.add_fault(HTML_ONLY, Fault(kind="garbage"))
    s.run()
    assert errors_of_run(s) == {HTML_ONLY: "the page contains NUL bytes (garbled in transit) (3 attempts)"}
    assert_nothing_recorded(s, versions)


# -- stalled and slow servers ----------------------------------------------------------------


def test_a_stalled_or_dripping_server_is_abandoned_at_the_timeout_and_the_run_goes_on(s):
    s.write_config(fetch={"timeout_seconds": 1.0})
    versions = s.versions()
    mark = s.mark()
    s.server.add_fault(API_PRIVACY, Fault(kind="stall"))
    s.server.add_fault(API_REGISTER, Fault(kind="drip", seconds=4))  # bytes keep coming, too slowly
    s.server.add_fault(HTML_ONLY, Fault(kind="slow", seconds=0.3))  # slow but within the timeout
    started = time.monotonic()
    result = s.run()
    elapsed = time.monotonic() - started
    assert first_line(result).startswith("run 2 partial: 3 targets checked, 1 unchanged, 0 changed, 2 failed;")
    message = "no answer within 1 s (timed out); gave up after 1 retries (DownloadTimeoutError: Getting {} took longer than 1.0 seconds.)"
    assert errors_of_run(s) == {API_PRIVACY: message.format(s.url(API_PRIVACY)), API_REGISTER: message.format(s.url(API_REGISTER))}
    stalled = s.requests_since(mark, API_PRIVACY)
    assert len(stalled) == 2
    abandoned_after = stalled[1].at - stalled[0].at
    assert 1.0 <= abandoned_after < 3.0, f"the stalled request was abandoned after {abandoned_after:.2f} s"
    # two attempts of 1 s each plus a 0.1 s backoff, on top of a normal run (~3-4 s)
    assert elapsed < 15, f"the run took {elapsed:.1f} s"
    assert_nothing_recorded(s, versions)


# -- no network at all -----------------------------------------------------------------------


@pytest.fixture
def history(tmp_path):
    """A database with a baseline and real changes, and a feed with entries."""
    with scenario(tmp_path) as s:
        s.run()
        s.server.set_state("after")
        s.run()
        assert s.count("changes") == 3
    return s  # the server has stopped: its port is unused now


def test_no_network_one_line_exit_1_and_nothing_touched(history):
    s = history
    before = s.snapshot()
    result = s.run(expect=1)
    assert result.stdout == ""
    [line] = stderr_lines(result)
    assert line.startswith("dfe-monitor: nothing could be fetched (3 requests failed; first error: http://127.0.0.1:")
    assert "refused connections" in line
    assert line.endswith("the database's versions and the feed were left as they were")
    assert s.snapshot() == before  # versions, changes and the feed's bytes
    assert s.last_run()[1] == "failed"


def test_dns_failure_one_line_exit_1_and_nothing_touched(history):
    s = history
    before = s.snapshot()
    config = s.config.read_text().replace(s.base, "http://dfe-monitor.invalid").replace('"127.0.0.1"', '"dfe-monitor.invalid"')
    s.config.write_text(config)
    result = s.run(expect=1)
    [line] = stderr_lines(result)
    assert line.startswith("dfe-monitor: nothing could be fetched (3 requests failed; first error: http://dfe-monitor.invalid/")
    assert "the name dfe-monitor.invalid could not be resolved" in line
    assert s.snapshot() == before
    assert s.last_run()[1] == "failed"


# -- redirects -------------------------------------------------------------------------------


def test_redirects_off_the_allowed_hosts_in_loops_or_too_long_are_not_followed(s):
    versions = s.versions()
    mark = s.mark()
    s.server.add_fault(API_PRIVACY, Fault(kind="redirect", location="http://evil.example/x"))
    s.server.add_fault(API_REGISTER, Fault(kind="redirect", status=302, location="/loop-b"))
    s.server.add_fault("/loop-b", Fault(kind="redirect", status=302, location=API_REGISTER))
    s.server.add_fault(HTML_ONLY, Fault(kind="redirect", location="/hop-1"))
    for n in range(1, 10):
        s.server.add_fault(f"/hop-{n}", Fault(kind="redirect", location=f"/hop-{n + 1}"))
    result = s.run()
    assert first_line(result).startswith("run 2 partial: 3 targets checked, 0 unchanged, 0 changed, 3 failed;")
    hops = " -> ".join(s.url(p) for p in (HTML_ONLY, "/hop-1", "/hop-2", "/hop-3", "/hop-4", "/hop-5"))
    assert errors_of_run(s) == {
        API_PRIVACY: f"refused http://evil.example/x (redirected from {s.url(API_PRIVACY)}): host 'evil.example' is not in fetch.allowed_hosts",
        API_REGISTER: f"redirect loop; not followed: {s.url(API_REGISTER)} -> {s.url('/loop-b')} -> {s.url(API_REGISTER)}",
        HTML_ONLY: f"too many redirects (more than 5); not followed: {hops}",
    }
    assert [r.path for r in s.requests_since(mark) if r.path.startswith("/hop-")] == [f"/hop-{n}" for n in range(1, 6)]
    assert len(s.requests_since(mark, API_REGISTER)) == 1  # the loop is seen before it is walked
    rows = {f["url"]: json.loads(f["redirects"] or "[]") for f in s.fetches()}
    assert rows[s.url(API_PRIVACY)] == [s.url(API_PRIVACY)]
    assert_nothing_recorded(s, versions)


# -- size cap --------------------------------------------------------------------------------


def test_bodies_over_the_size_cap_are_refused_at_the_cap(s):
    s.write_config(fetch={"max_bytes": 100_000})
    versions = s.versions()
    s.server.add_fault(API_PRIVACY, Fault(kind="huge", size=5_000_000))
    s.server.add_fault(API_REGISTER, Fault(kind="gzip-bomb", size=50 * 1024 * 1024))
    s.server.add_fault(HTML_ONLY, Fault(kind="huge", size=5_000_000, length_known=False))
    started = time.monotonic()
    result = s.run()
    assert time.monotonic() - started < 20
    assert first_line(result).startswith("run 2 partial: 3 targets checked, 0 unchanged, 0 changed, 3 failed;")
    errors = errors_of_run(s)
    assert errors[API_PRIVACY] == f"refused: {s.url(API_PRIVACY)} is 5000000 bytes, over the size cap fetch.max_bytes = 100000; not read further"
    assert errors[API_REGISTER].startswith(f"refused: {s.url(API_REGISTER)} decompresses to more than 100000 bytes (")
    assert errors[API_REGISTER].endswith("bytes compressed), over the size cap fetch.max_bytes = 100000; not read further")
    assert errors[HTML_ONLY] == f"refused: {s.url(HTML_ONLY)} sent more than 100000 bytes (no length announced), over the size cap fetch.max_bytes = 100000; not read further"
    _, _, summary, _ = s.last_run()
    assert summary["bytes_downloaded"] < 1_000_000, "read far past the cap"
    assert s.count("blobs", "size > 100000") == 0
    assert_nothing_recorded(s, versions)
