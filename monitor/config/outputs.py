"""The settings of what dfe-monitor sends out besides the main feed: ``[[feeds]]`` (filtered Atom
feeds) and ``[notify]`` (alerts by e-mail and through Apprise).

Kept apart from ``settings`` so each module stays one screenful of declarations; ``settings``
puts them into the ``Config`` model like any other table.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, model_validator

from monitor.config.base import Table
from monitor.config.fields import (
    CATEGORIES,
    Category,
    Email,
    EnvName,
    NonEmptyText,
    OptionalHttpUrl,
    Text,
    TextList,
    invalid,
    one_of,
)
from monitor.model import ChangeKind

KINDS = tuple(kind.value for kind in ChangeKind)
PRIORITIES = ("high", "normal")
WHEN = ("all", "high", "silent")
SECURITY = ("starttls", "tls", "none")

Kind = Annotated[Text, one_of(KINDS)]
Priority = Annotated[Text, one_of(PRIORITIES)]


class FeedFilter(Table):
    """One more Atom feed, of the entries matching every filter given (``[[feeds]]``)."""

    path: NonEmptyText = Field(description="where this feed is written (relative to config.toml)")
    title: Text = Field("", description="feed title; empty: the main feed's title and what this one keeps")
    url: OptionalHttpUrl = Field("", description="where it is published (self link); empty: next to feed.url, by file name")
    categories: list[Category] = Field(default_factory=list, description=f"only these categories ({', '.join(CATEGORIES)}); empty: all")
    priority: Priority | None = Field(None, description="only this priority (high or normal); absent: any")
    silent_only: bool = Field(False, description="only silent edits (content changed with no change note)")
    kinds: list[Kind] | None = Field(None, description=f"only these kinds ({', '.join(KINDS)}); absent: any")


class NotifySettings(Table):
    """Alerts: every matching change reaches each channel exactly once (the outbox)."""

    when: Annotated[Text, one_of(WHEN)] = Field("high", description="which changes alert: all, high (high priority, silent or not) or silent (silent edits)")
    digest: bool = Field(False, description="one message per run listing its changes, instead of one per change")
    email_to: list[Email] = Field(default_factory=list, description="e-mail recipients; empty: no e-mail")
    email_from: Email = Field("dfe-monitor@example.org", description="sender address of the e-mails")
    smtp_host: NonEmptyText = Field("localhost", description="SMTP server")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port (587 for starttls, 465 for tls)")
    smtp_security: Annotated[Text, one_of(SECURITY)] = Field("starttls", description="starttls, tls or none (none: only for a server on this machine)")
    smtp_user: Text = Field("", description="SMTP user name; empty: no login")
    smtp_password_env: EnvName = Field("DFE_MONITOR_SMTP_PASSWORD", description="environment variable holding the SMTP password (never written in config.toml)")
    apprise_urls: TextList = Field(default_factory=list, description="Apprise URLs (slack://, matrix://, msteams://, ntfy://, json://…), one channel each")

    @model_validator(mode="before")
    @classmethod
    def _no_password_here(cls, data: Any) -> Any:
        """A password in the file would end up in backups and version control: refuse it by name."""
        if isinstance(data, dict) and "smtp_password" in data:
            raise invalid(
                "the SMTP password is never stored in config.toml; put it in the environment variable named by smtp_password_env",
                at=("notify", None, "smtp_password"),
            )
        return data

    @model_validator(mode="after")
    def _check_channels(self) -> NotifySettings:
        for index, url in enumerate(self.apprise_urls):
            check_apprise_url(url, index)
        return self


def check_apprise_url(url: str, index: int) -> None:
    """Apprise itself must understand the URL (imported only when there is one: it is slow)."""
    if "://" not in url:
        raise invalid(f"apprise_urls[{index}] is not a URL (expected e.g. \"slack://…\" or \"json://host/path\")", at=("notify", None, "apprise_urls"))
    import apprise

    if apprise.Apprise.instantiate(url) is None:
        scheme = url.split("://", 1)[0]
        raise invalid(f"apprise_urls[{index}]: Apprise does not understand this URL (scheme {scheme!r}); see the Apprise wiki for its form", at=("notify", None, "apprise_urls"))
