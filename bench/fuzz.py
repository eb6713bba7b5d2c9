"""The fuzz suite (tests/test_fuzz_*.py) run long: thousands of hostile items, search answers,
pages and Scrapy responses per test instead of CI's 200, with the same deadline per example.

    .venv/bin/python bench/fuzz.py                   # 5,000 examples per test
    .venv/bin/python bench/fuzz.py --examples 20000 --seed 7

Prints, for each test, how many examples ran and passed, their typical run time and why it
stopped; then the total. Exits with pytest's code (non-zero: a falsifying example is printed).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ["tests/test_fuzz_document.py", "tests/test_fuzz_spider.py"]
KEEP = re.compile(r"^(tests/test_fuzz_\S+::\S+:|\s+- (Typical runtimes|\d+ passing|Stopped because).*|.*(passed|failed).* in .*)$")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=5000, help="examples per test (default 5,000)")
    parser.add_argument("--seed", type=int, help="Hypothesis seed, to repeat a run")
    args = parser.parse_args(argv)
    env = {**os.environ, "DFE_FUZZ_PROFILE": "long", "DFE_FUZZ_EXAMPLES": str(args.examples)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--hypothesis-show-statistics", *TESTS]
    if args.seed is not None:
        command.append(f"--hypothesis-seed={args.seed}")
    print(f"fuzzing {len(TESTS)} files with up to {args.examples:,} examples per test (deadline 2 s per example)", flush=True)
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    lines = result.stdout.splitlines()
    print("\n".join(line for line in lines if KEEP.match(line)))
    if result.returncode != 0:
        start = next((i for i, line in enumerate(lines) if "= FAILURES =" in line), 0)
        end = next((i for i, line in enumerate(lines) if "short test summary info" in line), len(lines))
        print("\n".join(lines[start:end][-120:]))
    print(f"total {time.monotonic() - started:.0f} s; exit {result.returncode}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
