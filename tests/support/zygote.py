"""A warm ``dfe-monitor`` that forks a child process for each command (the server side of
``forkserver.py``; started as a script, one per test worker).

It imports what a run imports, then waits on a Unix socket. Each request carries the command's
arguments, working folder and environment, and its stdin, stdout and stderr as file descriptors.
The server forks; the child takes those descriptors as 0, 1 and 2, moves to the folder, takes the
environment and runs ``python -m monitor ARGS`` from there on: a separate process with its own pid,
signals, exit code and interpreter shutdown, like a freshly started one, but without the second
or so of imports. The server answers with the child's pid and, later, its wait status.

Nothing here runs any of the project's code before the fork: no reactor, no event loop, no
database, no thread (the forking process must have only one).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import pkgutil
import selectors
import socket
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_FDS = 3


# What a crawl loads lazily, after the project's modules (from a real run's ``sys.modules``): the
# database dialect, Scrapy's download handler, middlewares, extensions and queues. A name missing
# here costs only its import in each child; a name that no longer exists is skipped.
LAZY = ["sqlalchemy.dialects.sqlite", "sqlalchemy.dialects.sqlite.pysqlite", "twisted.internet.endpoints", "twisted.web.client", "scrapy.core.downloader.contextfactory", "scrapy.responsetypes", "scrapy.spidermiddlewares.referer", "scrapy.downloadermiddlewares.redirect", "scrapy.downloadermiddlewares.httpcompression", "scrapy.statscollectors", "scrapy.utils.request", "scrapy.logformatter", "scrapy.extensions.corestats", "scrapy.extensions.logcount", "scrapy.utils.engine", "scrapy.extensions.memusage", "scrapy.extensions.memdebug", "scrapy.extensions.closespider", "scrapy.extensions.postprocessing", "scrapy.extensions.feedexport", "scrapy.extensions.logstats", "scrapy.extensions.spiderstate", "scrapy.extensions.throttle", "scrapy.core.downloader.handlers.datauri", "scrapy.core.downloader.handlers.file", "scrapy.core.downloader.handlers.s3", "scrapy.core.downloader.handlers.ftp", "scrapy.robotstxt", "scrapy.downloadermiddlewares.httpauth", "scrapy.downloadermiddlewares.downloadtimeout", "scrapy.downloadermiddlewares.defaultheaders", "scrapy.downloadermiddlewares.useragent", "scrapy.downloadermiddlewares.httpproxy", "scrapy.downloadermiddlewares.stats", "scrapy.spidermiddlewares.start", "scrapy.spidermiddlewares.httperror", "scrapy.spidermiddlewares.urllength", "scrapy.spidermiddlewares.depth", "scrapy.spidermiddlewares.metacopy", "scrapy.dupefilters", "scrapy.squeues", "scrapy.pqueues", "encodings.idna", "encodings.utf_8_sig"]


def warm() -> None:
    """Import every module of the project and what a crawl loads, and start nothing: each child
    process starts from here."""
    sys.path.insert(0, str(ROOT))
    for package in ("monitor", "spiders", "storage"):
        for info in pkgutil.walk_packages(importlib.import_module(package).__path__, f"{package}."):
            if not info.name.endswith(".__main__"):
                importlib.import_module(info.name)
    from spiders.imports import import_with_cheap_stack

    import_with_cheap_stack("scrapy.core.downloader.handlers.http11")
    for name in LAZY:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    from monitor.publish.render import environment

    templates = environment()
    for name in templates.list_templates():  # compiled once here, not in every child that renders
        templates.get_template(name)
    assert "twisted.internet.reactor" not in sys.modules, "warming up installed a reactor"
    assert threading.active_count() == 1, "warming up started a thread"


def serve(listener: socket.socket) -> tuple[list[str], str, dict[str, str], list[int]] | None:
    """Answer requests until stdin closes (the test worker went away); in a forked child, return
    the command it is to run."""
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, ("listener",))
    selector.register(sys.stdin, selectors.EVENT_READ, ("client gone",))
    while True:
        for key, _ in selector.select():
            kind, *rest = key.data
            if kind == "client gone":
                return None
            if kind == "listener":
                conn, _ = listener.accept()
                selector.register(conn, selectors.EVENT_READ, ("request", conn))
            elif kind == "request":
                conn = rest[0]
                selector.unregister(conn)
                message, fds, _, _ = socket.recv_fds(conn, 1 << 20, MAX_FDS)
                if not message:
                    conn.close()
                    continue
                request = json.loads(message)
                pid = os.fork()
                if pid == 0:
                    for other in list(selector.get_map().values()):
                        other_kind, *other_rest = other.data
                        if other_kind == "exited":
                            os.close(other.fd)
                            other_rest[0].close()
                    selector.close()
                    listener.close()
                    conn.close()
                    return request["argv"], request["cwd"], request["env"], fds
                for fd in fds:
                    os.close(fd)
                conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
                selector.register(os.pidfd_open(pid), selectors.EVENT_READ, ("exited", conn, pid))
            elif kind == "exited":
                conn, pid = rest
                selector.unregister(key.fd)
                os.close(key.fd)
                _, status = os.waitpid(pid, 0)
                with contextlib.suppress(OSError):  # the client stopped waiting
                    conn.sendall(json.dumps({"status": status}).encode() + b"\n")
                conn.close()


def become(argv: list[str], cwd: str, env: dict[str, str], fds: list[int]) -> None:
    """In the child: take the request's streams, folder and environment, as a new process would."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    for fd in fds:
        if fd > 2:
            os.close(fd)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    encoding = env.get("PYTHONIOENCODING", "utf-8").split(":")[0] or "utf-8"
    sys.stdin = sys.__stdin__ = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding=encoding)
    sys.stdout = sys.__stdout__ = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)), encoding=encoding, line_buffering=os.isatty(1))
    sys.stderr = sys.__stderr__ = io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "w", closefd=False)), encoding=encoding, errors="backslashreplace", line_buffering=True)
    sys.argv = [str(ROOT / "monitor" / "__main__.py"), *argv]


def main() -> None:
    warm()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    name = sys.argv[1]
    listener.bind("\0" + name[1:] if name.startswith("@") else name)  # "@name": abstract namespace
    listener.listen(64)
    print("ready", flush=True)
    command = serve(listener)
    if command is None:
        return
    argv, cwd, env, fds = command
    become(argv, cwd, env, fds)
    from monitor.cli import main as dfe_monitor

    sys.exit(dfe_monitor(argv))


if __name__ == "__main__":
    main()
