"""From one run's stored fetches of a target to a Document (or to the reason there is none).

Pure: takes plain copies of fetch rows and a function that returns stored bodies; knows nothing
of Scrapy or SQLAlchemy. The same code re-derives history in a reprocess.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from monitor.document.content_item import document_from_item
from monitor.document.html import document_from_html_page
from monitor.errors import ExtractionError
from monitor.govuk.items import GoneItem, RedirectItem, load_item, parent_path
from monitor.govuk.pages import CONTENT_SELECTOR
from monitor.govuk.shape import markup_tags
from monitor.govuk.urls import (
    canonical_url,
    fetchable_url,
    has_bad_url_chars,
    path_under,
    site_page_url,
)
from monitor.limits import PageLimits
from monitor.model import Attachment, Document, FetchRole, OutcomeKind
from monitor.text import clip

GONE_STATUSES = (404, 410)
# Bump whenever the same stored captures would give a different Document (a change in
# extract/govuk.py, extract/html.py or here). Versions record it; the first run of new code
# re-derives the last version from its own captures first, so better extraction is never
# reported as a change to the page (a "technical" version, kept out of the feed).
NORMALISER_VERSION = 2


@dataclass(frozen=True)
class FetchView:
    """The parts of a stored fetch that assembling needs."""

    role: FetchRole
    url: str
    final_url: str | None
    status: int | None
    error: str | None
    sha256: str | None
    content_type: str | None = None
    redirects: tuple[str, ...] = ()
    fetch_id: int | None = None

    @property
    def has_body(self) -> bool:
        return self.sha256 is not None and self.error is None


@dataclass(frozen=True)
class Outcome:
    """``ok`` (document set), ``failed`` (error set), ``gone``, or ``moved`` (moved_to set)."""

    kind: OutcomeKind
    document: Document | None = None
    error: str | None = None
    moved_to: str | None = None
    # Old file URL -> where it redirects now, for files the page no longer lists.
    file_redirects: dict[str, str] = field(default_factory=dict)
    # Files listed before whose fetch failed this time (kept as they were, not yet reported).
    file_errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class TargetContext:
    target_url: str
    fetch_url: str
    base_url: str
    allowed_hosts: tuple[str, ...]
    selector: str = CONTENT_SELECTOR
    gone_after: int = 2  # health.gone_after: 404/410 answers in a row before a file is missing
    limits: PageLimits = PageLimits()


# How many checks in a row (this one included) a file's URL has answered 404/410, from the fetch
# log; checks where it could not be fetched at all neither count nor break the run of answers.
GoneStreak = Callable[[str], int]


def assemble(
    ctx: TargetContext,
    fetches: Sequence[FetchView],
    body_of: Callable[[str], bytes],
    stored_body_of_url: Callable[[str], bytes | None],
    previous: Document | None,
    gone_streak: GoneStreak | None = None,
) -> Outcome:
    api = _first(fetches, FetchRole.API)
    page = _first(fetches, FetchRole.PAGE)
    try:
        if api is not None and api.has_body:
            outcome = _from_api(ctx, api, fetches, body_of, stored_body_of_url)
        elif api is not None and api.status == 410:
            return Outcome(OutcomeKind.GONE, error="the Content API answers 410 Gone")
        elif api is not None and api.status == 404 and page is None:
            return Outcome(OutcomeKind.FAILED, error="the Content API answers 404 and the page was not fetched")
        elif api is not None and api.status != 404:
            return Outcome(OutcomeKind.FAILED, error=_error_of(api, "Content API"))
        elif page is not None and page.has_body:
            outcome = _from_page(ctx, page, body_of)
        elif page is not None and page.status in GONE_STATUSES:
            return Outcome(OutcomeKind.GONE, error=f"the page answers {page.status}")
        elif page is not None:
            return Outcome(OutcomeKind.FAILED, error=_error_of(page, "page"))
        else:
            return Outcome(OutcomeKind.FAILED, error="nothing was fetched for this target")
    except GoneItem as exc:
        return Outcome(OutcomeKind.GONE, error=str(exc))
    except RedirectItem as exc:
        destination = site_page_url(exc.destination, ctx.base_url, ctx.allowed_hosts)
        if destination is None:
            return Outcome(OutcomeKind.FAILED, error=f"the Content API item redirects to {clip(exc.destination, 200)!r}, which is not on the site {ctx.base_url}; not followed")
        return Outcome(OutcomeKind.MOVED, moved_to=destination, error=str(exc))
    except ExtractionError as exc:
        return Outcome(OutcomeKind.FAILED, error=str(exc))
    if outcome.kind != OutcomeKind.OK or outcome.document is None:
        return outcome
    return _with_attachments(ctx, outcome, fetches, previous, gone_streak)


def _first(fetches: Sequence[FetchView], role: FetchRole) -> FetchView | None:
    for fetch in fetches:
        if fetch.role == role:
            return fetch
    return None


def _error_of(fetch: FetchView, what: str) -> str:
    if fetch.error:
        return f"{what}: {fetch.error}"
    return f"{what}: HTTP {fetch.status}"


def _from_api(ctx: TargetContext, api: FetchView, fetches: Sequence[FetchView], body_of: Callable[[str], bytes], stored_body_of_url: Callable[[str], bytes | None]) -> Outcome:
    assert api.sha256 is not None
    item = load_item(body_of(api.sha256))
    check_tags(markup_tags(item), ctx.limits)
    parent = None
    parent_base = parent_path(item)
    if parent_base:
        parent_url = canonical_url(f"{ctx.base_url.rstrip('/')}/api/content{parent_base}")
        parent_fetch = next((f for f in fetches if f.role == FetchRole.PARENT and f.url == parent_url), None)
        raw = body_of(parent_fetch.sha256) if parent_fetch and parent_fetch.has_body and parent_fetch.sha256 else stored_body_of_url(parent_url)
        parent = _parse_parent(raw)
    document = check_size(document_from_item(item, ctx.target_url, parent=parent, base_url=ctx.base_url), ctx.limits)
    if parent_base:
        document = replace(document, extras={**document.extras, "parent_path": parent_base})
    moved_to = None
    own_path = path_under(ctx.fetch_url, ctx.base_url)
    if api.redirects and document.base_path and own_path and document.base_path.rstrip("/") != own_path.rstrip("/"):
        moved_to = site_page_url(document.base_path, ctx.base_url, ctx.allowed_hosts)
        if moved_to is None:
            return Outcome(OutcomeKind.FAILED, error=f"the Content API answer was redirected to an item whose base_path {clip(document.base_path, 200)!r} is not on the site {ctx.base_url}; not followed")
    return Outcome(OutcomeKind.OK, document=document, moved_to=moved_to)


def check_tags(tags: int, limits: PageLimits) -> None:
    """Refuse, before parsing, markup that could hold more blocks than ``limits.body_blocks``."""
    if tags > limits.body_tags:
        raise ExtractionError(f"the page has {tags:,} HTML tags, more than the {limits.body_tags:,} that limits.body_blocks = {limits.body_blocks:,} allows; it was not read")


def check_size(document: Document, limits: PageLimits) -> Document:
    """``document``, unless it has more blocks or attachments than ``limits`` allow."""
    if len(document.blocks) > limits.body_blocks:
        raise ExtractionError(f"the page has {len(document.blocks):,} blocks of text, more than limits.body_blocks = {limits.body_blocks:,}; it was not read")
    if len(document.attachments) > limits.attachments:
        raise ExtractionError(f"the page lists {len(document.attachments):,} attachments, more than limits.attachments = {limits.attachments:,}; none of its files was downloaded")
    return document


def _parse_parent(raw: bytes | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _from_page(ctx: TargetContext, page: FetchView, body_of: Callable[[str], bytes]) -> Outcome:
    assert page.sha256 is not None
    html = body_of(page.sha256)
    check_tags(html.count(b"<"), ctx.limits)
    document = check_size(document_from_html_page(html, page.final_url or page.url, ctx.selector), ctx.limits)
    document = replace(document, url=ctx.target_url)
    moved_to = None
    if page.redirects and page.final_url and page.final_url.rstrip("/") != ctx.fetch_url.rstrip("/"):
        moved_to = moved_page_url(page.final_url, ctx)
        if moved_to is None:
            return Outcome(OutcomeKind.FAILED, error=f"the page redirects to {clip(page.final_url, 200)!r}, which is not on the site {ctx.base_url} or an allowed host; not followed")
    return Outcome(OutcomeKind.OK, document=document, moved_to=moved_to)


def moved_page_url(url: str, ctx: TargetContext) -> str | None:
    """Where a target may move: a page of the site when it lives on the site, else a page on an
    allowed host; parsed (no user name, no control characters), never string-matched."""
    if path_under(ctx.target_url, ctx.base_url) is not None or path_under(ctx.fetch_url, ctx.base_url) is not None:
        return site_page_url(url, ctx.base_url, ctx.allowed_hosts)
    try:
        userinfo = "@" in urlsplit(url).netloc
    except ValueError:
        return None
    if userinfo or has_bad_url_chars(url):
        return None
    return fetchable_url(url, ctx.allowed_hosts)


def _with_attachments(ctx: TargetContext, outcome: Outcome, fetches: Sequence[FetchView], previous: Document | None, gone_streak: GoneStreak | None) -> Outcome:
    """Fill in each file's sha256 from this run's downloads.

    A file is confirmed gone the way a page is: only after ``ctx.gone_after`` checks in a row
    answered 404/410 is it ``missing``. Until then, and whenever a file listed before cannot be
    fetched, it keeps the hash and status it had in the previous version (nothing is claimed about
    it) and the failure is noted in ``file_errors``. A new file that could not be downloaded makes
    the document incomplete, so no version is recorded until it can be. A file that may not be
    fetched (another host, an address longer than Scrapy requests) is ``unfetched``. Listed files
    and downloads are matched by their canonical address: the spelling the spider asked for and
    the answer was stored under.
    """
    document = outcome.document
    assert document is not None
    by_url: dict[str, FetchView] = {}
    for fetch in fetches:
        if fetch.role == FetchRole.ATTACHMENT:
            by_url.setdefault(fetch.url, fetch)
    before = {a.url: a for a in previous.attachments} if previous else {}
    filled: list[Attachment] = []
    errors: list[str] = []
    for attachment in document.attachments:
        address = fetchable_url(attachment.url, ctx.allowed_hosts) if attachment.attachment_type == "file" else None
        if address is None:
            filled.append(replace(attachment, status="unfetched"))
            continue
        download = by_url.get(address)
        old = before.get(attachment.url)
        known = old is not None and (old.sha256 is not None or old.status == "missing")
        if download is not None and download.has_body:
            filled.append(replace(attachment, sha256=download.sha256, status="ok"))
            continue
        if download is not None and download.status in GONE_STATUSES:
            streak = gone_streak(address) if gone_streak is not None else 1
            if streak >= ctx.gone_after:
                filled.append(replace(attachment, sha256=None, status="missing"))
                continue
            why = f"answers {download.status} ({streak} of {ctx.gone_after} checks in a row before it is reported missing)"
        else:
            why = _error_of(download, "download") if download is not None else "not downloaded"
        if known and old is not None:
            filled.append(replace(attachment, sha256=old.sha256, status=old.status))
            if download is not None:
                errors.append(f"the file {attachment.url} {why}" if why.startswith("answers") else f"the file {attachment.url} could not be fetched ({why})")
            continue
        return Outcome(OutcomeKind.FAILED, error=f"the file {attachment.url} could not be fetched ({why})")
    return replace(outcome, document=replace(document, attachments=tuple(filled)), file_redirects=_file_redirects(ctx, fetches, previous, document), file_errors=tuple(errors))


def _file_redirects(ctx: TargetContext, fetches: Sequence[FetchView], previous: Document | None, document: Document) -> dict[str, str]:
    """Old file address -> the listed file it now redirects to, both as the pages list them
    (the downloads are stored under their canonical spelling)."""
    listed: dict[str, str] = {}
    for attachment in (*document.attachments, *(previous.attachments if previous else ())):
        address = fetchable_url(attachment.url, ctx.allowed_hosts)
        if address is not None:
            listed.setdefault(address, attachment.url)
    redirects = {}
    for fetch in fetches:
        if fetch.role == FetchRole.FORMER and fetch.final_url and fetch.final_url != fetch.url:
            redirects[listed.get(fetch.url, fetch.url)] = listed.get(fetch.final_url, fetch.final_url)
    return redirects
