"""Watch health: what one check's outcome does to a target's state, and which entries it earns.

Pure: a :class:`Health` and an outcome in, the next :class:`Health` and the entries to publish
out. ``versions`` stores both. The rules:

* a failed check counts towards ``failing_after``; reaching it gives one ``failing`` entry,
  and the first good check after that one ``recovered`` entry;
* a 404/410 counts towards ``gone_after``; reaching it gives one ``removed`` entry (until
  then the target is ``gone``, quietly), and a page that answers again after being removed is
  ``restored`` (reported with whatever changed meanwhile);
* fewer failures than the thresholds publish nothing: one bad run never cries wolf.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from monitor.compare.wording import shorten
from monitor.model import ChangeKind, TargetState
from monitor.text import clip

# Longest error kept as a target's last_error (and quoted in its `failing` entry).
MAX_ERROR_CHARS = 300


@dataclass(frozen=True)
class Health:
    state: TargetState = TargetState.NEW
    consecutive_failures: int = 0
    consecutive_gone: int = 0
    last_error: str | None = None


@dataclass(frozen=True)
class HealthPolicy:
    failing_after: int = 3
    gone_after: int = 2


@dataclass(frozen=True)
class HealthEntry:
    """A feed entry that the health of a target earns (``failing``, ``recovered``, ``removed``)."""

    kind: ChangeKind
    headline: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    """The result of one check: the new health, the entries to publish, and the columns to store."""

    health: Health
    entries: tuple[HealthEntry, ...] = ()
    was_removed: bool = False  # the target had been reported removed (a good answer restores it)

    def columns(self, now: datetime, *, success: bool) -> dict[str, Any]:
        values: dict[str, Any] = {
            "state": self.health.state.value,
            "consecutive_failures": self.health.consecutive_failures,
            "consecutive_gone": self.health.consecutive_gone,
            "last_error": self.health.last_error,
            "last_checked_at": now,
        }
        if success:
            values["last_success_at"] = now
        return values


def after_success(health: Health, note: str | None = None) -> Step:
    """The page answered with content. ``note`` is what went wrong short of a failure (a listed
    file that could not be fetched this time), kept as the target's last error for ``status``."""
    entries: tuple[HealthEntry, ...] = ()
    if health.state == TargetState.FAILING:
        failures = health.consecutive_failures
        entries = (HealthEntry(ChangeKind.RECOVERED, "working again", f"The page answers normally again after {failures} failed checks in a row."),)
    return Step(Health(TargetState.OK, last_error=clip(note, MAX_ERROR_CHARS) if note is not None else None), entries, was_removed=health.state == TargetState.REMOVED)


def after_failure(health: Health, error: str, policy: HealthPolicy) -> Step:
    """No usable answer this time. The error is kept to MAX_ERROR_CHARS on one line: upstream
    chooses much of its text (a 3,000-character file address, a redirect chain)."""
    error = clip(error, MAX_ERROR_CHARS)
    failures = health.consecutive_failures + 1
    state = health.state  # a new target stays new until it first answers
    entries: tuple[HealthEntry, ...] = ()
    if failures >= policy.failing_after and state not in (TargetState.FAILING, TargetState.REMOVED):
        state = TargetState.FAILING
        entries = (
            HealthEntry(
                ChangeKind.FAILING,
                f"failing: {shorten(error, 90)}",
                f"The page has failed {failures} checks in a row. Last error: {error}",
                {"error": error, "consecutive_failures": failures},
            ),
        )
    return Step(replace(health, state=state, consecutive_failures=failures, last_error=error), entries)


def after_gone(health: Health, error: str | None, policy: HealthPolicy) -> Step:
    """The page (or its API item) answered 404/410, or the item is gone."""
    error = clip(error, MAX_ERROR_CHARS) if error is not None else None
    gone = health.consecutive_gone + 1
    # A `failing` entry stays open until the page answers again (then `recovered` follows).
    state = health.state if health.state in (TargetState.REMOVED, TargetState.FAILING) else TargetState.GONE
    failures = health.consecutive_failures if state == TargetState.FAILING else 0
    entries: tuple[HealthEntry, ...] = ()
    if gone >= policy.gone_after and health.state != TargetState.REMOVED:
        state = TargetState.REMOVED
        entries = (
            HealthEntry(
                ChangeKind.REMOVED,
                f"removed from GOV.UK ({error})",
                f"The page has been gone on {gone} checks in a row: {error}.",
                {"error": error},
            ),
        )
    return Step(Health(state, failures, gone, error), entries)


def health_of(state: str, consecutive_failures: int, consecutive_gone: int, last_error: str | None) -> Health:
    """A Health from stored columns (an unknown stored state reads as ``ok``)."""
    try:
        parsed = TargetState(state)
    except ValueError:
        parsed = TargetState.OK
    return Health(parsed, consecutive_failures, consecutive_gone, last_error)
