"""The alert outbox: one row per (change, channel), from ``pending`` to ``sent``.

A row is added in the transaction that stores its change, so a change is never stored without
its alerts, nor an alert without its change. Sending is a separate step after the run's changes
are committed; each attempt is recorded *before* the message leaves (``sending``, or
``delivering`` once only the last step of the exchange is left) and *after* the channel
answered (``sent``, or back to ``pending`` with the error), each in its own transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    inspect,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.rows import AlertRow, ChangeRow, TargetRow, row_of
from storage.schema import Base, Change, Target, UTCDateTime

PENDING = "pending"
SENDING = "sending"  # an attempt began; the message may not have left yet
DELIVERING = "delivering"  # only the channel's final answer was outstanding when this was written
SENT = "sent"
DROPPED = "dropped"  # its channel is no longer configured
OPEN = (PENDING, SENDING, DELIVERING)


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("change_id", "channel", name="uq_alerts_change_channel"), Index("ix_alerts_state_channel", "state", "channel"))

    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id"))
    channel: Mapped[str] = mapped_column(String)
    state: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String)


def exists(session: Session) -> bool:
    """False on a database from before the outbox (status reads it without upgrading it)."""
    return inspect(session.connection()).has_table("alerts")


def add_alerts(session: Session, change_id: int, channels: Sequence[str], message_ids: Sequence[str], now: datetime) -> None:
    """Queue the change for each channel (in the caller's transaction: the change's own)."""
    for channel, message_id in zip(channels, message_ids, strict=True):
        session.add(Alert(change_id=change_id, channel=channel, state=PENDING, created_at=now, attempts=0, message_id=message_id))
    session.flush()


def open_alerts(session: Session) -> list[AlertRow]:
    """Every alert not yet sent, oldest change first."""
    query = select(Alert).where(Alert.state.in_(OPEN)).order_by(Alert.change_id, Alert.id)
    return [row_of(AlertRow, a) for a in session.scalars(query)]


def mark(session: Session, alert_ids: Sequence[int], state: str, now: datetime, error: str | None = None) -> None:
    """Move alerts to ``state``: an attempt (``sending``) counts; ``sent`` records when."""
    values: dict[str, object] = {"state": state}
    if state == SENDING:
        values.update(attempts=Alert.attempts + 1, last_attempt_at=now)
    elif state == SENT:
        values.update(sent_at=now, last_error=None)
    elif error is not None:
        values["last_error"] = error
    session.execute(update(Alert).where(Alert.id.in_(list(alert_ids))).values(**values))


def counts_by_channel(session: Session) -> dict[tuple[str, str], int]:
    """(channel, state) -> number of alerts."""
    query = select(Alert.channel, Alert.state, func.count()).group_by(Alert.channel, Alert.state)
    return {(channel, state): count for channel, state, count in session.execute(query)}


def last_errors(session: Session) -> dict[str, str]:
    """The newest error of each channel with an open alert."""
    query = select(Alert.channel, Alert.last_error).where(Alert.state.in_(OPEN), Alert.last_error.is_not(None)).order_by(Alert.last_attempt_at)
    return {channel: error or "" for channel, error in session.execute(query)}


def channel_target(session: Session, channel: str, name: str, now: datetime) -> TargetRow:
    """The target row that carries a channel's health (its ``failing`` and ``recovered``
    entries are changes, and a change belongs to a target). Never fetched: ``active`` is false
    and its URL is not http(s)."""
    url = f"alerts:{channel}"
    target = session.scalars(select(Target).where(Target.url == url)).first()
    if target is None:
        target = Target(url=url, fetch_url=url, name=name, category="other", source="notify", active=False, created_at=now, state="new")
        session.add(target)
        session.flush()
    elif target.name != name:
        target.name = name
        session.flush()
    return row_of(TargetRow, target)


def changes_of(session: Session, change_ids: Sequence[int]) -> dict[int, tuple[ChangeRow, TargetRow]]:
    """The changes (with their targets) that alerts are about."""
    query = select(Change, Target).join(Target, Change.target_id == Target.id).where(Change.id.in_(list(change_ids)))
    return {row[0].id: (row_of(ChangeRow, row[0]), row_of(TargetRow, row[1])) for row in session.execute(query)}
