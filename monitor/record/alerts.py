"""Sending the outbox after a run's changes are committed: each (change, channel) exactly once.

Every alert row moves ``pending`` → ``sending`` → ``delivering`` → ``sent``, each step
committed before the next action, so the database always says how far an attempt got:

* ``pending`` or ``sending`` after a crash: the message never left whole (e-mail: its data was
  never ended, so the server dropped it) — it is sent on the next run, once;
* a refused connection, a 4xx or 5xx, a timeout: back to ``pending`` with the error, retried on
  the next run, shown by `dfe-monitor status`;
* ``delivering`` after a crash: the process died between handing over the last piece and
  recording the answer. Nothing can tell whether it arrived; it is sent again, with the same
  Message-ID and a header saying it may be a second copy (a lost alert is worse than two).

A channel that fails on ``health.failing_after`` runs in a row gets one ``failing`` entry in the
feed (and on its page), and a ``recovered`` entry when it works again; those entries alert the
*other* channels.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from monitor.compare.wording import shorten
from monitor.config import Config
from monitor.model import ChangeKind
from monitor.notify.channels import Channel, Sender, channels_of
from monitor.notify.errors import ChannelError
from monitor.notify.messages import Message, digest, single
from monitor.notify.policy import AlertPolicy, policy_of
from monitor.publish.entries import FeedEntry
from monitor.publish.records import entry_from_row
from monitor.record.changes import ChangeSpec, store_change
from monitor.record.health import HealthPolicy, after_failure, after_success, health_of
from monitor.record.publishing import pages_spec
from storage import outbox, repo
from storage.db import Database
from storage.rows import AlertRow

log = logging.getLogger("dfe-monitor")


@dataclass
class DeliveryReport:
    sent: int = 0  # alerts (not messages: a digest carries several)
    failed: int = 0
    resent: int = 0  # sent again after a crash left their delivery unknown
    dropped: int = 0
    errors: dict[str, str] = field(default_factory=dict)  # channel label -> last error
    health_changes: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Batch:
    """One message to one channel, carrying one alert (or, in a digest, one run's alerts)."""

    channel: Channel
    alerts: list[AlertRow]
    message: Message
    message_id: str

    @property
    def uncertain(self) -> bool:
        return any(a.state == outbox.DELIVERING for a in self.alerts)


def deliver_alerts(db: Database, config: Config, *, run_id: int, now: Callable[[], datetime]) -> DeliveryReport:
    """Send every open alert; then the alerts that channel health entries queued, if any."""
    report = DeliveryReport()
    _deliver(db, config, run_id, now, report, only=None, health=True)
    if report.health_changes:
        _deliver(db, config, run_id, now, report, only=set(report.health_changes), health=False)
    return report


def _deliver(db: Database, config: Config, run_id: int, now: Callable[[], datetime], report: DeliveryReport, *, only: set[int] | None, health: bool) -> None:
    channels = channels_of(config.notify)
    with db.read() as session:
        alerts = [a for a in outbox.open_alerts(session) if only is None or a.change_id in only]
        changes = outbox.changes_of(session, sorted({a.change_id for a in alerts}))
    gone = [a.id for a in alerts if a.channel not in channels]
    if gone:
        with db.write() as session:
            outbox.mark(session, gone, outbox.DROPPED, now(), "its channel is no longer in [notify]")
        report.dropped += len(gone)
        log.warning("%d alert(s) for channels no longer in [notify] were dropped", len(gone))
    pages = pages_spec(config)
    entries = {change_id: entry_from_row(change, target, pages.url if pages else "") for change_id, (change, target) in changes.items()}
    runs = {change_id: change.run_id for change_id, (change, _) in changes.items()}
    batches = make_batches([a for a in alerts if a.channel in channels], channels, entries, runs, digest_mode=config.notify.digest, domain=_domain(config))
    outcomes: dict[str, str | None] = {}
    with Sender(config.notify) as sender:
        for batch in batches:
            error = _send(db, sender, batch, now, report)
            if outcomes.get(batch.channel.key) is None:
                outcomes[batch.channel.key] = error
    if health:
        policy = policy_of(config.notify.when, config.notify.email_to, config.notify.apprise_urls, config.notify.email_from)
        for key, error in outcomes.items():
            report.health_changes += _health(db, config, channels[key], error, run_id, now(), policy)


def make_batches(alerts: Iterable[AlertRow], channels: dict[str, Channel], entries: dict[int, FeedEntry], runs: dict[int, int], *, digest_mode: bool, domain: str) -> list[Batch]:
    """One message per alert, or per (channel, run) in digest mode; oldest change first."""
    if not digest_mode:
        return [Batch(channels[a.channel], [a], single(entries[a.change_id]), a.message_id) for a in alerts]
    groups: dict[tuple[str, int], list[AlertRow]] = {}
    for alert in alerts:
        groups.setdefault((alert.channel, runs[alert.change_id]), []).append(alert)
    batches = []
    for (channel, run), members in groups.items():
        tag = members[0].message_id.split(".")[-1].split("@")[0]
        batches.append(Batch(channels[channel], members, digest([entries[a.change_id] for a in members]), f"<dfe-monitor.digest-run-{run}.{tag}@{domain}>"))
    return batches


def _send(db: Database, sender: Sender, batch: Batch, now: Callable[[], datetime], report: DeliveryReport) -> str | None:
    """One attempt, its steps recorded as they happen; the error, or None when it was sent."""
    ids = [a.id for a in batch.alerts]
    with db.write() as session:
        outbox.mark(session, ids, outbox.SENDING, now())

    def before_commit() -> None:
        with db.write() as session:
            outbox.mark(session, ids, outbox.DELIVERING, now())

    if batch.uncertain:
        log.warning("alert(s) %s to %s may have arrived before the last run stopped; sending again, marked as a possible second copy", ids, batch.channel.label)
    try:
        sender.send(batch.channel, batch.message, message_id=batch.message_id, now=now(), resent=batch.uncertain, before_commit=before_commit)
    except ChannelError as exc:
        with db.write() as session:
            outbox.mark(session, ids, outbox.PENDING, now(), str(exc))
        report.failed += len(ids)
        if report.errors.get(batch.channel.label) != str(exc):  # once per channel and reason
            log.warning("alert not delivered (will retry next run): %s", exc)
        report.errors[batch.channel.label] = str(exc)
        return str(exc)
    with db.write() as session:
        outbox.mark(session, ids, outbox.SENT, now())
    report.sent += len(ids)
    report.resent += len(ids) if batch.uncertain else 0
    return None


def _health(db: Database, config: Config, channel: Channel, error: str | None, run_id: int, now: datetime, policy: AlertPolicy) -> list[int]:
    """The channel's health after this run's attempts; the ids of the entries it earned."""
    added = []
    with db.write() as session:
        target = outbox.channel_target(session, channel.key, f"Alerts: {channel.label}", now)
        health = health_of(target.state, target.consecutive_failures, target.consecutive_gone, target.last_error)
        step = after_success(health) if error is None else after_failure(health, error, HealthPolicy(failing_after=config.health.failing_after))
        target = repo.update_target(session, target.id, **step.columns(now, success=error is None))
        for entry in step.entries:
            spec = _wording(entry.kind, health.consecutive_failures + (1 if error else 0), error)
            change = store_change(session, target, spec, run_id=run_id, now=now, feed_url=config.feed.url, alerts=policy, exclude=[channel.key])
            added.append(change.id)
    return added


def _wording(kind: ChangeKind, failures: int, error: str | None) -> ChangeSpec:
    if kind == ChangeKind.FAILING:
        return ChangeSpec(
            kind,
            f"alerts not delivered: {shorten(error or '', 90)}",
            f"Alerts to this channel have failed on {failures} runs in a row; they are kept and retried on every run. Last error: {error}",
            details={"error": error, "consecutive_failures": failures},
        )
    return ChangeSpec(kind, "alerts delivered again", f"Alerts reach this channel again after {failures} failed runs; the ones that were waiting have been sent.")


def _domain(config: Config) -> str:
    return config.notify.email_from.rpartition("@")[2] or "dfe-monitor.invalid"
