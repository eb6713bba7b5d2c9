"""The settings of config.toml as pydantic models: one model per table, one field per key.

Each field carries its default, its limits and a one-line description; the README's settings
table is generated from these fields (``monitor.config.docs``), so the code and the documentation
cannot drift apart. Models are frozen: a run's configuration never changes under it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args
from urllib.parse import urlsplit

from pydantic import Field, PrivateAttr, model_validator

from monitor.config.base import Table
from monitor.config.fields import (
    CATEGORIES,
    Category,
    Cron,
    HostList,
    HttpUrl,
    NonEmptyText,
    OptionalHttpUrl,
    SiteUrl,
    Text,
    TextList,
    TimeZone,
    invalid,
)
from monitor.config.outputs import FeedFilter, NotifySettings
from monitor.govuk.urls import host_allowed, normalise_url
from monitor.limits import PageLimits

DEFAULT_USER_AGENT = (
    "dfe-monitor/0.2 (+https://example.org/dfe-monitor; monitors DfE pupil-data publications;"
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
HOUR = 3600.0
DAY = 24 * HOUR
GIB = 1024**3
SEARCH_API_MAX_RESULTS = 1500  # the Search API refuses larger pages
CATEGORY_HELP = ", ".join(CATEGORIES[:-1]) + " or other"


_Table = Table


class StorageSettings(_Table):
    database: NonEmptyText = Field("data/monitor.db", description="SQLite path (relative to this file) or any SQLAlchemy URL")
    lock_file: Text = Field("", description="lock shared by every run; empty means next to the database")


class FeedSettings(_Table):
    path: NonEmptyText = Field("public/feed.atom", description="Atom feed written after every run")
    title: Text = Field("DfE pupil data publications: changes", description="feed title")
    url: HttpUrl = Field("https://example.org/dfe-monitor/feed.atom", description="where the feed is published (self link)")
    max_entries: int = Field(500, ge=1, le=100_000, description="newest entries kept in the feed (the database keeps all)")
    pages_dir: Text = Field("", description="folder for one HTML page per change, plus index and history pages; empty: no pages")
    pages_url: OptionalHttpUrl = Field("", description="public URL of pages_dir: entries link to their change page; empty: no link")


class GovukSettings(_Table):
    base_url: SiteUrl = Field("https://www.gov.uk", description="site; /api/content and /api/search.json live here (no query or fragment)")


class FetchSettings(_Table):
    allowed_hosts: HostList = Field(
        default_factory=lambda: ["www.gov.uk", "assets.publishing.service.gov.uk"],
        description="hosts that may be fetched (host or host:port)",
    )
    timeout_seconds: float = Field(30.0, ge=0.1, le=HOUR, description="give up on a request after this long")
    delay_seconds: float = Field(1.0, ge=0.0, le=HOUR, description="pause between requests to one host")
    user_agent: NonEmptyText = Field(DEFAULT_USER_AGENT, description="identifying User-Agent with a contact address: set your own")
    max_bytes: int = Field(64 * 1024 * 1024, ge=1024, le=2 * GIB, description="refuse bodies larger than this (also after decompression)")
    retries: int = Field(3, ge=0, le=10, description="retries of a failed request (with backoff)")
    backoff_seconds: float = Field(2.0, ge=0.0, le=HOUR, description="first retry waits this long, doubling each time")
    max_retry_after_seconds: float = Field(600.0, ge=0.0, le=DAY, description="longest Retry-After honoured; longer gives up for this run")
    obey_robots_txt: bool = Field(True, description="honour robots.txt")
    verify_tls: bool = Field(True, description="verify TLS certificates")
    concurrency: int = Field(8, ge=1, le=64, description="requests in flight in all")
    concurrency_per_host: int = Field(1, ge=1, le=16, description="requests in flight to one host (GOV.UK manners: one at a time); the delay stays a floor per host")


class ScheduleSettings(_Table):
    cron: Cron = Field("17 */6 * * *", description="when `dfe-monitor schedule` checks every target (crontab)")
    timezone: TimeZone = Field("Europe/London", description="time zone of the cron expressions")


class HealthSettings(_Table):
    failing_after: int = Field(3, ge=1, le=1000, description="consecutive failed runs before a `failing` entry")
    gone_after: int = Field(2, ge=1, le=1000, description="consecutive 404/410 runs before a `removed` entry")


class AlertsSettings(_Table):
    terms: TextList = Field(default_factory=lambda: list(DEFAULT_TERMS), description="terms that mark a change as high priority")


class ExtractSettings(_Table):
    timeout_seconds: float = Field(60.0, ge=1.0, le=HOUR, description="wall-clock limit for reading one attachment")
    memory_mb: int = Field(1024, ge=64, le=65536, description="memory limit for reading one attachment")


class LimitsSettings(_Table):
    """Hard caps on the work one hostile page or search can cause (see monitor/limits.py)."""

    body_blocks: int = Field(PageLimits.body_blocks, ge=100, le=1_000_000, description="blocks of text (headings, paragraphs, list items, table rows) one page may have; a page with more fails its check unread")
    attachments: int = Field(PageLimits.attachments, ge=1, le=10_000, description="attachments one page may list; a page listing more fails its check and none of its files is downloaded")
    diff_work: int = Field(PageLimits.diff_work, ge=1_000_000, le=10_000_000_000, description="comparison steps for one page's text (about 1 s per 100 million); past it the text is compared as a set of paragraphs, with a note")
    new_targets: int = Field(PageLimits.new_targets, ge=1, le=SEARCH_API_MAX_RESULTS, description="new targets one [[discover]] entry adds per run after its first, silent run (which tracks up to max_results); the rest come in later runs")

    def page_limits(self) -> PageLimits:
        return PageLimits(body_blocks=self.body_blocks, attachments=self.attachments, diff_work=self.diff_work, new_targets=self.new_targets)


class Target(_Table):
    """A page watched because config.toml names it."""

    name: NonEmptyText = Field(description="a name people recognise")
    url: HttpUrl = Field(description="the page URL (under govuk.base_url, or any allowed host)")
    category: Category = Field("other", description=CATEGORY_HELP)
    schedule: Cron | None = Field(None, description="check this target on its own crontab too (daemon only)")
    selector: NonEmptyText = Field("main#content", description="CSS selector of the content on HTML pages")
    row_key: Text | None = Field(None, description="spreadsheet column that identifies a row (default: detected)")


class Discover(_Table):
    """A Search API query whose new results become targets."""

    query: NonEmptyText = Field(description="Search API query")
    organisation: Text = Field("department-for-education", description="filter_organisations")
    document_type: Text | None = Field(None, description="filter_content_store_document_type")
    category: Category = Field("other", description=CATEGORY_HELP)
    max_results: int = Field(100, ge=1, le=SEARCH_API_MAX_RESULTS, description="newest results looked at per run")

    @property
    def key(self) -> str:
        """Identifies this entry across runs (its baseline is remembered by this key)."""
        return f"{self.query}|{self.organisation}|{self.document_type or ''}"


class Config(_Table):
    """The whole file. ``path`` is where it was read from: relative paths are relative to it."""

    storage: StorageSettings = Field(default_factory=StorageSettings, description="where the database and the run lock live")
    feed: FeedSettings = Field(default_factory=FeedSettings, description="the Atom feed and change pages")
    govuk: GovukSettings = Field(default_factory=GovukSettings, description="the GOV.UK site (or a mirror)")
    fetch: FetchSettings = Field(default_factory=FetchSettings, description="how pages and files are downloaded")
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings, description="when the daemon runs")
    health: HealthSettings = Field(default_factory=HealthSettings, description="when a failing or vanished page is reported")
    alerts: AlertsSettings = Field(default_factory=AlertsSettings, description="what makes a change high priority")
    extract: ExtractSettings = Field(default_factory=ExtractSettings, description="limits for reading attachments")
    limits: LimitsSettings = Field(default_factory=LimitsSettings, description="caps on the work one page or search can cause")
    notify: NotifySettings = Field(default_factory=NotifySettings, description="alerts by e-mail and through Apprise")
    targets: tuple[Target, ...] = Field((), strict=False, description="pages to watch ([[targets]])")
    discover: tuple[Discover, ...] = Field((), strict=False, description="searches for pages to watch ([[discover]])")
    feeds: tuple[FeedFilter, ...] = Field((), strict=False, description="more Atom feeds, each of the entries matching its filters ([[feeds]])")

    _path: Path = PrivateAttr(default_factory=lambda: Path("config.toml").resolve())

    def model_post_init(self, context: Any, /) -> None:
        """Remember the file, passed as validation context: it is not a setting of the file."""
        if isinstance(context, dict) and isinstance(context.get("path"), Path):
            self._path = context["path"].resolve()

    @model_validator(mode="after")
    def _check_across_settings(self) -> Config:
        """Checks that involve more than one setting, run once every setting is valid alone."""
        allowed = self.fetch.allowed_hosts
        _check_fetchable(self.govuk.base_url, allowed, ("govuk", None, "base_url"))
        _check_targets(self.targets, allowed)
        _check_discover(self.discover)
        _check_feeds(self.feed.path, self.feeds)
        if not self.targets and not self.discover:
            raise invalid("nothing to watch; add a [[targets]] or [[discover]] entry", at=("", None, None))
        return self

    @property
    def path(self) -> Path:
        return self._path

    @property
    def base_dir(self) -> Path:
        return self._path.parent

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
            from storage.db import sqlite_file

            file = sqlite_file(database)
            return Path(f"{file}.lock") if file is not None else self.resolve("data/dfe-monitor.lock")
        return Path(f"{self.resolve(database)}.lock")

    @property
    def feed_path(self) -> Path:
        return self.resolve(self.feed.path)

    @property
    def pages_path(self) -> Path | None:
        return self.resolve(self.feed.pages_dir) if self.feed.pages_dir else None

    def resolve(self, value: str) -> Path:
        """A path from the file: ``~`` expanded, relative paths taken from the file's folder."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path


