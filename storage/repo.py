"""Queries and writes over the snapshot database. The caller owns the session and transaction.

Reads return frozen rows (``storage.rows``); writes go through the functions here, so nothing
above ``storage/`` touches the ORM. Stored bytes (``storage.blobs``) and the fetch log
(``storage.fetchlog``) have modules of their own, their functions named here too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.blobs import get_blob as get_blob
from storage.blobs import put_blob as put_blob
from storage.fetchlog import MAX_HEADER_BYTES as MAX_HEADER_BYTES
from storage.fetchlog import bounded_headers as bounded_headers
from storage.fetchlog import fetches_of_run as fetches_of_run
from storage.fetchlog import file_gone_streak as file_gone_streak
from storage.fetchlog import latest_body_fetch as latest_body_fetch
from storage.fetchlog import record_fetch as record_fetch
from storage.fetchlog import record_fetches as record_fetches
from storage.fetchlog import validators_for as validators_for
from storage.rows import (
    ChangeRow,
    DiscoverRow,
    ExtractionRow,
    FetchRow,
    RunRow,
    TargetRow,
    VersionRow,
    row_of,
)
from storage.schema import (
    Change,
    DiscoverQuery,
    Extraction,
    Fetch,
    Run,
    Target,
    Version,
)

# -- runs --------------------------------------------------------------------------------------


def abort_stale_runs(session: Session, now: datetime) -> int:
    """Runs still marked running when we hold the lock were killed: mark them aborted."""
    result = session.execute(
        update(Run)
        .where(Run.status == "running")
        .values(status="aborted", finished_at=now, error="the process ended without finishing (killed or crashed)")
    )
    return getattr(result, "rowcount", 0) or 0  # a CursorResult for an UPDATE


def start_run(session: Session, now: datetime, pid: int, command: str = "run") -> int:
    run = Run(started_at=now, status="running", pid=pid, command=command)
    session.add(run)
    session.flush()
    return run.id


def finish_run(session: Session, run_id: int, status: str, summary: dict[str, Any], now: datetime, error: str | None = None) -> None:
    run = session.get(Run, run_id)
    if run is None:
        raise KeyError(f"run {run_id} is missing")
    run.status = status
    run.finished_at = now
    run.summary = json.dumps(summary, sort_keys=True)
    run.error = error


def last_runs(session: Session, limit: int = 5) -> list[RunRow]:
    return [row_of(RunRow, r) for r in session.scalars(select(Run).order_by(Run.id.desc()).limit(limit))]


# -- targets -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetSpec:
    url: str
    name: str
    category: str


def sync_configured_targets(session: Session, specs: Sequence[TargetSpec], now: datetime) -> None:
    """Make the configured targets match config.toml; targets dropped from it go inactive."""
    existing = {t.url: t for t in session.scalars(select(Target))}
    wanted = {spec.url for spec in specs}
    for spec in specs:
        target = existing.get(spec.url)
        if target is None:
            session.add(Target(url=spec.url, fetch_url=spec.url, name=spec.name, category=spec.category, source="config", active=True, created_at=now, state="new"))
        else:
            target.name, target.category, target.active = spec.name, spec.category, True
            if target.source == "discovered":
                target.source = "config"
    for url, target in existing.items():
        if target.source == "config" and url not in wanted:
            target.active = False
    session.flush()


def add_discovered_target(session: Session, spec: TargetSpec, discover_key: str, now: datetime) -> TargetRow:
    target = Target(url=spec.url, fetch_url=spec.url, name=spec.name, category=spec.category, source="discovered", discovered_by=discover_key, active=True, created_at=now, state="new")
    session.add(target)
    session.flush()
    return row_of(TargetRow, target)


def active_targets(session: Session) -> list[TargetRow]:
    return [row_of(TargetRow, t) for t in session.scalars(select(Target).where(Target.active.is_(True)).order_by(Target.id))]


def all_targets(session: Session) -> list[TargetRow]:
    return [row_of(TargetRow, t) for t in session.scalars(select(Target).order_by(Target.id))]


def get_target(session: Session, target_id: int) -> TargetRow:
    target = session.get(Target, target_id)
    if target is None:
        raise KeyError(f"target {target_id} is missing")
    return row_of(TargetRow, target)


TARGET_FIELDS = frozenset({"fetch_url", "state", "consecutive_failures", "consecutive_gone", "last_error", "last_checked_at", "last_success_at", "last_change_at", "captures_key"})


def mark_unchanged(session: Session, target_ids: Sequence[int], now: datetime) -> None:
    """Targets checked this run whose captures were those of their current version: checked
    and answering now, in one statement."""
    for start in range(0, len(target_ids), 500):
        chunk = list(target_ids[start : start + 500])
        session.execute(update(Target).where(Target.id.in_(chunk)).values(last_checked_at=now, last_success_at=now))


def update_target(session: Session, target_id: int, **values: Any) -> TargetRow:
    """Set the watch-state columns named in ``values`` (identity columns are not changed here)."""
    unknown = set(values) - TARGET_FIELDS
    if unknown:
        raise ValueError(f"not a target state column: {', '.join(sorted(unknown))}")
    target = session.get(Target, target_id)
    if target is None:
        raise KeyError(f"target {target_id} is missing")
    for name, value in values.items():
        setattr(target, name, value)
    session.flush()
    return row_of(TargetRow, target)


# -- extractions -------------------------------------------------------------------------------


def get_extraction(session: Session, sha: str, version: int) -> ExtractionRow | None:
    extraction = session.get(Extraction, (sha, version))
    return row_of(ExtractionRow, extraction) if extraction is not None else None


def shas_without_extraction(session: Session, shas: Sequence[str], version: int) -> list[str]:
    """Those of ``shas`` (in their order) that have no extraction at ``version`` yet."""
    done: set[str] = set()
    for start in range(0, len(shas), 500):
        chunk = shas[start : start + 500]
        done.update(session.scalars(select(Extraction.sha256).where(Extraction.sha256.in_(chunk), Extraction.extractor_version == version)))
    return [sha for sha in shas if sha not in done]


def put_extraction(session: Session, sha: str, version: int, fmt: str, error: str | None, content_json: bytes | None, now: datetime) -> ExtractionRow:
    content_sha = put_blob(session, content_json, now) if content_json is not None else None
    existing = session.get(Extraction, (sha, version))
    if existing is not None:
        return row_of(ExtractionRow, existing)
    extraction = Extraction(sha256=sha, extractor_version=version, format=fmt, error=error, content_sha256=content_sha, created_at=now)
    session.add(extraction)
    session.flush()
    return row_of(ExtractionRow, extraction)


# -- versions and changes ----------------------------------------------------------------------


def latest_versions(session: Session) -> dict[int, VersionRow]:
    """Every target's newest version, by target id, in one query."""
    newest = select(func.max(Version.id)).group_by(Version.target_id)
    return {v.target_id: row_of(VersionRow, v) for v in session.scalars(select(Version).where(Version.id.in_(newest)))}


