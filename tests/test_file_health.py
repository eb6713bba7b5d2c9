"""Files are confirmed gone the way pages are, and real items' files are fetched and compared
through whole runs (tests/support/inprocess.py) against real GOV.UK items served locally.

* a listed file that fails once (404, or a 500 after retries) is a failed fetch: recorded, shown
  by ``status`` as the target's last error, never reported; the next good answer reports nothing;
* ``health.gone_after`` 404s in a row report "file link broken" once, and a good answer after
  that "file link working again";
* a CSV listed in legacy markup is fetched at its own address (never its preview page), and its
  replacement is compared row by row;
* a republish (new ``updated_at``, ``publishing_request_id``, reshuffled ``links``) reports nothing.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from govuk_items import load, localised
from support.inprocess import in_process_crawls, run_cli
from support.sitebuilder import Site, config_text, read_changes

from monitor.config import load_config
from monitor.demo.server import Fault, FixtureServer
from monitor.record.status import print_status

PUBLICATION = "/government/publications/number-of-ex-regular-service-personnel-in-fr20"
PDF = "/government/uploads/system/uploads/attachment_data/file/315163/PUBLIC_1392629965.pdf"
DATA_SET = "/government/statistical-data-sets/mot-testing-data-for-great-britain"
CSV_DIR = "/government/uploads/system/uploads/attachment_data/file"
CSV = f"{CSV_DIR}/479486/dvsa-mot-01-mot-test-results-by-class-of-vehicle.csv"


@pytest.fixture(autouse=True)
def _runs_in_this_process(monkeypatch):
    with in_process_crawls(monkeypatch):
        yield


def serve_item(state, name: str) -> dict:
    item = load(name)
    item["updated_at"] = "{{now}}"
    item["publishing_request_id"] = "{{request_id}}"
    state.write(f"api/content{item['base_path']}.json", localised(item))
    return item


def csv_files(state, extra_row: str = "") -> None:
    for href in json.dumps(load("statistical_data_set/statistical_data_set_with_csv")).split('href=\\"'):
        path = href.split('\\"', 1)[0]
        if path.endswith(".csv"):
            state.file(path, f"Reference,Vehicle class,Tests\nR1,Class 4,100\n{extra_row}".encode())


@pytest.fixture
def site(tmp_path):
    site = Site(tmp_path / "site")
    before = site.state("before")
    before.robots()
    serve_item(before, "publication/publication-with-featured-attachments")
    before.file(PDF, b"%PDF-1.4 not really a PDF, compared by hash\n")
    serve_item(before, "statistical_data_set/statistical_data_set_with_csv")
    csv_files(before)
    after = site.copy_state("before", "after")
    csv_files(after, extra_row="HO1,Home Office vehicles,7\n")
    with FixtureServer(site.root) as server:
        config = tmp_path / "config.toml"
        config.write_text(config_text(server.url, [("FR20 personnel", PUBLICATION, "other"), ("MOT data", DATA_SET, "other")], extra="[alerts]\nterms = [\"Home Office\"]\n[health]\ngone_after = 2\n"))
        yield server, config


def run(config: Path) -> str:
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[0]


def status(config: Path) -> str:
    out = io.StringIO()
    print_status(load_config(config), out=out)
    return out.getvalue()


def test_a_file_that_fails_once_is_a_failed_fetch_not_a_change(site):
    server, config = site
    run(config)
    server.add_fault(PDF, Fault(kind="status", status=404, times=1))
    assert "0 changed" in run(config)
    assert read_changes(config) == []
    assert f"FR20 personnel: ok: the file {server.url}{PDF} answers 404 (1 of 2 checks in a row before it is reported missing)" in status(config)
    server.add_fault(PDF, Fault(kind="status", status=500, times=2))  # a 500 is retried once
    run(config)
    assert read_changes(config) == []
    assert f"FR20 personnel: ok: the file {server.url}{PDF} could not be fetched (download: HTTP 500" in status(config)
    run(config)
    assert read_changes(config) == []
    assert "FR20 personnel: ok:" not in status(config)


def test_a_file_gone_on_two_runs_in_a_row_is_reported_once_and_its_return_once(site):
    server, config = site
    run(config)
    server.add_fault(PDF, Fault(kind="status", status=404, times=2))
    run(config)
    assert read_changes(config) == []
    run(config)
    [broken] = read_changes(config)
    assert broken["title"] == "FR20 personnel — file link broken: Number of ex-regular service personnel now part of FR20, no change note"
    run(config)
    assert [c["title"] for c in read_changes(config)][1:] == ["FR20 personnel — file link working again: Number of ex-regular service personnel now part of FR20, no change note"]
    run(config)
    assert len(read_changes(config)) == 2


def test_a_csv_in_legacy_markup_is_fetched_at_its_own_address_and_compared_row_by_row(site):
    server, config = site
    run(config)
    assert not [r.path for r in server.requests if r.path.endswith("/preview")]
    assert any(r.path == CSV for r in server.requests)
    server.set_state("after")
    run(config)
    changes = read_changes(config)
    assert [c["title"] for c in changes] == [
        "MOT data — file replaced: MOT test results by class of vehicle (1 row added); and 6 more changes, no change note"
    ]
    assert changes[0]["silent_edit"] is True and changes[0]["priority"] == "high" and changes[0]["terms"] == ["Home Office"]
    assert len(changes[0]["title"]) <= 120
    assert not [r.path for r in server.requests if r.path.endswith("/preview")]


def test_a_republish_reports_nothing(site):
    server, config = site
    run(config)
    for _ in range(2):
        assert "0 changed" in run(config)
    assert read_changes(config) == []
