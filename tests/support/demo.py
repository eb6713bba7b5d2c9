"""The demo's history in this process: run 1 on the site's "before" state, run 2 on "after".

Several test modules read what those two runs publish (feeds, pages, the HTTP server, the
browser); each builds its own copy in a folder of its own with :func:`demo_history`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.demo import SITE, write_demo_config
from monitor.demo.server import FixtureServer
from support.inprocess import in_process_crawls, run_cli


def demo_history(folder: Path, *, smtp_port: int | None = None, edit=None) -> tuple[Path, str]:
    """Runs the demo twice; returns the config path and the fixture site's base URL.
    ``edit(text) -> text`` may change the config before the first run."""
    with pytest.MonkeyPatch.context() as monkeypatch, in_process_crawls(monkeypatch), FixtureServer(SITE, "before") as server:
        config = write_demo_config(folder, server.url, smtp_port)
        if edit is not None:
            config.write_text(edit(config.read_text(encoding="utf-8")), encoding="utf-8")
        first = run_cli("run", "--config", str(config))
        assert first.returncode == 0, first.stderr
        server.set_state("after")
        second = run_cli("run", "--config", str(config))
        assert second.returncode == 0, second.stderr
        return config, server.url
