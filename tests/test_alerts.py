"""Alerts through a real SMTP server (aiosmtpd on 127.0.0.1) and a local Apprise endpoint, on
the demo's history: the right messages reach the right people exactly once, through refusals,
outages and STARTTLS with a throwaway certificate."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from support.demo import demo_site
from support.mail import Inbox, MailServer, free_port, server_tls_context, throwaway_certificate

HIGH = {  # the demo's high-priority changes (when = "high")
    "DfE external data shares",
    "Privacy information: EYFS to key stage 3",
    "Privacy notice model documents for schools",
    "Complete the school census",
    "Common basic data set (CBDS) database",
}


def alert_states(folder) -> list[tuple[str, str, int]]:
    with sqlite3.connect(folder / "monitor.db") as con:
        return con.execute("SELECT channel, state, attempts FROM alerts ORDER BY id").fetchall()


def names_in(inbox: Inbox) -> list[str]:
    return sorted(item.subject.split(" — ")[0] for item in inbox.received)


def set_key(text: str, key: str, value: str) -> str:
    return re.sub(rf"(?m)^{key} = .*$", f"{key} = {value}", text)


def test_each_high_priority_change_arrives_once_by_email(tmp_path):
    with MailServer() as mail, demo_site(tmp_path, smtp_port=mail.port) as demo:
        demo.must_run()
        assert mail.inbox.received == []  # a baseline alerts nobody
        demo.server.set_state("after")
        result = demo.must_run()
        assert "; 5 alerts sent" in result.stdout
        demo.must_run()  # nothing new: nothing sent again
    assert names_in(mail.inbox) == sorted(HIGH)
    by_name = {item.subject.split(" — ")[0]: item for item in mail.inbox.received}
    privacy = by_name["Privacy information: EYFS to key stage 3"]
    assert privacy.recipients == ["campaign@example.org"] and privacy.sender == "dfe-monitor@example.org"
    assert privacy.message["To"] == "campaign@example.org" and privacy.message["Auto-Submitted"] == "auto-generated"
    assert privacy.subject == "Privacy information: EYFS to key stage 3 — paragraph added, no change note [silent edit, high priority]"
    body = privacy.body
    assert "No change note: silent edit." in body
    assert "Watch-list terms: Home Office, nationality, country of birth, immigration" in body
    record = next(c for c in demo.changes() if c["name"] == "Privacy information: EYFS to key stage 3")
    assert f"http://127.0.0.1:8080/pages/change-{record['id']}.html" in body
    assert record["page_url"] in body
    register = by_name["DfE external data shares"].body
    assert "Change note (10 December 2026): “Added data shares for July to September 2026.”" in register
    assert all(count == 1 for count in mail.inbox.by_message_id().values())
    assert {state for _, state, _ in alert_states(tmp_path)} == {"sent"}


def test_a_refusing_then_recovering_server_gets_each_alert_exactly_once(tmp_path):
    inbox = Inbox(refuse_data=["451 4.3.0 try again later", "554 5.0.0 transaction failed"])
    with MailServer(inbox) as mail, demo_site(tmp_path, smtp_port=mail.port) as demo:
        demo.must_run()
        demo.server.set_state("after")
        result = demo.must_run()  # two refused at the end of DATA, three accepted
        assert "; 3 alerts sent, 2 not delivered (retried next run)" in result.stdout
        status = demo.run("status").stdout
        assert re.search(r"e-mail to campaign@example.org\s+3\s+2\s+e-mail via 127.0.0.1:\d+ failed while sending to campaign@example.org: the server answered 554 5.0.0 transaction failed to the end of the message", status), status
        assert "; 2 alerts sent" in demo.must_run().stdout
        demo.must_run()
    assert names_in(mail.inbox) == sorted(HIGH)
    assert all(count == 1 for count in mail.inbox.by_message_id().values())
    assert sorted(attempts for _, _, attempts in alert_states(tmp_path)) == [1, 1, 1, 2, 2]


def test_an_outage_keeps_every_alert_reports_it_and_delivers_once_when_it_ends(tmp_path):
    port = free_port()
    mail = MailServer(port=port)
    edit = lambda text: text.replace("[govuk]", "[health]\nfailing_after = 2\n\n[govuk]")  # noqa: E731
    with demo_site(tmp_path, smtp_port=port, edit=edit) as demo:
        demo.must_run()
        demo.server.set_state("after")
        second = demo.must_run()  # nothing listens: connection refused
        assert second.returncode == 0 and "0 alerts sent, 5 not delivered" in second.stdout
        assert "connection refused" in second.stderr
        assert demo.must_run().returncode == 0  # a second failed run: the channel is failing
        failing = [c for c in demo.changes() if c["kind"] == "failing"]
        assert len(failing) == 1
        assert failing[0]["title"].startswith("Alerts: e-mail to campaign@example.org — alerts not delivered: e-mail via 127.0.0.1:")
        assert "failed on 2 runs in a row" in failing[0]["summary"]
        assert failing[0]["feed_id"] in (tmp_path / "feed.atom").read_text()
        mail.start()
        try:
            assert "; 5 alerts sent" in demo.must_run().stdout
            demo.must_run()
        finally:
            mail.stop()
        kinds = [c["kind"] for c in demo.changes() if c["name"].startswith("Alerts:")]
        assert kinds == ["failing", "recovered"]
        status = demo.run("status").stdout
        assert re.search(r"e-mail to campaign@example.org\s+5\s+0\s+-", status), status
    assert names_in(mail.inbox) == sorted(HIGH)
    assert all(count == 1 for count in mail.inbox.by_message_id().values())


def test_starttls_with_a_throwaway_certificate(tmp_path, monkeypatch):
    cert, key = throwaway_certificate(tmp_path)
    edit = lambda text: set_key(text, "smtp_security", '"starttls"')  # noqa: E731
    with MailServer(tls_context=server_tls_context(cert, key)) as mail, demo_site(tmp_path, smtp_port=mail.port, edit=edit) as demo:
        demo.must_run()
        demo.server.set_state("after")
        untrusted = demo.must_run()
        assert "its TLS certificate is not trusted (self-signed certificate)" in untrusted.stderr
        assert mail.inbox.received == []
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        assert "; 5 alerts sent" in demo.must_run().stdout
    assert names_in(mail.inbox) == sorted(HIGH)


def test_a_plain_server_is_refused_when_starttls_is_required(tmp_path):
    edit = lambda text: set_key(text, "smtp_security", '"starttls"')  # noqa: E731
    with MailServer() as mail, demo_site(tmp_path, smtp_port=mail.port, edit=edit) as demo:
        result = demo.run("notify", "--test")
    assert result.returncode == 1
    assert "does not offer STARTTLS; set [notify] smtp_security = \"tls\" (port 465) or \"none\"" in result.stdout
    assert mail.inbox.received == []


def test_a_login_takes_its_password_from_the_environment_only(tmp_path, monkeypatch):
    edit = lambda text: set_key(text, "smtp_security", '"none"').replace('smtp_security = "none"', 'smtp_security = "none"\nsmtp_user = "monitor"')  # noqa: E731
    monkeypatch.delenv("DFE_MONITOR_SMTP_PASSWORD", raising=False)
    with MailServer() as mail, demo_site(tmp_path, smtp_port=mail.port, edit=edit) as demo:
        result = demo.run("notify", "--test")
    assert result.returncode == 1
    assert "smtp_user is set but the environment variable DFE_MONITOR_SMTP_PASSWORD holds no password" in result.stdout


# -- digest and Apprise ------------------------------------------------------------------------


class Hook(BaseHTTPRequestHandler):
    """A chat service stand-in: keeps every JSON post; answers 500 while ``failures`` > 0."""

    posts: list[dict] = []
    failures = 0

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if Hook.failures > 0:
            Hook.failures -= 1
            self.send_response(500)
            self.end_headers()
            return
        Hook.posts.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hook():
    Hook.posts, Hook.failures = [], 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"json://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def test_apprise_and_email_digests_one_message_per_run(tmp_path, hook):
    def edit(text: str) -> str:
        text = set_key(text, "when", '"all"')
        return text.replace('smtp_security = "none"', f'smtp_security = "none"\ndigest = true\napprise_urls = ["{hook}"]')

    with MailServer() as mail, demo_site(tmp_path, smtp_port=mail.port, edit=edit) as demo:
        demo.must_run()
        demo.server.set_state("after")
        Hook.failures = 1
        result = demo.must_run()
        assert "; 10 alerts sent, 10 not delivered (retried next run)" in result.stdout  # the hook answered 500
        assert "Apprise could not deliver to json://127.0.0.1" in demo.run("status").stdout
        assert "; 10 alerts sent" in demo.must_run().stdout
        demo.must_run()
    assert len(mail.inbox.received) == 1 and len(Hook.posts) == 1
    subject = mail.inbox.received[0].subject
    assert subject == "dfe-monitor: 10 changes, 5 high priority, 4 silent edits"
    assert Hook.posts[0]["title"] == subject
    body = mail.inbox.received[0].body
    assert body.index("[silent edit, high priority]") < body.index("withdrawn")  # high priority first
    assert [n for n in range(1, 12) if f"\n{n}. " in Hook.posts[0]["message"]] == list(range(1, 11))


def test_notify_test_says_which_channel_worked(tmp_path, hook):
    edit = lambda text: text.replace('smtp_security = "none"', f'smtp_security = "none"\napprise_urls = ["{hook}"]')  # noqa: E731
    with MailServer() as mail, demo_site(tmp_path, smtp_port=mail.port, edit=edit) as demo:
        ok = demo.run("notify", "--test")
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert ok.stdout.splitlines() == ["ok      e-mail to campaign@example.org", "ok      Apprise json://127.0.0.1:" + hook.rsplit(":", 1)[1], "2 of 2 channels worked"]
        mail.stop()
        failed = demo.run("notify", "--test")
    assert failed.returncode == 1
    assert "FAILED  e-mail to campaign@example.org: e-mail via 127.0.0.1:" in failed.stdout and "connection refused" in failed.stdout
    assert failed.stdout.splitlines()[-1] == "1 of 2 channels worked"
    assert len(mail.inbox.received) == 1 and mail.inbox.received[0].subject == "dfe-monitor: test message"
    assert len(Hook.posts) == 2
    assert not (tmp_path / "monitor.db").exists()  # a test message is not an alert: no database


def test_notify_without_test_or_channels_is_a_usage_error(tmp_path):
    with demo_site(tmp_path) as demo:
        assert demo.run("notify").returncode == 2
        result = demo.run("notify", "--test")
    assert result.returncode == 2
    assert result.stderr.strip().endswith("no alert channels: set [notify] email_to or apprise_urls")
