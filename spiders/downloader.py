"""Scrapy's downloader, with its per-host concurrency kept when there is no download delay.

With ``DOWNLOAD_DELAY = 0`` Scrapy 2.19 hands every queued request of a host to the asyncio loop
in one go: a transfer is counted only when its task starts, so the loop that empties the queue
never sees the slot as full, and ``CONCURRENT_REQUESTS_PER_DOMAIN = 1`` is not kept (measured:
three requests to one host in flight at once). That breaks "one request at a time per host"
and lets requests already queued slip out during a ``Retry-After`` pause. Here a request counts
as transferring from the moment it leaves the queue (``_download`` adds it again, harmlessly,
and removes it when it is done).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from scrapy.core.downloader import Downloader


class _CountingQueue(deque):  # type: ignore[type-arg]
    def __init__(self, slot: Any, items: Any = ()) -> None:
        super().__init__(items)
        self.slot = slot

    def popleft(self) -> Any:
        item = super().popleft()
        self.slot.transferring.add(item[0])
        return item


class OneAtATimeDownloader(Downloader):
    def _get_slot(self, request: Any, *args: Any, **kwargs: Any) -> tuple[str, Any]:
        key, slot = super()._get_slot(request, *args, **kwargs)
        if not isinstance(slot.queue, _CountingQueue):
            slot.queue = _CountingQueue(slot, slot.queue)
        return key, slot
