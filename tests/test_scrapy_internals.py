"""spiders/scrapy_internals.py: the Scrapy internals dfe-monitor relies on, and the self-check
that stops a run with one line when one of them is missing."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from types import SimpleNamespace

import pytest
import scrapy
from scrapy import Request
from scrapy.core.downloader import Downloader, Slot
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.utils._download_handlers import get_maxsize_msg
from support.faults import config_for, query_db
from twisted.internet.defer import Deferred

from monitor.errors import EXIT_SOFTWARE, ScrapyMismatch
from spiders.scrapy_internals import (
    TESTED_SCRAPY,
    SizeRefusal,
    abandon_queued_requests,
    abandon_transfers,
    check_scrapy,
    count_dequeued_as_transferring,
    describe_size_refusal,
    hold_host_queue,
    is_redirect_limit,
    is_robots_download_error,
    is_robots_refusal,
    is_size_cancel,
    pending_robots_parser,
)
from spiders.stop import CrawlStopped, stopped

URL = "https://www.gov.uk/government/publications/x"


# -- the self-check ------------------------------------------------------------------------------


def test_the_installed_scrapy_passes_the_check():
    assert scrapy.__version__.startswith(f"{TESTED_SCRAPY}.")
    check_scrapy()


@pytest.mark.parametrize(
    ("owner", "name", "named"),
    [
        (Downloader, "_latercall", "Downloader._latercall(slot)"),
        (Downloader, "_get_slot", "Downloader._get_slot(request, spider)"),
        (Downloader, "_process_queue", "Downloader._process_queue(slot) taking requests with slot.queue.popleft()"),
        (Slot, "transferring", "Slot.queue, Slot.transferring and Slot.latercall"),
        (RobotsTxtMiddleware, "robot_parser", "RobotsTxtMiddleware.robot_parser(request) as a coroutine"),
    ],
)
def test_a_missing_internal_is_named_in_one_line(monkeypatch, owner, name, named):
    monkeypatch.delattr(owner, name)
    with pytest.raises(ScrapyMismatch) as caught:
        check_scrapy()
    message = str(caught.value)
    assert message == f"Scrapy {scrapy.__version__} lacks {named}, which dfe-monitor relies on (tested with Scrapy {TESTED_SCRAPY}); install scrapy=={TESTED_SCRAPY}.* or report it"
    assert "\n" not in message
    assert caught.value.exit_code == EXIT_SOFTWARE == 70


def test_a_changed_signature_is_a_missing_internal(monkeypatch):
    monkeypatch.setattr(Downloader, "_latercall", lambda self, slot, when: None)
    with pytest.raises(ScrapyMismatch, match=r"lacks Downloader\._latercall\(slot\)"):
        check_scrapy()


def test_a_changed_message_text_is_a_missing_internal(monkeypatch):
    import scrapy.utils._download_handlers as handlers

    monkeypatch.setattr(handlers, "get_maxsize_msg", lambda size, limit, request, *, expected: f"Too big: {size} > {limit}")
    with pytest.raises(ScrapyMismatch, match="lacks the DOWNLOAD_MAXSIZE message of get_maxsize_msg()"):
        check_scrapy()


def test_another_scrapy_release_is_refused(monkeypatch):
    monkeypatch.setattr(scrapy, "__version__", "2.20.0")
    with pytest.raises(ScrapyMismatch) as caught:
        check_scrapy()
    assert str(caught.value) == f"Scrapy 2.20.0 is installed but dfe-monitor is tested with Scrapy {TESTED_SCRAPY}; install scrapy=={TESTED_SCRAPY}.* or report it"


def test_the_crawl_checks_before_it_starts(monkeypatch, tmp_path):
    import scrapy.crawler

    from monitor.config import load_config
    from monitor.record.crawl import crawl
    from spiders.items import CrawlPlan

    config = tmp_path / "config.toml"
    config.write_text(config_for("http://127.0.0.1:9"))
    monkeypatch.delattr(Downloader, "_latercall")
    monkeypatch.setattr(scrapy.crawler, "CrawlerProcess", None)  # never reached
    with pytest.raises(ScrapyMismatch, match=r"lacks Downloader\._latercall\(slot\)"):
        crawl(CrawlPlan(base_url="http://127.0.0.1:9", allowed_hosts=("127.0.0.1",), targets=[]), load_config(config), lambda capture: None)


def test_a_run_on_a_scrapy_without_an_internal_stops_with_that_one_line(tmp_path):
    """`dfe-monitor run` in a child process whose Scrapy lacks ``Downloader._latercall``."""
    listener = socket.socket()  # something to connect to: a first run checks that much before it starts
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    config = tmp_path / "config.toml"
    config.write_text(config_for(f"http://127.0.0.1:{listener.getsockname()[1]}"))
    program = (
        "import sys\n"
        "from scrapy.core.downloader import Downloader\n"
        "del Downloader._latercall\n"
        "from monitor.cli import main\n"
        "sys.exit(main(['run', '--config', sys.argv[1]]))\n"
    )
    with listener:
        result = subprocess.run([sys.executable, "-c", program, str(config)], capture_output=True, text=True, timeout=120, env=os.environ)
    assert result.returncode == 70, result.stderr
    assert result.stdout == ""
    expected = f"dfe-monitor: Scrapy {scrapy.__version__} lacks Downloader._latercall(slot), which dfe-monitor relies on (tested with Scrapy {TESTED_SCRAPY}); install scrapy=={TESTED_SCRAPY}.* or report it"
    assert result.stderr.splitlines() == [expected]
    [(status, error)] = query_db(tmp_path / "monitor.db", "SELECT status, error FROM runs")
    assert status == "failed" and error == expected.removeprefix("dfe-monitor: ")


# -- slots: one request at a time, held, abandoned -------------------------------------------------


def queued_slot(*urls: str) -> tuple[Slot, list[tuple[Request, Deferred]], list]:
    """A slot with one queued request per URL; the outcomes of their deferreds are collected."""
    slot = Slot(1, 0.0, 0.0)
    count_dequeued_as_transferring(slot)
    outcomes: list = []
    entries = []
    for url in urls:
        request, done = Request(url), Deferred()
        done.addBoth(outcomes.append)
        slot.queue.append((request, done))
        entries.append((request, done))
    return slot, entries, outcomes


def test_a_dequeued_request_counts_as_transferring_at_once():
    slot, [(first, _), (second, _)], _ = queued_slot(URL, URL + "/2")
    assert slot.free_transfer_slots() == 1
    request, _done = slot.queue.popleft()
    assert request is first and first in slot.transferring
    assert slot.free_transfer_slots() == 0  # the downloader's loop stops here
    count_dequeued_as_transferring(slot)  # again: the same queue, nothing lost
    assert [r for r, _ in slot.queue] == [second]


def test_queued_requests_and_transfers_are_abandoned_on_stop():
    slot, [(first, _), (second, _)], outcomes = queued_slot(URL, URL + "/2")
    _, transfer = slot.queue.popleft()  # the first is in flight; the downloader fires ``transfer``
    cancelled = []
    slot.latercall = SimpleNamespace(cancel=lambda: cancelled.append(True))
    downloader = SimpleNamespace(slots={"www.gov.uk": slot})

    assert abandon_queued_requests(downloader, stopped) == 1
    assert cancelled == [True] and slot.latercall is None and len(slot.queue) == 0
    assert isinstance(outcomes[-1].value, CrawlStopped) and second.url in str(outcomes[-1].value)

    assert abandon_transfers(downloader, stopped) == 1
    assert isinstance(outcomes[-1].value, CrawlStopped) and first.url in str(outcomes[-1].value)
    transfer.callback("the answer, too late")  # dropped: no AlreadyCalledError
    assert len(outcomes) == 2
    assert abandon_transfers(downloader, stopped) == 0


def test_a_finished_transfer_is_not_abandoned():
    slot, _, outcomes = queued_slot(URL)
    _, transfer = slot.queue.popleft()
    transfer.callback("response")
    assert abandon_transfers(SimpleNamespace(slots={"h": slot}), stopped) == 0
    assert outcomes == ["response"]


def test_hold_host_queue_holds_the_slot_then_releases_it():
    slot = Slot(1, 0.0, 0.0)
    released = []

    class FakeDownloader:
        slots = {"www.gov.uk": slot}

        def get_slot_key(self, request):
            return "www.gov.uk"

        def _latercall(self, held):
            held.latercall = None
            released.append(held)

    crawler = SimpleNamespace(engine=SimpleNamespace(downloader=FakeDownloader()))

    async def pause():
        hold_host_queue(crawler, Request(URL), 0.05)
        assert slot.latercall is not None and released == []
        await asyncio.sleep(0.2)

    asyncio.run(pause())
    assert released == [slot] and slot.latercall is None
    hold_host_queue(SimpleNamespace(), Request(URL), 5)  # no engine yet: nothing to hold


# -- robots.txt ----------------------------------------------------------------------------------


def test_pending_robots_parser_is_the_shared_deferred_only_while_fetching():
    shared = Deferred()
    middleware = SimpleNamespace(_parsers={"www.gov.uk": shared, "assets.publishing.service.gov.uk": None})
    assert pending_robots_parser(middleware, Request(URL)) is shared
    assert pending_robots_parser(middleware, Request("https://assets.publishing.service.gov.uk/x")) is None
    assert pending_robots_parser(middleware, Request("https://example.org/x")) is None


# -- Scrapy's message texts ------------------------------------------------------------------------


def test_size_refusals_are_read_from_scrapys_messages():
    request = Request(URL)
    assert describe_size_refusal(get_maxsize_msg(5_000_000, 100_000, request, expected=True)) == SizeRefusal(cap=100_000, size=5_000_000, announced=True)
    assert describe_size_refusal(get_maxsize_msg(100_512, 100_000, request, expected=False)) == SizeRefusal(cap=100_000, size=100_512)
    decompressed = "Ignored response <200 x> because its body (51234 B compressed, 100352 B decompressed so far) exceeded DOWNLOAD_MAXSIZE (100000 B) during decompression."
    assert describe_size_refusal(decompressed) == SizeRefusal(cap=100_000, size=100_352, compressed=51_234)
    assert describe_size_refusal("Connection was closed cleanly.") is None
    assert is_size_cancel(DownloadCancelledError("")) and not is_size_cancel(IgnoreRequest("x"))


def test_other_messages_are_recognised():
    assert is_robots_refusal("Forbidden by robots.txt") and not is_robots_refusal("refused https://robots.example/x")
    assert is_redirect_limit("max redirections reached") and not is_redirect_limit("redirect loop; not followed")
    assert is_robots_download_error("Error downloading <GET http://x/robots.txt>: Connection refused")
    assert not is_robots_download_error("Spider error processing <GET http://x/>")


def test_components_switched_off_are_not_even_imported():
    """Scrapy imports every class its settings name (even one set to None); the ones we switch
    off are left out of its base lists, so a run's start does not pay for aiohttp or tldextract."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from scrapy.settings import Settings\n"
        "from spiders.settings import build_settings, UNUSED_COMPONENTS\n"
        "s = Settings(build_settings(user_agent='ua', delay_seconds=0, timeout_seconds=5, max_bytes=1, obey_robots_txt=True, verify_tls=True, allowed_hosts=('www.gov.uk',)))\n"
        "names = set(s.getwithbase('EXTENSIONS')) | set(s.getwithbase('DOWNLOADER_MIDDLEWARES')) | set(s.getwithbase('SPIDER_MIDDLEWARES'))\n"
        "assert not names & UNUSED_COMPONENTS, names & UNUSED_COMPONENTS\n"
        "assert 'spiders.robots.QuietRobotsTxtMiddleware' in names and 'spiders.retry.PoliteRetryMiddleware' in names\n"
        "print(sorted(m for m in ('aiohttp', 'tldextract') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_the_http_handler_imported_with_a_cheap_stack_names_its_deprecated_classes_as_scrapy_does():
    """``import_with_cheap_stack`` gives Scrapy's deprecated-class shims the caller frame they
    read (and the frame's own module), so the classes carry the same module name, and leaves
    ``inspect.stack`` and ``inspect.getmodule`` as they were."""
    import inspect
    import subprocess
    import sys

    script = (
        "import inspect, sys\n"
        "real, real_getmodule = inspect.stack, inspect.getmodule\n"
        "from spiders.imports import import_with_cheap_stack\n"
        "import_with_cheap_stack('scrapy.core.downloader.handlers.http11')\n"
        "assert inspect.stack is real and inspect.getmodule is real_getmodule\n"
        "from scrapy.core.downloader import contextfactory as c\n"
        "print(c.ScrapyClientContextFactory.__module__, c.AcceptableProtocolsContextFactory.__module__)\n"
    )
    cheap = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    plain = subprocess.run(
        [sys.executable, "-c", "from scrapy.core.downloader import contextfactory as c\nprint(c.ScrapyClientContextFactory.__module__, c.AcceptableProtocolsContextFactory.__module__)"],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    assert cheap == plain == ["scrapy.core.downloader.contextfactory"] * 2
    assert inspect.stack.__module__ == "inspect"


def test_stats_are_scrapys_own_without_the_attribute_shim():
    """A crawl's stats collector is Scrapy's in-memory one, minus the deprecation shim that made
    every attribute read raise and catch an AttributeError; it counts as Scrapy's does."""
    from scrapy.settings import Settings
    from scrapy.statscollectors import MemoryStatsCollector, StatsCollector
    from scrapy.utils.misc import load_object
    from scrapy.utils.test import get_crawler

    from spiders.scrapy_internals import DirectStats
    from spiders.settings import build_settings

    settings = Settings(build_settings(user_agent="ua", delay_seconds=0, timeout_seconds=5, max_bytes=1, obey_robots_txt=True, verify_tls=True, allowed_hosts=("www.gov.uk",)))
    assert load_object(settings["STATS_CLASS"]) is DirectStats
    assert StatsCollector.__getattribute__ is not object.__getattribute__  # the shim is still Scrapy's
    assert DirectStats.__getattribute__ is object.__getattribute__
    stats = DirectStats(get_crawler())
    reference = MemoryStatsCollector(get_crawler())
    for collector in (stats, reference):
        collector.inc_value("downloader/response_status_count/304")
        collector.inc_value("downloader/response_status_count/304", 2)
        collector.max_value("max", 3)
        collector.max_value("max", 1)
        collector.set_value("finish_reason", "finished")
    assert stats.get_stats() == reference.get_stats() == {"downloader/response_status_count/304": 3, "max": 3, "finish_reason": "finished"}
