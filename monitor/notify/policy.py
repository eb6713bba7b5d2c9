"""Which changes alert, and on which channels: decided when a change is stored, so its alerts
are queued in the same transaction (pure: no network, no database).

A channel is named by a stable key: ``email:<recipient>`` for each address (so a recipient
that refuses one message never blocks or repeats another's), ``apprise:<hash>`` for each Apprise
URL (the hash of the URL, never the URL itself: it often holds a token).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

EMAIL = "email:"
APPRISE = "apprise:"


def email_channel(address: str) -> str:
    return f"{EMAIL}{address}"


def apprise_channel(url: str) -> str:
    return f"{APPRISE}{hashlib.sha256(url.encode('utf-8')).hexdigest()[:16]}"


@dataclass(frozen=True)
class AlertPolicy:
    """``when``: all, high (high priority, silent or not) or silent (silent edits)."""

    when: str = "high"
    channels: tuple[str, ...] = ()
    domain: str = "dfe-monitor.invalid"  # of the Message-IDs: the sender's domain

    def wants(self, *, priority: str, silent_edit: bool | None) -> bool:
        if self.when == "all":
            return True
        if self.when == "silent":
            return silent_edit is True
        return priority == "high"

    def channels_for(self, *, priority: str, silent_edit: bool | None, exclude: Sequence[str] = ()) -> list[str]:
        """The channels a change goes to (``exclude``: a channel's own health entries)."""
        if not self.wants(priority=priority, silent_edit=silent_edit):
            return []
        return [c for c in self.channels if c not in exclude]


def policy_of(when: str, email_to: Sequence[str], apprise_urls: Sequence[str], email_from: str = "") -> AlertPolicy:
    channels = [email_channel(a) for a in email_to] + [apprise_channel(u) for u in apprise_urls]
    domain = email_from.rpartition("@")[2] or "dfe-monitor.invalid"
    return AlertPolicy(when=when, channels=tuple(dict.fromkeys(channels)), domain=domain)


def message_id(change_id: int, channel: str, domain: str) -> str:
    """The Message-ID of a change's alert on a channel: the same on every attempt, so a copy
    sent again after a crash can be recognised as the same message."""
    tag = hashlib.sha256(channel.encode("utf-8")).hexdigest()[:12]
    return f"<dfe-monitor.change-{change_id}.{tag}@{domain}>"
