"""Scrapy's downloader, with its per-host concurrency kept when there is no download delay, and
its queues emptied at once when the run is stopped.

With ``DOWNLOAD_DELAY = 0`` Scrapy 2.19 hands every queued request of a host to the asyncio loop
in one go, so ``CONCURRENT_REQUESTS_PER_DOMAIN = 1`` was not kept (measured: three requests to
one host in flight at once): that breaks "one request at a time per host" and lets requests
already queued slip out during a ``Retry-After`` pause. Here a request counts as transferring
from the moment it leaves the queue. When the run is stopped (:data:`~spiders.stop.STOP_REQUESTED`)
every queued request fails at once, and a transfer still running after
``IN_FLIGHT_GRACE_SECONDS`` is abandoned.
"""

from __future__ import annotations

from typing import Any, cast

from scrapy.crawler import Crawler

from spiders.scrapy_internals import (
    SlotHookDownloader,
    abandon_queued_requests,
    abandon_transfers,
    count_dequeued_as_transferring,
)
from spiders.settings import IN_FLIGHT_GRACE_SECONDS
from spiders.stop import STOP_REQUESTED, stopped


class OneAtATimeDownloader(SlotHookDownloader):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._abandon_call: Any = None
        crawler.signals.connect(self.stop, signal=STOP_REQUESTED)

    def prepare_slot(self, slot: Any) -> None:
        count_dequeued_as_transferring(slot)

    def stop(self) -> None:
        """The run is stopping: fail every queued request now, abandon transfers after a grace."""
        from twisted.internet import reactor

        abandon_queued_requests(self, stopped)
        if self._abandon_call is None:
            self._abandon_call = cast(Any, reactor).callLater(IN_FLIGHT_GRACE_SECONDS, abandon_transfers, self, stopped)

    def close(self) -> None:
        super().close()
        if self._abandon_call is not None and self._abandon_call.active():
            self._abandon_call.cancel()
