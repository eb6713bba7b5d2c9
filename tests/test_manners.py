"""Good manners towards GOV.UK: rate per host, User-Agent, robots.txt, conditional requests."""

from __future__ import annotations

import subprocess
import sys

from support.sitebuilder import Site, attachment, config_text, read_changes

from monitor.demo.server import FixtureServer

NOTES = [("2026-01-01T00:00:00Z", "First published.")]


def test_one_host_is_asked_at_most_once_per_delay_politely_and_conditionally(tmp_path):
    site = Site(tmp_path / "site")
    state = site.state("before")
    state.robots("User-agent: *\nDisallow: /*/print$\nDisallow: /search/all*\nDisallow: /api/content/private\n")
    files = [attachment(f"a{i}", f"register-{i}.csv", f"Register {i}", 30, "text/csv") for i in range(3)]
    state.item("/government/publications/register", title="Register", body="<p>Shares.</p>", change_history=NOTES, attachments=files)
    for i in range(3):
        state.file(f"media/a{i}/register-{i}.csv", f"Reference,Organisation\nDS0000{i},University\n".encode())
    state.item("/guidance/notice", title="Notice", schema="detailed_guide", body="<p>We collect names.</p>", change_history=NOTES)
    state.item("/private/thing", title="Private", body="<p>Not for robots.</p>")
    targets = [("Register", "/government/publications/register", "release-register"), ("Notice", "/guidance/notice", "privacy-notice"), ("Private", "/private/thing", "other")]
    with FixtureServer(site.root, "before") as server:
        config = tmp_path / "config.toml"
        config.write_text(config_text(server.url, targets).replace("delay_seconds = 0", "delay_seconds = 0.5"))
        command = [sys.executable, "-m", "monitor", "run", "--config", str(config)]
        first = subprocess.run(command, capture_output=True, text=True, timeout=120)
        first_requests = list(server.requests)
        second = subprocess.run(command, capture_output=True, text=True, timeout=120)
        second_requests = server.requests[len(first_requests) :]
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr

    # at most one request per delay_seconds to the host, never two at once. Arrival times are
    # seen at the server: the first request (robots.txt) also carries the client's first
    # connection set-up, so the gap after it can look shorter than the delay by that much.
    times = sorted(r.at for r in first_requests)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert gaps[0] >= 0.3 and min(gaps[1:]) >= 0.45, gaps

    # an identifying User-Agent with a contact address, on every request
    agents = {r.headers.get("User-Agent") for r in first_requests}
    assert len(agents) == 1 and "dfe-monitor" in agents.pop() and "contact" in first_requests[0].headers["User-Agent"]

    # robots.txt asked first, and a disallowed path never requested
    assert first_requests[0].path == "/robots.txt"
    assert not any(r.path.startswith("/api/content/private") for r in first_requests), [r.path for r in first_requests]
    assert "Private: Content API: forbidden by robots.txt" in first.stdout

    # the second run is conditional wherever a validator was stored, and says what it saved
    files_asked = [r for r in second_requests if r.path.startswith("/media/")]
    assert len(files_asked) == 3 and all(r.headers.get("If-None-Match") for r in files_asked)
    assert "(3 not modified," in second.stdout
    assert read_changes(config) == []
