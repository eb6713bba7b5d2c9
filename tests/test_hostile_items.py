"""One bad item is one failed target, never a crashed run.

Each case gives the page ``B`` a Content API answer of a shape nobody expected (a field of the
wrong type, a lone surrogate, JSON nested 100,000 deep) while page ``A`` really changes. These
used to crash the whole run (exit 70, A's change stored but the feed never written), print
70-line tracebacks from the spider, or make B drop silently out of the run. Now: exit 0, nothing
on stderr, one clear "failed:" line for B (counted towards ``failing``), A's change reported and
in the feed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.hostile import NAMES, B, Hostile

from monitor.demo.server import Fault

DEEP = 100_000


def item(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {"base_path": B, "title": NAMES["B"], "schema_name": "publication", "details": {"body": "<p>Who received pupil data.</p>"}}
    base.update(fields)
    return base


def with_details(**details: object) -> dict[str, object]:
    return item(details={"body": "<p>Who received pupil data.</p>", **details})


BAD_ITEMS: dict[str, object] = {
    "links is a list": item(links=[{"parent": []}]),
    "links.parent is an object": item(links={"parent": {"base_path": "/government/x"}}),
    "links.documents holds a list as content_id": item(links={"documents": [{"content_id": ["x"], "title": "A"}]}),
    "redirects is an object": item(schema_name="redirect", redirects={"destination": "/x"}),
    "details is a list": item(details=["<p>x</p>"]),
    "details.attachments is a number": with_details(attachments=5),
    "details.attachments is an object": with_details(attachments={"url": "/media/x.csv"}),
    "details.parts is a number": with_details(parts=7),
    "details.body is a number": item(details={"body": 12}),
    "collection_groups documents is a number": with_details(collection_groups=[{"title": "G", "documents": 3}]),
    "collection_groups documents hold objects": with_details(collection_groups=[{"title": "G", "documents": [{"id": 1}]}]),
    "change_history is an object": with_details(change_history={"note": "x"}),
    "a statistics announcement's display_date is a number": item(schema_name="statistics_announcement", details={"display_date": 20260101, "state": "confirmed"}),
    "a consultation's final_outcome_documents is a string": item(schema_name="consultation", details={"final_outcome_documents": "<section>x</section>"}),
    "collection_groups body is a number": with_details(collection_groups=[{"title": "G", "body": 3, "documents": []}]),
    "links.manual is an object": item(schema_name="manual_section", links={"manual": {"base_path": "/guidance/x"}}),
    "an attachment url that is no address": with_details(attachments=[{"url": "http://[::1", "title": "x"}]),
    "a parent base_path with an impossible port": item(links={"parent": [{"base_path": "https://x:99999/y"}]}),
    "a lone surrogate in the title": item(title="Pupil data register \ud800"),
    "a lone surrogate in the body": item(details={"body": "<p>x \udfff</p>"}),
    "a lone surrogate in a key": item(details={"body": "<p>x</p>", "\ud800": 1}),
    "the title is a number": item(title=5),
    "base_path is not a path": item(base_path="@evil.example/x"),
    "JSON nested 100,000 deep": '{"title": "x", "base_path": "' + B + '", "details": ' + "[" * DEEP + "]" * DEEP + "}",
    "a JSON string, not an object": json.dumps("just text"),
}


@pytest.mark.parametrize("case", sorted(BAD_ITEMS))
def test_a_bad_item_fails_its_target_only_and_the_feed_is_written(hostile: Hostile, case: str) -> None:
    hostile.b_item(BAD_ITEMS[case])  # type: ignore[arg-type]
    hostile.edit_a("We also share nationality with the Home Office.")
    result = hostile.run()
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert ", 1 changed, 1 failed" in lines[0]
    failures = [line for line in lines if line.startswith("  failed: ")]
    assert len(failures) == 1 and failures[0].startswith(f"  failed: {NAMES['B']}: ") and len(failures[0]) < 400
    assert [c["name"] for c in hostile.changes()] == [NAMES["A"]]
    assert "We also share nationality with the Home Office." in hostile.feed_text
    assert hostile.target(NAMES["B"])["consecutive_failures"] == 1


def test_failures_from_bad_items_add_up_to_a_failing_entry(hostile: Hostile) -> None:
    hostile.b_item(BAD_ITEMS["JSON nested 100,000 deep"])  # type: ignore[arg-type]
    for _ in range(3):
        hostile.run()
    assert [(c["kind"], c["name"]) for c in hostile.changes()] == [("failing", NAMES["B"])]
    assert "nested" in hostile.target(NAMES["B"])["last_error"]


BAD_SEARCHES: dict[str, str] = {
    "a lone surrogate in a title": json.dumps({"results": [{"title": "New \ud800", "link": "/government/publications/new"}], "total": 1}),
    "a lone surrogate in a link": json.dumps({"results": [{"title": "New", "link": "/government/publications/new\udc00"}], "total": 1}),
    "results is an object": json.dumps({"results": {"link": "/x"}, "total": 1}),
    "a title that is a list": json.dumps({"results": [{"title": ["x"], "link": "/government/publications/new"}], "total": 1}),
    "nested 100,000 deep": '{"results": ' + "[" * DEEP + "]" * DEEP + "}",
}


@pytest.mark.parametrize("case", sorted(BAD_SEARCHES))
def test_a_bad_search_answer_never_stops_the_run(hostile: Hostile, case: str) -> None:
    hostile.write_config(discover=[{"query": "pupil data", "max_results": 10}])
    hostile.state.search([])
    hostile.run()
    hostile.fault("/api/search.json", Fault(kind="body", body=BAD_SEARCHES[case].encode("utf-8", "surrogatepass"), content_type="application/json"))
    hostile.edit_a("We also share nationality with the Home Office.")
    result = hostile.run()
    assert result.stderr == ""
    assert ", 1 changed, 0 failed" in result.stdout.splitlines()[0]
    assert "We also share nationality with the Home Office." in hostile.feed_text
    assert not [c for c in hostile.changes() if c["kind"] == "new" and "\\ud" in json.dumps(c)]


def test_an_unforeseen_error_in_one_target_fails_that_target_and_the_feed_is_still_written(hostile: Hostile, monkeypatch: pytest.MonkeyPatch) -> None:
    """The net under the document stage: whatever a target's processing raises (a bug, a case
    no shape check foresaw) fails that target with one line, never the run."""
    import monitor.record.versions as versions

    real = versions.assemble

    def assemble(ctx, *args, **kwargs):  # type: ignore[no-untyped-def]
        if ctx.target_url.endswith(B):
            raise RecursionError("maximum recursion depth exceeded")
        return real(ctx, *args, **kwargs)

    monkeypatch.setattr(versions, "assemble", assemble)
    hostile.b_normal(body="<p>Changed.</p>")
    hostile.edit_a("We also share nationality with the Home Office.")
    result = hostile.run()
    assert result.stderr == ""
    assert ", 1 changed, 1 failed" in result.stdout.splitlines()[0]
    assert f"  failed: {NAMES['B']}: internal error while reading this target (RecursionError: maximum recursion depth exceeded)" in result.stdout
    assert "We also share nationality with the Home Office." in hostile.feed_text
    assert hostile.target(NAMES["B"])["consecutive_failures"] == 1


def test_an_unforeseen_error_in_discovery_does_not_stop_the_targets_or_the_feed(hostile: Hostile, monkeypatch: pytest.MonkeyPatch) -> None:
    import monitor.record.discovery as discovery

    def discover_new(*args: object, **kwargs: object) -> None:
        raise KeyError("results")

    monkeypatch.setattr(discovery, "discover_new", discover_new)
    hostile.write_config(discover=[{"query": "pupil data", "max_results": 10}])
    hostile.state.search([])
    hostile.edit_a("We also share nationality with the Home Office.")
    result = hostile.run()
    assert ", 1 changed, 0 failed" in result.stdout.splitlines()[0]
    assert "discovery failed (internal error: KeyError: 'results')" in result.stderr and result.stderr.count("\n") == 1
    assert "We also share nationality with the Home Office." in hostile.feed_text


def test_in_a_real_crawl_bad_items_print_no_traceback_and_no_target_drops_out(tmp_path: Path) -> None:
    """Scrapy itself (a child process): a callback that raised used to print a 70-line traceback
    and leave the target out of the run, uncounted. Several bad items at once."""
    from support.faults import REGISTER, TARGETS, scenario

    with scenario(tmp_path) as s:
        s.run()
        s.site.state("before").write(f"api/content{REGISTER}.json", BAD_ITEMS["JSON nested 100,000 deep"])  # type: ignore[arg-type]
        result = s.run()
        lines = result.stdout.splitlines()
        assert result.stderr == ""
        assert lines[0].startswith(f"run 2 partial: {len(TARGETS)} targets checked") and ", 1 failed" in lines[0]
        assert [line for line in lines if line.startswith("  failed: ")] == ["  failed: Pupil data register: the Content API answer is nested too deeply (more than 32 levels)"]
