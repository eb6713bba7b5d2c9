import socket
import subprocess
import sys

import pytest
from tests_network_guard import NetworkGuardError


def test_refuses_non_loopback_connection():
    with socket.socket() as sock, pytest.raises(NetworkGuardError):
        sock.connect(("192.0.2.1", 80))


def test_refuses_dns_lookup_of_real_hosts():
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("www.gov.uk", 443)
    with pytest.raises(socket.gaierror):
        socket.gethostbyname("www.gov.uk")
    with pytest.raises(socket.gaierror):
        socket.gethostbyname_ex("assets.publishing.service.gov.uk")


def test_allows_loopback():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=2):
            pass


def test_child_processes_are_guarded_too():
    code = "import socket; socket.create_connection(('192.0.2.1', 80), timeout=1)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0
    assert "test network guard" in result.stderr
