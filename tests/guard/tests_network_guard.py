"""Refuse every network connection that does not go to a loopback address.

Installed in the test process by ``tests/conftest.py`` and in every child process the tests
start through ``sitecustomize.py`` (the tests put this folder on ``PYTHONPATH``), so neither a
test nor a ``dfe-monitor run`` child can reach a real host.
"""

from __future__ import annotations

import ipaddress
import socket

_installed = False


class NetworkGuardError(ConnectionRefusedError):
    pass


def is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return False
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _check(address: object) -> None:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return
    host = address[0] if isinstance(address, tuple) and address else address
    if not is_loopback(host):
        raise NetworkGuardError(f"test network guard: refused connection to {address!r}")


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: object) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _check(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: object) -> int:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _check(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host is not None and not is_loopback(host):
            raise socket.gaierror(socket.EAI_NONAME, f"test network guard: no lookup of {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    real_gethostbyname = socket.gethostbyname
    real_gethostbyname_ex = socket.gethostbyname_ex

    def gethostbyname(host):  # type: ignore[no-untyped-def]
        if not is_loopback(host):
            raise socket.gaierror(socket.EAI_NONAME, f"test network guard: no lookup of {host!r}")
        return real_gethostbyname(host)

    def gethostbyname_ex(host):  # type: ignore[no-untyped-def]
        if not is_loopback(host):
            raise socket.gaierror(socket.EAI_NONAME, f"test network guard: no lookup of {host!r}")
        return real_gethostbyname_ex(host)

    socket.gethostbyname = gethostbyname
    socket.gethostbyname_ex = gethostbyname_ex
    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo
