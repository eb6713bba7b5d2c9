"""`dfe-monitor demo`: the whole pipeline against the bundled fixture site, no network needed.

The site (``site/before`` and ``site/after``) mimics the default targets on GOV.UK: between the
two states a privacy notice gains a paragraph without a change note, the data shares register
gains a quarterly workbook, a page is withdrawn, files are replaced, and several pages change
only in their chrome. See ``README.md`` in this folder for the full list.
"""

from __future__ import annotations

import email
import email.policy
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from monitor.demo.mailbox import Mailbox
from monitor.demo.server import FixtureServer
from monitor.errors import EXIT_OK, MonitorError
from monitor.text import printable

HERE = Path(__file__).parent
SITE = HERE / "site"


def write_demo_config(folder: Path, base_url: str, smtp_port: int | None = None) -> Path:
    """The demo's config.toml; e-mail alerts only when a mail server is given (``smtp_port``)."""
    text = (HERE / "config.toml").read_text(encoding="utf-8").replace("{{base}}", base_url)
    text = text.replace("{{email_to}}", '["campaign@example.org"]' if smtp_port else "[]")
    text = text.replace("{{smtp_port}}", str(smtp_port or 25))
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _run_child(config: Path, verbose: int) -> int:
    command = [sys.executable, "-m", "monitor", "run", "--config", str(config)]
    if verbose:
        command.append("--verbose")
    completed = subprocess.run(command, check=False)
    return completed.returncode


def run_demo(folder: Path, *, verbose: int = 0, serve: bool = False) -> int:
    """Three runs against the demo site (before, after, after again; its mail server down for the
    second), then what they found and the alerts that arrived. With ``serve`` the site and the mail
    server stay up afterwards, until Ctrl-C, for trying other commands on them."""
    if not (SITE / "before").is_dir() or not (SITE / "after").is_dir():
        raise MonitorError(f"the demo site is missing from {SITE}; reinstall dfe-monitor")
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("monitor.db", "monitor.db-wal", "monitor.db-shm", "monitor.db.lock", *(p.name for p in folder.glob("*.atom"))):
        (folder / name).unlink(missing_ok=True)
    shutil.rmtree(folder / "pages", ignore_errors=True)
    shutil.rmtree(folder / "mail", ignore_errors=True)
    mailbox = Mailbox(folder / "mail")
    mailbox.start()
    try:
        with FixtureServer(SITE, "before") as server:
            config = write_demo_config(folder, server.url, mailbox.port)
            print(printable(f"Demo site (a GOV.UK stand-in) serving at {server.url}; a demo mail server on 127.0.0.1:{mailbox.port}"))
            print("\n1. First run: the 'before' state. Every page is recorded as a baseline, not a change.")
            _step(config, verbose, "first")
            server.set_state("after")
            mailbox.stop()
            print("\n2. The site changes, and the mail server is down. Second run: only real changes are reported;")
            print("   their e-mail alerts cannot be sent, so they are kept in the database's outbox.")
            _step(config, verbose, "second")
            mailbox.start()
            print("\n3. The mail server is back. A third run finds nothing new, and sends each kept alert once:")
            _step(config, verbose, "third")
            _report(folder, config, mailbox)
            if serve:
                _keep_serving(server, config, mailbox)
                return EXIT_OK
    finally:
        mailbox.stop()
    print("\nThe demo site has stopped, so this configuration now points at nothing. To keep it")
    print("running and try `run`, `schedule` and `status` against it: dfe-monitor demo --serve")
    return EXIT_OK


def _step(config: Path, verbose: int, which: str) -> None:
    code = _run_child(config, verbose)
    if code != EXIT_OK:
        raise MonitorError(f"the {which} demo run failed with exit code {code}")


def _report(folder: Path, config: Path, mailbox: Mailbox) -> None:
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
    print(f"\nE-mails received by the demo mail server ({len(mailbox.messages())}, one per high-priority change):")
    for path in mailbox.messages():
        subject = " ".join(str(email.message_from_bytes(path.read_bytes(), policy=email.policy.default)["Subject"]).split())
        print(printable(f"  - {path.relative_to(folder)}: {subject}"))
    feeds = sorted(p.name for p in folder.glob("*.atom"))
    print()
    print(printable(f"Atom feeds:     {folder} / {', '.join(feeds)}"))
    print(printable(f"Change pages:   {folder / 'pages' / 'index.html'}"))
    print(printable(f"Database:       {folder / 'monitor.db'}"))
    print(printable(f"Configuration:  {config}"))
    print(printable(f"Try: dfe-monitor serve --config {config}   (then open http://127.0.0.1:8080/)"))


def _keep_serving(server: FixtureServer, config: Path, mailbox: Mailbox) -> None:
    """Serve the demo site (its 'after' state) and the demo mail server until Ctrl-C, saying what to try."""
    print()
    for line in (
        f"The demo site stays up at {server.url} (state: after), and the demo mail server on",
        f"127.0.0.1:{mailbox.port} (messages kept in {mailbox.folder}). Try, in another terminal:",
        f"  dfe-monitor run --config {config}",
        f"  dfe-monitor status --config {config}",
        f"  dfe-monitor notify --test --config {config}",
        f"  dfe-monitor schedule --config {config}          # checks on its cron; Ctrl-C stops it",
        f"  curl '{server.url}/_control/state?name=before'   # switch the site back, then run again",
    ):
        print(printable(line))
    print("Press Ctrl-C to stop the site.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\ndemo site stopped")
