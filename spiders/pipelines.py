"""Hands every capture to the sink the runner gave the spider (it writes to storage)."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler

from spiders.items import Capture


class SinkPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SinkPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Capture):
            self.crawler.spider.sink(item)  # type: ignore[union-attr]
        return item
