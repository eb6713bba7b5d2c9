"""Scrapy's downloader, with its per-host concurrency kept when there is no download delay.

With ``DOWNLOAD_DELAY = 0`` Scrapy 2.19 hands every queued request of a host to the asyncio loop
in one go, so ``CONCURRENT_REQUESTS_PER_DOMAIN = 1`` was not kept (measured: three requests to
one host in flight at once): that breaks "one request at a time per host" and lets requests
already queued slip out during a ``Retry-After`` pause. Here a request counts as transferring
from the moment it leaves the queue.
"""

from __future__ import annotations

from typing import Any

from spiders.scrapy_internals import SlotHookDownloader, count_dequeued_as_transferring


class OneAtATimeDownloader(SlotHookDownloader):
    def prepare_slot(self, slot: Any) -> None:
        count_dequeued_as_transferring(slot)
