"""Importing Scrapy's HTTP handler without paying for a stack walk it does not need."""

from __future__ import annotations

import importlib
import inspect
import sys
from types import FrameType
from typing import Any


def import_with_cheap_stack(module: str) -> Any:
    """Import ``module`` while ``inspect.stack()`` returns frames only and ``inspect.getmodule``
    reads a frame's module from its globals.

    Scrapy 2.19's ``create_deprecated_class`` (three of them in
    ``scrapy.core.downloader.contextfactory``, imported with the HTTP handler) calls
    ``inspect.stack()`` and ``inspect.getmodule(frame)`` only to read its caller's module. The
    first reads the source of every frame of the import chain; the second, on its first call,
    resolves the path of every module in ``sys.modules`` (a thousand ``realpath`` calls): together
    100-200 ms of every run's start. The module a frame runs in is the one its globals name, so
    the frames and their globals give the same result.
    """
    if module in sys.modules:
        return sys.modules[module]
    real, real_getmodule = inspect.stack, inspect.getmodule

    def module_of(obj: object, _filename: str | None = None) -> Any:
        if isinstance(obj, FrameType):
            found = sys.modules.get(obj.f_globals.get("__name__", ""))
            if found is not None:
                return found
        return real_getmodule(obj, _filename)

    def frames_only(context: int = 1) -> list[tuple[FrameType]]:
        frames = []
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            frames.append((frame,))
            frame = frame.f_back
        return frames

    inspect.stack = frames_only  # type: ignore[assignment]
    inspect.getmodule = module_of  # type: ignore[assignment]
    try:
        return importlib.import_module(module)
    finally:
        inspect.stack, inspect.getmodule = real, real_getmodule
