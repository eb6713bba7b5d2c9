"""Loaded by every Python process the tests start (via PYTHONPATH): no host but loopback."""

import os

if os.environ.get("DFE_MONITOR_NETWORK_GUARD") == "1":
    from tests_network_guard import install

    install()
