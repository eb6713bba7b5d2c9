"""Chat and push alerts through Apprise: one URL per channel (Slack, Matrix, Teams, Discord,
ntfy, a JSON webhook…). Apprise is imported only when a channel uses it: it is slow to load."""

from __future__ import annotations

import logging

from monitor.notify.errors import ChannelError
from monitor.notify.messages import Message


def label(url: str) -> str:
    """The URL as Apprise shows it with its secrets masked (tokens and passwords are not logged)."""
    import apprise

    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return url.split("://", 1)[0] + "://…"
    return str(plugin.url(privacy=True)).split("?", 1)[0]  # its options are noise here


def send(url: str, message: Message) -> None:
    """Deliver ``message``; a ChannelError with Apprise's own reason when it could not."""
    import apprise

    app = apprise.Apprise()
    if not app.add(url):
        raise ChannelError(f"Apprise does not understand the URL {label(url)}; fix [notify] apprise_urls")
    with apprise.LogCapture(level=logging.WARNING) as captured:
        delivered = app.notify(title=message.subject, body=message.body, body_format=apprise.NotifyFormat.TEXT)
    if not delivered:
        lines = [line.strip() for line in captured.getvalue().splitlines() if line.strip()]
        reason = lines[-1][:300] if lines else "no reason given"
        raise ChannelError(f"Apprise could not deliver to {label(url)}: {reason}")