def latest_version(session: Session, target_id: int) -> VersionRow | None:
    version = session.scalars(select(Version).where(Version.target_id == target_id).order_by(Version.id.desc()).limit(1)).first()
    return row_of(VersionRow, version) if version is not None else None


def add_version(session: Session, *, target_id: int, run_id: int, now: datetime, document_json: bytes, fingerprint: str, page_fetch_id: int | None, extractor_version: int, technical: bool = False, plan_facts: str | None = None, previous_document: str | None = None) -> VersionRow:
    """A new version of a target; ``previous_document`` (the sha256 of its last Document) lets
    the new Document be stored as a delta against it."""
    sha = put_blob(session, document_json, now, like=previous_document)
    version = Version(target_id=target_id, run_id=run_id, created_at=now, fingerprint=fingerprint, document_sha256=sha, page_fetch_id=page_fetch_id, extractor_version=extractor_version, technical=technical, plan_facts=plan_facts)
    session.add(version)
    session.flush()
    return row_of(VersionRow, version)


def set_plan_facts(session: Session, facts: dict[int, str]) -> None:
    """``versions.plan_facts`` for versions stored without them, by version id."""
    session.execute(update(Version), [{"id": version_id, "plan_facts": value} for version_id, value in facts.items()])


def add_change(session: Session, *, feed_id_for: Callable[[int], str], **fields: Any) -> ChangeRow:
    """Insert a change; ``feed_id_for(change_id)`` builds its permanent Atom id once the id is known."""
    change = Change(feed_id="pending", **fields)
    session.add(change)
    session.flush()
    change.feed_id = feed_id_for(change.id)
    session.flush()
    return row_of(ChangeRow, change)


def list_changes(
    session: Session,
    *,
    newest_first: bool = False,
    limit: int | None = None,
    categories: Sequence[str] = (),
    priority: str | None = None,
    silent_only: bool = False,
    kinds: Sequence[str] | None = None,
) -> list[tuple[ChangeRow, TargetRow]]:
    """Changes with their targets, oldest (or newest) first; the filters are a feed's: empty
    ``categories`` and ``kinds=None`` keep every category and kind."""
    order = (Change.detected_at.desc(), Change.id.desc()) if newest_first else (Change.detected_at, Change.id)
    query = select(Change, Target).join(Target, Change.target_id == Target.id).order_by(*order)
    if categories:
        query = query.where(Target.category.in_(list(categories)))
    if priority is not None:
        query = query.where(Change.priority == priority)
    if silent_only:
        query = query.where(Change.silent_edit.is_(True))
    if kinds is not None:
        query = query.where(Change.kind.in_(list(kinds)))
    if limit is not None:
        query = query.limit(limit)
    return [(row_of(ChangeRow, row[0]), row_of(TargetRow, row[1])) for row in session.execute(query)]


# -- discovery ---------------------------------------------------------------------------------


def discover_seen(session: Session, key: str) -> bool:
    return session.get(DiscoverQuery, key) is not None


def mark_discover_run(session: Session, key: str, now: datetime) -> None:
    row = session.get(DiscoverQuery, key)
    if row is None:
        session.add(DiscoverQuery(key=key, first_run_at=now, last_run_at=now))
    else:
        row.last_run_at = now


def discovered_count(session: Session, key: str) -> int:
    """How many targets a [[discover]] entry has added."""
    return session.scalar(select(func.count()).select_from(Target).where(Target.discovered_by == key)) or 0


def recent_searches(session: Session, limit: int) -> list[FetchRow]:
    return [row_of(FetchRow, f) for f in session.scalars(select(Fetch).where(Fetch.role == "search").order_by(Fetch.id.desc()).limit(limit))]


def discover_memory(session: Session, key: str) -> DiscoverRow | None:
    row = session.get(DiscoverQuery, key)
    return row_of(DiscoverRow, row) if row is not None else None
