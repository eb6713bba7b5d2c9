"""The hostile-upstream cases of issue #13 as whole runs: time and peak memory of each.

Each case serves a GOV.UK stand-in on 127.0.0.1 with two watched pages, takes a baseline with
`dfe-monitor run` (a child process, as cron runs it), turns page B (or the search) hostile, and
measures the next run: wall time, the child's peak RSS, what it printed, and what the case is
about (requests made, targets added). The document stage's own cost is measured in this process
too, where the case is about it.

    .venv/bin/python bench/hostile.py              # every case
    .venv/bin/python bench/hostile.py --only paragraphs-1m
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import guarded  # noqa: F401, E402 - the network guard, before anything that could connect
from support.sitebuilder import Site, State, config_text  # noqa: E402

from monitor.demo.server import Fault, FixtureServer  # noqa: E402

A = "/government/publications/privacy-information-pupils"
B = "/government/publications/pupil-data-register"
TARGETS = [("Privacy information: pupils", A, "privacy-notice"), ("Pupil data register", B, "release-register")]
SEARCH = "/api/search.json"


@dataclass
class Measure:
    seconds: float
    peak_mb: float
    exit_code: int
    first_line: str
    failure: str


def run_child(config: Path) -> Measure:
    """`dfe-monitor run` in a child process: wall time and that child's own peak RSS.

    The peak is the child's VmHWM, read from /proc while it runs: ``ru_maxrss`` of a child on
    Linux starts from its parent's size at fork (kept across exec), which here holds the site.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "monitor", "run", "--config", str(config)], stdout=out, stderr=err, text=True)
        peak_kb = 0
        while proc.poll() is None:
            peak_kb = max(peak_kb, _high_water_kb(proc.pid))
            time.sleep(0.02)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        lines, errors = out.read().splitlines(), err.read().strip().splitlines()
    failure = next((line.strip() for line in lines if line.startswith("  failed: ")), errors[-1] if errors else "")
    return Measure(seconds, peak_kb / 1024, proc.returncode, lines[0] if lines else "", failure)


def _high_water_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)


def paragraphs(n: int) -> str:
    return "<p>a</p>" * n


def duplicate_heavy(lines: int) -> str:
    parts = []
    for i in range(lines // 200):
        parts.append(f"<p>unique {i}</p>")
        parts += ["<p>dup A</p>" if j % 3 else "<p>dup B</p>" for j in range(199)]
    return "".join(parts)


def files(base: str, count: int, kind: str) -> list[dict[str, object]]:
    suffix = ".csv" if kind == "file" else ""
    return [{"attachment_type": kind, "id": f"f{i}", "title": f"Annex {i}", "url": f"{base}/media/f{i}/annex{suffix}", "content_type": "text/csv"} for i in range(count)]


def search_page(first: int, count: int) -> bytes:
    results = [{"title": f"Publication {i}", "link": f"/government/publications/p{i}"} for i in range(first, first + count)]
    return json.dumps({"results": results, "total": count, "start": 0}).encode()


def b_item(state: State, **extra: object) -> None:
    state.item(B, title="Pupil data register", change_history=[("2025-06-01T09:30:00.000+01:00", "First published.")], **extra)  # type: ignore[arg-type]


Case = Callable[[State, FixtureServer, Path], str]  # turns the site hostile; returns a note


CASES: dict[str, tuple[str, Case]] = {}


def case(name: str, title: str) -> Callable[[Case], Case]:
    def register(function: Case) -> Case:
        CASES[name] = (title, function)
        return function

    return register


@case("paragraphs-1m", "page B: 1,000,000 tiny paragraphs (8 MB of HTML)")
def _paragraphs_1m(state: State, server: FixtureServer, folder: Path) -> str:
    b_item(state, body=paragraphs(1_000_000))
    return ""


@case("paragraphs-3m", "page B: 3,000,000 tiny paragraphs (24 MB of HTML)")
def _paragraphs_3m(state: State, server: FixtureServer, folder: Path) -> str:
    b_item(state, body=paragraphs(3_000_000))
    return ""


@case("duplicates-200k", "page B: 200,000 lines, a unique line every 200, duplicate stretches between")
def _duplicates_200k(state: State, server: FixtureServer, folder: Path) -> str:
    b_item(state, body=duplicate_heavy(200_000))
    return ""


@case("duplicates-20k", "page B: 20,000 lines of the same (within limits.body_blocks): diffed")
def _duplicates_20k(state: State, server: FixtureServer, folder: Path) -> str:
    b_item(state, body=duplicate_heavy(19_800).replace("dup B</p><p>dup A", "dup A</p><p>dup B", 3000))
    return ""


@case("html-attachments-6000", "page B: 6,000 HTML attachments")
def _html_attachments(state: State, server: FixtureServer, folder: Path) -> str:
    b_item(state, attachments=files(server.url, 6000, "html"))
    return ""


@case("file-attachments-3000", "page B: 3,000 file attachments")
def _file_attachments(state: State, server: FixtureServer, folder: Path) -> str:
    b_item(state, attachments=files(server.url, 3000, "file"))
    server.requests.clear()
    return "requests"


@case("deep-json", "page B: JSON nested 100,000 deep")
def _deep_json(state: State, server: FixtureServer, folder: Path) -> str:
    state.write(f"api/content{B}.json", '{"title": "x", "base_path": "' + B + '", "details": ' + "[" * 100_000 + "]" * 100_000 + "}")
    return ""


@case("search-5000", "a search answering 5,000 results (max_results = 100)")
def _search_5000(state: State, server: FixtureServer, folder: Path) -> str:
    server.add_fault(SEARCH, Fault(kind="body", body=search_page(0, 5000), content_type="application/json"))
    return "targets"


@case("search-endless", "an endless search: 100 new results every run (after its baseline)")
def _search_endless(state: State, server: FixtureServer, folder: Path) -> str:
    server.add_fault(SEARCH, Fault(kind="body", body=search_page(10_000, 100), content_type="application/json"))
    return "targets"


def run_case(name: str, work: Path) -> None:
    title, turn_hostile = CASES[name]
    site = Site(work / "site")
    state = site.state("live")
    state.robots()
    state.item(A, title="Privacy information: pupils", body="<p>We share pupil data.</p>")
    b_item(state, body="<p>Who received pupil data.</p>")
    state.search([])
    with FixtureServer(site.root, "live") as server:
        config = work / "config.toml"
        discover = [{"query": "pupil data", "max_results": 100}] if name.startswith("search") else None
        config.write_text(config_text(server.url, TARGETS, discover=discover))
        baseline = run_child(config)
        assert baseline.exit_code == 0, baseline
        what = turn_hostile(state, server, work)
        before = len(server.requests)
        measure = run_child(config)
        requests = len(server.requests) - before
    con = sqlite3.connect(work / "monitor.db")
    targets = con.execute("SELECT count(*) FROM targets WHERE source = 'discovered'").fetchone()[0]
    con.close()
    print(f"{title}")
    print(f"    exit {measure.exit_code} in {measure.seconds:.1f} s, peak RSS {measure.peak_mb:.0f} MB (a baseline run: {baseline.seconds:.1f} s)")
    print(f"    {measure.first_line}")
    if measure.failure:
        print(f"    {measure.failure}")
    if what == "requests":
        print(f"    requests in the run: {requests}")
    if what == "targets":
        print(f"    discovered targets: {targets}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=sorted(CASES), action="append", help="run only this case (repeatable)")
    args = parser.parse_args(argv)
    for name in args.only or list(CASES):
        with tempfile.TemporaryDirectory(prefix=f"dfe-hostile-{name}-") as folder:
            run_case(name, Path(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
