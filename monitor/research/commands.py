"""The researchers' commands: ``changes`` (filtered), ``show``, ``history``, ``diff``,
``search``, ``export`` and ``reindex``. ``register`` adds their arguments to the CLI; each
handler is a thin wrapper over one library function of this package.

All but ``reindex`` only read: they open the database read-only and never create or upgrade
one. ``--json`` prints JSON Lines (``diff --json`` prints one object).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from monitor import heap
from monitor.errors import EXIT_OK, UsageError
from monitor.text import json_printable, printable

Handler = Callable[[argparse.Namespace, int], int]


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the research commands to the CLI's subparsers (``common``: --config and -v)."""
    changes = sub.add_parser("changes", parents=[common], help="detected changes, oldest first (filters combine with AND)")
    changes.add_argument("--since", metavar="DATE", help="detected at or after DATE (YYYY-MM-DD or RFC 3339)")
    changes.add_argument("--category", metavar="C", help="only targets of this category")
    changes.add_argument("--priority", metavar="P", help="only this priority (high or normal)")
    changes.add_argument("--silent", action="store_true", help="only silent edits (content changed, no change note)")
    changes.add_argument("--target", metavar="NAME", help="only this target (name or URL)")
    changes.add_argument("--limit", metavar="N", help="only the newest N (still listed oldest first)")
    changes.add_argument("--json", action="store_true", help="one JSON object per line (JSON Lines)")

    show = sub.add_parser("show", parents=[common], help="one change with its whole diff")
    show.add_argument("change_id", metavar="CHANGE_ID")
    show.add_argument("--json", action="store_true", help="one JSON object")

    history = sub.add_parser("history", parents=[common], help="every version of a target, with the sha256 of its captures")
    history.add_argument("target", metavar="TARGET", help="a target's name or URL")
    history.add_argument("--json", action="store_true", help="one JSON object per version (JSON Lines)")

    diff = sub.add_parser("diff", parents=[common], help="compare any two versions of one target")
    diff.add_argument("version_a", metavar="VERSION_A")
    diff.add_argument("version_b", metavar="VERSION_B")
    diff.add_argument("--json", action="store_true", help="one JSON object")

    search = sub.add_parser("search", parents=[common], help="full-text search over every version and extracted file")
    search.add_argument("text", metavar="TEXT", help='words (all must appear), "a phrase", or a prefix*')
    search.add_argument("--category", metavar="C", help="only targets of this category")
    search.add_argument("--since", metavar="DATE", help="only versions captured at or after DATE")
    search.add_argument("--json", action="store_true", help="one JSON object per line (JSON Lines)")

    export = sub.add_parser("export", parents=[common], help="changes as CSV or JSON Lines, or every capture as WARC")
    export.add_argument("--format", required=True, metavar="csv|jsonl|warc", dest="export_format")
    export.add_argument("--output", required=True, metavar="PATH")
    export.add_argument("--since", metavar="DATE", help="changes detected (or captures made) at or after DATE")

    sub.add_parser("reindex", parents=[common], help="rebuild the research tables from the stored versions")


def _config(args: argparse.Namespace, *, long: bool = False) -> Any:
    """The configuration. A command that can run long (an export, a reindex) has imported what
    it needs by now, so collections go back to normal (see monitor/heap.py)."""
    from monitor.config import load_config

    config = load_config(args.config)
    if long:
        heap.started()
    return config


def _print_json(records: Iterable[dict[str, Any]]) -> None:
    for record in records:
        print(json_printable(json.dumps(record, ensure_ascii=False)))


def _print_lines(lines: Iterable[str]) -> None:
    """Each line as a terminal shows it: upstream's control characters as visible escapes."""
    for line in lines:
        print(printable(line))


def _reading(args: argparse.Namespace, work: Callable[[Any, Any], int], *, long: bool = False) -> int:
    """Open the database read-only (a usage error when there is none), run, close."""
    from monitor.record.connect import database_errors, require_readonly

    config = _config(args, long=long)
    db = require_readonly(config)
    try:
        with database_errors(config, "read"):
            return work(config, db)
    finally:
        db.dispose()


