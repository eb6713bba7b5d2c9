"""How long `dfe-monitor run` takes from its start to its first request, and what the other
commands cost to start.

    python bench/startup.py [--repeat 7]

The demo's configuration against the bundled fixture site on 127.0.0.1 (a first run, then the
measured runs, each a no-change run). The first request's arrival is stamped by the fixture
server; the figures are medians, printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]

import peers  # noqa: E402

from monitor.demo import SITE, write_demo_config  # noqa: E402
from monitor.demo.server import FixtureServer  # noqa: E402

DFE_MONITOR = str(Path(sys.executable).parent / "dfe-monitor")


def first_request_after(server: FixtureServer, config: Path, work: Path) -> tuple[float, float]:
    """Seconds from starting `run` to its first request reaching the server, and the run's wall."""
    seen = len(server.requests)
    started = time.time()
    subprocess.run([DFE_MONITOR, "run", "--quiet", "--config", str(config)], cwd=work, env=peers.ENV, check=False)
    ended = time.time()
    first = server.requests[seen].at
    return first - started, ended - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    peers.compile_project()
    with tempfile.TemporaryDirectory() as folder, FixtureServer(SITE, "before") as server:
        work = Path(folder)
        config = write_demo_config(work, server.url)
        subprocess.run([DFE_MONITOR, "run", "--quiet", "--config", str(config)], cwd=work, env=peers.ENV, check=False)
        firsts, walls = zip(*(first_request_after(server, config, work) for _ in range(args.repeat)), strict=True)
        print(f"dfe-monitor run, start to first request: median {statistics.median(firsts):.2f} s (min {min(firsts):.2f}, max {max(firsts):.2f}); whole no-change run {statistics.median(walls):.2f} s")
        for command in (["status"], ["changes", "--limit", "5"], ["feed"], ["--version"]):
            measures = [peers.timed([DFE_MONITOR, *command, *(["--config", str(config)] if command[0] != "--version" else [])], work) for _ in range(args.repeat)]
            print(f"dfe-monitor {' '.join(command)}: median {statistics.median(m.wall for m in measures):.2f} s wall, {statistics.median(m.cpu for m in measures):.2f} s CPU")
    print(f"({os.cpu_count()} cores, Python {sys.version.split()[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
