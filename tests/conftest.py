"""Shared test setup: no network but loopback, here and in every child process."""

from __future__ import annotations

import os
import sys
from pathlib import Path

GUARD_DIR = Path(__file__).parent / "guard"
sys.path.insert(0, str(GUARD_DIR))

from tests_network_guard import install  # noqa: E402

install()
os.environ["DFE_MONITOR_NETWORK_GUARD"] = "1"
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(GUARD_DIR), os.environ.get("PYTHONPATH", "")) if p
)

pytest_plugins = ["support.postgres", "support.hostile"]