def cmd_changes(args: argparse.Namespace, verbose: int) -> int:
    from monitor.record.connect import database_errors, open_readonly
    from monitor.research.filters import check_category, parse_since, resolve_target
    from monitor.research.records import change_record
    from storage import queries, repo

    config = _config(args)
    since = parse_since(args.since)
    category = check_category(args.category)
    if args.priority not in (None, "high", "normal"):
        raise UsageError(f"--priority {args.priority!r} is not a priority: use high or normal")
    limit = None
    if args.limit is not None:
        if not args.limit.isdigit() or int(args.limit) < 1:
            raise UsageError(f"--limit {args.limit!r} is not a count: give a whole number of at least 1")
        limit = int(args.limit)
    db = open_readonly(config)
    if db is None:
        return EXIT_OK  # nothing has run yet, so nothing has changed; do not create a database
    try:
        with database_errors(config, "read"), db.read() as session:
            target_id = resolve_target(repo.all_targets(session), args.target).id if args.target else None
            wanted = queries.ChangeFilter(since=since, category=category, priority=args.priority, silent=args.silent, target_id=target_id, limit=limit)
            records = [change_record(c, t) for c, t in queries.filter_changes(session, wanted)]
    finally:
        db.dispose()
    for record in records:
        if args.json:
            print(json_printable(json.dumps(record, ensure_ascii=False)))
        else:
            flag = " [silent edit]" if record["silent_edit"] else ""
            flag += " [high priority]" if record["priority"] == "high" else ""
            print(printable(f"{record['id']:>5}  {record['detected_at']}  {record['kind']:<9} {record['title']}{flag}"))
    return EXIT_OK


def cmd_show(args: argparse.Namespace, verbose: int) -> int:
    from monitor.research.filters import parse_id
    from monitor.research.show import show, show_lines

    change_id = parse_id(args.change_id, "CHANGE_ID")

    def work(config: Any, db: Any) -> int:
        record = show(db, change_id)
        if args.json:
            _print_json([record])
        else:
            _print_lines(show_lines(record))
        return EXIT_OK

    return _reading(args, work)


def cmd_history(args: argparse.Namespace, verbose: int) -> int:
    from monitor.research.history import history, history_lines

    def work(config: Any, db: Any) -> int:
        records = history(db, args.target)
        if args.json:
            _print_json(records)
        else:
            _print_lines(history_lines(records))
        return EXIT_OK

    return _reading(args, work)


def cmd_diff(args: argparse.Namespace, verbose: int) -> int:
    from monitor.record.run import process_settings
    from monitor.research.diff import diff_versions
    from monitor.research.filters import parse_id
    from monitor.research.show import detail_lines

    first, second = parse_id(args.version_a, "VERSION_A"), parse_id(args.version_b, "VERSION_B")

    def work(config: Any, db: Any) -> int:
        settings = process_settings(config)
        result = diff_versions(db, first, second, row_keys=settings.row_keys, limits=settings.extract_limits)
        if args.json:
            _print_json([result])
            return EXIT_OK
        from monitor.research.derive import DetailRow

        _print_lines([f"{result['target']}: version {first} ({result['from_captured_at']}) -> version {second} ({result['to_captured_at']}): {result['headline']}"])
        _print_lines(detail_lines([DetailRow(**row) for row in result["changes"]]))
        return EXIT_OK

    return _reading(args, work)


def cmd_search(args: argparse.Namespace, verbose: int) -> int:
    from monitor.research.filters import check_category, parse_since
    from monitor.research.search import parse_query, search, search_lines
    from storage import index

    parse_query(args.text)
    category, since = check_category(args.category), parse_since(args.since)

    def work(config: Any, db: Any) -> int:
        with db.read() as session:
            missing = index.unindexed_versions(session)
        if missing:
            print(f"dfe-monitor: warning: {missing} versions are not in the search index yet: run `dfe-monitor reindex`", file=sys.stderr)
        records = search(db, args.text, category=category, since=since)
        if args.json:
            _print_json(records)
        else:
            _print_lines(search_lines(records) if records else [f"nothing found for {args.text!r}"])
        return EXIT_OK

    return _reading(args, work)


def cmd_export(args: argparse.Namespace, verbose: int) -> int:
    from monitor.research.export import FORMATS, export
    from monitor.research.filters import parse_since

    if args.export_format not in FORMATS:
        raise UsageError(f"--format {args.export_format!r} is not a format: use csv, jsonl or warc")
    since = parse_since(args.since)
    output = Path(args.output)

    def work(config: Any, db: Any) -> int:
        count = export(db, args.export_format, output, config_path=config.path, since=since)
        what = "captures" if args.export_format == "warc" else "changes"
        _print_lines([f"{output}: {count} {what}"])
        return EXIT_OK

    return _reading(args, work, long=True)


def cmd_reindex(args: argparse.Namespace, verbose: int) -> int:
    from monitor.lock import run_lock
    from monitor.record.connect import database_errors, open_database
    from monitor.research.reindex import reindex
    from monitor.times import utcnow

    config = _config(args, long=True)
    with run_lock(config):
        db = open_database(config)
        try:
            with database_errors(config, "write to"):
                result = reindex(config, db, utcnow())
        finally:
            db.dispose()
    _print_lines([result.summary_line()])
    return EXIT_OK


HANDLERS: dict[str, Handler] = {
    "changes": cmd_changes,
    "show": cmd_show,
    "history": cmd_history,
    "diff": cmd_diff,
    "search": cmd_search,
    "export": cmd_export,
    "reindex": cmd_reindex,
}
