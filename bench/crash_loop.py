"""Crash loop: SIGKILL `dfe-monitor run` at random moments and check that nothing is lost.

    .venv/bin/python bench/crash_loop.py [--trials 20] [--seed 1] [--keep DIR]

A local GOV.UK stand-in with six publications (each with a 1,000-row CSV) flips between two states
on every trial, so every run has six changes to fetch, extract, diff, store and publish. Each
trial starts a run, kills it with SIGKILL after a random delay (between 0.3 and 0.9 times a whole
run with changes), then runs again and checks: the recovery run exits 0, `PRAGMA integrity_check` is ok, the
killed run is recorded `aborted`, every page's latest version is the site's current state (no
lost version), consecutive versions differ and each has exactly one change (no duplicate
change), every change has its own feed id, and the feed holds one entry per change.

Prints one line per trial and a summary; exits 1 if any trial broke an invariant. The same code
runs five trials in the test suite (tests/test_crash.py). Never leaves 127.0.0.1: the tests'
network guard is installed here and in every child process.
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import tempfile
import time
from pathlib import Path

import guarded  # noqa: F401, E402 - the network guard, before anything that could connect
from support.faults import CrashTrial, crash_loop  # noqa: E402


def show(trial: CrashTrial) -> None:
    verdict = "ok" if not trial.problems else "BROKEN: " + "; ".join(trial.problems)
    print(
        f"trial {trial.number:3d}  state={trial.state:<6}  killed after {trial.kill_after:5.2f} s while {trial.phase:<10}"
        f"  -> recorded {str(trial.killed_run_status):<9}  recovery exit {trial.recovery_exit} in {trial.recovery_seconds:4.1f} s"
        f"  integrity {trial.integrity}  {verdict}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (default: a temporary folder)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    if args.keep:
        folder = Path(args.keep)
        folder.mkdir(parents=True, exist_ok=True)
        trials = crash_loop(folder, args.trials, args.seed, show)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            trials = crash_loop(Path(tmp), args.trials, args.seed, show)
    broken = [t for t in trials if t.problems]
    phases = collections.Counter(t.phase for t in trials)
    print(
        f"\n{len(trials)} trials in {time.monotonic() - started:.0f} s; kills landed while "
        + ", ".join(f"{name} {phases[name]}" for name in ("starting", "crawling", "processing", "finished"))
        + f"; recovery runs {statistics.mean(t.recovery_seconds for t in trials):.1f} s on average"
        + f"; feed temp files left behind by a kill: {sum(t.leftover_temp_files for t in trials)}"
    )
    print(f"{len(trials) - len(broken)} of {len(trials)} trials kept every invariant" + ("" if not broken else f"; BROKEN: {[t.number for t in broken]}"))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
