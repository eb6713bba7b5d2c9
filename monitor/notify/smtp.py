"""E-mail through SMTP (smtplib): STARTTLS, TLS or plain, with a login whose password comes
from the environment, never from config.toml.

:meth:`SmtpConnection.send` splits the exchange where exactly-once needs it: the message goes
out whole except for the final ``<CRLF>.<CRLF>``, then ``before_commit`` records that only that
step is left (the outbox's ``delivering``), then the final dot is sent and the answer read. A
server discards a message whose data never ended (RFC 5321, 4.1.1.4), so a process that dies
before the final dot sent nothing; only between the final dot and the server's answer being
recorded is it unknown whether the message arrived.
"""

from __future__ import annotations

import os
import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from types import TracebackType

from monitor.notify.errors import ChannelError
from monitor.notify.messages import Message

TIMEOUT_SECONDS = 30.0
_LEADING_DOT = re.compile(rb"(?m)^\.")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # starttls | tls | none
    user: str
    password_env: str
    sender: str
    timeout: float = TIMEOUT_SECONDS

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def compose(settings: SmtpSettings, recipient: str, message: Message, message_id: str, now: datetime, *, resent: bool = False) -> bytes:
    """The message as it goes on the wire (CRLF line ends, 7-bit safe)."""
    email = EmailMessage(policy=SMTP)
    email["From"] = settings.sender
    email["To"] = recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(now)
    email["Message-ID"] = message_id
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    if resent:
        email["X-DFE-Monitor-Resent"] = "the previous attempt was cut off after the message was sent; this may be a second copy"
    email.set_content(message.body)
    return email.as_bytes()


class SmtpConnection:
    """One connection to the server for a batch of messages (``with SmtpConnection(s) as c``)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpConnection:
        with _worded(self.settings, "connecting"):
            self.smtp = self._connect()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.security == "tls":
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            # The end of a message is a 5-byte packet sent after the rest: without this, Nagle's
            # algorithm holds it until the server's delayed ACK (~40 ms), which would widen the
            # one window in which a crash leaves a message's fate unknown.
            if smtp.sock is not None:
                smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            smtp.ehlo()
            if s.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise ChannelError(f"the SMTP server {s.where} does not offer STARTTLS; set [notify] smtp_security = \"tls\" (port 465) or \"none\" (a server on this machine only)")
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.user:
                smtp.login(s.user, _password(s))
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, recipient: str, data: bytes, before_commit: Callable[[], None]) -> None:
        """Send one message; ``before_commit`` runs when only the final dot is left to send."""
        assert self.smtp is not None, "use SmtpConnection as a context manager"
        smtp = self.smtp
        with _worded(self.settings, f"sending to {recipient}"):
            smtp.rset()
            _expect(smtp.mail(self.settings.sender), (250,), "MAIL FROM")
            _expect(smtp.rcpt(recipient), (250, 251), f"RCPT TO <{recipient}>")
            _expect(smtp.docmd("DATA"), (354,), "DATA")
            payload = _LEADING_DOT.sub(b"..", data)
            if not payload.endswith(b"\r\n"):
                payload += b"\r\n"
            smtp.send(payload)
            before_commit()
            smtp.send(b".\r\n")
            _expect(smtp.getreply(), (250,), "the end of the message")


def _password(settings: SmtpSettings) -> str:
    password = os.environ.get(settings.password_env, "") if settings.password_env else ""
    if not password:
        raise ChannelError(f"[notify] smtp_user is set but the environment variable {settings.password_env or '(smtp_password_env is empty)'} holds no password; set it where dfe-monitor runs")
    return password


class _Answered(Exception):
    """The server answered with a status other than the one that lets the exchange go on."""


def _expect(reply: tuple[int, bytes], codes: tuple[int, ...], what: str) -> None:
    code, text = reply
    if code not in codes:
        raise _Answered(f"the server answered {code} {_text(text)} to {what}")


def _text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    flat = " ".join(text.split())
    return flat[:200]


class _worded:
    """Turns what smtplib, ssl and the socket raise into one ChannelError line."""

    def __init__(self, settings: SmtpSettings, doing: str) -> None:
        self.settings, self.doing = settings, doing

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc is None or isinstance(exc, ChannelError) or not isinstance(exc, Exception):
            return
        raise ChannelError(f"e-mail via {self.settings.where} failed while {self.doing}: {_reason(exc)}") from None


def _reason(exc: Exception) -> str:
    if isinstance(exc, _Answered):
        return str(exc)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"the server refused the login ({exc.smtp_code} {_text(exc.smtp_error)}); check smtp_user and the password variable"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"the server answered {exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"its TLS certificate is not trusted ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or exc}); check smtp_security and smtp_port"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the server running, and is smtp_port right?)"
    if isinstance(exc, socket.timeout | TimeoutError):
        return f"no answer within {TIMEOUT_SECONDS:g} s"
    if isinstance(exc, socket.gaierror):
        return f"unknown host ({exc.strerror})"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "the server closed the connection"
    return f"{type(exc).__name__}: {_text(str(exc))}"
