"""The `dfe-monitor` command: thin wrappers that call one library function each.

Only this module prints errors and chooses exit codes: a MonitorError becomes one line on
stderr and its exit code; anything unexpected becomes one line and exit code 70, with the
traceback only under --verbose.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from monitor import __version__, heap
from monitor.console import Progress, configure_logging
from monitor.errors import EXIT_OK, EXIT_SOFTWARE, LockHeld, MonitorError, UsageError
from monitor.research import commands as research
from monitor.text import json_printable, printable

if TYPE_CHECKING:
    from monitor.config import Config

PROG = "dfe-monitor"
EXIT_NOTIFY_FAILED = 1  # `notify --test`: at least one channel did not take its message


LOG_FORMATS = ("text", "json")


def _output_options(parser: argparse.ArgumentParser, default: object) -> None:
    """-v and --log-format, accepted before or after the command (a command's own copy never
    resets what was given before it)."""
    parser.add_argument("-v", "--verbose", action="count", default=default, help="more logging (progress lines), and tracebacks on errors; -vv: debugging and Scrapy's own logs")
    parser.add_argument("--log-format", choices=LOG_FORMATS, default=argparse.SUPPRESS if default is argparse.SUPPRESS else "text", help="log lines on stderr as text (default) or one JSON object per line")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default="config.toml", metavar="PATH", help="configuration file (default: ./config.toml)")
    _output_options(common, argparse.SUPPRESS)

    parser = argparse.ArgumentParser(prog=PROG, description="Watch what the Department for Education publishes about pupil data on GOV.UK.")
    _output_options(parser, 0)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", parents=[common], help="check every target once: fetch, store, detect, write the feed (for cron)")
    run.add_argument("--target", action="append", metavar="NAME", help="check only this target (name or URL); repeatable; no discovery")
    run.add_argument("-q", "--quiet", action="store_true", help="print nothing unless the run fails (for cron, which mails any output); another run holding the lock (exit 75) is not a failure")
    run.add_argument("--json", action="store_true", help="end with one JSON line: the run's result, or its error and exit code (for programs)")

    feed = sub.add_parser("feed", parents=[common], help="(re)write the Atom feed from the database")
    feed.add_argument("--output", metavar="PATH", help="write here instead of feed.path")

    sub.add_parser("schedule", parents=[common], help="run checks on the configured cron schedule until stopped")
    sub.add_parser("status", parents=[common], help="each target's last success, last change, failures and next check")

    notify = sub.add_parser("notify", parents=[common], help="alerts: --test sends one test message to every configured channel")
    notify.add_argument("--test", action="store_true", help="send a test message to each channel and say which worked (exit 0 only if all did)")

    serve = sub.add_parser("serve", parents=[common], help="read-only HTTP: the feeds, the change pages and /api/changes")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default: 8080)")

    research.register(sub, common)

    demo = sub.add_parser("demo", help="the whole pipeline against bundled fixture pages on 127.0.0.1 (no network needed)")
    demo.add_argument("--dir", default="demo-output", metavar="PATH", help="where the demo's database, config and feed go (default: ./demo-output)")
    demo.add_argument("--serve", action="store_true", help="keep the demo site running afterwards (Ctrl-C stops it), to try run, schedule and status on it")
    _output_options(demo, argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    heap.starting()
    try:
        return _main(argv)
    finally:
        heap.settle()  # a caller in the same process (tests, embedding) gets its collector back


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    verbose = int(args.verbose or 0)
    quiet = bool(getattr(args, "quiet", False))
    configure_logging(verbose, quiet=quiet, log_format=args.log_format)
    try:
        code = COMMANDS[args.command](args, verbose)
    except MonitorError as exc:
        if verbose:
            traceback.print_exc()
        if _wants_json(args):
            _json_error(args, str(exc), exc.exit_code)  # the error is in the JSON line: said once
        elif not (quiet and isinstance(exc, LockHeld)):  # cron: an overlap is not a failure
            print(printable(f"{PROG}: {exc}"), file=sys.stderr)
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
        if _wants_json(args):
            _json_error(args, message, EXIT_SOFTWARE)
        else:
            print(printable(f"{PROG}: {message}"), file=sys.stderr)
        return EXIT_SOFTWARE
    return code


def _wants_json(args: argparse.Namespace) -> bool:
    return args.command == "run" and bool(getattr(args, "json", False))


def _json_error(args: argparse.Namespace, message: str, exit_code: int) -> None:
    """``run --json`` ends with a JSON line whatever happens, so a program never parses prose."""
    if _wants_json(args):
        from monitor.record.result import error_json

        print(json_printable(error_json(message, exit_code)), flush=True)


def _config(args: argparse.Namespace) -> Config:
    from monitor.config import load_config

    return load_config(args.config)


def cmd_run(args: argparse.Namespace, verbose: int) -> int:
    from monitor.lock import run_lock
    from monitor.record.reach import preflight

    config = _config(args)
    preflight(config)  # a first run that can reach nothing creates nothing, not even the lock
    # Take the lock before the heavy imports, so a second comer gives up at once.
    with run_lock(config):
        from monitor.record.run import run_once

        progress = Progress(enabled=not args.quiet and not args.json and args.log_format == "text")
        try:
            result = run_once(config, only=args.target, verbose=verbose, locked=True, progress=progress)
        finally:
            progress.close()
    if args.json:
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


def cmd_feed(args: argparse.Namespace, verbose: int) -> int:
    from monitor.record.connect import database_exists, open_database
    from monitor.record.publishing import publish_all, publish_main_feed_to
    from monitor.times import utcnow

    config = _config(args)
    path = Path(args.output) if args.output else config.feed_path
    if not database_exists(config):
        raise UsageError(f"no database at {config.storage.database} yet: run `dfe-monitor run` first")
    db = open_database(config)
    try:
        count = publish_main_feed_to(db, config, path, utcnow()) if args.output else publish_all(db, config, utcnow())
    finally:
        db.dispose()
    print(printable(f"feed: {path} ({count} entries)"))
    return EXIT_OK


def cmd_schedule(args: argparse.Namespace, verbose: int) -> int:
    from monitor.daemon.scheduler import run_scheduler

    config = _config(args)
    heap.started()  # a daemon: collect normally for its whole life
    return run_scheduler(config, verbose=verbose, log_format=args.log_format)


def cmd_status(args: argparse.Namespace, verbose: int) -> int:
    from monitor.record.status import print_status

    config = _config(args)
    print_status(config)
    return EXIT_OK


def cmd_notify(args: argparse.Namespace, verbose: int) -> int:
    if not args.test:
        raise UsageError("nothing to do: `dfe-monitor notify --test` sends a test message to every channel (alerts themselves go out after each run)")
    from monitor.notify.check import test_channels

    results = test_channels(_config(args))
    for label, error in results:
        print(printable(f"ok      {label}" if error is None else f"FAILED  {label}: {error}"))
    failed = sum(1 for _, error in results if error is not None)
    print(printable(f"{len(results) - failed} of {len(results)} channels worked"))
    return EXIT_OK if not failed else EXIT_NOTIFY_FAILED


def cmd_serve(args: argparse.Namespace, verbose: int) -> int:
    from monitor.serve.server import serve

    config = _config(args)
    heap.started()  # a server: collect normally for its whole life
    return serve(config, host=args.host, port=args.port)


def cmd_demo(args: argparse.Namespace, verbose: int) -> int:
    from monitor.demo import run_demo

    heap.started()
    return run_demo(Path(args.dir), verbose=verbose, serve=args.serve)


COMMANDS = {
    "run": cmd_run,
    "feed": cmd_feed,
    "schedule": cmd_schedule,
    "status": cmd_status,
    "notify": cmd_notify,
    "serve": cmd_serve,
    "demo": cmd_demo,
    **research.HANDLERS,
}


if __name__ == "__main__":
    sys.exit(main())
