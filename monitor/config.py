"""Reads and validates config.toml: the only module that opens it.

Every setting is declared once, as data, in ``SETTINGS`` (section, key, type, default, help);
validation, defaults and the README's settings table all come from that declaration. Errors name
the file, the line, the key and how to fix it, in one line.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from monitor.errors import ConfigError
from monitor.govuk.urls import host_allowed, normalise_url

CATEGORIES = ("release-register", "privacy-notice", "census-guidance", "other")
DEFAULT_USER_AGENT = (
    "dfe-monitor/0.1 (+https://example.org/dfe-monitor; monitors DfE pupil-data publications;"
    " contact: dfe-monitor@example.org)"
)
DEFAULT_TERMS = (
    "Home Office",
    "nationality",
    "country of birth",
    "police",
    "immigration",
    "third party",
    "identifiable",
    "retention",
    "commercial",
)


@dataclass(frozen=True)
class Setting:
    key: str
    kind: str  # str | int | float | bool | list[str] | url | cron | timezone | category | path
    default: Any
    help: str
    minimum: float | None = None
    required: bool = False


def _s(key: str, kind: str, default: Any, help: str, **kw: Any) -> Setting:  # noqa: A002
    return Setting(key, kind, default, help, **kw)


# Tables of single settings: [section] key = value
SETTINGS: dict[str, tuple[Setting, ...]] = {
    "storage": (
        _s("database", "str", "data/monitor.db", "SQLite path (relative to this file) or any SQLAlchemy URL"),
        _s("lock_file", "str", "", "lock shared by every run; empty means next to the database"),
    ),
    "feed": (
        _s("path", "path", "public/feed.atom", "Atom feed written after every run"),
        _s("title", "str", "DfE pupil data publications: changes", "feed title"),
        _s("url", "url", "https://example.org/dfe-monitor/feed.atom", "where the feed is published (self link)"),
        _s("max_entries", "int", 500, "newest entries kept in the feed (the database keeps all)", minimum=1),
        _s("pages_dir", "str", "", "folder for one HTML page per change; empty: no pages"),
    ),
    "govuk": (
        _s("base_url", "url", "https://www.gov.uk", "site; /api/content and /api/search.json live here"),
    ),
    "fetch": (
        _s("allowed_hosts", "list[str]", ["www.gov.uk", "assets.publishing.service.gov.uk"], "hosts that may be fetched (host or host:port)"),
        _s("timeout_seconds", "float", 30.0, "give up on a request after this long", minimum=0.1),
        _s("delay_seconds", "float", 1.0, "pause between requests to one host", minimum=0.0),
        _s("user_agent", "str", DEFAULT_USER_AGENT, "identifying User-Agent with a contact address"),
        _s("max_bytes", "int", 64 * 1024 * 1024, "refuse bodies larger than this (also after decompression)", minimum=1024),
        _s("retries", "int", 3, "retries of a failed request (with backoff)", minimum=0),
        _s("backoff_seconds", "float", 2.0, "first retry waits this long, doubling each time", minimum=0.0),
        _s("max_retry_after_seconds", "float", 600.0, "longest Retry-After honoured; longer gives up for this run", minimum=0.0),
        _s("obey_robots_txt", "bool", True, "honour robots.txt"),
        _s("verify_tls", "bool", True, "verify TLS certificates"),
    ),
    "schedule": (
        _s("cron", "cron", "17 */6 * * *", "when `dfe-monitor schedule` checks every target (crontab)"),
        _s("timezone", "timezone", "Europe/London", "time zone of the cron expressions"),
    ),
    "health": (
        _s("failing_after", "int", 3, "consecutive failed runs before a `failing` entry", minimum=1),
        _s("gone_after", "int", 2, "consecutive 404/410 runs before a `removed` entry", minimum=1),
    ),
    "alerts": (
        _s("terms", "list[str]", list(DEFAULT_TERMS), "terms that mark a change as high priority"),
    ),
    "extract": (
        _s("timeout_seconds", "float", 60.0, "wall-clock limit for reading one attachment", minimum=1.0),
        _s("memory_mb", "int", 1024, "memory limit for reading one attachment", minimum=64),
    ),
}

# Arrays of tables: [[targets]] and [[discover]]
TARGET_SETTINGS: tuple[Setting, ...] = (
    _s("name", "str", None, "a name people recognise", required=True),
    _s("url", "url", None, "the page URL (under govuk.base_url, or any allowed host)", required=True),
    _s("category", "category", "other", ", ".join(CATEGORIES[:-1]) + " or other"),
    _s("schedule", "cron", None, "check this target on its own crontab too (daemon only)"),
    _s("selector", "str", "main#content", "CSS selector of the content on HTML pages"),
    _s("row_key", "str", None, "spreadsheet column that identifies a row (default: detected)"),
)
DISCOVER_SETTINGS: tuple[Setting, ...] = (
    _s("query", "str", None, "Search API query", required=True),
    _s("organisation", "str", "department-for-education", "filter_organisations"),
    _s("document_type", "str", None, "filter_content_store_document_type"),
    _s("category", "category", "other", ", ".join(CATEGORIES[:-1]) + " or other"),
    _s("max_results", "int", 100, "newest results looked at per run", minimum=1),
)
ARRAYS = {"targets": TARGET_SETTINGS, "discover": DISCOVER_SETTINGS}


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    category: str = "other"
    schedule: str | None = None
    selector: str = "main#content"
    row_key: str | None = None


@dataclass(frozen=True)
class Discover:
    query: str
    organisation: str = "department-for-education"
    document_type: str | None = None
    category: str = "other"
    max_results: int = 100

    @property
    def key(self) -> str:
        """Identifies this entry across runs (its baseline is remembered by this key)."""
        return f"{self.query}|{self.organisation}|{self.document_type or ''}"


@dataclass(frozen=True)
class Section:
    values: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError as exc:
            raise AttributeError(name) from exc


@dataclass(frozen=True)
class Config:
    path: Path
    storage: Section
    feed: Section
    govuk: Section
    fetch: Section
    schedule: Section
    health: Section
    alerts: Section
    extract: Section
    targets: tuple[Target, ...] = ()
    discover: tuple[Discover, ...] = ()
    raw_sections: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @property
    def database_url(self) -> str:
        database = self.storage.database
        if "://" in database:
            return database
        return f"sqlite:///{self.resolve(database)}"

    @property
    def lock_path(self) -> Path:
        if self.storage.lock_file:
            return self.resolve(self.storage.lock_file)
        database = self.storage.database
        if "://" in database:
            if database.startswith("sqlite:///") and len(database) > len("sqlite:///"):
                return Path(database[len("sqlite:///") :] + ".lock")
            return self.resolve("data/dfe-monitor.lock")
        return Path(f"{self.resolve(database)}.lock")

    @property
    def feed_path(self) -> Path:
        return self.resolve(self.feed.path)

    @property
    def pages_path(self) -> Path | None:
        return self.resolve(self.feed.pages_dir) if self.feed.pages_dir else None

    def resolve(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path


# -- loading ----------------------------------------------------------------------------------


def load_config(path: str | Path) -> Config:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: configuration file not found; pass --config PATH or copy config.toml here"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration file: {exc}") from None
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    lines = _LineIndex(text)
    where = _Where(path, lines)
    known = set(SETTINGS) | set(ARRAYS)
    for name, value in data.items():
        if name not in known:
            raise where.error(name, None, None, f"unknown section or key {name!r}{_did_you_mean(name, known)}")
        if name in ARRAYS and not isinstance(value, list):
            raise where.error(name, None, None, f"{name!r} must be an array of tables ([[{name}]])")
        if name in SETTINGS and not isinstance(value, dict):
            raise where.error(name, None, None, f"{name!r} must be a table ([{name}])")
    sections = {
        name: Section(_read_table(data.get(name, {}), settings, where, name, None))
        for name, settings in SETTINGS.items()
    }
    allowed = tuple(h.lower() for h in sections["fetch"].allowed_hosts)
    if not allowed:
        raise where.error("fetch", None, "allowed_hosts", "must list at least one host")
    _check_fetchable(sections["govuk"].base_url, allowed, where, "govuk", None, "base_url")

    targets = []
    seen_urls: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    for index, raw in enumerate(data.get("targets", [])):
        values = _read_table(raw, TARGET_SETTINGS, where, "targets", index)
        _check_fetchable(values["url"], allowed, where, "targets", index, "url")
        key = normalise_url(values["url"])
        if key in seen_urls:
            raise where.error("targets", index, "url", f"duplicate target: same URL as target #{seen_urls[key] + 1}")
        if values["name"] in seen_names:
            raise where.error("targets", index, "name", f"duplicate target name, also used by target #{seen_names[values['name']] + 1}")
        seen_urls[key] = index
        seen_names[values["name"]] = index
        targets.append(Target(**values))
    discover = []
    seen_queries: set[str] = set()
    for index, raw in enumerate(data.get("discover", [])):
        values = _read_table(raw, DISCOVER_SETTINGS, where, "discover", index)
        entry = Discover(**values)
        if entry.key in seen_queries:
            raise where.error("discover", index, "query", "duplicate discover entry")
        seen_queries.add(entry.key)
        discover.append(entry)
    if not targets and not discover:
        raise ConfigError(f"{path}: nothing to watch; add a [[targets]] or [[discover]] entry")
    return Config(path=path.resolve(), targets=tuple(targets), discover=tuple(discover), raw_sections=data, **sections)


def _read_table(
    raw: Any, settings: tuple[Setting, ...], where: _Where, section: str, index: int | None
) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise where.error(section, index, None, "must be a table")
    by_key = {s.key: s for s in settings}
    for key in raw:
        if key not in by_key:
            raise where.error(section, index, key, f"unknown key{_did_you_mean(key, by_key)}")
    values = {}
    for setting in settings:
        if setting.key not in raw:
            if setting.required:
                raise where.error(section, index, None, f"missing required key {setting.key!r} ({setting.help})")
            values[setting.key] = setting.default
            continue
        values[setting.key] = _convert(raw[setting.key], setting, where, section, index)
    return values


_CRON_FIELDS = 5


def _convert(value: Any, setting: Setting, where: _Where, section: str, index: int | None) -> Any:
    kind = setting.kind

    def fail(expected: str) -> ConfigError:
        return where.error(section, index, setting.key, f"expected {expected}, got {_describe(value)}")

    if kind in ("str", "path", "url", "cron", "timezone", "category"):
        if not isinstance(value, str):
            raise fail("a string")
        value = value.strip()
        if kind in ("path", "url") and not value:
            raise fail("a non-empty string")
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail("a whole number")
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise fail("a number")
        value = float(value)
    elif kind == "bool":
        if not isinstance(value, bool):
            raise fail("true or false")
    elif kind == "list[str]":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail("a list of strings")
        value = [v.strip() for v in value if v.strip()]
    elif kind == "url":
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise where.error(section, index, setting.key, f"expected an http(s) URL, got {value!r}")
    elif kind == "cron":
        _check_cron(value, where, section, index, setting.key)
    elif kind == "timezone":
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise where.error(section, index, setting.key, f"unknown time zone {value!r} (e.g. \"Europe/London\")") from None
    elif kind == "category":
        if value not in CATEGORIES:
            raise where.error(section, index, setting.key, f"expected one of {', '.join(CATEGORIES)}, got {value!r}{_did_you_mean(value, CATEGORIES)}")
    if setting.minimum is not None and value < setting.minimum:
        raise where.error(section, index, setting.key, f"must be at least {setting.minimum:g}, got {value!r}")
    return value


def _check_cron(value: str, where: _Where, section: str, index: int | None, key: str) -> None:
    from apscheduler.triggers.cron import CronTrigger

    if len(value.split()) != _CRON_FIELDS:
        raise where.error(section, index, key, f"expected a 5-field crontab like \"17 */6 * * *\", got {value!r}")
    try:
        CronTrigger.from_crontab(value, timezone="UTC")
    except ValueError as exc:
        raise where.error(section, index, key, f"invalid crontab {value!r}: {exc}") from None


def _check_fetchable(url: str, allowed: tuple[str, ...], where: _Where, section: str, index: int | None, key: str) -> None:
    if not host_allowed(url, allowed):
        host = urlsplit(url).netloc
        raise where.error(section, index, key, f"host {host!r} is not in fetch.allowed_hosts; add it there or fix the URL")


def _describe(value: Any) -> str:
    kind = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list", dict: "a table"}
    return f"{kind.get(type(value), type(value).__name__)} ({value!r})"


def _did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


# -- line numbers -------------------------------------------------------------------------------

_TABLE_RE = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\s*(#.*)?$")
_ARRAY_RE = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]\s*(#.*)?$")
_KEY_RE = re.compile(r"^\s*([A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')\s*=")


class _LineIndex:
    """Where each table and key was written, so errors can name a line (tomllib cannot)."""

    def __init__(self, text: str) -> None:
        self.tables: dict[tuple[str, int | None], int] = {}
        self.keys: dict[tuple[str, int | None, str], int] = {}
        counters: dict[str, int] = {}
        current: tuple[str, int | None] = ("", None)
        for number, line in enumerate(text.splitlines(), start=1):
            if match := _ARRAY_RE.match(line):
                name = match.group(1).strip().strip("\"'")
                counters[name] = counters.get(name, -1) + 1
                current = (name, counters[name])
                self.tables[current] = number
            elif match := _TABLE_RE.match(line):
                current = (match.group(1).strip().strip("\"'"), None)
                self.tables.setdefault(current, number)
            elif match := _KEY_RE.match(line):
                key = match.group(1).strip("\"'")
                self.keys.setdefault((current[0], current[1], key), number)
                if current == ("", None):
                    self.tables.setdefault((key, None), number)

    def line_of(self, section: str, index: int | None, key: str | None) -> int | None:
        if key is not None and (section, index, key) in self.keys:
            return self.keys[(section, index, key)]
        return self.tables.get((section, index))


@dataclass
class _Where:
    path: Path
    lines: _LineIndex

    def error(self, section: str, index: int | None, key: str | None, message: str) -> ConfigError:
        line = self.lines.line_of(section, index, key)
        location = f"{self.path}:{line}" if line else str(self.path)
        name = f"[[{section}]] #{index + 1}" if index is not None else f"[{section}]"
        if key:
            name += f" {key}"
        return ConfigError(f"{location}: {name}: {message}")
