"""Garbage collection around start-up.

Starting a command allocates hundreds of thousands of objects that live as long as the
process: modules, classes, compiled patterns, the configuration, Scrapy's components. The
cyclic garbage collector would walk them again and again while they are made (a tenth of a
run's start-up, measured) and then at every full collection for the rest of the process. So a
command starts with collections held back, and once it has what it needs, ``started()`` moves
everything made so far out of the collector's way (``gc.freeze``) and collects normally again.

Held back means a first-generation threshold of a million allocations, not ``gc.disable()``:
if some path never calls ``started()``, cycles are still collected, only rarely.
"""

from __future__ import annotations

import gc

_START_THRESHOLD = 1_000_000
_saved: tuple[int, int, int] | None = None
_froze = False


def starting() -> None:
    """Hold back collections while the command imports and sets up (idempotent)."""
    global _saved
    if _saved is None:
        _saved = gc.get_threshold()
        gc.set_threshold(_START_THRESHOLD, _saved[1], _saved[2])


def started() -> None:
    """Freeze what start-up made and collect normally from here on (idempotent)."""
    global _saved, _froze
    if _saved is not None:
        gc.freeze()
        _froze = True
        gc.set_threshold(*_saved)
        _saved = None


def settle() -> None:
    """The command is over: collect normally, and give back to the collector what ``started``
    froze, so a caller in the same process (tests, embedding) loses nothing (idempotent)."""
    global _saved, _froze
    if _saved is not None:
        gc.set_threshold(*_saved)
        _saved = None
    if _froze:
        gc.unfreeze()
        _froze = False
