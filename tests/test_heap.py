"""Garbage collection held back while a command starts, and given back afterwards."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from monitor import heap
from monitor.cli import main


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    heap.settle()
    gc.unfreeze()
    gc.set_threshold(*before)


def test_starting_holds_collections_back_and_started_gives_them_back_frozen() -> None:
    before = gc.get_threshold()
    heap.starting()
    assert gc.get_threshold()[0] == heap._START_THRESHOLD
    heap.starting()  # idempotent: the saved thresholds are still the original ones
    frozen = gc.get_freeze_count()
    heap.started()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() > frozen
    heap.started()  # idempotent: no second freeze
    assert gc.get_threshold() == before


def test_settle_gives_collections_back_without_freezing() -> None:
    before = gc.get_threshold()
    heap.starting()
    frozen = gc.get_freeze_count()
    heap.settle()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen


def test_a_command_run_in_process_leaves_the_collector_as_it_found_it(capsys: pytest.CaptureFixture[str]) -> None:
    before = gc.get_threshold()
    with pytest.raises(SystemExit):
        main(["--version"])
    assert gc.get_threshold() == before
    assert main(["status", "--config", "/nonexistent/config.toml"]) != 0
    assert gc.get_threshold() == before
    assert "config" in capsys.readouterr().err
