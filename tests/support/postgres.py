"""A throwaway PostgreSQL server for the tests: started once per session as an unprivileged
user in a temporary folder, listening only on a Unix socket (no TCP at all), and removed at the
end. Tests that need it get a fresh database each; when no server can be started they are
skipped with the reason shown (``-ra``), never passed silently.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
USER = "dfe"


def find_tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in BIN_DIRS:
        if (folder / name).exists():
            return str(folder / name)
    return None


class PostgresServer:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="dfe-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.as_user: list[str] = []
        self.started = False

    def _run(self, *command: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.as_user, *command], capture_output=True, text=True, timeout=timeout, check=False)

    def start(self) -> None:
        initdb, pg_ctl = find_tool("initdb"), find_tool("pg_ctl")
        if initdb is None or pg_ctl is None:
            raise RuntimeError("PostgreSQL's initdb/pg_ctl are not installed (apt-get install postgresql)")
        self.socket_dir.mkdir()
        if os.geteuid() == 0:  # the server refuses to run as root
            runuser = shutil.which("runuser")
            if runuser is None:
                raise RuntimeError("running as root without runuser: cannot start PostgreSQL as an unprivileged user")
            nobody = pwd.getpwnam("nobody")
            for path in (self.root, self.socket_dir):
                os.chown(path, nobody.pw_uid, nobody.pw_gid)
            self.as_user = [runuser, "-u", "nobody", "--"]
        result = self._run(initdb, "-D", str(self.data), "--auth=trust", "-U", USER, "-E", "UTF8", "--no-sync")
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed: {result.stderr.strip()[-300:]}")
        options = f"-k {self.socket_dir} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
        result = self._run(pg_ctl, "-D", str(self.data), "-o", options, "-l", str(self.root / "server.log"), "-w", "-t", "60", "start")
        if result.returncode != 0:
            log = (self.root / "server.log").read_text(errors="replace")[-300:] if (self.root / "server.log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {result.stderr.strip()[-300:]} {log}")
        self.started = True

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{USER}@/{database}?host={self.socket_dir}"

    def create_database(self) -> str:
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(host=str(self.socket_dir), user=USER, dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        pg_ctl = find_tool("pg_ctl")
        if self.started and pg_ctl:
            self._run(pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("PostgreSQL tests skipped: psycopg is not installed (pip install -e '.[test]')")
    server = PostgresServer()
    try:
        server.start()
    except (RuntimeError, OSError, subprocess.TimeoutExpired, KeyError) as exc:
        server.stop()
        pytest.skip(f"PostgreSQL tests skipped: cannot start a throwaway server: {exc}")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database on each engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'monitor.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database()
