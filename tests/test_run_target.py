"""`run --target`: checks only the named targets, and a name that matches nothing is a usage error."""

from __future__ import annotations

from support.inprocess import in_process_crawls, run_cli
from support.sitebuilder import Site, config_text, read_changes

from monitor.demo.server import FixtureServer

NOTES = [("2026-01-01T00:00:00Z", "First published.")]
TARGETS = [("Register", "/government/publications/register", "release-register"), ("Notice", "/guidance/notice", "privacy-notice")]


def test_target_runs_check_only_the_named_target(tmp_path, monkeypatch):
    site = Site(tmp_path / "site")
    before = site.state("before")
    before.robots()
    before.item("/government/publications/register", title="Register", body="<p>Shares.</p>", change_history=NOTES)
    before.item("/guidance/notice", title="Notice", schema="detailed_guide", body="<p>We collect names.</p>", change_history=NOTES)
    after = site.copy_state("before", "after")
    after.item("/government/publications/register", title="Register", body="<p>Shares, and more shares.</p>", change_history=NOTES)
    after.item("/guidance/notice", title="Notice", schema="detailed_guide", body="<p>We collect names and nationality.</p>", change_history=NOTES)
    with FixtureServer(site.root, "before") as server, in_process_crawls(monkeypatch):
        config = tmp_path / "config.toml"
        config.write_text(config_text(server.url, TARGETS))
        base = ["run", "--config", str(config)]
        assert run_cli(*base).returncode == 0
        server.set_state("after")
        second_run_starts = len(server.requests)
        result = run_cli(*base, "--target", "Notice")
        assert result.returncode == 0, result.stderr
        assert "1 targets checked" in result.stdout and "1 changed" in result.stdout
        assert [c["name"] for c in read_changes(config)] == ["Notice"]
        second_run = [r.path for r in server.requests[second_run_starts:]]
        assert "/api/content/guidance/notice" in second_run
        assert not any("/api/content/government/publications/register" in path for path in second_run)
        unknown = run_cli(*base, "--target", "Notise")
    assert unknown.returncode == 2
    assert unknown.stderr.count("\n") == 1 and "'Notise' names no watched target" in unknown.stderr


def test_reading_commands_never_create_a_database(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(config_text("http://127.0.0.1:9", [("Notice", "/guidance/notice", "privacy-notice")]))
    changes = run_cli("changes", "--json", "--config", str(config))
    assert (changes.returncode, changes.stdout, changes.stderr) == (0, "", "")
    feed = run_cli("feed", "--config", str(config))
    assert feed.returncode == 2 and "run `dfe-monitor run` first" in feed.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]
