"""The change pages in a real browser (Debian's Chromium, headless, driven by Playwright): every
page type renders with no console error and no sideways scroll at 360 px and 1280 px, the
highlighted words are visible, and a hostile page title never runs. Screenshots are kept in the
test's temporary folder.

Skipped, with the reason, when /usr/bin/chromium or Playwright is missing (`.ci/run` installs
Chromium with apt-get; Playwright never downloads a browser of its own here)."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.demo import demo_history

from monitor.config import load_config
from monitor.publish.entries import FeedEntry, render_entry_html
from monitor.publish.pages import write_pages
from monitor.serve.server import make_server

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
WIDTHS = (360, 1280)

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[test]')")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run the browser tests", allow_module_level=True)


@pytest.fixture(scope="module")
def browser(served):
    """Started after the demo's runs: Playwright's event loop would stop their in-process crawl."""
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The demo's pages behind `dfe-monitor serve` (real HTTP, real headers)."""
    folder = tmp_path_factory.mktemp("browser")
    config, _ = demo_history(folder)
    server, app = make_server(load_config(config), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    app.close()


class Visit:
    """One page at one width: its console errors, widths and screenshot."""

    def __init__(self, browser, url: str, width: int, shot: Path) -> None:
        self.page = browser.new_page(viewport={"width": width, "height": 800})
        self.errors: list[str] = []
        self.page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        response = self.page.goto(url)
        assert response is not None and response.status == 200, url
        self.scroll_width = self.page.evaluate("document.documentElement.scrollWidth")
        self.inner_width = self.page.evaluate("window.innerWidth")
        self.page.screenshot(path=str(shot), full_page=True)

    def visible_highlights(self, tag: str) -> list[str]:
        """Texts of ``tag`` elements that are on screen with a coloured background."""
        return self.page.evaluate(
            """tag => [...document.querySelectorAll(tag)].filter(el => {
                const box = el.getBoundingClientRect(), style = getComputedStyle(el);
                return box.width > 0 && box.height > 0 && box.right <= window.innerWidth && style.visibility !== 'hidden'
                    && style.backgroundColor !== 'rgba(0, 0, 0, 0)';
            }).map(el => el.textContent)""",
            tag,
        )


PAGES = {
    "index": "/pages/index.html",
    "index-silent": "/pages/index-silent.html",
    "index-privacy-notice": "/pages/index-privacy-notice.html",
    "register": "DfE external data shares",  # register rows as a table
    "sections": "Common basic data set (CBDS) database",  # PDF sections side by side
    "text": "Complete the school census",  # words changed in a paragraph
    "history": "history of DfE external data shares",
}


def page_path(folder: Path, key: str) -> str:
    value = PAGES[key]
    if value.startswith("/"):
        return value
    import sqlite3

    with sqlite3.connect(folder / "monitor.db") as con:
        name = value.removeprefix("history of ")
        change_id, target_id = con.execute("SELECT c.id, t.id FROM changes c JOIN targets t ON t.id = c.target_id WHERE t.name = ?", (name,)).fetchone()
    return f"/pages/target-{target_id}.html" if value.startswith("history of ") else f"/pages/change-{change_id}.html"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("key", sorted(PAGES))
def test_every_page_type_renders_cleanly_at_phone_and_desktop_widths(browser, served, tmp_path, key, width):
    folder, base = served
    visit = Visit(browser, base + page_path(folder, key), width, tmp_path / f"{key}-{width}.png")
    try:
        assert visit.errors == []
        assert visit.scroll_width <= visit.inner_width, f"{key} scrolls sideways at {width} px: {visit.scroll_width} > {visit.inner_width}"
        assert (tmp_path / f"{key}-{width}.png").stat().st_size > 1000
        if key in ("register", "text", "sections"):
            assert visit.visible_highlights("ins"), "no inserted words visible"
        if key == "text":
            assert "From the spring 2027 census, schools must" in visit.visible_highlights("ins")
            assert "Schools should" in visit.visible_highlights("del")
        if key == "register":
            header = visit.page.eval_on_selector("table", "t => [...t.querySelectorAll('th')].map(th => th.textContent)")
            assert header[:3] == ["Row", "Reference", "Organisation"]
    finally:
        visit.page.close()


def test_document_sections_are_side_by_side_on_a_wide_screen_and_stacked_on_a_phone(browser, served, tmp_path):
    folder, base = served
    url = base + page_path(folder, "sections")
    positions = {}
    for width in WIDTHS:
        visit = Visit(browser, url, width, tmp_path / f"sides-{width}.png")
        try:
            positions[width] = visit.page.evaluate(
                """() => { const t = [...document.querySelectorAll('p')].filter(p => p.textContent === 'Before' || p.textContent === 'After').slice(0, 2);
                           return t.map(p => [Math.round(p.getBoundingClientRect().left), Math.round(p.getBoundingClientRect().top)]); }"""
            )
        finally:
            visit.page.close()
    (before_x, before_y), (after_x, after_y) = positions[1280]
    assert after_x > before_x and after_y == before_y  # side by side
    (before_x, before_y), (after_x, after_y) = positions[360]
    assert after_x == before_x and after_y > before_y  # stacked


HOSTILE = ["<script>document.title='pwned'</script>", "<img src=x onerror=\"document.title='pwned'\">", "<svg onload=\"document.title='pwned'\"></svg>"]


def hostile_entry() -> FeedEntry:
    payload = "".join(HOSTILE)
    return FeedEntry(
        feed_id="tag:example.org,2026-11-02:dfe-monitor/change/1",
        title=f"Privacy notice {payload} — paragraph added",
        url="https://www.gov.uk/x",
        category="privacy-notice",
        kind="changed",
        detected_at=datetime(2026, 11, 2, 7, 17, tzinfo=UTC),
        summary=f"Paragraph added {payload}",
        silent_edit=True,
        details={"text_changes": [{"op": "added", "section": payload, "old": [], "new": [payload], "words": []}]},
        sequence=1,
        name=f"Privacy notice {payload}",
        target_id=7,
    )


@pytest.mark.parametrize("payload", HOSTILE)
def test_the_payloads_do_run_when_not_escaped(browser, payload):
    """The control: each payload, written raw into a page, does change the title."""
    page = browser.new_page()
    try:
        page.set_content(f"<!DOCTYPE html><title>before</title><body>{payload}</body>")
        page.wait_for_function("document.title === 'pwned'", timeout=5000)
    finally:
        page.close()


@pytest.mark.parametrize("csp", ["kept", "removed"])
def test_a_hostile_page_title_never_executes(browser, tmp_path, csp):
    """Escaping alone keeps it inert: the page's script ban is a second wall, taken away here."""
    folder = tmp_path / "pages"
    write_pages(folder, [hostile_entry()], "Changes")
    name_text = hostile_entry().name
    expected = {"change-1.html": f"{name_text}: changed — dfe-monitor", "index.html": "Changes", "target-7.html": f"Changes to {name_text}"}
    for name in expected:
        html = (folder / name).read_text()
        if csp == "removed":
            html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
        page = browser.new_page(viewport={"width": 360, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
        try:
            page.set_content(html)
            page.wait_for_timeout(200)
            assert page.title() == expected[name]  # a payload that ran would have made it "pwned"
            assert page.evaluate("document.querySelectorAll('script, img, svg').length") == 0
            assert "<script>document.title='pwned'</script>" in page.evaluate("document.body.textContent")
            assert errors == []
        finally:
            page.close()


def test_a_feed_entry_reads_well_on_a_phone(browser, served, tmp_path):
    """The entry's HTML as a reader shows it (no page stylesheet): no sideways scroll at 360 px."""
    folder, _ = served
    from monitor.publish.records import entry_from_row
    from storage.db import Database
    from storage.repo import list_changes

    db = Database(f"sqlite:///{folder / 'monitor.db'}", readonly=True)
    try:
        with db.read() as session:
            entries = [entry_from_row(c, t, "http://127.0.0.1:8080/pages/") for c, t in list_changes(session)]
    finally:
        db.dispose()
    for entry in entries:
        page = browser.new_page(viewport={"width": 360, "height": 800})
        try:
            page.set_content(f"<!DOCTYPE html><meta name=viewport content='width=device-width'><body style='margin:8px'>{render_entry_html(entry)}</body>")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, (entry.title, width)
            page.screenshot(path=str(tmp_path / f"entry-{entry.sequence}.png"), full_page=True)
        finally:
            page.close()
