"""Importing Scrapy's HTTP handler without paying for a stack walk it does not need."""

from __future__ import annotations

import importlib
import inspect
import sys
from types import FrameType
from typing import Any


def import_with_cheap_stack(module: str) -> Any:
    """Import ``module`` while ``inspect.stack()`` returns frames only.

    Scrapy 2.19's ``create_deprecated_class`` (three of them in
    ``scrapy.core.downloader.contextfactory``, imported with the HTTP handler) calls
    ``inspect.stack()`` only to read its caller's module, and that reads the source of every
    frame of the import chain and scans ``sys.modules`` for each: 35–110 ms of every run's
    start. The caller's frame is all it uses, so the frames alone give the same result.
    """
    if module in sys.modules:
        return sys.modules[module]
    real = inspect.stack

    def frames_only(context: int = 1) -> list[tuple[FrameType]]:
        frames = []
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            frames.append((frame,))
            frame = frame.f_back
        return frames

    inspect.stack = frames_only  # type: ignore[assignment]
    try:
        return importlib.import_module(module)
    finally:
        inspect.stack = real
