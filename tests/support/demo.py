"""The demo's history in this process: run 1 on the site's "before" state, run 2 on "after".

Several test modules read what those runs publish (feeds, pages, alerts, the HTTP server, the
browser); each builds its own copy in a folder of its own.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from monitor.demo import SITE, write_demo_config
from monitor.demo.server import FixtureServer
from support.inprocess import Completed, in_process_crawls, run_cli


@dataclass
class Demo:
    folder: Path
    config: Path
    server: FixtureServer

    def run(self, *args: str) -> Completed:
        return run_cli(*args, "--config", str(self.config))

    def must_run(self) -> Completed:
        result = self.run("run")
        assert result.returncode == 0, result.stderr
        return result

    def changes(self) -> list[dict]:
        return [json.loads(line) for line in self.run("changes", "--json").stdout.splitlines()]


@contextlib.contextmanager
def demo_site(folder: Path, *, smtp_port: int | None = None, edit: Callable[[str], str] | None = None) -> Iterator[Demo]:
    """The fixture site (state "before") and a demo config in ``folder``; runs in this process.
    ``edit(text) -> text`` may change the config."""
    with pytest.MonkeyPatch.context() as monkeypatch, in_process_crawls(monkeypatch), FixtureServer(SITE, "before") as server:
        config = write_demo_config(folder, server.url, smtp_port)
        if edit is not None:
            config.write_text(edit(config.read_text(encoding="utf-8")), encoding="utf-8")
        yield Demo(folder, config, server)


def demo_history(folder: Path, *, smtp_port: int | None = None, edit: Callable[[str], str] | None = None) -> tuple[Path, str]:
    """Runs the demo twice (before, after); returns the config path and the site's base URL."""
    with demo_site(folder, smtp_port=smtp_port, edit=edit) as demo:
        demo.must_run()
        demo.server.set_state("after")
        demo.must_run()
        return demo.config, demo.server.url
