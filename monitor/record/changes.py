"""Storing a detected change: its one-line title, its permanent Atom id, and the target's
``last_change_at``. Every kind of change goes through :func:`store_change`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from monitor.compare.report import HeadlinePart
from monitor.compare.wording import entry_title
from monitor.model import ChangeKind
from monitor.notify.policy import AlertPolicy, message_id
from monitor.research.index import index_change
from storage import outbox, repo
from storage.db import Session
from storage.rows import ChangeRow, TargetRow


def tag_id(feed_url: str, detected_at: datetime, change_id: int) -> str:
    """A permanent Atom id (RFC 4151 tag URI): set once when the change is stored, so
    regenerating a feed never re-notifies its readers."""
    host = (urlsplit(feed_url).hostname or "dfe-monitor.invalid").lower()
    return f"tag:{host},{detected_at:%Y-%m-%d}:dfe-monitor/change/{change_id}"


@dataclass(frozen=True)
class ChangeSpec:
    """A change about to be stored; ``headline`` says what happened in a few words, ``parts``
    (when given) the same thing piece by piece, so a long title keeps whole pieces."""

    kind: ChangeKind
    headline: str
    summary: str
    parts: Sequence[HeadlinePart] = ()
    title_suffix: str = ""  # ", no change note": kept whatever else the title has to drop
    silent_edit: bool | None = None
    change_note: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    terms: Sequence[str] = ()
    old_version_id: int | None = None
    new_version_id: int | None = None


def store_change(session: Session, target: TargetRow, spec: ChangeSpec, *, run_id: int, now: datetime, feed_url: str, alerts: AlertPolicy | None = None, exclude: Sequence[str] = ()) -> ChangeRow:
    """Insert the change (title "<target name> — <headline>", at most 120 characters), note it on
    the target, and queue its alerts in the same transaction: a change is never stored without them."""
    repo.update_target(session, target.id, last_change_at=now)
    change = repo.add_change(
        session,
        feed_id_for=lambda change_id: tag_id(feed_url, now, change_id),
        target_id=target.id,
        run_id=run_id,
        kind=spec.kind.value,
        detected_at=now,
        title=entry_title(target.name, list(spec.parts) or [HeadlinePart(spec.headline, spec.headline)], spec.title_suffix),
        summary=spec.summary,
        silent_edit=spec.silent_edit,
        priority="high" if spec.terms else "normal",
        terms=json.dumps(list(spec.terms)) if spec.terms else None,
        change_note=spec.change_note,
        old_version_id=spec.old_version_id,
        new_version_id=spec.new_version_id,
        details=json.dumps({**spec.details, "url": target.url}, ensure_ascii=False),
    )
    index_change(session, change)
    if alerts is not None:
        channels = alerts.channels_for(priority=change.priority, silent_edit=change.silent_edit, exclude=exclude)
        outbox.add_alerts(session, change.id, channels, [message_id(change.id, channel, alerts.domain) for channel in channels], now)
    return change
