"""Makes the README's screenshots of the demo's pages (docs/screenshots/*.png) with Debian's
Chromium: run the demo, serve it, and photograph a change page, the register's page and the
index at phone and desktop widths.

    .venv/bin/python docs/screenshots.py
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

from monitor.config import load_config
from monitor.serve.server import make_server

OUT = Path(__file__).parent / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = [  # (file, page: a target's name or a path, width, height, scroll to this text first)
    ("change-360.png", "Privacy information: EYFS to key stage 3", 360, 760, None),
    ("change-1280.png", "Complete the school census", 1280, 720, None),
    ("register-1280.png", "DfE external data shares", 1280, 720, "Sheet “DSAP approved shares”"),
    ("index-360.png", "/pages/index-silent.html", 360, 760, None),
]


def main() -> int:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        subprocess.run([sys.executable, "-m", "monitor", "demo", "--dir", str(folder)], check=True, capture_output=True)
        server, app = make_server(load_config(folder / "config.toml"), "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                for name, which, width, height, anchor in SHOTS:
                    page = browser.new_page(viewport={"width": width, "height": height})
                    page.goto(base + _path(folder, which))
                    if anchor:
                        page.get_by_text(anchor).first.evaluate("el => { el.scrollIntoView({block: 'start'}); window.scrollBy(0, -12); }")
                    page.screenshot(path=str(OUT / name))
                    page.close()
                    print(f"{OUT / name}: {(OUT / name).stat().st_size // 1024} KB")
                browser.close()
        finally:
            server.shutdown()
            server.server_close()
            app.close()
    return 0


def _path(folder: Path, which: str) -> str:
    if which.startswith("/"):
        return which
    with sqlite3.connect(folder / "monitor.db") as con:
        (change_id,) = con.execute("SELECT c.id FROM changes c JOIN targets t ON t.id = c.target_id WHERE t.name = ?", (which,)).fetchone()
    return f"/pages/change-{change_id}.html"


if __name__ == "__main__":
    sys.exit(main())
