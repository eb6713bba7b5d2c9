"""The run lock of a shared PostgreSQL database: a session-level advisory lock.

A file lock only serialises runs on one machine; a database shared by several machines needs a
lock they all see, and the server is the one place they share. ``pg_try_advisory_lock`` is
taken on a connection held for the whole run: like ``flock``, it cannot go stale, because the
server drops it the moment that connection ends, however the run ends (killed, crashed, the
machine lost). The holder is named from ``pg_stat_activity``: every run sets its
``application_name`` to "dfe-monitor run (pid N on HOST)".
"""

from __future__ import annotations

import os
import socket

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

# One lock for every run on the database ("dfmn"); below 2**31 so pg_locks shows it in objid.
LOCK_KEY = 0x64666D6E


class LockBusy(Exception):
    """Another session holds the lock; the message names it when the server says who."""


class AdvisoryLock:
    def __init__(self, url: str) -> None:
        name = f"dfe-monitor run (pid {os.getpid()} on {socket.gethostname()})"
        self.engine = create_engine(url, poolclass=NullPool, connect_args={"application_name": name[:63]})
        self._conn: Connection | None = None

    def acquire(self) -> AdvisoryLock:
        conn = self.engine.connect()
        try:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}).scalar()
            holder = None if got else conn.execute(
                text(
                    "SELECT a.application_name, a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.objid = :key AND l.granted LIMIT 1"
                ),
                {"key": LOCK_KEY},
            ).first()
            conn.commit()  # the lock belongs to the session, not to this transaction
        except BaseException:
            conn.close()
            raise
        if not got:
            conn.close()
            self.engine.dispose()
            who = f"{holder[0] or 'a session'} (server pid {holder[1]})" if holder else "another session"
            raise LockBusy(who)
        self._conn = conn
        return self

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
                self._conn.commit()
            finally:
                self._conn.close()
                self._conn = None
                self.engine.dispose()
