"""The channels config.toml names, by the key the outbox stores (``monitor.notify.policy``),
and one way to send to any of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType

from monitor.config import NotifySettings
from monitor.notify import apprise_channel
from monitor.notify.errors import ChannelError
from monitor.notify.messages import Message
from monitor.notify.policy import apprise_channel as apprise_key
from monitor.notify.policy import email_channel
from monitor.notify.smtp import SmtpConnection, SmtpSettings, compose


@dataclass(frozen=True)
class Channel:
    key: str
    kind: str  # email | apprise
    address: str  # the recipient, or the Apprise URL (never shown: it may hold a token)
    label: str  # what people are shown

    @property
    def email(self) -> bool:
        return self.kind == "email"


def channels_of(notify: NotifySettings) -> dict[str, Channel]:
    found: dict[str, Channel] = {}
    for address in notify.email_to:
        found[email_channel(address)] = Channel(email_channel(address), "email", address, f"e-mail to {address}")
    for url in notify.apprise_urls:
        found[apprise_key(url)] = Channel(apprise_key(url), "apprise", url, f"Apprise {apprise_channel.label(url)}")
    return found


def smtp_settings(notify: NotifySettings) -> SmtpSettings:
    return SmtpSettings(host=notify.smtp_host, port=notify.smtp_port, security=notify.smtp_security, user=notify.smtp_user, password_env=notify.smtp_password_env, sender=notify.email_from)


class Sender:
    """Sends to any channel; e-mails share one SMTP connection, opened at the first one (a
    connection that failed is not tried again in the same pass: every e-mail gets its error)."""

    def __init__(self, notify: NotifySettings) -> None:
        self.settings = smtp_settings(notify)
        self._connection: SmtpConnection | None = None
        self._connect_error: ChannelError | None = None

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._connection is not None:
            self._connection.__exit__(kind, exc, tb)
            self._connection = None

    def send(self, channel: Channel, message: Message, *, message_id: str, now: datetime, resent: bool = False, before_commit: Callable[[], None] = lambda: None) -> None:
        """Deliver ``message``; ``before_commit`` runs when only the last step is left (for an
        Apprise channel, just before its one request)."""
        if not channel.email:
            before_commit()
            apprise_channel.send(channel.address, message)
            return
        connection = self._smtp()
        data = compose(self.settings, channel.address, message, message_id, now, resent=resent)
        try:
            connection.send(channel.address, data, before_commit)
        except ChannelError:
            self._drop_if_broken()
            raise

    def _smtp(self) -> SmtpConnection:
        if self._connect_error is not None:
            raise self._connect_error
        if self._connection is None:
            try:
                self._connection = SmtpConnection(self.settings).__enter__()
            except ChannelError as exc:
                self._connect_error = exc
                raise
        return self._connection

    def _drop_if_broken(self) -> None:
        """After a failed message the connection may be dead: the next one reconnects."""
        if self._connection is not None:
            self._connection.__exit__(None, None, None)
            self._connection = None
