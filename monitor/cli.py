"""The `dfe-monitor` command: thin wrappers that call one library function each.

Only this module prints errors and chooses exit codes: a MonitorError becomes one line on
stderr and its exit code; anything unexpected becomes one line and exit code 70, with the
traceback only under --verbose.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.errors import EXIT_OK, EXIT_SOFTWARE, MonitorError, UsageError
from monitor.research import commands as research
from monitor.text import PrintableFormatter, printable

if TYPE_CHECKING:
    from monitor.config import Config

PROG = "dfe-monitor"


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default="config.toml", metavar="PATH", help="configuration file (default: ./config.toml)")
    common.add_argument("-v", "--verbose", action="store_true", help="more logging, and tracebacks on errors")

    parser = argparse.ArgumentParser(prog=PROG, description="Watch what the Department for Education publishes about pupil data on GOV.UK.")
    parser.add_argument("-v", "--verbose", action="store_true", help="more logging, and tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", parents=[common], help="check every target once: fetch, store, detect, write the feed (for cron)")
    run.add_argument("--target", action="append", metavar="NAME", help="check only this target (name or URL); repeatable; no discovery")
    run.add_argument("-q", "--quiet", action="store_true", help="print nothing unless the run fails (for cron, which mails any output)")
    run.add_argument("--json", action="store_true", help="end with one JSON line: the run's result, or its error and exit code (for programs)")

    feed = sub.add_parser("feed", parents=[common], help="(re)write the Atom feed from the database")
    feed.add_argument("--output", metavar="PATH", help="write here instead of feed.path")

    sub.add_parser("schedule", parents=[common], help="run checks on the configured cron schedule until stopped")
    sub.add_parser("status", parents=[common], help="each target's last success, last change, failures and next check")

    research.register(sub, common)

    demo = sub.add_parser("demo", help="the whole pipeline against bundled fixture pages on 127.0.0.1 (no network needed)")
    demo.add_argument("--dir", default="demo-output", metavar="PATH", help="where the demo's database, config and feed go (default: ./demo-output)")
    demo.add_argument("-v", "--verbose", action="store_true", dest="verbose_demo", help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    verbose = bool(args.verbose or getattr(args, "verbose_demo", False))
    configure_logging(verbose)
    try:
        code = COMMANDS[args.command](args, verbose)
    except MonitorError as exc:
        if verbose:
            traceback.print_exc()
        print(printable(f"{PROG}: {exc}"), file=sys.stderr)
        _json_error(args, str(exc), exc.exit_code)
        return exc.exit_code
    except BrokenPipeError:  # `dfe-monitor changes --json | head`: the reader left, no error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place that turns bugs into a clean line
        if verbose:
            traceback.print_exc()
        message = f"internal error: {type(exc).__name__}: {exc} (run again with --verbose for details)"
        print(printable(f"{PROG}: {message}"), file=sys.stderr)
        _json_error(args, message, EXIT_SOFTWARE)
        return EXIT_SOFTWARE
    return code


def _json_error(args: argparse.Namespace, message: str, exit_code: int) -> None:
    """``run --json`` ends with a JSON line whatever happens, so a program never parses prose."""
    if args.command == "run" and getattr(args, "json", False):
        from monitor.record.result import error_json
        from monitor.text import json_printable

        print(json_printable(error_json(message, exit_code)), flush=True)


def configure_logging(verbose: bool) -> None:
    """One handler on stderr: warnings and errors only, unless --verbose."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(PrintableFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO if verbose else logging.WARNING)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)


def _config(args: argparse.Namespace) -> Config:
    from monitor.config import load_config

    return load_config(args.config)


def cmd_run(args: argparse.Namespace, verbose: bool) -> int:
    from monitor.lock import run_lock

    config = _config(args)
    # Take the lock before the heavy imports, so a second comer gives up at once.
    with run_lock(config):
        from monitor.record.run import run_once

        result = run_once(config, only=args.target, verbose=verbose, locked=True)
    if args.json:
        from monitor.text import json_printable

        print(json_printable(result.to_json()))
        return EXIT_OK
    if args.quiet:
        return EXIT_OK
    print(printable(result.summary_line()))
    for error in result.errors[:20]:
        print(printable(f"  failed: {error}"))
    if len(result.errors) > 20:
        print(f"  … and {len(result.errors) - 20} more failures")
    print(printable(f"feed: {result.feed_path} ({result.feed_entries} entries)"))
    return EXIT_OK


def cmd_feed(args: argparse.Namespace, verbose: bool) -> int:
    from monitor.publish.records import publish_feed
    from monitor.record.connect import database_exists, open_database
    from monitor.record.run import utcnow

    config = _config(args)
    path = Path(args.output) if args.output else config.feed_path
    if not database_exists(config):
        raise UsageError(f"no database at {config.storage.database} yet: run `dfe-monitor run` first")
    db = open_database(config)
    try:
        count = publish_feed(db, path=path, title=config.feed.title, feed_url=config.feed.url, max_entries=config.feed.max_entries, now=utcnow(), pages_dir=config.pages_path if not args.output else None)
    finally:
        db.dispose()
    print(printable(f"feed: {path} ({count} entries)"))
    return EXIT_OK


def cmd_schedule(args: argparse.Namespace, verbose: bool) -> int:
    from monitor.daemon.scheduler import run_scheduler

    config = _config(args)
    return run_scheduler(config, verbose=verbose)


def cmd_status(args: argparse.Namespace, verbose: bool) -> int:
    from monitor.record.status import print_status

    config = _config(args)
    print_status(config)
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, verbose: bool) -> int:
    from monitor.demo import run_demo

    return run_demo(Path(args.dir), verbose=verbose)


COMMANDS = {
    "run": cmd_run,
    "feed": cmd_feed,
    "schedule": cmd_schedule,
    "status": cmd_status,
    "demo": cmd_demo,
    **research.HANDLERS,
}


if __name__ == "__main__":
    sys.exit(main())
