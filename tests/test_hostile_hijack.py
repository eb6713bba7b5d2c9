"""Target hijack: a redirect (or moved) item never moves a target off the site.

A Content API item with ``schema_name: redirect`` names where the page went; an API answer that
was itself redirected names it by its ``base_path``. Both used to be glued onto
``govuk.base_url`` as strings, so ``https://www.gov.uk@evil.example/x`` (or a ``base_path`` of
``@evil.example/x``) became the target's fetch URL for good: every later run was refused, the
real page was never asked again (a silent edit went unseen, with no ``failing`` entry), and the
feed linked to the attacker's host. Now a destination is parsed, must name a page of
``govuk.base_url``'s site on an allowed host, and anything else is a failed check of that target.
"""

from __future__ import annotations

import json

import pytest
from support.hostile import NAMES, B, Hostile

from monitor.demo.server import Fault
from monitor.document.assemble import FetchView, TargetContext, assemble
from monitor.model import FetchRole, OutcomeKind

HIJACKS = {
    "userinfo": "{base}@evil.example/government/x",
    "scheme-relative": "//evil.example/government/x",
    "other host": "https://evil.example/government/x",
    "backslash": "/\\evil.example/government/x",
    "no slash": "evil.example/government/x",
    "javascript": "javascript:alert(1)",
}


def redirect_item(destination: str) -> dict[str, object]:
    return {"base_path": B, "schema_name": "redirect", "document_type": "redirect", "redirects": [{"path": B, "type": "exact", "destination": destination}]}


@pytest.mark.parametrize("kind", sorted(HIJACKS))
def test_a_redirect_item_off_the_site_is_a_failed_check_never_a_move(hostile: Hostile, kind: str) -> None:
    destination = HIJACKS[kind].format(base=hostile.base)
    hostile.b_item(redirect_item(destination))
    before = hostile.target(NAMES["B"])
    result = hostile.run()
    assert ", 1 failed" in result.stdout.splitlines()[0]
    assert "not on the site" in result.stdout
    after = hostile.target(NAMES["B"])
    assert after["fetch_url"] == before["fetch_url"] == f"{hostile.base}{B}"
    assert after["consecutive_failures"] == 1 and "not on the site" in after["last_error"]
    assert not [c for c in hostile.changes() if c["kind"] == "moved"]
    assert not [link for link in hostile.feed_links() if "evil.example" in link]


def test_a_hijack_counts_towards_failing_and_the_real_page_is_still_asked(hostile: Hostile) -> None:
    hostile.b_item(redirect_item(f"{hostile.base}@evil.example/government/x"))
    for _ in range(3):
        hostile.run()
    kinds = [(c["kind"], c["name"]) for c in hostile.changes()]
    assert kinds == [("failing", NAMES["B"])]
    # the upstream is fixed, with a silent edit: asked at its real address, and reported
    hostile.b_normal(body="<p>Who received pupil data, and the Home Office.</p>")
    asked = len(hostile.server.requests)
    hostile.run()
    assert f"/api/content{B}" in [r.path for r in hostile.server.requests[asked:]]
    assert [c["kind"] for c in hostile.changes()] == ["failing", "recovered", "changed"]
    assert not [link for link in hostile.feed_links() if "evil.example" in link]


def test_an_api_answer_redirected_to_an_item_whose_base_path_is_not_a_path_is_refused(hostile: Hostile) -> None:
    hostile.state.item("/hijack", title=NAMES["B"], body="<p>Who received pupil data.</p>")
    item_file = hostile.state.root / "api/content/hijack.json"
    item_file.write_text(item_file.read_text().replace('"base_path": "/hijack"', '"base_path": "@evil.example/government/x"'))
    hostile.fault(f"/api/content{B}", Fault(kind="redirect", location="/api/content/hijack"))
    result = hostile.run()
    assert ", 1 failed" in result.stdout.splitlines()[0]
    assert hostile.target(NAMES["B"])["fetch_url"] == f"{hostile.base}{B}"
    assert not [link for link in hostile.feed_links() if "evil.example" in link]


def test_a_real_move_on_the_site_is_still_followed(hostile: Hostile) -> None:
    hostile.b_item(redirect_item("/government/publications/pupil-data-register-2026"))
    hostile.run()
    assert hostile.target(NAMES["B"])["fetch_url"] == f"{hostile.base}/government/publications/pupil-data-register-2026"
    assert [c["kind"] for c in hostile.changes()] == ["moved"]


def test_a_target_already_hijacked_in_the_database_is_asked_at_its_own_address(hostile: Hostile) -> None:
    """A database written before the fix may hold a hijacked fetch URL: the real page is asked."""
    hostile.sql_write("UPDATE targets SET fetch_url = ? WHERE name = ?", f"{hostile.base}@evil.example{B}", NAMES["B"])
    hostile.b_normal(body="<p>Who received pupil data, and the police.</p>")
    asked = len(hostile.server.requests)
    result = hostile.run()
    assert ", 0 failed" in result.stdout.splitlines()[0]
    assert f"/api/content{B}" in [r.path for r in hostile.server.requests[asked:]]
    assert [c["kind"] for c in hostile.changes()] == ["changed"]


def test_assemble_parses_the_destination_rather_than_matching_strings() -> None:
    ctx = TargetContext(target_url="https://www.gov.uk/a", fetch_url="https://www.gov.uk/a", base_url="https://www.gov.uk", allowed_hosts=("www.gov.uk",))
    api = FetchView(role=FetchRole.API, url="https://www.gov.uk/api/content/a", final_url=None, status=200, error=None, sha256="x")
    for destination, moved_to in (
        ("https://www.gov.uk@evil.example/x", None),
        ("https://www.gov.uk.evil.example/x", None),
        ("https://www.gov.uk:8443/x", None),
        ("http://www.gov.uk/x", None),
        ("/x?a=1#part", "https://www.gov.uk/x?a=1"),
        ("https://WWW.GOV.UK/y", "https://www.gov.uk/y"),
    ):
        body = json.dumps(redirect_item(destination)).encode()
        outcome = assemble(ctx, [api], lambda _sha, body=body: body, lambda _url: None, None)
        if moved_to is None:
            assert outcome.kind == OutcomeKind.FAILED and "not on the site" in (outcome.error or ""), destination
        else:
            assert (outcome.kind, outcome.moved_to) == (OutcomeKind.MOVED, moved_to), destination
