"""A careless operator's configuration: every finding of the review, through the command line.

Each was once accepted and then hung, exhausted memory or crashed mid-run; monitor/config now
refuses each before anything is opened: exit 2, one line naming the file, line and key, nothing
on stdout, no database created. (The parsing itself is tested in tests/test_config*.py; this
sweep holds the review's list, and the caps added with it, to that promise.)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from support.inprocess import run_cli

TARGET = '[[targets]]\nname = "Privacy notice"\nurl = "https://www.gov.uk/government/publications/privacy-notice"\n'

FINDINGS = {
    "retries of 2**63-1": ("[fetch]\nretries = 9223372036854775807\n", "[fetch] retries: must be at most 10"),
    "timeout nan": ("[fetch]\ntimeout_seconds = nan\n", "[fetch] timeout_seconds: must be a finite number"),
    "timeout inf": ("[fetch]\ntimeout_seconds = inf\n", "[fetch] timeout_seconds: must be a finite number"),
    "extract timeout inf": ("[extract]\ntimeout_seconds = inf\n", "[extract] timeout_seconds: must be a finite number"),
    "base_url with a query": ('[govuk]\nbase_url = "https://www.gov.uk/?x=1"\n', "[govuk] base_url: must be a site address without a query or fragment"),
    "base_url with a fragment": ('[govuk]\nbase_url = "https://www.gov.uk/#top"\n', "[govuk] base_url: must be a site address without a query or fragment"),
    "base_url with a user name": ('[govuk]\nbase_url = "https://www.gov.uk@evil.example/"\n', "[govuk] base_url: must not contain a user name or password"),
    "a database that is a folder": ('[storage]\ndatabase = "data"\n', "[storage] database: 'data' is a folder"),
    "body_blocks over its maximum": ("[limits]\nbody_blocks = 1000001\n", "[limits] body_blocks: must be at most 1000000"),
    "attachments of 0": ("[limits]\nattachments = 0\n", "[limits] attachments: must be at least 1"),
    "diff_work as a float": ("[limits]\ndiff_work = 1e12\n", "[limits] diff_work: expected a whole number"),
    "new_targets over the Search API's page": ("[limits]\nnew_targets = 1501\n", "[limits] new_targets: must be at most 1500"),
}


@pytest.mark.parametrize("finding", sorted(FINDINGS))
def test_each_configuration_finding_is_one_line_exit_2_and_touches_nothing(tmp_path: Path, finding: str) -> None:
    text, expected = FINDINGS[finding]
    (tmp_path / "data").mkdir()
    config = tmp_path / "config.toml"
    config.write_text(text + TARGET)
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 2, result
    assert result.stdout == "" and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"dfe-monitor: {config}:") and expected in result.stderr, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml", "data"] and not any((tmp_path / "data").iterdir())


def test_a_postgresql_url_without_its_driver_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whether or not psycopg is installed here: its import is made to fail."""
    monkeypatch.setitem(sys.modules, "psycopg", None)
    config = tmp_path / "config.toml"
    config.write_text('[storage]\ndatabase = "postgresql+psycopg://monitor@db.internal/monitor"\n' + TARGET)
    result = run_cli("status", "--config", str(config))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "[storage] database: the driver for 'postgresql+psycopg' is not installed; install it with `pip install psycopg[binary]`" in result.stderr


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "folder"])
def test_config_that_is_not_a_regular_file_is_refused_at_once(tmp_path: Path, kind: str) -> None:
    if kind == "dev-zero":
        path = Path("/dev/zero")
    elif kind == "fifo":
        path = tmp_path / "config.toml"
        os.mkfifo(path)
    else:
        path = tmp_path
    result = run_cli("run", "--config", str(path))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "not a configuration file" in result.stderr
