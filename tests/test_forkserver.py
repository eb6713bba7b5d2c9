"""The warm child processes (tests/support/forkserver.py) answer as freshly started ones do."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from support import forkserver
from support.faults import PRIVACY, config_for, scenario, wait_for

from monitor.demo.server import Fault


def fresh(*args: str, cwd: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monitor", *args], capture_output=True, text=True, timeout=60, cwd=cwd, env=env)


def test_exit_codes_and_output_are_those_of_a_fresh_process(tmp_path):
    for args in (["--version"], ["nonsense"], ["status", "--config", str(tmp_path / "missing.toml")]):
        warm, cold = forkserver.run(args, timeout=60), fresh(*args)
        assert (warm.returncode, warm.stdout, warm.stderr) == (cold.returncode, cold.stdout, cold.stderr), args
    assert forkserver.run(["nonsense"]).returncode == 2


def test_the_folder_and_environment_are_the_requested_ones(tmp_path):
    (tmp_path / "config.toml").write_text(config_for("http://127.0.0.1:9").replace("monitor.db", "here.db"), encoding="utf-8")
    env = {**os.environ, "NO_COLOR": "1"}
    warm = forkserver.run(["status", "--config", "config.toml"], cwd=tmp_path, env=env, timeout=60)
    cold = fresh("status", "--config", "config.toml", cwd=str(tmp_path), env=env)
    assert warm.returncode == cold.returncode
    assert warm.stdout == cold.stdout and "here.db" in warm.stdout


def test_signals_reach_the_child_and_its_end_is_reported_as_popen_does(tmp_path):
    with scenario(tmp_path) as s:
        s.server.add_fault(f"/api/content{PRIVACY}", Fault(kind="slow", seconds=10, times=2))
        child = forkserver.popen(["run", "--config", str(s.config)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert child.poll() is None
        wait_for(lambda: len(s.hits(f"/api/content{PRIVACY}")) == 1, what="the run to be crawling")
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=30)
        assert child.returncode == 143 and "stopped" in err
        victim = forkserver.popen(["run", "--config", str(s.config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: len(s.hits(f"/api/content{PRIVACY}")) == 2, what="the second run to be crawling")
        victim.kill()
        assert victim.wait(timeout=10) == -signal.SIGKILL


def test_without_a_warm_process_children_start_from_scratch_and_it_is_said(tmp_path, monkeypatch):
    broken = tmp_path / "zygote.py"
    broken.write_text("import sys; sys.exit(3)\n", encoding="utf-8")
    monkeypatch.setattr(forkserver, "ZYGOTE", broken)
    monkeypatch.setattr(forkserver, "_server", None)
    monkeypatch.setattr(forkserver, "_unavailable", None)
    result = forkserver.run(["--version"], timeout=60)
    assert result.returncode == 0 and result.stdout == fresh("--version").stdout
    assert "did not start" in forkserver._unavailable  # noqa: SLF001
    assert forkserver.run(["--version"], timeout=60).returncode == 0  # said once, then simply from scratch
