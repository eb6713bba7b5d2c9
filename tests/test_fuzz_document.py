"""Fuzzing the document stage with hostile answers (tests/support/fuzz.py).

Whatever a Content API answer, a search answer or a page holds, the document stage either reads
it or says why not — an ``ExtractionError``, or an ``Outcome`` of kind failed — and never raises
anything else; what it reads can always be stored (no lone surrogate) and moves a target only to
a page of the site. Each example is bounded in time (the profile's ``deadline``). CI runs 200
examples per test; ``bench/fuzz.py`` runs thousands.
"""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from support.fuzz import ALLOWED, BASE, BODIES, FUZZ, ITEM, PAGES, PATH, SEARCH_BODIES

from monitor.document.assemble import FetchView, TargetContext, assemble
from monitor.document.content_item import document_from_item
from monitor.errors import ExtractionError
from monitor.govuk.items import load_item
from monitor.govuk.search import read_search_page
from monitor.govuk.urls import MAX_URL_LENGTH, has_bad_url_chars, path_under
from monitor.limits import PageLimits
from monitor.model import Document, FetchRole, OutcomeKind

CTX = TargetContext(target_url=f"{BASE}{PATH}", fetch_url=f"{BASE}{PATH}", base_url=BASE, allowed_hosts=ALLOWED, limits=PageLimits(body_blocks=500, attachments=20))


def storable(document: Document) -> None:
    document.to_json().encode("utf-8")  # a lone surrogate would fail here, as the database would


def read(body: bytes) -> Document | None:
    """load_item and document_from_item as the document stage chains them."""
    try:
        item = load_item(body)
    except ExtractionError:
        return None
    return document_from_item(item, f"{BASE}{PATH}", base_url=BASE)


@FUZZ
@given(body=BODIES)
def test_load_item_then_document_from_item_raise_nothing_but_extraction_errors(body: bytes) -> None:
    document = read(body)
    if document is not None:
        storable(document)


@FUZZ
@given(item=ITEM, parent=ITEM)
def test_document_from_item_reads_any_item_load_item_accepts(item: dict[str, Any], parent: dict[str, Any]) -> None:
    import json

    try:
        loaded = load_item(json.dumps(item).encode())
        parent_loaded = load_item(json.dumps(parent).encode())
    except ExtractionError:
        return
    storable(document_from_item(loaded, f"{BASE}{PATH}", parent=parent_loaded, base_url=BASE))


def fetch(role: FetchRole, sha: str, url: str, *, redirects: tuple[str, ...] = ()) -> FetchView:
    return FetchView(role=role, url=url, final_url=url, status=200, error=None, sha256=sha, redirects=redirects)


@FUZZ
@given(body=BODIES, parent=BODIES, redirected=ITEM.map(lambda _: True) | ITEM.map(lambda _: False))
def test_assemble_gives_an_outcome_for_any_content_api_answer(body: bytes, parent: bytes, redirected: bool) -> None:
    bodies = {"api": body, "parent": parent}
    fetches = [fetch(FetchRole.API, "api", f"{BASE}/api/content{PATH}", redirects=(f"{BASE}/api/content/old",) if redirected else ())]
    outcome = assemble(CTX, fetches, bodies.__getitem__, lambda _url: parent, None)
    check_outcome(outcome)


@FUZZ
@given(page=PAGES)
@example(page=b"<main><b class=gem-c-attachment><a href=a://[>")  # found by this test: urljoin raised
def test_assemble_gives_an_outcome_for_any_page(page: bytes) -> None:
    ctx = TargetContext(target_url="https://assets.publishing.service.gov.uk/page", fetch_url="https://assets.publishing.service.gov.uk/page", base_url=BASE, allowed_hosts=ALLOWED, limits=CTX.limits)
    outcome = assemble(ctx, [fetch(FetchRole.PAGE, "page", ctx.fetch_url)], {"page": page}.__getitem__, lambda _url: None, None)
    check_outcome(outcome)


def check_outcome(outcome: Any) -> None:
    assert outcome.kind in tuple(OutcomeKind)
    if outcome.kind == OutcomeKind.FAILED:
        assert outcome.error and "\n" not in outcome.error
    if outcome.document is not None:
        storable(outcome.document)
        assert len(outcome.document.blocks) <= CTX.limits.body_blocks and len(outcome.document.attachments) <= CTX.limits.attachments
    if outcome.moved_to is not None:
        assert not has_bad_url_chars(outcome.moved_to) and len(outcome.moved_to) <= MAX_URL_LENGTH
        assert path_under(outcome.moved_to, BASE) is not None or outcome.moved_to.startswith("https://assets.publishing.service.gov.uk/")


@FUZZ
@given(body=SEARCH_BODIES)
def test_read_search_page_reads_any_answer_into_plain_results_on_the_site(body: bytes) -> None:
    page = read_search_page(body, BASE, limit=5)
    if page is None:
        return
    assert page.listed <= 5
    for result in page.results:
        result.title.encode("utf-8")
        result.description.encode("utf-8")
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in result.title + result.description)
        assert result.path.startswith("/") and not has_bad_url_chars(result.path)
        assert path_under(result.url(BASE), BASE) == result.path
