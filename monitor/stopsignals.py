"""How a long-running command hears "stop": its own handler for SIGTERM (and SIGINT) while it
runs, and the previous handlers back afterwards, whatever happens."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def handling(handler: Callable[[int, FrameType | None], Any], signals: tuple[signal.Signals, ...] = STOP_SIGNALS) -> Iterator[None]:
    previous = {sig: signal.signal(sig, handler) for sig in signals}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
