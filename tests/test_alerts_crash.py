"""A run killed (SIGKILL, a real child process) at each step of sending an alert: the next run
sends what the killed one did not, and sends nothing twice — except in the one gap SMTP leaves,
between handing over the end of a message and recording the server's answer, where a second
copy is sent with the same Message-ID and a header saying it may be one."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap

from support.demo import demo_site
from support.mail import MailServer

KILLER = textwrap.dedent(
    """
    import os, signal, sys

    point, config = sys.argv[1], sys.argv[2]

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    if point == "after-commit":  # the run's changes (and their alerts) are committed; nothing sent
        import monitor.record.alerts
        monitor.record.alerts.deliver_alerts = die
    else:
        from monitor.notify import smtp
        original = smtp.SmtpConnection.send

        def send(self, recipient, data, before_commit):
            if point == "before-final-dot":  # `delivering` committed, the end of data never sent
                return original(self, recipient, data, lambda: (before_commit(), die()))
            original(self, recipient, data, before_commit)  # the server answered 250
            die()  # ... and the process dies before recording it

        smtp.SmtpConnection.send = send

    from monitor.cli import main
    sys.exit(main(["run", "--config", config]))
    """
)


def states(folder) -> list[str]:
    with sqlite3.connect(folder / "monitor.db") as con:
        return [row[0] for row in con.execute("SELECT state FROM alerts ORDER BY id")]


def killed_run(tmp_path, point: str, mail: MailServer):
    """Run 1 (baseline) here, run 2 in a child killed at ``point``, run 3 here; what each left."""
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    with demo_site(tmp_path, smtp_port=mail.port) as demo:
        demo.must_run()
        demo.server.set_state("after")
        child = subprocess.run([sys.executable, str(script), point, str(demo.config)], capture_output=True, text=True, timeout=300)
        assert child.returncode == -signal.SIGKILL, child.stderr
        after_kill = (states(tmp_path), len(mail.inbox.received))
        third = demo.must_run()
        assert third.returncode == 0
        fourth = demo.must_run()
    return after_kill, third, fourth


def test_killed_after_the_changes_were_committed_sends_all_on_the_next_run_once(tmp_path):
    with MailServer() as mail:
        (left, received), third, fourth = killed_run(tmp_path, "after-commit", mail)
    assert left == ["pending"] * 5 and received == 0  # the alerts were committed with the changes
    assert "; 5 alerts sent" in third.stdout and "alerts" not in fourth.stdout.split("\n")[0]
    assert sorted(mail.inbox.by_message_id().values()) == [1, 1, 1, 1, 1]
    assert states(tmp_path) == ["sent"] * 5
    with sqlite3.connect(tmp_path / "monitor.db") as con:
        assert con.execute("SELECT status FROM runs ORDER BY id").fetchall() == [("completed",), ("aborted",), ("completed",), ("completed",)]
        assert con.execute("SELECT count(*) FROM changes").fetchone() == (10,)


def test_killed_before_the_end_of_a_message_the_server_drops_it_and_it_is_sent_once(tmp_path):
    with MailServer() as mail:
        (left, received), third, _ = killed_run(tmp_path, "before-final-dot", mail)
    assert left == ["delivering", "pending", "pending", "pending", "pending"] and received == 0
    assert "; 5 alerts sent" in third.stdout
    assert sorted(mail.inbox.by_message_id().values()) == [1, 1, 1, 1, 1]
    resent = [m for m in mail.inbox.received if m.message["X-DFE-Monitor-Resent"]]
    assert len(resent) == 1  # marked as a possible copy: the monitor could not know it was not


def test_killed_after_the_server_took_a_message_it_is_sent_again_as_a_marked_copy(tmp_path):
    """The gap: the server has the message, the database does not know. A second copy (same
    Message-ID, marked) is the price of never losing one."""
    with MailServer() as mail:
        (left, received), third, _ = killed_run(tmp_path, "after-answer", mail)
    assert left == ["delivering", "pending", "pending", "pending", "pending"] and received == 1
    assert "; 5 alerts sent" in third.stdout
    copies = mail.inbox.by_message_id()
    assert sorted(copies.values()) == [1, 1, 1, 1, 2]
    [twice] = [mid for mid, n in copies.items() if n == 2]
    first, second = [m.message for m in mail.inbox.received if m.message["Message-ID"] == twice]
    assert first["X-DFE-Monitor-Resent"] is None and second["X-DFE-Monitor-Resent"]
    assert first.get_body(("plain",)).get_content() == second.get_body(("plain",)).get_content()
