"""SIGKILL at random moments during a run: the next run completes, the database is intact, no
version is lost and no change is reported twice.

Five trials here (about 40 s); the full crash loop, with figures, is
`.venv/bin/python bench/crash_loop.py --trials 20` (see docs/reliability.md). Each trial flips
the site between two states, so every run has six changes to store when it is killed.
"""

from __future__ import annotations

import pytest
from support.faults import crash_loop

TRIALS = 5


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing_and_duplicates_nothing(tmp_path):
    trials = crash_loop(tmp_path, TRIALS, seed=20261129)
    assert len(trials) == TRIALS
    for trial in trials:
        assert trial.problems == [], f"trial {trial.number} (killed after {trial.kill_after:.2f} s while {trial.phase}): {trial.problems}"
        assert trial.recovery_exit == 0
        assert trial.integrity == "ok"
        if trial.phase in ("crawling", "processing"):
            assert trial.killed_run_status == "aborted"
    # the kills must land inside runs, not only before or after them
    assert {t.phase for t in trials} & {"crawling", "processing"}, [t.phase for t in trials]


def test_a_killed_run_leaves_nothing_behind_outside_its_folders(tmp_path):
    """No job files, sockets or state under the user's home: a SIGKILL cannot clean up, so the
    run must not create anything it would have to clean up (Scrapy 2.19's remote-control server
    writes ~/.local/state/scrapy/job_files/<pid>-….json unless it is turned off)."""
    import os
    import signal
    import subprocess
    import sys

    from support.faults import PRIVACY, scenario, wait_for

    from monitor.demo.server import Fault

    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_STATE_HOME": str(home / "state"), "XDG_CACHE_HOME": str(home / "cache"), "XDG_DATA_HOME": str(home / "data")}
    with scenario(tmp_path / "site") as s:
        s.server.add_fault(f"/api/content{PRIVACY}", Fault(kind="slow", seconds=10, times=1))
        victim = subprocess.Popen([sys.executable, "-m", "monitor", "run", "--config", str(s.config)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: len(s.hits(f"/api/content{PRIVACY}")) == 1, what="the run to be crawling")
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=10)
        finally:
            victim.kill()
            victim.wait()
    assert [str(p.relative_to(home)) for p in home.rglob("*")] == []
