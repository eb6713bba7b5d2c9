"""The fetch log: one row per request (its answer, headers and body's sha256), and what the next
run needs of it (validators for conditional requests, the bodies 304s stand for, gone streaks)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from storage.blobs import put_blob
from storage.rows import FetchRow, row_of
from storage.schema import Fetch


def record_fetch(session: Session, run_id: int, now: datetime, body: bytes | None, **fields: Any) -> FetchRow:
    """Log one request. A 304 takes the sha256 of the last stored body of the same URL.
    ``headers`` (a list of (name, value)) are stored as JSON, at most MAX_HEADER_BYTES of them."""
    values = _fetch_values(session, run_id, now, body, fields, lambda url: _body_of(latest_body_fetch(session, url)))
    fetch = Fetch(**values)
    session.add(fetch)
    session.flush()
    return row_of(FetchRow, fetch)


def record_fetches(session: Session, run_id: int, fetches: Sequence[tuple[datetime, bytes | None, dict[str, Any]]]) -> None:
    """:func:`record_fetch` for a batch, in order: the bodies the 304s stand for found in one
    query (the batch's own earlier answers included), the rows written in one insert."""
    wanted = [f["url"] for _, body, f in fetches if body is not None or f.get("not_modified")]
    known = newest_bodies(session, wanted)  # for a 304: the body it stands for; else: a delta's base
    rows = []
    for when, body, fields in fetches:
        values = _fetch_values(session, run_id, when, body, fields, known.get)
        rows.append(values)
        if values["sha256"] is not None and values["error"] is None:
            known[values["url"]] = (values["sha256"], values["content_type"], values["etag"], values["last_modified"])
    if rows:
        session.execute(insert(Fetch), rows)


CHUNK = 500  # values per IN (...): well under every engine's limit on bound parameters
BodyOf = tuple[str, str | None, str | None, str | None]  # sha256, content type, ETag, Last-Modified
FETCH_DEFAULTS: dict[str, Any] = {
    "target_url": None, "final_url": None, "status": None, "not_modified": False, "error": None, "etag": None, "last_modified": None,
    "content_type": None, "size": None, "elapsed_ms": None, "redirects": None, "meta": None, "headers": None, "headers_dropped": 0,
}  # fmt: skip


def _fetch_values(session: Session, run_id: int, now: datetime, body: bytes | None, fields: dict[str, Any], previous_body: Callable[[str], BodyOf | None]) -> dict[str, Any]:
    """Every column of a fetch row."""
    fields = dict(fields)
    if body is not None:
        previous = previous_body(fields["url"])
        sha: str | None = put_blob(session, body, now, like=previous[0] if previous is not None else None)
    else:
        sha = None
    headers = fields.pop("headers", None)
    if headers is not None:
        fields["headers"], fields["headers_dropped"] = bounded_headers(headers)
    if fields.get("not_modified") and sha is None:
        previous = previous_body(fields["url"])
        if previous is not None:
            sha = previous[0]
            for name, value in zip(("content_type", "etag", "last_modified"), previous[1:], strict=True):
                fields.setdefault(name, value)
    return {**FETCH_DEFAULTS, **fields, "run_id": run_id, "requested_at": now, "sha256": sha}


def _body_of(fetch: FetchRow | None) -> BodyOf | None:
    return (fetch.sha256, fetch.content_type, fetch.etag, fetch.last_modified) if fetch is not None and fetch.sha256 else None


def newest_bodies(session: Session, urls: Iterable[str]) -> dict[str, BodyOf]:
    """For each URL, what its newest fetch with a stored body answered, a few hundred per query."""
    result: dict[str, BodyOf] = {}
    wanted = sorted(set(urls))
    for start in range(0, len(wanted), CHUNK):
        newest = (
            select(func.max(Fetch.id))
            .where(Fetch.url.in_(wanted[start : start + CHUNK]), Fetch.sha256.is_not(None), Fetch.error.is_(None))
            .group_by(Fetch.url)
        )
        query = select(Fetch.url, Fetch.sha256, Fetch.content_type, Fetch.etag, Fetch.last_modified).where(Fetch.id.in_(newest))
        for url, sha, content_type, etag, last_modified in session.execute(query):
            if sha is not None:  # the query asked for stored bodies only
                result[url] = (sha, content_type, etag, last_modified)
    return result


MAX_HEADER_BYTES = 64 * 1024


def bounded_headers(headers: Sequence[tuple[str, str]]) -> tuple[str, int]:
    """Headers as a JSON list of [name, value], in order, until MAX_HEADER_BYTES; the count of
    those left out goes to ``headers_dropped`` (a hostile server cannot swell the database)."""
    pairs = [[str(name), str(value)] for name, value in headers]
    whole = json.dumps(pairs, ensure_ascii=False)
    if len(whole) * 4 <= MAX_HEADER_BYTES or len(whole.encode()) <= MAX_HEADER_BYTES:  # the usual case: all fit
        return whole, 0
    kept: list[list[str]] = []
    size = 2
    for name, value in headers:
        pair = [str(name), str(value)]
        size += len(json.dumps(pair, ensure_ascii=False).encode()) + 1
        if size > MAX_HEADER_BYTES:
            break
        kept.append(pair)
    return json.dumps(kept, ensure_ascii=False), len(headers) - len(kept)


def latest_body_fetch(session: Session, url: str) -> FetchRow | None:
    """The newest fetch of ``url`` that has a stored body (200, or 304 resolved to one)."""
    fetch = session.scalars(
        select(Fetch).where(Fetch.url == url, Fetch.sha256.is_not(None), Fetch.error.is_(None)).order_by(Fetch.id.desc()).limit(1)
    ).first()
    return row_of(FetchRow, fetch) if fetch is not None else None


def validators_for(session: Session, urls: Iterable[str]) -> dict[str, tuple[str | None, str | None]]:
    """ETag and Last-Modified to send for each URL (only where the body they name is stored):
    those of the newest fetch with a stored body of each URL."""
    return {url: (etag, last_modified) for url, (_, _, etag, last_modified) in newest_bodies(session, urls).items() if etag or last_modified}


GONE_STATUSES = (404, 410)


def file_gone_streak(session: Session, url: str, up_to_run_id: int, enough: int) -> int:
    """How many runs in a row, up to and including ``up_to_run_id``, answered 404/410 to the
    file ``url`` (role ``attachment``). A run with any good answer (200, 304) ends the streak;
    a run where the file could not be fetched at all (a timeout, a 500) neither counts nor ends
    it. Stops counting at ``enough``."""
    query = (
        select(Fetch.run_id, Fetch.status, Fetch.error, Fetch.sha256)
        .where(Fetch.url == url, Fetch.role == "attachment", Fetch.run_id <= up_to_run_id)
        .order_by(Fetch.id.desc())
        .limit(max(enough, 1) * 8)
    )
    verdicts: dict[int, bool] = {}  # run -> answered gone (False: answered with the file)
    for run_id, status, error, sha in session.execute(query):
        if status in GONE_STATUSES:
            verdicts.setdefault(run_id, True)
        elif sha is not None and error is None:
            verdicts[run_id] = False
    streak = 0
    for run_id in sorted(verdicts, reverse=True):
        if not verdicts[run_id]:
            break
        streak += 1
        if streak >= enough:
            break
    return streak


def fetches_of_run(session: Session, run_id: int, target_url: str | None = None) -> list[FetchRow]:
    """Every fetch of a run in request order (only those made for ``target_url`` if given)."""
    query = select(Fetch).where(Fetch.run_id == run_id)
    if target_url is not None:
        query = query.where(Fetch.target_url == target_url)
    return [row_of(FetchRow, f) for f in session.scalars(query.order_by(Fetch.id))]
