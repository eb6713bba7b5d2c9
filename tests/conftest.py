"""Shared test setup: no network but loopback, here and in every child process."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

GUARD_DIR = Path(__file__).parent / "guard"
sys.path.insert(0, str(GUARD_DIR))

from tests_network_guard import install  # noqa: E402

install()
os.environ["DFE_MONITOR_NETWORK_GUARD"] = "1"
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(GUARD_DIR), os.environ.get("PYTHONPATH", "")) if p
)

pytest_plugins = ["support.postgres", "support.hostile"]


@pytest.fixture
def full_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The databases (URLs) checked in full (``PRAGMA quick_check``) during the test."""
    from storage.db import Database

    checked: list[str] = []
    real = Database.quick_check

    def counting(self: Database) -> None:
        checked.append(self.url)
        real(self)

    monkeypatch.setattr(Database, "quick_check", counting)
    return checked


def pytest_configure(config) -> None:  # noqa: ANN001 - pytest's hook
    """The suite starts a few hundred ``dfe-monitor`` child processes; each starts faster from
    compiled bytecode (~0.15 s). Where PYTHONDONTWRITEBYTECODE is set nothing would ever write
    it, so the controller compiles the project once (only what is stale) before any worker."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        import compileall

        root = Path(__file__).resolve().parent.parent
        for package in ("monitor", "spiders", "storage"):
            compileall.compile_dir(root / package, quiet=1)


def pytest_xdist_auto_num_workers(config) -> int:  # noqa: ANN001 - pytest-xdist's hook
    """``-n auto``: three workers for every two cores this process may use. About a third of the
    suite's time is spent waiting (fixture servers' delays and stalls, timeouts, signals), so one
    worker per core leaves the cores idle that long: on 2 cores, 2 workers take ~4 min and 3 take
    ~3.5 min."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores + cores // 2)


# The longest test files (seconds of worker time, in this order) start first, so that the workers
# end together instead of one running a long file alone at the end: ``--dist loadfile`` hands
# out whole files in collection order (``--no-loadscope-reorder`` in pyproject.toml: xdist's
# default order, most tests first, left the long single-test files for last). A file not listed
# keeps its place after these.
LONGEST_FIRST = (
    "test_hostile_items.py",
    "test_crash.py",
    "test_faults_network.py",
    "test_faults_content.py",
    "test_alerts.py",
    "test_end_to_end_engines.py",
    "test_alerts_crash.py",
    "test_browser.py",
    "test_faults_cli.py",
    "test_schedule.py",
    "test_end_to_end.py",
    "test_research.py",
    "test_stop.py",
    "test_demo.py",
    "test_fuzz_document.py",
    "test_faults_storage.py",
    "test_hostile_urls.py",
    "test_faults_recovery.py",
    "test_research_storage.py",
    "test_readers.py",
    "test_feeds.py",
)


def pytest_collection_modifyitems(config, items) -> None:  # noqa: ANN001 - pytest's hook
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: order within a file kept
