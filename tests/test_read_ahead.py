"""A run's new files are read several at a time before processing, with the same results.

monitor/record/ahead.py reads every new file whose bytes prove their format (PDF, OOXML/ODF,
Word) in parallel and fills the extractions cache; processing then reads from the cache. These
tests check the overlap really happens, that text files are left to processing (their page's
claims decide CSV or text), and that a run with read-ahead stores exactly what a serial run does.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.inprocess import in_process_crawls, run_cli
from support.sitebuilder import Site, attachment, config_text

from monitor.demo.server import FixtureServer
from monitor.document.files.extract import EXTRACTOR_VERSION, extract_file_in_process
from monitor.document.files.safety import Limits
from monitor.errors import RunStopped
from monitor.model import FileContent
from monitor.record import ahead
from storage import repo
from storage.db import Database

FILES = Path(__file__).parent / "fixtures" / "files"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
A = "/government/publications/school-census-guide"
B = "/government/publications/pupil-data-register"
NOTES = [("2026-01-10T09:30:00.000+00:00", "First published.")]


def pdf(n: int) -> bytes:
    """Distinct PDF bytes (a comment after the end still reads as the same PDF)."""
    return (FILES / "census-guide-before.pdf").read_bytes() + f"\n% copy {n}\n".encode()


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'monitor.db'}")
    database.setup()
    yield database
    database.dispose()


def store(db: Database, blobs: list[bytes]) -> list[str]:
    with db.write() as session:
        return [repo.put_blob(session, data, NOW) for data in blobs]


class Recorder:
    """An extractor that notes how many calls overlap, and can fail for chosen bytes."""

    def __init__(self, fail: dict[bytes, BaseException] | None = None) -> None:
        self.calls: list[bytes] = []
        self.active = self.most = 0
        self.lock = threading.Lock()
        self.fail = fail or {}

    def __call__(self, data: bytes, *, content_type, filename, limits) -> FileContent:
        with self.lock:
            self.calls.append(data)
            self.active += 1
            self.most = max(self.most, self.active)
        try:
            time.sleep(0.2)  # long enough for the other readers to start
            if data in self.fail:
                raise self.fail[data]
            return extract_file_in_process(data, content_type=content_type, filename=filename, limits=limits)
        finally:
            with self.lock:
                self.active -= 1


def extraction_count(db: Database, shas: list[str]) -> int:
    with db.read() as session:
        return len(shas) - len(repo.shas_without_extraction(session, shas, EXTRACTOR_VERSION))


def test_files_are_read_side_by_side_and_cached(db):
    csv = (FILES / "register-before.csv").read_bytes()
    blobs = [pdf(n) for n in range(4)] + [(FILES / "register-before.xlsx").read_bytes(), csv]
    shas = store(db, blobs)
    recorder = Recorder()
    read = ahead.read_ahead(db, shas + shas[:2], recorder, Limits(), NOW, workers=2)
    assert read == 5  # four PDFs and the workbook; each sha once
    assert recorder.most == 2  # two at a time, never more
    assert csv not in recorder.calls  # text is left to processing, which knows the page's claims
    assert extraction_count(db, shas) == 5
    # a second pass finds everything read already
    assert ahead.read_ahead(db, shas, recorder, Limits(), NOW, workers=2) == 0
    assert len(recorder.calls) == 5


def test_one_worker_leaves_everything_to_processing(db):
    shas = store(db, [pdf(n) for n in range(3)])
    recorder = Recorder()
    assert ahead.read_ahead(db, shas, recorder, Limits(), NOW, workers=1) == 0
    assert recorder.calls == [] and extraction_count(db, shas) == 0


def test_a_reader_that_breaks_is_left_for_processing_and_the_others_are_kept(db):
    blobs = [pdf(n) for n in range(3)]
    shas = store(db, blobs)
    recorder = Recorder(fail={blobs[1]: ValueError("parser bug")})
    assert ahead.read_ahead(db, shas, recorder, Limits(), NOW, workers=2) == 2
    with db.read() as session:
        assert repo.shas_without_extraction(session, shas, EXTRACTOR_VERSION) == [shas[1]]


def test_a_stop_while_reading_ahead_stops_the_run(db):
    blobs = [pdf(n) for n in range(3)]
    shas = store(db, blobs)
    recorder = Recorder(fail={blobs[0]: RunStopped("the run was stopped while reading a file")})
    with pytest.raises(RunStopped):
        ahead.read_ahead(db, shas, recorder, Limits(), NOW, workers=2)


def test_readers_follow_the_cores_within_the_cap(monkeypatch):
    monkeypatch.setattr(ahead.os, "cpu_count", lambda: 64)
    assert ahead.readers() == ahead.MAX_READERS
    monkeypatch.setattr(ahead.os, "cpu_count", lambda: None)
    assert ahead.readers() == 1


def research_rows(path: Path) -> dict[str, list[tuple]]:
    con = sqlite3.connect(path)
    try:
        return {
            "extractions": con.execute("SELECT sha256, format, error, content_sha256 FROM extractions ORDER BY sha256").fetchall(),
            "file_texts": con.execute("SELECT sha256, position, part, section, text FROM file_texts ORDER BY sha256, position").fetchall(),
            "register_rows": con.execute("SELECT substr(file_url, instr(file_url, '/media/')), sheet, row_key, column_name, value FROM register_rows ORDER BY id").fetchall(),
            "changes": con.execute("SELECT kind, summary FROM changes ORDER BY id").fetchall(),
        }
    finally:
        con.close()


def run_site(folder: Path, monkeypatch, workers: int) -> dict[str, list[tuple]]:
    site = Site(folder / "site")
    before = site.state("before")
    before.robots()
    guides = [attachment(f"g{n}", f"guide-{n}.pdf", f"Guide part {n}", 3000, "application/pdf") for n in range(3)]
    before.item(A, title="School census guide", body="<p>Guide.</p>", change_history=NOTES, attachments=guides, volatile=False)
    for n in range(3):
        before.file(f"media/g{n}/guide-{n}.pdf", pdf(n))
    registers = [attachment("r1", "register.ods", "Register", 30, "application/vnd.oasis.opendocument.spreadsheet"), attachment("r2", "register.csv", "Register CSV", 30, "text/csv")]
    before.item(B, title="Pupil data register", body="<p>Shares.</p>", change_history=NOTES, attachments=registers, volatile=False)
    before.file("media/r1/register.ods", (FILES / "register-before.ods").read_bytes())
    before.file("media/r2/register.csv", (FILES / "register-before.csv").read_bytes())
    monkeypatch.setattr("monitor.record.ahead.readers", lambda: workers)
    calls: list[str] = []
    real = ahead.read_ahead

    def counted(*args, **kwargs):
        read = real(*args, **kwargs)
        calls.append(f"{kwargs['workers']}:{read}")
        return read

    monkeypatch.setattr("monitor.record.versions.read_ahead", counted)
    with FixtureServer(site.root, "before") as server, in_process_crawls(monkeypatch):
        config = folder / "config.toml"
        config.write_text(config_text(server.url, [("Guide", A, "census-guidance"), ("Register", B, "release-register")]))
        result = run_cli("run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert calls == [f"{workers}:{4 if workers > 1 else 0}"]  # three PDFs and the workbook; the CSV is read while processing
    return research_rows(folder / "monitor.db")


def test_a_run_stores_the_same_whether_files_are_read_ahead_or_not(tmp_path, monkeypatch):
    serial = run_site(tmp_path / "serial", monkeypatch, 1)
    parallel = run_site(tmp_path / "parallel", monkeypatch, 3)
    assert len(serial["extractions"]) == 5 and all(error is None for _, _, error, _ in serial["extractions"])
    assert serial["file_texts"] and serial["register_rows"]
    assert parallel == serial
