"""`dfe-monitor notify --test`: one test message to every configured channel, and which worked.

Nothing is read from or written to the database: a test message is not an alert."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import make_msgid

from monitor.config import Config
from monitor.errors import UsageError
from monitor.notify.channels import Sender, channels_of
from monitor.notify.errors import ChannelError
from monitor.notify.messages import test_message


def test_channels(config: Config, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> list[tuple[str, str | None]]:
    """(channel, error or None) for each channel, in config order."""
    channels = channels_of(config.notify)
    if not channels:
        raise UsageError(f"{config.path}: no alert channels: set [notify] email_to or apprise_urls")
    domain = config.notify.email_from.rpartition("@")[2] or None
    results: list[tuple[str, str | None]] = []
    with Sender(config.notify) as sender:
        for channel in channels.values():
            try:
                sender.send(channel, test_message(channel.label), message_id=make_msgid("dfe-monitor-test", domain=domain), now=now())
            except ChannelError as exc:
                results.append((channel.label, str(exc)))
            else:
                results.append((channel.label, None))
    return results
