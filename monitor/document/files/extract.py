"""Read an attachment file into a ``FileContent``, safely, without ever raising for bad input.

``extract_file`` is what the pipeline calls for every downloaded attachment:

1. ``sniff_format`` decides the format from the bytes (see ``sniff.py``);
2. the cheap structural checks of ``safety.py`` run in this process (size, zip bombs, encrypted
   members, DOCTYPE/ENTITY declarations) before any parser sees the file;
3. the parsing itself runs in a child process (``sandbox.py``) with memory, CPU and wall-clock
   limits, because PDF and office parsers are where denial-of-service bugs live; during a run,
   such a child serves file after file (``readers.py``).

Like feedparser's ``bozo``, failure is data: a refused, unreadable, unsupported or runaway file
comes back as ``FileContent(format=..., error="one clear line")`` so that one bad attachment
never stops a run, and the error itself can be stored and shown.

``EXTRACTOR_VERSION`` names the output format of this package: bump it whenever the same bytes
would extract differently, so stored versions can be re-derived ("reprocessed") knowingly.
"""

from __future__ import annotations

from monitor.document.files.parsers import precheck, run_extractor
from monitor.document.files.safety import Limits
from monitor.document.files.sniff import sniff_format
from monitor.model import FileContent

EXTRACTOR_VERSION = 3

def extract_file(
    data: bytes,
    *,
    content_type: str | None = None,
    filename: str | None = None,
    limits: Limits = Limits(),  # noqa: B008 - frozen, so a shared default is safe
) -> FileContent:
    """Sniff, check, then parse in a resource-limited child process. Never raises for bad
    input; only a run being stopped (its reader killed by SIGTERM or SIGINT) raises RunStopped."""
    fmt = sniff_format(data, content_type, filename)
    early = precheck(data, fmt, content_type, filename, limits)
    if early is not None:
        return early
    if fmt == "text":  # decoding text cannot run away: no need for a child
        return run_extractor(data, fmt, limits)
    from monitor.document.files.readers import current
    from monitor.document.files.sandbox import run_in_child

    kept = current()  # a run's readers, kept between files (readers.py), or a child for this file
    return kept.extract(data, fmt, limits) if kept is not None else run_in_child(data, fmt, limits)


def extract_file_in_process(
    data: bytes,
    *,
    content_type: str | None = None,
    filename: str | None = None,
    limits: Limits = Limits(),  # noqa: B008
) -> FileContent:
    """``extract_file`` without the child process: same checks and results, no resource
    limits. For tests and benchmarks, and for callers that are already sandboxed."""
    fmt = sniff_format(data, content_type, filename)
    early = precheck(data, fmt, content_type, filename, limits)
    if early is not None:
        return early
    return run_extractor(data, fmt, limits)
