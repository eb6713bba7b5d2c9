"""File addresses that Scrapy re-spells are still matched with their downloads.

Scrapy percent-encodes what it is asked for (a space, non-ASCII, ``"``, ``|``), turns a backslash
into ``/`` and never sends a ``#fragment``, and stores the answer under that spelling: a file
listed as ``my file.csv`` was downloaded as ``my%20file.csv`` and then "not downloaded" on every
run, failing its page for good. Listed files and downloads are now compared in one canonical
form (``monitor.govuk.urls.canonical_url``), used by the spider, the document stage and the
stored lookups alike; an address longer than Scrapy will request is listed but not waited for;
and a target's ``last_error`` stays a few hundred characters, whatever the address.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy import Request
from support.hostile import NAMES, Hostile

from monitor.demo.server import Fault
from monitor.govuk.urls import MAX_URL_LENGTH, canonical_url, fetchable_url

# listed name -> where the fixture server finds the file (it unquotes the requested path)
RESPELLED = {
    "space": ("my file.csv", "my file.csv"),
    "non-ascii": ("café.csv", "café.csv"),
    "quote": ('a"b.csv', 'a"b.csv'),
    "pipe": ("a|b.csv", "a|b.csv"),
    "fragment": ("plain.csv#sheet=2", "plain.csv"),
    "backslash": ("sub\\inner.csv", "sub/inner.csv"),
}


def attachment(base: str, name: str, index: int) -> dict[str, object]:
    return {"attachment_type": "file", "id": f"f{index}", "title": f"Register {index}", "url": f"{base}/media/odd/{name}", "content_type": "text/csv"}


@pytest.mark.parametrize("case", sorted(RESPELLED))
def test_a_file_whose_address_scrapy_respells_is_matched_and_its_replacement_seen(hostile: Hostile, case: str) -> None:
    listed, on_disk = RESPELLED[case]
    hostile.state.file(f"/media/odd/{on_disk}", b"Reference,Requester\nDS1,University A\n")
    hostile.b_normal(attachments=[attachment(hostile.base, listed, 1)])
    result = hostile.run()
    assert ", 0 failed" in result.stdout.splitlines()[0], result.stdout
    hostile.state.file(f"/media/odd/{on_disk}", b"Reference,Requester\nDS1,University A\nDS2,Home Office\n")
    hostile.run()
    changes = hostile.changes()
    assert [c["kind"] for c in changes] == ["changed", "changed"]
    assert "Register 1" in hostile.run("show", str(changes[-1]["id"])).stdout


def test_a_file_address_longer_than_scrapy_requests_is_listed_not_waited_for(hostile: Hostile) -> None:
    name = "x" * (MAX_URL_LENGTH + 100) + ".csv"
    hostile.b_normal(attachments=[attachment(hostile.base, name, 1)])
    result = hostile.run()
    assert ", 0 failed" in result.stdout.splitlines()[0], result.stdout
    assert not [r for r in hostile.server.requests if len(r.path) > MAX_URL_LENGTH]


def test_last_error_stays_short_whatever_the_address(hostile: Hostile) -> None:
    name = "y" * 2000 + ".csv"
    hostile.b_normal(attachments=[attachment(hostile.base, name, 1)])
    hostile.fault(f"/media/odd/{name}", Fault(kind="status", status=500))
    result = hostile.run()
    failure = next(line for line in result.stdout.splitlines() if line.startswith("  failed: "))
    assert len(failure) < 400 and "could not be fetched" in failure
    assert len(hostile.target(NAMES["B"])["last_error"]) <= 300


def test_in_a_real_crawl_respelled_file_addresses_are_matched(tmp_path: Path) -> None:
    """Scrapy itself (a child process), with every re-spelling at once."""
    from support.faults import REGISTER, scenario
    from support.sitebuilder import attachment as site_attachment

    with scenario(tmp_path) as s:
        state = s.site.state("before")
        files = []
        for index, (listed, on_disk) in enumerate(RESPELLED.values()):
            state.file(f"/media/odd/{on_disk}", f"Reference\nDS{index}\n".encode())
            files.append({**site_attachment(f"f{index}", "x.csv", f"File {index}", 10, "text/csv"), "url": f"{{{{base}}}}/media/odd/{listed}"})
        state.item(REGISTER, title="Pupil data register", attachments=files)
        result = s.run()
        assert ", 0 failed" in result.stdout.splitlines()[0], result.stdout
        assert s.run().stdout.splitlines()[0].startswith("run 2 completed: 3 targets checked, 3 unchanged")


URL_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)


@settings(max_examples=200, deadline=None)
@given(path=URL_TEXT, query=URL_TEXT, fragment=URL_TEXT)
def test_canonical_urls_are_what_scrapy_requests_and_answers_under(path: str, query: str, fragment: str) -> None:
    url = f"https://assets.publishing.service.gov.uk/media/{path}?{query}#{fragment}"
    canonical = canonical_url(url)
    assert canonical_url(canonical) == canonical
    requested = Request(canonical).url
    assert requested.split("#", 1)[0] == canonical
    assert fetchable_url(url, ("assets.publishing.service.gov.uk",)) in (canonical, None)

