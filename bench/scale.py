"""How dfe-monitor scales: thousands of targets, a long history, a big feed, a long-lived daemon.

    python bench/scale.py targets  [--targets 5000]   # a no-change run of N targets: wall, CPU, peak RSS
    python bench/scale.py storage  [--runs 100]       # database size after 100 runs of 100 targets, 2% changing per run
    python bench/scale.py feed     [--changes 100000] # writing the feed (and pages) from N stored changes
    python bench/scale.py daemon   [--checks 50]      # the daemon's RSS over N checks
    python bench/scale.py all

Sites come from bench/sitegen.py (deterministic GOV.UK-like pages, served by the project's
fixture server with ETag/Last-Modified and 304s). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
sys.path[:0] = [str(HERE), str(ROOT)]

import peers  # noqa: E402
import sitegen  # noqa: E402

DFE_MONITOR = str(Path(sys.executable).parent / "dfe-monitor")


def _work(name: str) -> Path:
    work = OUT / name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    return work


def _run(work: Path) -> peers.Measure:
    return peers.timed([DFE_MONITOR, "run", "--quiet", "--config", str(work / "config.toml")], work)


def bench_targets(count: int) -> None:
    site = peers.Site(OUT / f"site-{count}", count, files=False)
    try:
        work = _work(f"work-targets-{count}")
        peers.dfe_monitor_config(site, work)
        first = _run(work)
        no_change = [_run(work) for _ in range(3)]
    finally:
        site.stop()
    best = sorted(no_change, key=lambda m: m.wall)[1]
    print(f"{count} targets, first run: {first.wall:.1f} s wall, {first.cpu:.1f} s CPU, {first.rss_mb:.0f} MB peak RSS")
    print(f"{count} targets, no-change run (median of 3): {best.wall:.1f} s wall, {best.cpu:.1f} s CPU, {best.rss_mb:.0f} MB peak RSS, {best.cpu / count * 1000:.2f} ms CPU per target")


def bench_storage(runs: int, targets: int = 100, changing: float = 0.02) -> None:
    folder = OUT / "site-storage"
    site_paths = sitegen.generate(folder, targets, files=False, changed=0)
    site = peers.Site(folder, targets, files=False)
    rng = random.Random(5)
    distinct: set[str] = set()
    compressed = 0

    def remember(root: Path) -> None:
        nonlocal compressed
        for path in site_paths:
            data = (root / f"{path.lstrip('/')}.html").read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            if digest not in distinct:
                distinct.add(digest)
                compressed += len(zlib.compress(data, 6))

    try:
        work = _work("work-storage")
        peers.dfe_monitor_config(site, work)
        root = folder / "before"
        remember(root)
        for run in range(runs):
            _run(work)
            for number in rng.sample(range(targets), max(1, round(targets * changing))):
                page = root / f"government/publications/data-shares-{number:04d}.html"
                text = page.read_text(encoding="utf-8")
                page.write_text(text.replace('<div class="gem-c-govspeak govuk-govspeak">', f'<div class="gem-c-govspeak govuk-govspeak"><p>Update {run}: {sitegen._sentence(rng, 12)}</p>', 1), encoding="utf-8")
            remember(root)
        _run(work)
    finally:
        site.stop()
    database = work / "monitor.db"
    con = sqlite3.connect(database)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    size = database.stat().st_size
    print(f"{runs + 1} runs of {targets} targets, {changing:.0%} changing per run: database {size / 1e6:.1f} MB; "
          f"the {len(distinct)} distinct pages zlib-compressed: {compressed / 1e6:.1f} MB; ratio {size / compressed:.2f}")
    print("where the bytes are (each table with its indexes; a full-text index with its shadow tables):")
    for table, bytes_ in storage_breakdown(database)[:10]:
        print(f"  {table:28s} {bytes_ / 1e6:6.1f} MB")


def storage_breakdown(database: Path) -> list[tuple[str, int]]:
    """Bytes per table of a SQLite database (SQLite's ``dbstat``), largest first."""
    con = sqlite3.connect(database)
    try:
        owner = dict(con.execute("SELECT name, tbl_name FROM sqlite_master"))
        sizes: dict[str, int] = {}
        for name, bytes_ in con.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            table = owner.get(name, name)
            for shadow in ("_data", "_idx", "_docsize", "_config", "_content"):
                if table.endswith("_fts" + shadow):
                    table = table.removesuffix(shadow)
            sizes[table] = sizes.get(table, 0) + bytes_
    finally:
        con.close()
    return sorted(sizes.items(), key=lambda item: -item[1])


def bench_feed(changes: int) -> None:
    from monitor.config import load_config
    from monitor.record.changes import tag_id
    from monitor.record.connect import open_database
    from storage import repo

    work = _work("work-feed")
    (work / "config.toml").write_text(
        '[storage]\ndatabase = "monitor.db"\n[feed]\npath = "feed.atom"\npages_dir = "changes"\n[govuk]\nbase_url = "http://127.0.0.1:9"\n'
        '[fetch]\nallowed_hosts = ["127.0.0.1"]\n[[targets]]\nname = "Register"\nurl = "http://127.0.0.1:9/government/publications/register"\ncategory = "release-register"\n'
    )
    config = load_config(work / "config.toml")
    db = open_database(config)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    with db.write() as session:
        repo.sync_configured_targets(session, [repo.TargetSpec(t.url, t.name, t.category) for t in config.targets], start)
        target = repo.all_targets(session)[0]
        run_id = repo.start_run(session, start, os.getpid())
        for n in range(changes):
            when = start + timedelta(minutes=n)
            repo.add_change(
                session, feed_id_for=lambda i, when=when: tag_id(config.feed.url, when, i), target_id=target.id, run_id=run_id, kind="changed",
                detected_at=when, title=f"Register — paragraph added ({n})", summary="Paragraph added. No change note: silent edit.",
                silent_edit=True, priority="normal", details='{"text_changes": [{"op": "added", "section": "Shares", "kinds": ["paragraph"], "new": ["We shared data."]}]}',
            )
    db.dispose()
    command = [DFE_MONITOR, "feed", "--config", str(work / "config.toml")]
    for label in ("first publish, everything rendered", "again, renderings kept", "again, renderings kept"):
        measure = peers.timed(command, work)
        print(f"feed (500 entries) and change pages from {changes} stored changes, {label}: {measure.wall:.2f} s wall, {measure.cpu:.2f} s CPU, {measure.rss_mb:.0f} MB peak RSS")
    start_up = peers.timed([sys.executable, "-c", "import monitor.cli, monitor.record.connect, monitor.record.publishing"], work)
    print(f"(of which start-up, importing what `feed` needs: {start_up.wall:.2f} s wall, {start_up.cpu:.2f} s CPU)")


def bench_daemon(checks: int) -> None:
    site = peers.Site(OUT / "site-20", 20, files=False)
    work = _work("work-daemon")
    peers.dfe_monitor_config(site, work)
    env = {**os.environ, "DFE_MONITOR_TEST_INTERVAL_SECONDS": "1"}
    daemon = subprocess.Popen([DFE_MONITOR, "schedule", "--config", str(work / "config.toml")], cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    samples: list[float] = []
    done = 0
    try:
        assert daemon.stderr is not None
        for line in daemon.stderr:
            if " finished in " in line or " skipped " in line or " failed after " in line:
                done += 1
                rss = next(int(f.split()[1]) for f in Path(f"/proc/{daemon.pid}/status").read_text().splitlines() if f.startswith("VmRSS:"))
                samples.append(rss / 1024)
                if done >= checks:
                    break
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)
        site.stop()
    print(f"daemon RSS over {done} checks: first {samples[0]:.1f} MB, last {samples[-1]:.1f} MB, min {min(samples):.1f}, max {max(samples):.1f} (spread {max(samples) - min(samples):.1f} MB)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("targets", "storage", "feed", "daemon", "all"))
    parser.add_argument("--targets", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--changes", type=int, default=100_000)
    parser.add_argument("--checks", type=int, default=50)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    peers.compile_project()
    started = time.monotonic()
    if args.what in ("targets", "all"):
        bench_targets(args.targets)
    if args.what in ("storage", "all"):
        bench_storage(args.runs)
    if args.what in ("feed", "all"):
        bench_feed(args.changes)
    if args.what in ("daemon", "all"):
        bench_daemon(args.checks)
    print(f"({time.monotonic() - started:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
