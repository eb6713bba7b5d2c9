"""A control character upstream never breaks the feed, for one run or for good.

A discovered link or a redirect destination holding a character XML cannot carry (``\\x0b``,
``\\x1b``) used to become a target's address; from then on every ``run`` and every ``feed``
exited 76 ("the feed would have been invalid"), even after the upstream was fixed, because the
address stayed in the database. Now such an address is never taken, and a database that already
holds one still gets its feed (the address is shown as text, not made a link).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from support.hostile import NAMES, B, Hostile

NEW = "/government/publications/npd-requests-2026"


@pytest.mark.parametrize("char", ["\x0b", "\x1b", " ", "\\"])
def test_a_control_character_in_a_discovered_link_is_never_tracked(hostile: Hostile, char: str) -> None:
    hostile.write_config(discover=[{"query": "pupil data", "max_results": 10}])
    hostile.state.search([])
    hostile.run()
    bad = f"/government/publications/bad{char}link"
    hostile.state.search([{"title": "Bad", "link": bad}, {"title": "NPD requests 2026", "link": NEW}])
    hostile.state.item(NEW, title="NPD requests 2026")
    result = hostile.run()
    assert result.stderr == "" and ", 1 discovered" in result.stdout.splitlines()[0]
    assert [c["url"] for c in hostile.changes() if c["kind"] == "new"] == [f"{hostile.base}{NEW}"]
    assert hostile.run("feed").returncode == 0


def test_a_control_character_in_a_redirect_destination_is_a_failed_check(hostile: Hostile) -> None:
    hostile.b_item({"base_path": B, "schema_name": "redirect", "redirects": [{"path": B, "destination": "/government/new\x0bpath"}]})
    hostile.edit_a("We also share nationality with the Home Office.")
    result = hostile.run()
    assert ", 1 changed, 1 failed" in result.stdout.splitlines()[0]
    assert hostile.target(NAMES["B"])["fetch_url"] == f"{hostile.base}{B}"
    assert "We also share nationality with the Home Office." in hostile.feed_text


def test_a_database_that_already_holds_such_an_address_still_gets_its_feed(hostile: Hostile) -> None:
    """Written before the fix: a discovered target whose address holds \\x0b, with its `new`
    entry, and B moved to an address holding \\x1b."""
    now = datetime.now(UTC).isoformat(sep=" ")
    url = f"{hostile.base}/government/publications/bad\x0blink"
    hostile.sql_write("INSERT INTO targets (url, fetch_url, name, category, source, active, created_at, state, consecutive_failures, consecutive_gone) VALUES (?, ?, 'Bad\x0b', 'other', 'discovered', 1, ?, 'new', 0, 0)", url, url, now)
    target_id = hostile.sql("SELECT id FROM targets WHERE url = ?", url)[0][0]
    hostile.sql_write("INSERT INTO changes (target_id, run_id, kind, detected_at, title, summary, priority, feed_id) VALUES (?, 1, 'new', ?, 'Bad\x0b — new publication', 'New DfE publication: Bad\x0b', 'normal', 'tag:example.org,2026-01-01:dfe-monitor/change/900')", target_id, now)
    hostile.sql_write("UPDATE targets SET fetch_url = ? WHERE name = ?", f"{hostile.base}/government/moved\x1bhere", NAMES["B"])
    assert hostile.run("feed").returncode == 0
    hostile.edit_a("We also share nationality with the Home Office.")
    result = hostile.run()
    assert result.returncode == 0
    feed = hostile.feed
    assert "We also share nationality with the Home Office." in hostile.feed_text and "Bad — new publication" in feed
    assert not [link for link in hostile.feed_links() if "bad" in link]
