"""`dfe-monitor demo`: the whole pipeline against the bundled fixture site, no network needed.

The site (``site/before`` and ``site/after``) mimics the default targets on GOV.UK: between the
two states a privacy notice gains a paragraph without a change note, the data shares register
gains a quarterly workbook, a page is withdrawn, files are replaced, and several pages change
only in their chrome. See ``README.md`` in this folder for the full list.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from monitor.demo.server import FixtureServer
from monitor.errors import EXIT_OK, MonitorError
from monitor.text import printable

HERE = Path(__file__).parent
SITE = HERE / "site"


def write_demo_config(folder: Path, base_url: str) -> Path:
    template = (HERE / "config.toml").read_text(encoding="utf-8")
    path = folder / "config.toml"
    path.write_text(template.replace("{{base}}", base_url), encoding="utf-8")
    return path


def _run_child(config: Path, verbose: bool) -> int:
    command = [sys.executable, "-m", "monitor", "run", "--config", str(config)]
    if verbose:
        command.append("--verbose")
    completed = subprocess.run(command, check=False)
    return completed.returncode


def run_demo(folder: Path, *, verbose: bool = False) -> int:
    if not (SITE / "before").is_dir() or not (SITE / "after").is_dir():
        raise MonitorError(f"the demo site is missing from {SITE}; reinstall dfe-monitor")
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("monitor.db", "monitor.db-wal", "monitor.db-shm", "monitor.db.lock", "feed.atom"):
        (folder / name).unlink(missing_ok=True)
    shutil.rmtree(folder / "pages", ignore_errors=True)
    with FixtureServer(SITE, "before") as server:
        config = write_demo_config(folder, server.url)
        print(f"Demo site (a GOV.UK stand-in) serving at {server.url}")
        print("\n1. First run: the 'before' state. Every page is recorded as a baseline, not a change.")
        code = _run_child(config, verbose)
        if code != EXIT_OK:
            raise MonitorError(f"the first demo run failed with exit code {code}")
        server.set_state("after")
        print("\n2. The site changes. Second run: only real changes are reported.")
        code = _run_child(config, verbose)
        if code != EXIT_OK:
            raise MonitorError(f"the second demo run failed with exit code {code}")
        print("\n3. A third run with nothing new adds nothing:")
        code = _run_child(config, verbose)
        if code != EXIT_OK:
            raise MonitorError(f"the third demo run failed with exit code {code}")
    changes = subprocess.run(
        [sys.executable, "-m", "monitor", "changes", "--json", "--config", str(config)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    print("\nWhat changed:")
    for line in changes.splitlines():
        record = json.loads(line)
        flags = []
        if record["silent_edit"]:
            flags.append("SILENT EDIT")
        if record["priority"] == "high":
            flags.append("high priority: " + ", ".join(record["terms"]))
        suffix = f"  [{'; '.join(flags)}]" if flags else ""
        print(printable(f"  - {record['kind']:<9} {record['title']}{suffix}"))
    print(f"\nAtom feed:      {folder / 'feed.atom'}")
    print(f"Change pages:   {folder / 'pages' / 'index.html'}")
    print(f"Database:       {folder / 'monitor.db'}")
    print(f"Configuration:  {config}")
    print(f"Try: dfe-monitor changes --json --config {config}")
    return EXIT_OK
