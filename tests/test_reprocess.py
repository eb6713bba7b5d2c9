"""Better extraction code must never be reported as a change to the page."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib

from support.faults import blob
from support.inprocess import in_process_crawls, run_cli
from support.sitebuilder import Site, config_text, read_changes

from monitor.demo.server import FixtureServer
from monitor.document.assemble import NORMALISER_VERSION


def test_versions_from_older_code_are_rederived_not_reported(tmp_path, monkeypatch):
    site = Site(tmp_path / "site")
    state = site.state("before")
    state.robots()
    state.item("/guidance/privacy", title="Privacy notice", schema="detailed_guide", body="<p>We share data with researchers.</p>", change_history=[("2026-01-01T00:00:00Z", "First published.")])
    with FixtureServer(site.root, "before") as server, in_process_crawls(monkeypatch):
        config = tmp_path / "config.toml"
        config.write_text(config_text(server.url, [("Privacy", "/guidance/privacy", "privacy-notice")]))
        command = ["run", "--config", str(config)]
        assert run_cli(*command).returncode == 0
        # Pretend the stored version came from older code that read the text differently.
        con = sqlite3.connect(tmp_path / "monitor.db")
        with con:
            sha, = con.execute("SELECT document_sha256 FROM versions").fetchone()
            data = json.loads(blob(tmp_path / "monitor.db", sha))
            data["blocks"][0]["text"] = "We share data  with researchers ."
            old = json.dumps(data).encode()
            old_sha = hashlib.sha256(old).hexdigest()
            con.execute("INSERT INTO blobs (sha256, size, compression, data, created_at) VALUES (?, ?, 'zlib', ?, '2026-01-01')", (old_sha, len(old), zlib.compress(old)))
            con.execute("UPDATE versions SET document_sha256 = ?, fingerprint = 'old', extractor_version = 0", (old_sha,))
        con.close()
        result = run_cli(*command)
    assert result.returncode == 0, result.stderr
    assert read_changes(config) == []
    con = sqlite3.connect(tmp_path / "monitor.db")
    try:
        rows = con.execute("SELECT extractor_version, technical FROM versions ORDER BY id").fetchall()
    finally:
        con.close()
    assert rows == [(0, 0), (NORMALISER_VERSION, 1)]
