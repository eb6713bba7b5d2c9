"""What a run (or `dfe-monitor feed`) publishes, from the configuration: the main feed, each
``[[feeds]]`` feed and the change pages, all from the database."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin

from monitor.config import Config, FeedFilter
from monitor.publish.feeds import FeedSpec
from monitor.publish.records import PagesSpec, publish
from storage.db import Database


def main_feed(config: Config, path: Path | None = None) -> FeedSpec:
    return FeedSpec(path=path or config.feed_path, title=config.feed.title, url=config.feed.url)


def filtered_feed(config: Config, feed: FeedFilter) -> FeedSpec:
    """A ``[[feeds]]`` entry; an empty title or url is derived from the main feed's."""
    spec = FeedSpec(
        path=config.resolve(feed.path),
        title="",
        url=feed.url or urljoin(config.feed.url, Path(feed.path).name),
        categories=tuple(feed.categories),
        priority=feed.priority,
        silent_only=feed.silent_only,
        kinds=tuple(feed.kinds) if feed.kinds is not None else None,
    )
    title = feed.title or f"{config.feed.title} ({spec.description.partition(' (')[2].rstrip(')') or 'all'})"
    return FeedSpec(**{**spec.__dict__, "title": title})


def feed_specs(config: Config) -> list[FeedSpec]:
    """The main feed first, then every ``[[feeds]]`` entry in file order."""
    return [main_feed(config), *(filtered_feed(config, feed) for feed in config.feeds)]


def pages_spec(config: Config) -> PagesSpec | None:
    folder = config.pages_path
    if folder is None:
        return None
    url = config.feed.pages_url
    return PagesSpec(folder=folder, url=url if not url or url.endswith("/") else url + "/", title=config.feed.title)


def publish_all(db: Database, config: Config, now: datetime) -> int:
    """Every feed and the change pages; returns the main feed's entry count."""
    return publish(db, feed_specs(config), max_entries=config.feed.max_entries, now=now, pages=pages_spec(config))


def publish_main_feed_to(db: Database, config: Config, path: Path, now: datetime) -> int:
    """Only the main feed, to ``path`` (`dfe-monitor feed --output`)."""
    return publish(db, [main_feed(config, path)], max_entries=config.feed.max_entries, now=now, keep_renderings=False)
