"""`dfe-monitor status`: what each target's watch looks like now, for a person at a terminal.

It only reads, and opens the database read-only. A database that does not exist yet is not
created (``status`` is often the first thing someone types after installing): it says "no runs
yet" instead. It never touches the run
lock either, so it cannot make a starting cron run exit 75.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import IO, Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from monitor.compare.wording import shorten
from monitor.config import Config
from monitor.record.connect import database_errors, open_readonly
from monitor.text import printable
from storage import outbox, repo
from storage.db import Session
from storage.rows import FetchRow, RunRow, TargetRow

RECENT_RUNS = 5
RECENT_SEARCHES = 200  # search requests looked at for each entry's newest outcome
NAME_WIDTH = 48
ERROR_WIDTH = 300
COUNT_KEYS = ("checked", "changed", "baseline", "failed", "gone", "new", "changes", "alerts_sent", "alerts_failed")


@dataclass(frozen=True)
class TargetStatus:
    name: str
    category: str
    state: str
    last_success: datetime | None
    last_change: datetime | None
    failures: int
    next_check: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class RunStatus:
    id: int
    started: datetime
    status: str
    command: str
    counts: str
    error: str | None


@dataclass(frozen=True)
class DiscoverStatus:
    query: str
    last_search: datetime | None  # the last run whose search answered
    found: int  # targets this entry has added
    last_error: str | None  # when the newest search request failed


@dataclass(frozen=True)
class AlertStatus:
    channel: str  # as people know it (e-mail to …, Apprise …)
    sent: int
    waiting: int  # pending, or cut off mid-attempt: sent on the next run
    dropped: int
    last_error: str | None


@dataclass(frozen=True)
class StatusReport:
    targets: list[TargetStatus]
    inactive: int
    runs: list[RunStatus]
    discover: list[DiscoverStatus] = field(default_factory=list)
    alerts: list[AlertStatus] = field(default_factory=list)


def print_status(config: Config, out: IO[str] | None = None, now: datetime | None = None) -> None:
    """Print the targets table and the last few runs (times in the schedule's time zone).

    Every line is printed through ``printable``: names and errors come from upstream."""
    out = out if out is not None else sys.stdout
    for line in status_lines(config, now if now is not None else datetime.now(UTC)):
        print(printable(line), file=out)


def status_lines(config: Config, now: datetime) -> list[str]:
    zone = ZoneInfo(config.schedule.timezone)
    report = read_status(config, now)
    if report is None or not report.runs:
        return [
            f"no runs yet (database: {config.storage.database}); `dfe-monitor run` makes the first",
            f"next scheduled check: {_time(next_check(config, None, now), zone)} (daemon schedule \"{config.schedule.cron}\")",
        ]
    lines = [f"targets ({len(report.targets)} watched; times in {config.schedule.timezone}):"]
    lines += [f"  {line}" for line in format_targets(report.targets, zone)]
    if report.inactive:
        lines.append(f"  ({report.inactive} target(s) no longer in config.toml are kept but not checked)")
    for target in report.targets:
        if target.last_error:
            lines.append(f"  {target.name}: {target.state}: {shorten(target.last_error, ERROR_WIDTH)}")
    if report.discover:
        lines.append("discovery:")
        lines += [f"  {line}" for line in format_discover(report.discover, zone)]
    if report.alerts:
        lines.append(f"alerts (when = {config.notify.when}{', digest' if config.notify.digest else ''}):")
        lines += [f"  {line}" for line in format_alerts(report.alerts)]
    lines.append(f"last {len(report.runs)} runs:")
    lines += [f"  {line}" for line in format_runs(report.runs, zone)]
    return lines


def read_status(config: Config, now: datetime) -> StatusReport | None:
    """Everything ``print_status`` shows; None when there is no database (or no schema) yet.

    Opened like the research commands open it: read-only (a read-only folder is no obstacle),
    checked first (damage is exit 65 with the recovery command, never a table read from a
    broken file), and somebody else's database refused, never written to."""
    db = open_readonly(config)
    if db is None:
        return None
    try:
        with database_errors(config, "read"):
            with db.read() as session:
                targets = repo.all_targets(session)
                runs = repo.last_runs(session, RECENT_RUNS)
                discover = [_discover_status(session, entry.query, entry.key) for entry in config.discover]
                alerts = _alert_status(config, outbox.counts_by_channel(session), outbox.last_errors(session)) if outbox.exists(session) else []
    finally:
        db.dispose()
    active = [t for t in targets if t.active]
    watched = [t for t in targets if t.source != "notify"]  # alert channels are not pages
    return StatusReport(
        targets=[_target_status(config, t, now) for t in active],
        inactive=len(watched) - len(active),
        runs=[_run_status(r) for r in runs],
        discover=discover,
        alerts=alerts,
    )


def _alert_status(config: Config, counts: dict[tuple[str, str], int], errors: dict[str, str]) -> list[AlertStatus]:
    """Each configured channel, and any channel with alerts still waiting though it was removed."""
    from monitor.notify.channels import channels_of

    labels = {key: channel.label for key, channel in channels_of(config.notify).items()}
    keys = list(labels) + sorted({channel for channel, _ in counts} - set(labels))
    found = []
    for key in keys:
        waiting = sum(counts.get((key, state), 0) for state in outbox.OPEN)
        found.append(AlertStatus(labels.get(key, f"{key} (no longer configured)"), counts.get((key, outbox.SENT), 0), waiting, counts.get((key, outbox.DROPPED), 0), errors.get(key)))
    return found


def next_check(config: Config, target_url: str | None, now: datetime) -> datetime | None:
    """The sooner of the main cron and the target's own ``schedule`` (the daemon's timetable).

    Strictly after ``now``: a check firing this very second is already under way.
    """
    zone = config.schedule.timezone
    crons = [config.schedule.cron]
    own = next((t.schedule for t in config.targets if t.url == target_url and t.schedule), None)
    if own:
        crons.append(own)
    after = now.astimezone(ZoneInfo(zone)) + timedelta(seconds=1)
    times = [CronTrigger.from_crontab(c, timezone=zone).get_next_fire_time(None, after) for c in crons]
    found = [t for t in times if t is not None]
    return min(found) if found else None


def _target_status(config: Config, target: TargetRow, now: datetime) -> TargetStatus:
    return TargetStatus(
        name=target.name,
        category=target.category,
        state=target.state,
        last_success=target.last_success_at,
        last_change=target.last_change_at,
        failures=target.consecutive_failures,
        next_check=next_check(config, target.url, now),
        last_error=target.last_error,
    )


def _discover_status(session: Session, query: str, key: str) -> DiscoverStatus:
    """A search that keeps failing adds nothing and says nothing in the feed: show it here."""
    memory = repo.discover_memory(session, key)
    found = repo.discovered_count(session, key)
    searches = repo.recent_searches(session, RECENT_SEARCHES)
    newest = next((f for f in searches if _meta(f).get("discover_key") == key), None)
    error = newest.error if newest is not None and newest.error else None
    return DiscoverStatus(query, memory.last_run_at if memory else None, found, error)


def _meta(fetch: FetchRow) -> dict[str, Any]:
    try:
        meta = json.loads(fetch.meta or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _run_status(run: RunRow) -> RunStatus:
    status = run.status
    if status == "running" and run.pid and not _alive(run.pid):
        status = "running (pid gone)"  # killed; the next run marks it aborted
    return RunStatus(run.id, run.started_at or datetime.min.replace(tzinfo=UTC), status, run.command, _counts(run.summary), run.error)


def _counts(summary: str | None) -> str:
    try:
        data: dict[str, Any] = json.loads(summary) if summary else {}
    except ValueError:
        return ""
    return ", ".join(f"{key} {data[key]}" for key in COUNT_KEYS if data.get(key))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- formatting ----------------------------------------------------------------------------------


def format_targets(targets: list[TargetStatus], zone: ZoneInfo) -> list[str]:
    header = ("NAME", "CATEGORY", "STATE", "LAST SUCCESS", "LAST CHANGE", "FAILS", "NEXT CHECK")
    rows = [
        (shorten(printable(t.name), NAME_WIDTH), t.category, t.state, _time(t.last_success, zone), _time(t.last_change, zone), str(t.failures), _time(t.next_check, zone))
        for t in targets
    ]
    return _table(header, rows)


def format_discover(entries: list[DiscoverStatus], zone: ZoneInfo) -> list[str]:
    header = ("QUERY", "LAST GOOD SEARCH", "FOUND", "NEWEST SEARCH")
    rows = [(shorten(printable(d.query), NAME_WIDTH), _time(d.last_search, zone), str(d.found), f"failed: {shorten(printable(d.last_error), 80)}" if d.last_error else "ok") for d in entries]
    return _table(header, rows)


def format_alerts(alerts: list[AlertStatus]) -> list[str]:
    header = ("CHANNEL", "SENT", "WAITING", "LAST ERROR")
    rows = [(shorten(a.channel, 60), str(a.sent), str(a.waiting) + (f" ({a.dropped} dropped)" if a.dropped else ""), shorten(a.last_error, 160) if a.last_error and a.waiting else "-") for a in alerts]
    return _table(header, rows)


def format_runs(runs: list[RunStatus], zone: ZoneInfo) -> list[str]:
    header = ("RUN", "STARTED", "STATUS", "COMMAND", "COUNTS")
    rows = [(str(r.id), _time(r.started, zone), r.status, r.command, r.counts or "-") for r in runs]
    lines = _table(header, rows)
    errors = [f"run {r.id}: {shorten(r.error, 160)}" for r in runs if r.error]
    return lines + errors


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in (header, *rows)]


def _time(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if moment is not None else "never"
