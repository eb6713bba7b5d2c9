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


def test_settle_gives_back_what_started_froze() -> None:
    heap.starting()
    heap.started()
    assert gc.get_freeze_count() > 0
    heap.settle()
    assert gc.get_freeze_count() == 0
    heap.settle()  # idempotent
    assert gc.get_freeze_count() == 0


def test_a_long_command_collects_normally_once_set_up_and_leaves_nothing_frozen(tmp_path, monkeypatch) -> None:
    """``export`` can run long: once it has its configuration, collections are back to normal,
    with start-up frozen; afterwards nothing stays frozen for a caller in the same process."""
    from monitor.config import load_config
    from monitor.demo import write_demo_config
    from monitor.record.connect import open_database
    from monitor.research import export as export_module

    config = write_demo_config(tmp_path, "http://127.0.0.1:9")
    open_database(load_config(config)).dispose()  # an empty database to export from
    seen: list[tuple[tuple[int, int, int], int]] = []

    def fake_export(*args: object, **kwargs: object) -> int:
        seen.append((gc.get_threshold(), gc.get_freeze_count()))
        return 0

    monkeypatch.setattr(export_module, "export", fake_export)
    before = gc.get_threshold()
    assert main(["export", "--format", "csv", "--output", str(tmp_path / "out.csv"), "--config", str(config)]) == 0
    assert seen == [(before, seen[0][1])] and seen[0][1] > 0
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
