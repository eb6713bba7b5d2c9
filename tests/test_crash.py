"""SIGKILL at random moments during a run: the next run completes, the database is intact, no
version is lost and no change is reported twice.

Five trials here (about 40 s); the full crash loop, with figures, is
`.venv/bin/python bench/crash_loop.py --trials 20` (see docs/reliability.md). Each trial flips
the site between two states, so every run has six changes to store when it is killed.
"""

from __future__ import annotations

import pytest
from faults import crash_loop

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
