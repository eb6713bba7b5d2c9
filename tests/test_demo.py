"""`dfe-monitor demo`: feeds by topic, change pages, and e-mail alerts that survive the demo's
mail-server outage, each arriving once."""

from __future__ import annotations

import email
import email.policy
import subprocess
import sys

import feedparser


def test_the_demo_shows_feeds_pages_and_alerts_through_an_outage(tmp_path):
    result = subprocess.run([sys.executable, "-m", "monitor", "demo", "--dir", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "0 alerts sent, 5 not delivered (retried next run)" in result.stdout  # the outage
    assert "; 5 alerts sent" in result.stdout  # the third run, once the server is back
    assert result.stderr.count("alert not delivered") == 1  # one line for the channel, not one per alert
    mails = sorted((tmp_path / "mail").glob("*.eml"))
    messages = [email.message_from_bytes(m.read_bytes(), policy=email.policy.default) for m in mails]
    assert len(messages) == 5 and len({m["Message-ID"] for m in messages}) == 5
    assert all("[high priority]" in str(m["Subject"]) or "high priority]" in str(m["Subject"]) for m in messages)
    assert "E-mails received by the demo mail server (5, one per high-priority change):" in result.stdout
    for name in ("feed.atom", "privacy-notices.atom", "silent-edits.atom", "high-priority.atom"):
        parsed = feedparser.parse((tmp_path / name).read_bytes())
        assert parsed.bozo == 0 and parsed.entries
        assert all(any(link.rel == "related" and link.href.startswith("http://127.0.0.1:8080/pages/change-") for link in e.links) for e in parsed.entries)
    assert len(feedparser.parse((tmp_path / "privacy-notices.atom").read_bytes()).entries) == 2
    assert len(feedparser.parse((tmp_path / "silent-edits.atom").read_bytes()).entries) == 4
    assert (tmp_path / "pages" / "index-silent.html").is_file()
    # a changed page's Document is stored as a delta against the target's previous one
    import sqlite3

    con = sqlite3.connect(tmp_path / "monitor.db")
    try:
        pairs = con.execute(
            "SELECT b.compression, b.base_sha256, (SELECT p.document_sha256 FROM versions p WHERE p.target_id = v.target_id AND p.id < v.id ORDER BY p.id DESC LIMIT 1)"
            " FROM versions v JOIN blobs b ON b.sha256 = v.document_sha256"
        ).fetchall()
    finally:
        con.close()
    deltas = [(base, previous) for compression, base, previous in pairs if compression == "zstd-delta"]
    assert deltas and all(previous is not None for _, previous in deltas)
    assert all(kind == "zstd" for kind, _, previous in pairs if previous is None)  # first versions stand alone
