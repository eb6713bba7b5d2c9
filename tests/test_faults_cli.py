"""Configuration and feed faults at the command line: exit codes and one-line messages.

tests/test_config.py covers parsing in depth; here each mistake goes through `dfe-monitor run` (and
the other commands) as a child process, as cron would run it: exit code 2, exactly one line on
stderr naming file, line and key, nothing on stdout, no database created. Then the feed: a
regenerated feed keeps every entry id, and a feed that would be invalid is never written.
"""

from __future__ import annotations

import sqlite3
import time

import pytest
from support.faults import feed_ids, monitor, scenario, stderr_lines

GOOD = """\
[storage]
database = "monitor.db"
[govuk]
base_url = "http://127.0.0.1:9"
[fetch]
allowed_hosts = ["127.0.0.1:9"]
timeout_seconds = 5
[[targets]]
name = "Privacy notice"
url = "http://127.0.0.1:9/government/publications/privacy"
category = "privacy-notice"
"""

MISTAKES = {
    # what is wrong: (the line replaced, its replacement, the one line expected after "config.toml:")
    "typo in a key": ("timeout_seconds = 5", "timout_seconds = 5", "7: [fetch] timout_seconds: unknown key; did you mean 'timeout_seconds'?"),
    "typo in a section": ("[govuk]", "[gouvk]", "3: [gouvk]: unknown section or key 'gouvk'; did you mean 'govuk'?"),
    "typo in a target key": ('category = "privacy-notice"', 'categroy = "privacy-notice"', "11: [[targets]] #1 categroy: unknown key; did you mean 'category'?"),
    "wrong type": ("timeout_seconds = 5", 'timeout_seconds = "fast"', "7: [fetch] timeout_seconds: expected a number, got a string ('fast')"),
    "list expected": ('allowed_hosts = ["127.0.0.1:9"]', 'allowed_hosts = "127.0.0.1:9"', "6: [fetch] allowed_hosts: expected a list of strings, got a string ('127.0.0.1:9')"),
    "out of range": ("timeout_seconds = 5", "timeout_seconds = 0", "7: [fetch] timeout_seconds: must be at least 0.1, got 0.0"),
    "unknown category": ('category = "privacy-notice"', 'category = "privacy"', "11: [[targets]] #1 category: expected one of release-register, privacy-notice, census-guidance, other, got 'privacy'; did you mean 'privacy-notice'?"),
    "file: URL": ('url = "http://127.0.0.1:9/government/publications/privacy"', 'url = "file:///etc/passwd"', "10: [[targets]] #1 url: expected an http(s) URL, got 'file:///etc/passwd'"),
    "javascript: URL": ('url = "http://127.0.0.1:9/government/publications/privacy"', 'url = "javascript:alert(1)"', "10: [[targets]] #1 url: expected an http(s) URL, got 'javascript:alert(1)'"),
    "off-list host": ('url = "http://127.0.0.1:9/government/publications/privacy"', 'url = "https://evil.example/privacy"', "10: [[targets]] #1 url: host 'evil.example' is not in fetch.allowed_hosts; add it there or fix the URL"),
    "file: base URL": ('base_url = "http://127.0.0.1:9"', 'base_url = "file:///srv/mirror"', "4: [govuk] base_url: expected an http(s) URL, got 'file:///srv/mirror'"),
}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_a_config_mistake_is_one_line_exit_2_and_touches_nothing(tmp_path, mistake):
    old, new, expected = MISTAKES[mistake]
    assert old in GOOD
    config = tmp_path / "config.toml"
    config.write_text(GOOD.replace(old, new, 1))
    started = time.monotonic()
    result = monitor(config, "run")
    assert result.returncode == 2
    assert result.stdout == ""
    assert stderr_lines(result) == [f"dfe-monitor: {config}:{expected}"]
    assert result.stderr.count("\n") == 1
    assert time.monotonic() - started < 5, "a config error must not wait for the heavy imports"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"], "nothing created"


@pytest.mark.parametrize("command", [("changes", "--json"), ("feed",), ("status",)])
def test_every_command_refuses_a_bad_config_the_same_way(tmp_path, command):
    config = tmp_path / "config.toml"
    config.write_text(GOOD.replace("timeout_seconds = 5", "timout_seconds = 5"))
    result = monitor(config, *command)
    assert result.returncode == 2
    assert stderr_lines(result) == [f"dfe-monitor: {config}:7: [fetch] timout_seconds: unknown key; did you mean 'timeout_seconds'?"]


def test_a_missing_config_file_is_exit_2_with_what_to_do(tmp_path):
    result = monitor(tmp_path / "nowhere.toml", "run")
    assert result.returncode == 2
    assert stderr_lines(result) == [f"dfe-monitor: {tmp_path / 'nowhere.toml'}: configuration file not found; pass --config PATH or copy config.toml here"]


# -- the feed --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    with scenario(tmp_path_factory.mktemp("feed")) as s:
        s.run()
        s.server.set_state("after")
        s.run()
        assert s.count("changes") == 3
        yield s


@pytest.fixture
def s(published, tmp_path):
    return published.fork(tmp_path / "work")


def test_regenerating_the_feed_keeps_every_entry_id(s):
    before = feed_ids(s.feed.read_bytes())
    assert len(before) == 3
    assert [c["feed_id"] for c in reversed(s.changes())] == before
    result = s.run("feed")
    assert result.stdout == f"feed: {s.feed} (3 entries)\n"
    assert feed_ids(s.feed.read_bytes()) == before
    result = s.run()  # a run with nothing new rewrites the feed too
    assert ", 0 changed, 0 failed;" in result.stdout
    assert feed_ids(s.feed.read_bytes()) == before


def clash_feed_ids(s) -> None:
    """Two stored ids that differ only by a control character: unique in the database, the same
    id once made XML-safe. The feed built from them would repeat an entry id."""
    con = sqlite3.connect(s.database)
    with con:
        con.execute("UPDATE changes SET feed_id = (SELECT feed_id FROM changes WHERE id = 1) || char(1) WHERE id = 2")
    con.close()


def test_a_feed_that_would_be_invalid_is_never_written_and_the_run_fails(s):
    clash_feed_ids(s)
    feed = s.feed.read_bytes()
    result = s.run(expect=76)
    [line] = stderr_lines(result)
    assert line.startswith("dfe-monitor: entry id missing or repeated ('tag:example.org,")
    assert line.endswith("; the previous feed was kept")
    assert s.feed.read_bytes() == feed
    assert s.last_run()[1] == "failed"
    assert sorted(p.name for p in s.folder.iterdir() if p.name.startswith(".")) == [], "no temp file left behind"
    result = s.run("feed", expect=76)
    assert s.feed.read_bytes() == feed


def test_a_feed_that_feedgen_refuses_is_never_written_either(s):
    """A title that is only control characters: feedgen itself refuses to build the entry."""
    con = sqlite3.connect(s.database)
    with con:
        con.execute("UPDATE changes SET title = char(1, 2) WHERE id = 2")
    con.close()
    feed = s.feed.read_bytes()
    result = s.run(expect=None)
    assert result.returncode != 0
    assert len(stderr_lines(result)) == 1
    assert s.feed.read_bytes() == feed
    assert s.last_run()[1] == "failed"


def test_a_feed_that_feedgen_refuses_exits_76_saying_the_old_feed_was_kept(s):
    con = sqlite3.connect(s.database)
    with con:
        con.execute("UPDATE changes SET title = char(1, 2) WHERE id = 2")
    con.close()
    result = s.run(expect=76)
    assert stderr_lines(result)[0].endswith("the previous feed was kept")
