"""Kinds of value a setting can hold, each with the check people need when they get it wrong.

Every string setting is one of these types, so the control-character check cannot be forgotten
on a new setting. Failures raise ``PydanticCustomError`` of type ``setting`` whose message is
already worded for people; ``monitor.config.load`` adds file, line and key.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
import zoneinfo
from collections.abc import Iterable
from typing import Annotated
from urllib.parse import SplitResult, urlsplit

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

CATEGORIES = ("release-register", "privacy-notice", "census-guidance", "other")
CRON_FIELDS = 5
# Unicode categories refused in any string setting: C0/C1 controls and line/paragraph separators
# would break the one-line messages, the feed's XML and the logs.
_CONTROL_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


def invalid(message: str, at: tuple[str, int | None, str | None] | None = None) -> PydanticCustomError:
    """An error worded for people; ``at`` (section, index, key) when the model's own location is
    not the setting to blame (checks that span several settings)."""
    context: dict[str, object] = {"message": message}
    if at is not None:
        context["at"] = at
    return PydanticCustomError("setting", "{message}", context)


def cut(text: str, limit: int = 80) -> str:
    """``text`` shortened to ``limit`` characters: a message stays one readable line."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shown(value: object, limit: int = 80) -> str:
    """``repr(value)``, shortened: whatever the file holds, the message stays short."""
    try:
        return cut(repr(value), limit)
    except RecursionError:
        return f"<{type(value).__name__} nested too deeply>"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """The closest known spelling, as a suffix for an error message (empty when none is close)."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _no_controls(value: str) -> str:
    """Control characters have no place in a setting and would corrupt messages, logs and XML."""
    for position, char in enumerate(value, start=1):
        if unicodedata.category(char) in _CONTROL_CATEGORIES:
            raise invalid(f"contains a control character ({char!r} at position {position}); remove it")
    return value


def _non_empty(value: str) -> str:
    if not value:
        raise invalid("expected a non-empty string, got a string ('')")
    return value


def _split_http_url(value: str) -> SplitResult:
    """The parts of an http(s) URL with a host and no user name or password, or an error.

    Parsed with urllib, as the crawler will parse it: ``https://www.gov.uk@evil.example/`` names
    the host ``evil.example``, and credentials in a URL would end up in logs and the feed.
    """
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        raise invalid(f"expected an http(s) URL, got {shown(value)} (the port is not a number from 0 to 65535)") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid(f"expected an http(s) URL, got {shown(value)}")
    if "@" in parts.netloc:
        raise invalid(
            f"must not contain a user name or password (text before '@'); as written it names the"
            f" host {parts.hostname!r}: remove everything between '//' and '@'"
        )
    return parts


def _http_url(value: str) -> str:
    _split_http_url(value)
    return value


def _site_url(value: str) -> str:
    """A site root: every API path is appended to it, so a query or fragment would end up in the
    middle of every request URL."""
    parts = _split_http_url(value)
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        bare = parts._replace(query="", fragment="").geturl()
        raise invalid(f"must be a site address without a query or fragment, got {shown(value)}; write {shown(bare)}")
    return value


def _cron(value: str) -> str:
    """Checked with APScheduler itself, so the daemon can never meet a crontab it cannot read."""
    from apscheduler.triggers.cron import CronTrigger

    if len(value.split()) != CRON_FIELDS:
        raise invalid(f'expected a 5-field crontab like "17 */6 * * *", got {shown(value)}')
    try:
        CronTrigger.from_crontab(value, timezone="UTC")
    except ValueError as exc:
        raise invalid(f"invalid crontab {shown(value)}: {cut(str(exc), 160)}") from None
    return value


def _timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a folder
        raise invalid(f'unknown time zone {shown(value)} (e.g. "Europe/London")') from None
    return value


def _category(value: str) -> str:
    if value not in CATEGORIES:
        raise invalid(f"expected one of {', '.join(CATEGORIES)}, got {shown(value)}{did_you_mean(value, CATEGORIES)}")
    return value


def one_of(choices: tuple[str, ...]) -> AfterValidator:
    """A string that must be one of ``choices`` (a typo gets a "did you mean")."""

    def check(value: str) -> str:
        if value not in choices:
            raise invalid(f"expected one of {', '.join(choices)}, got {shown(value)}{did_you_mean(value, choices)}")
        return value

    return AfterValidator(check)


def _optional_http_url(value: str) -> str:
    return _http_url(value) if value else value


_EMAIL_RE = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


def _email(value: str) -> str:
    """A bare address (no display name): it goes into SMTP commands and headers as it is."""
    if not value.isascii() or not _EMAIL_RE.match(value):
        raise invalid(f"expected an e-mail address like \"campaign@example.org\", got {shown(value)}")
    return value


_ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _env_name(value: str) -> str:
    if value and not _ENV_NAME_RE.match(value):
        raise invalid(f"expected the name of an environment variable (letters, digits, _), got {shown(value)}")
    return value


def _without_blanks(values: list[str]) -> list[str]:
    """Blank entries (an emptied "" left behind after editing) are dropped, not errors."""
    return [v for v in values if v]


def _some_hosts(values: list[str]) -> list[str]:
    if not values:
        raise invalid("must list at least one host")
    return values


Text = Annotated[str, AfterValidator(_no_controls)]
NonEmptyText = Annotated[Text, AfterValidator(_non_empty)]
HttpUrl = Annotated[NonEmptyText, AfterValidator(_http_url)]
SiteUrl = Annotated[NonEmptyText, AfterValidator(_site_url)]
Cron = Annotated[Text, AfterValidator(_cron)]
TimeZone = Annotated[Text, AfterValidator(_timezone)]
Category = Annotated[Text, AfterValidator(_category)]
TextList = Annotated[list[Text], AfterValidator(_without_blanks)]
OptionalHttpUrl = Annotated[Text, AfterValidator(_optional_http_url)]
Email = Annotated[NonEmptyText, AfterValidator(_email)]
EnvName = Annotated[Text, AfterValidator(_env_name)]
HostList = Annotated[TextList, AfterValidator(_some_hosts)]
