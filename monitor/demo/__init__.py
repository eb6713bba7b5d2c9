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
import time
from pathlib import Path

from monitor.demo.server import FixtureServer
from monitor.errors import EXIT_OK, MonitorError

HERE = Path(__file__).parent
SITE = HERE / "site"


def write_demo_config(folder: Path, base_url: str) -> Path:
    template = (HERE / "config.toml").read_text(encoding="utf-8")
    path = folder / "config.toml"
    path.write_text(template.replace("{{base}}", base_url), encoding="utf-8")
    return path


def _run_child(config: Path, verbose: int) -> int:
    command = [sys.executable, "-m", "monitor", "run", "--config", str(config)]
    if verbose:
        command.append("--verbose")
    completed = subprocess.run(command, check=False)
    return completed.returncode


def run_demo(folder: Path, *, verbose: int = 0, serve: bool = False) -> int:
    """Three runs against the demo site (before, after, after again), then what they found.
    With ``serve`` the site stays up afterwards, until Ctrl-C, for trying other commands on it."""
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
        _summarise(folder, config)
        if serve:
            _keep_serving(server, config)
            return EXIT_OK
    print("\nThe demo site has stopped, so this configuration now points at nothing. To keep it")
    print("running and try `run`, `schedule` and `status` against it: dfe-monitor demo --serve")
    return EXIT_OK


def _summarise(folder: Path, config: Path) -> None:
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
        print(f"  - {record['kind']:<9} {record['title']}{suffix}")
    print(f"\nAtom feed:      {folder / 'feed.atom'}")
    print(f"Change pages:   {folder / 'pages' / 'index.html'}")
    print(f"Database:       {folder / 'monitor.db'}")
    print(f"Configuration:  {config}")
    print(f"Try: dfe-monitor changes --json --config {config}")


def _keep_serving(server: FixtureServer, config: Path) -> None:
    """Serve the demo site (its 'after' state) until Ctrl-C, saying what to try."""
    print(f"\nThe demo site stays up at {server.url} (state: after). Try, in another terminal:")
    print(f"  dfe-monitor run --config {config}")
    print(f"  dfe-monitor status --config {config}")
    print(f"  dfe-monitor schedule --config {config}          # checks on its cron; Ctrl-C stops it")
    print(f"  curl '{server.url}/_control/state?name=before'   # switch the site back, then run again")
    print("Press Ctrl-C to stop the site.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\ndemo site stopped")
