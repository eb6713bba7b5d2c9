"""`run --target`: checks only the named targets, and a name that matches nothing is a usage error."""

from __future__ import annotations

import subprocess
import sys

from sitebuilder import Site, config_text, read_changes

from monitor.demo.server import FixtureServer

NOTES = [("2026-01-01T00:00:00Z", "First published.")]
TARGETS = [("Register", "/government/publications/register", "release-register"), ("Notice", "/guidance/notice", "privacy-notice")]


def test_target_runs_check_only_the_named_target(tmp_path):
    site = Site(tmp_path / "site")
    before = site.state("before")
    before.robots()
    before.item("/government/publications/register", title="Register", body="<p>Shares.</p>", change_history=NOTES)
    before.item("/guidance/notice", title="Notice", schema="detailed_guide", body="<p>We collect names.</p>", change_history=NOTES)
    after = site.copy_state("before", "after")
    after.item("/government/publications/register", title="Register", body="<p>Shares, and more shares.</p>", change_history=NOTES)
    after.item("/guidance/notice", title="Notice", schema="detailed_guide", body="<p>We collect names and nationality.</p>", change_history=NOTES)
    with FixtureServer(site.root, "before") as server:
        config = tmp_path / "config.toml"
        config.write_text(config_text(server.url, TARGETS))
        base = [sys.executable, "-m", "monitor", "run", "--config", str(config)]
        assert subprocess.run(base, capture_output=True, timeout=120).returncode == 0
        server.set_state("after")
        result = subprocess.run([*base, "--target", "Notice"], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert "1 targets checked" in result.stdout and "1 changed" in result.stdout
        assert [c["name"] for c in read_changes(config)] == ["Notice"]
        assert not any("/api/content/government/publications/register" in r.path for r in server.requests[-3:])
        unknown = subprocess.run([*base, "--target", "Notise"], capture_output=True, text=True, timeout=120)
    assert unknown.returncode == 2
    assert unknown.stderr.count("\n") == 1 and "'Notise' names no watched target" in unknown.stderr


def test_reading_commands_never_create_a_database(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(config_text("http://127.0.0.1:9", [("Notice", "/guidance/notice", "privacy-notice")]))
    changes = subprocess.run([sys.executable, "-m", "monitor", "changes", "--json", "--config", str(config)], capture_output=True, text=True, timeout=60)
    assert (changes.returncode, changes.stdout, changes.stderr) == (0, "", "")
    feed = subprocess.run([sys.executable, "-m", "monitor", "feed", "--config", str(config)], capture_output=True, text=True, timeout=60)
    assert feed.returncode == 2 and "run `dfe-monitor run` first" in feed.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]
