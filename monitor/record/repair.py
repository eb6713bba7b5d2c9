"""Targets sent back to their own address when the one stored for them is not safe to fetch.

Before redirects were parsed, a hostile redirect item could store ``https://www.gov.uk@evil.example/x``
as a target's fetch URL: every later run was refused and the real page never asked again. A
fetch URL that is no longer a page where the target may live (``assemble.moved_page_url``) is
reset to the target's own URL before the plan is made, so the next run asks the real page.
"""

from __future__ import annotations

import logging

from monitor.document.assemble import TargetContext, moved_page_url
from monitor.text import clip
from storage import repo
from storage.db import Session

log = logging.getLogger("dfe-monitor")


def repair_fetch_urls(session: Session, base_url: str, allowed_hosts: tuple[str, ...]) -> int:
    """Reset every active target's unsafe fetch URL to its own URL; returns how many."""
    repaired = 0
    for target in repo.active_targets(session):
        if target.fetch_url == target.url:
            continue
        ctx = TargetContext(target_url=target.url, fetch_url=target.url, base_url=base_url, allowed_hosts=allowed_hosts)
        if moved_page_url(target.fetch_url, ctx) is None:
            log.warning("%s: the stored address %s is not a page of the site or an allowed host; asking %s again", target.name, clip(target.fetch_url, 200), target.url)
            repo.update_target(session, target.id, fetch_url=target.url)
            repaired += 1
    return repaired
