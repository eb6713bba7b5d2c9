"""Terminal escape injection: what upstream wrote reaches a terminal only as visible escapes.

A search result's title, an attachment URL and a paragraph carry ESC and CSI sequences (retitle
the terminal, clear it, move the cursor), a BEL, a bidirectional override and a fake line break.
Every command that prints them — ``run`` (its failure lines are what cron mails), ``status``,
``changes``, ``show``, ``history``, ``search``, ``diff`` and the log lines — must print them
escaped (``\\x1b``), while ``--json`` output stays JSON that reads back to the same strings.
"""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from support.hostile import Hostile

from monitor.console import PrintableFormatter
from monitor.demo.server import Fault
from monitor.text import json_printable, printable

ATTACK = "\x1b]0;pwned\x07\x1b[2J\x1b[H\u009b2J\u202e\rAll targets OK"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
SEARCH = "/api/search.json"
NEW = "/government/publications/new-register"
FILE = "/media/x1/register\x1b[2J.csv"


def raw_controls(text: str) -> list[str]:
    return sorted(set(RAW.findall(text)))


@pytest.fixture
def attacked(hostile: Hostile) -> Hostile:
    """A discovered publication titled with escape sequences, a file of B with them in its
    address (failing to download), and a paragraph of B carrying a CSI."""
    hostile.write_config(discover=[{"query": "pupil data", "max_results": 10}])
    hostile.state.search([])
    hostile.run()  # the search's silent baseline
    hostile.state.search([{"title": f"New register {ATTACK}", "link": NEW, "description": f"About {ATTACK}"}])
    hostile.state.item(NEW, title=f"New register {ATTACK}", body=f"<p>Rows {ATTACK}</p>")
    hostile.b_normal(body=f"<p>Who received pupil data. {ATTACK}</p>", attachments=[{"attachment_type": "file", "id": "x1", "title": f"Register {ATTACK}", "url": f"{hostile.base}{FILE}", "content_type": "text/csv"}])
    hostile.fault(FILE, Fault(kind="status", status=500))
    return hostile


def test_run_prints_failure_lines_with_escapes_not_raw_controls(attacked: Hostile) -> None:
    result = attacked.run()
    assert "failed: " in result.stdout and "\\x1b" in result.stdout
    assert raw_controls(result.stdout + result.stderr) == []
    assert len(result.stdout.splitlines()) == 3  # summary, one failure line, feed: no fake lines


def test_status_changes_show_history_search_and_diff_print_escapes(attacked: Hostile) -> None:
    for _ in range(3):  # B's file keeps failing: B is `failing`, its last error quoting the address
        attacked.run()
    attacked.server.clear_faults()
    attacked.state.file(FILE, b"Reference,Requester\nDS1,A\n")
    attacked.state.item(NEW, title=f"New register {ATTACK}", body=f"<p>Rows {ATTACK}</p><p>More rows {ATTACK}</p>")
    outputs = {"status": attacked.run("status")}
    attacked.run()
    outputs["changes"] = attacked.run("changes")
    failing = next(c["id"] for c in attacked.changes() if c["kind"] == "failing")
    outputs["show"] = attacked.run("show", str(failing))
    discovered = attacked.sql("SELECT name FROM targets WHERE url LIKE ?", f"%{NEW}")[0][0]
    outputs["history"] = attacked.run("history", discovered)
    outputs["search"] = attacked.run("search", "pwned")
    versions = [row[0] for row in attacked.sql("SELECT v.id FROM versions v JOIN targets t ON t.id = v.target_id WHERE t.name = ? ORDER BY v.id", discovered)]
    assert len(versions) == 2
    outputs["diff"] = attacked.run("diff", str(versions[0]), str(versions[-1]))
    for command, result in outputs.items():
        assert raw_controls(result.stdout + result.stderr) == [], command
    assert "register\\x1b[2J.csv" in outputs["status"].stdout
    assert "register\\x1b[2J.csv" in outputs["show"].stdout
    assert "\\x1b]0;[pwned]" in outputs["search"].stdout and "\\x9b2J" in outputs["diff"].stdout


def test_json_output_stays_json_and_reads_back_the_same_strings(attacked: Hostile) -> None:
    for _ in range(3):
        attacked.run()
    result = attacked.run("changes", "--json")
    assert raw_controls(result.stdout) == []
    summaries = [json.loads(line)["summary"] for line in result.stdout.splitlines()]
    assert any(f"{FILE}" in summary for summary in summaries)


def test_search_titles_are_made_plain_before_they_become_names(attacked: Hostile) -> None:
    attacked.run()
    [name] = [row[0] for row in attacked.sql("SELECT name FROM targets WHERE url LIKE ?", f"%{NEW}")]
    assert raw_controls(name) == [] and "All targets OK" in name


def test_printable_escapes_every_control_and_keeps_text() -> None:
    assert printable("plain ✓ café") == "plain ✓ café"
    assert printable("a\x1b[2Jb\nc\ud800\u202e") == "a\\x1b[2Jb\\x0ac\\ud800\\u202e"
    line = json.dumps({"t": "\x1b\u009b\u2028\ud800"}, ensure_ascii=False)
    assert json.loads(json_printable(line)) == {"t": "\x1b\u009b\u2028\ud800"}
    assert raw_controls(json_printable(line)) == []


def test_log_lines_are_printable_whatever_the_message() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(PrintableFormatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("dfe-monitor.test-printable")
    logger.addHandler(handler)
    try:
        logger.warning("check of %s: %s", "x", f"failed {ATTACK}\nINFO all good")
    finally:
        logger.removeHandler(handler)
    assert raw_controls(stream.getvalue()) == [] and stream.getvalue().count("\n") == 1


def test_the_daemon_and_the_cli_log_through_the_printable_formatter(monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.cli import configure_logging
    from monitor.daemon import scheduler

    configure_logging(False)
    assert all(isinstance(h.formatter, PrintableFormatter) for h in logging.getLogger().handlers)
    with scheduler._daemon_logging(False):
        assert [type(h.formatter) for h in scheduler.log.handlers] == [PrintableFormatter]



def test_json_log_lines_are_printable_and_read_back_the_same_message() -> None:
    from monitor.console import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("dfe-monitor.test-printable-json")
    logger.addHandler(handler)
    try:
        logger.warning("check of %s: %s", "x", f"failed {ATTACK}\nINFO all good")
    finally:
        logger.removeHandler(handler)
    line = stream.getvalue()
    assert raw_controls(line) == [] and line.count("\n") == 1
    assert json.loads(line)["message"] == f"check of x: failed {ATTACK}\nINFO all good"


def test_the_daemons_echo_of_a_checks_stderr_is_printable() -> None:
    from collections import deque

    from monitor.daemon.child import _pump

    echo = io.StringIO()
    kept: deque[str] = deque()
    _pump(io.StringIO(f"failed {ATTACK}\nnext\n"), kept, echo).join(5)
    assert raw_controls(echo.getvalue()) == [] and echo.getvalue().splitlines()[1] == "next"
    assert list(kept) == [f"failed {ATTACK}", "next"]
