"""Kept readers (monitor/document/files/readers.py): one sandboxed child serves a run's files one
after another, with the same answers, limits and failures as a child per file."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from monitor.document.files import readers
from monitor.document.files.extract import extract_file
from monitor.document.files.safety import Limits, MiB
from monitor.errors import RunStopped
from monitor.model import FileContent

FILES = Path(__file__).parent / "fixtures" / "files"
GOOD = ["census-guide-before.pdf", "register-after.xlsx", "privacy-notice-after.docx", "register-before.ods", "census-guide-after.pdf"]


def fixture(name: str) -> bytes:
    return (FILES / name).read_bytes()


def one_child_each(names: list[str], limits: Limits = Limits()) -> list[FileContent]:  # noqa: B008
    return [extract_file(fixture(name), filename=name, limits=limits) for name in names]


def test_one_reader_serves_every_file_with_the_answers_a_child_per_file_gives():
    expected = one_child_each(GOOD)
    with readers.kept_readers() as kept:
        got = [extract_file(fixture(name), filename=name) for name in GOOD]
        assert kept.started == 1
    assert got == expected and all(c.error is None for c in got)


def test_threads_reading_at_once_get_a_reader_each_and_the_same_answers():
    expected = dict(zip(GOOD, one_child_each(GOOD), strict=True))
    got: dict[str, FileContent] = {}
    with readers.kept_readers() as kept:

        def read(name: str) -> None:
            got[name] = extract_file(fixture(name), filename=name)

        threads = [threading.Thread(target=read, args=(name,)) for name in GOOD * 2]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert 1 <= kept.started <= len(threads)
    assert got == expected


@pytest.mark.parametrize(
    ("limits", "error"),
    [
        (Limits(timeout_seconds=1.5), "extraction timed out after 1.5 s"),
        (Limits(cpu_seconds=1, timeout_seconds=30), "extraction exceeded its CPU time limit (1 s)"),
        (Limits(memory_bytes=100 * MiB), "ran out of memory while reading the file"),
    ],
)
def test_a_file_over_a_limit_fails_as_it_would_alone_and_the_next_file_is_read(limits, error):
    """After clean files (the reader has CPU time on its clock and memory in use), the limits
    still apply to each file alone; the failing reader is replaced for the next file."""
    with readers.kept_readers() as kept:
        before = [extract_file(fixture(name), filename=name, limits=limits) for name in GOOD[:2]]
        started = time.monotonic()
        slow = extract_file(fixture("hostile-slow-content.pdf"), limits=limits)
        assert time.monotonic() - started < 20
        after = extract_file(fixture("census-guide-after.pdf"), limits=limits)
        assert kept.started == 2
    assert slow == FileContent(format="pdf", error=error)
    assert [c.error for c in before] == [None, None] and after.error is None


def test_a_failure_in_a_used_reader_is_read_again_by_a_child_of_its_own(monkeypatch):
    """The answer kept for a failing file never depends on what the reader read before it."""
    alone: list[str] = []

    from monitor.document.files.sandbox import run_in_child

    def counting_run_in_child(data, fmt, limits):
        alone.append(fmt)
        return run_in_child(data, fmt, limits)

    monkeypatch.setattr("monitor.document.files.readers.run_in_child", counting_run_in_child)
    with readers.kept_readers() as kept:
        assert extract_file(fixture("census-guide-before.pdf")).error is None
        cyclic = extract_file(fixture("hostile-cyclic-pages.pdf"))
        assert kept.started == 1
    assert cyclic == FileContent(format="pdf", error="could not read pdf file: PdfReadError: Detected cyclic page references.")
    assert alone == ["pdf"]


def test_a_reader_killed_by_a_stop_signal_stops_the_run():
    with readers.kept_readers() as kept:
        assert extract_file(fixture("census-guide-before.pdf")).error is None
        (reader,) = kept._idle  # noqa: SLF001 - the child to stop
        os.kill(reader.process.pid, signal.SIGTERM)
        reader.process.wait()
        with pytest.raises(RunStopped, match="SIGTERM"):
            extract_file(fixture("census-guide-after.pdf"))


def test_leaving_the_block_ends_every_reader_and_outside_it_each_file_has_its_own_child():
    with readers.kept_readers() as kept:
        extract_file(fixture("census-guide-before.pdf"))
        (reader,) = kept._idle  # noqa: SLF001
        assert readers.current() is kept
    assert reader.process.returncode == 0  # it left at the end of its input
    assert readers.current() is None
    assert extract_file(fixture("census-guide-before.pdf")).error is None
