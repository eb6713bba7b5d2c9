"""Imported first by the benches that drive the test helpers (tests/support): puts the project and
tests/ on the path and installs the tests' network guard, here and (through PYTHONPATH) in every
child process, so a bench never leaves 127.0.0.1."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUARD = ROOT / "tests" / "guard"
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(GUARD)]
os.environ["DFE_MONITOR_NETWORK_GUARD"] = "1"
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(GUARD), os.environ.get("PYTHONPATH", "")) if p)

from tests_network_guard import install  # noqa: E402

install()