def _check_fetchable(url: str, allowed: list[str], at: tuple[str, int | None, str]) -> None:
    if not host_allowed(url, allowed):
        host = urlsplit(url).netloc
        raise invalid(f"host {host!r} is not in fetch.allowed_hosts; add it there or fix the URL", at=at)


def _check_targets(targets: tuple[Target, ...], allowed: list[str]) -> None:
    """Every target is fetchable, and none is listed twice (by URL or by name)."""
    seen_urls: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    for index, target in enumerate(targets):
        _check_fetchable(target.url, allowed, ("targets", index, "url"))
        key = normalise_url(target.url)
        if key in seen_urls:
            raise invalid(f"duplicate target: same URL as target #{seen_urls[key] + 1}", at=("targets", index, "url"))
        if target.name in seen_names:
            raise invalid(f"duplicate target name, also used by target #{seen_names[target.name] + 1}", at=("targets", index, "name"))
        seen_urls[key] = index
        seen_names[target.name] = index


def _check_discover(entries: tuple[Discover, ...]) -> None:
    """Two entries with one key would share one baseline and trample each other's results."""
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if entry.key in seen:
            raise invalid(f"duplicate discover entry, same as #{seen[entry.key] + 1}", at=("discover", index, "query"))
        seen[entry.key] = index


def _check_feeds(main: str, feeds: tuple[FeedFilter, ...]) -> None:
    """Two feeds written to one file would overwrite each other after every run."""
    seen: dict[str, int] = {}
    for index, feed in enumerate(feeds):
        if Path(feed.path) == Path(main):
            raise invalid("same path as feed.path; give this feed its own file", at=("feeds", index, "path"))
        if feed.path in seen:
            raise invalid(f"same path as feed #{seen[feed.path] + 1}", at=("feeds", index, "path"))
        seen[feed.path] = index


def tables() -> tuple[dict[str, type[_Table]], dict[str, type[_Table]]]:
    """The tables ([name]) and arrays of tables ([[name]]) of the file, in declaration order."""
    sections: dict[str, type[_Table]] = {}
    arrays: dict[str, type[_Table]] = {}
    for name, field in Config.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, _Table):
            sections[name] = annotation
        else:
            arrays[name] = get_args(annotation)[0]
    return sections, arrays


SECTIONS, ARRAYS = tables()
